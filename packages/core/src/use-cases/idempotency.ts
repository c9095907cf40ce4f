import { createHash } from 'node:crypto';
import { ConflictError, UnprocessableError, ValidationError } from '../errors.ts';
import type { Session } from '../domain/types.ts';
import type { Deps } from './deps.ts';

/** What a client may send as `Idempotency-Key`. */
const KEY = /^[A-Za-z0-9._:-]{1,128}$/;
/** A reservation whose request never finished (its worker died) may be taken over after this long. */
const ABANDONED_MS = 60_000;

export interface IdempotencyRecord {
  readonly fingerprint: string;
  readonly state: 'running' | 'done';
  readonly at: string;
  readonly status?: number;
  readonly body?: unknown;
}

/** Stored under the session (deleted with it). */
export interface IdempotencyStore {
  get(sessionId: string, key: string): Promise<IdempotencyRecord | null>;
  /** Reserve the key: only when it is free (or its reservation is older than `staleBefore`). False when taken. */
  /** Records expire with their session (`sessionExpiresAt`, epoch seconds). */
  reserve(sessionId: string, key: string, record: IdempotencyRecord, staleBefore: string, sessionExpiresAt?: number): Promise<boolean>;
  complete(sessionId: string, key: string, record: IdempotencyRecord, sessionExpiresAt?: number): Promise<void>;
  release(sessionId: string, key: string): Promise<void>;
}

export const fingerprintOf = (method: string, path: string, body: unknown) =>
  createHash('sha256').update(`${method} ${path}\n${JSON.stringify(body ?? null)}`).digest('hex');

/**
 * Run a request once per `Idempotency-Key`: a repeat with the same request gets the first answer (no second job or
 * upload); the same key with another request is refused; a repeat while the first is still running is a 409 to retry.
 */
export async function onceByKey(
  deps: Pick<Deps, 'clock'> & { idempotency: IdempotencyStore },
  session: Session,
  key: string,
  fingerprint: string,
  run: () => Promise<{ status: number; body?: unknown }>,
): Promise<{ status: number; body?: unknown }> {
  if (!KEY.test(key)) {
    throw new ValidationError('Request::InvalidIdempotencyKey', 'Idempotency-Key must be 1 to 128 of A-Z a-z 0-9 . _ : -', { field: 'idempotency-key', location: 'header' });
  }
  const now = deps.clock.now();
  const seen = await deps.idempotency.get(session.session_id, key);
  const mismatch = () => new UnprocessableError('Request::IdempotencyKeyReused', 'this Idempotency-Key was used for another request; use a new key', { field: 'idempotency-key' });
  if (seen && seen.fingerprint !== fingerprint) throw mismatch();
  if (seen?.state === 'done') return { status: seen.status!, body: seen.body };
  const reserved = await deps.idempotency.reserve(session.session_id, key, { fingerprint, state: 'running', at: now.toISOString() }, new Date(now.getTime() - ABANDONED_MS).toISOString(), session.expires_at);
  if (!reserved) {
    const other = await deps.idempotency.get(session.session_id, key);
    if (other && other.fingerprint !== fingerprint) throw mismatch();
    if (other?.state === 'done') return { status: other.status!, body: other.body };
    throw new ConflictError('Request::InProgress', 'the same request is still being handled; retry in a moment', { field: 'idempotency-key' });
  }
  let result;
  try {
    result = await run();
  } catch (err) {
    await deps.idempotency.release(session.session_id, key).catch(() => undefined);
    throw err;
  }
  await deps.idempotency.complete(session.session_id, key, { fingerprint, state: 'done', at: now.toISOString(), status: result.status, body: result.body }, session.expires_at);
  return result;
}
