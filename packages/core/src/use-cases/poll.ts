/** Longest a status request may wait for a change (API Gateway's integration timeout is 29 s). */
export const MAX_WAIT_SECONDS = 20;

/**
 * How a long poll re-reads: soon at first (a short job is seen done within a few hundred ms), then backing off to
 * every 2 s, so a request held for 20 s costs about a dozen reads instead of twenty-odd.
 */
export const POLL_DELAYS = { firstMs: 100, factor: 1.6, maxMs: 2000 } as const;

/** Long polling for real-time updates: re-read until `done` holds or the wait runs out. */
export async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, waitSeconds: number): Promise<T> {
  const deadline = Date.now() + waitSeconds * 1000;
  let value = await read();
  for (let delay: number = POLL_DELAYS.firstMs; !done(value) && Date.now() < deadline; delay = Math.min(POLL_DELAYS.maxMs, delay * POLL_DELAYS.factor)) {
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
    value = await read();
  }
  return value;
}
