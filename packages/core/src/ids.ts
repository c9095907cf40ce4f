import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 128 random bits, URL- and key-safe: unguessable identifiers. */
function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

export const newSessionId = () => randomId('ses');
export const newFileId = () => randomId('fil');
export const newJobId = () => randomId('job');

/** 256-bit bearer token; only its SHA-256 is ever stored. */
export function newAccessToken(): string {
  return randomBytes(32).toString('base64url');
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
