/** Longest a status request may wait for a change (API Gateway's integration timeout is 29 s). */
export const MAX_WAIT_SECONDS = 20;

/**
 * How a long poll re-reads: soon at first (a short job is seen done within a few hundred ms), then backing off to
 * every 2 s, so a request held for 20 s costs about a dozen reads instead of twenty-odd. Each delay is a multiple of
 * the one before, and a re-read waits for the next multiple of its delay on the clock: the long polls an environment
 * holds re-read at the same instants, and the repository sends their reads as one request (`BatchReader`).
 */
export const POLL_DELAYS = { firstMs: 125, factor: 2, maxMs: 2000 } as const;

/** Milliseconds from `now` to the next multiple of `delay` on the clock (never 0). */
export const untilTick = (now: number, delay: number) => delay - (now % delay);

/** Long polling for real-time updates: re-read until `done` holds or the wait runs out. */
export async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, waitSeconds: number): Promise<T> {
  const deadline = Date.now() + waitSeconds * 1000;
  let value = await read();
  for (let delay: number = POLL_DELAYS.firstMs; !done(value) && Date.now() < deadline; delay = Math.min(POLL_DELAYS.maxMs, delay * POLL_DELAYS.factor)) {
    await new Promise((r) => setTimeout(r, Math.min(untilTick(Date.now(), delay), Math.max(0, deadline - Date.now()))));
    value = await read();
  }
  return value;
}
