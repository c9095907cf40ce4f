/** Longest a status request may wait for a change (API Gateway's integration timeout is 29 s). */
export const MAX_WAIT_SECONDS = 20;

/** Long polling for real-time updates: re-read until `done` holds or the wait runs out. */
export async function pollUntil<T>(read: () => Promise<T>, done: (v: T) => boolean, waitSeconds: number): Promise<T> {
  const deadline = Date.now() + waitSeconds * 1000;
  let value = await read();
  for (let delay = 100; !done(value) && Date.now() < deadline; delay = Math.min(1000, delay * 1.5)) {
    await new Promise((r) => setTimeout(r, Math.min(delay, Math.max(0, deadline - Date.now()))));
    value = await read();
  }
  return value;
}
