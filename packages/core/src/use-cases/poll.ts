import { ValidationError } from '../errors.ts';

/** Longest a status request may wait for a change (API Gateway's integration timeout is 29 s). */
export const MAX_WAIT_SECONDS = 20;

export function parseWait(raw: string | undefined): number {
  if (raw === undefined) return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > MAX_WAIT_SECONDS) {
    throw new ValidationError('Request::InvalidWait', `wait must be 0 to ${MAX_WAIT_SECONDS} seconds`, {
      field: 'wait',
      allowed: { min: 0, max: MAX_WAIT_SECONDS, unit: 's' },
    });
  }
  return n;
}

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
