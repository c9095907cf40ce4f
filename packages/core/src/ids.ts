import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 128 random bits, URL- and key-safe: unguessable identifiers. */
function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

export const newSessionId = () => randomId('ses');
export const newFileId = () => randomId('fil');
export const newJobId = () => randomId('job');

/**
 * A bearer token: the session id, a dot, 256 random bits; only its SHA-256 is ever stored. The session id in it lets
 * a WebSocket connect with the token alone (`?token=`), as browsers cannot send headers there.
 */
export function newAccessToken(sessionId: string): string {
  return `${sessionId}.${randomBytes(32).toString('base64url')}`;
}

/** The session a token names (tokens issued before they carried one name none). */
export function sessionOfToken(token: string): string | null {
  const dot = token.indexOf('.');
  return dot > 0 ? token.slice(0, dot) : null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: string): boolean {
  const a = Buffer.from(hashToken(token), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

const ID_PATTERN = /^(ses|fil|job)_[0-9a-f]{32}$/;
export function isWellFormedId(id: string, prefix: 'ses' | 'fil' | 'job'): boolean {
  return ID_PATTERN.test(id) && id.startsWith(prefix + '_');
}
