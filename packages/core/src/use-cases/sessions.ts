import { ForbiddenError, NotFoundError, UnauthorizedError, ValidationError } from '../errors.ts';
import { callbackUrlRefusal } from '../domain/callback-url.ts';
import { newCallbackSecret } from './webhooks.ts';
import { hashToken, isWellFormedId, newAccessToken, newSessionId, sessionOfToken, tokenMatches } from '../ids.ts';
import type { FileRecord, Job, Session } from '../domain/types.ts';
import { LIMITS } from '../resources.ts';
import { fileView, jobView } from './views.ts';
import type { Deps } from './deps.ts';

export const MAX_SESSION_NAME = 200;

/** When a session used at `now` expires (epoch seconds). */
const expiryFrom = (deps: Pick<Deps, 'sessionIdleSeconds'>, now: Date) => Math.floor(now.getTime() / 1000) + (deps.sessionIdleSeconds ?? LIMITS.sessionIdleSeconds);
/** A session's expiry is pushed back at most this often (one write per session per hour, not per request). */
const TOUCH_EVERY_MS = 3_600_000;

export async function createSession(
  deps: Pick<Deps, 'sessions' | 'clock' | 'sessionIdleSeconds' | 'eventsUrl' | 'callbackPolicy'>,
  req: { name?: string; callback_url?: string } = {},
) {
  if (req.callback_url !== undefined) {
    const refusal = callbackUrlRefusal(req.callback_url, deps.callbackPolicy ?? { allowLoopback: false });
    if (refusal) {
      throw new ValidationError('Session::CallbackNotAllowed', `callback_url is refused: ${refusal}`, {
        field: 'callback_url',
        suggestion: 'give a public https URL (webhooks never go to private, link-local or loopback addresses)',
      });
    }
  }
  const callbackSecret = req.callback_url !== undefined ? newCallbackSecret() : undefined;
  const sessionId = newSessionId();
  const token = newAccessToken(sessionId);
  const now = deps.clock.now();
  const createdAt = now.toISOString();
  const expiresAt = expiryFrom(deps, now);
  const session: Session = {
    session_id: sessionId,
    name: req.name?.trim() || `Session ${createdAt.slice(0, 19).replace('T', ' ')}`,
    created_at: createdAt,
    token_hash: hashToken(token),
    expires_at: expiresAt,
    active_at: createdAt,
    ...(req.callback_url !== undefined ? { callback_url: req.callback_url, callback_secret: callbackSecret } : {}),
  };
  // Watched first: a crash before the record leaves only a watch, which the sweeper drops.
  await deps.sessions.watchExpiry(session.session_id, expiresAt);
  await deps.sessions.create(session);
  return {
    session_id: session.session_id,
    name: session.name,
    created_at: session.created_at,
    access_token: token,
    ...(deps.eventsUrl ? { events_url: deps.eventsUrl } : {}),
    ...(session.callback_url ? { callback_url: session.callback_url, callback_secret: callbackSecret } : {}),
  };
}

/**
 * The session a bearer token opens. A missing token is 401; an unknown (or deleted) session 404; a token
 * of another session 403. Ids are unguessable, so 404 leaks nothing.
 */
export async function authorize(
  deps: Pick<Deps, 'sessions' | 'clock' | 'sessionIdleSeconds'>,
  sessionId: string,
  token: string | undefined,
  opts: { resumeDeletion?: boolean } = {},
): Promise<Session> {
  if (!token) throw new UnauthorizedError();
  if (!isWellFormedId(sessionId, 'ses')) throw new NotFoundError('Session::NotFound', `no session '${sessionId}'`);
  const session = await deps.sessions.get(sessionId);
  // A session being deleted is gone for every route but the DELETE that finishes the job.
  if (!session || (session.deleting_at && !opts.resumeDeletion)) throw new NotFoundError('Session::NotFound', `no session '${sessionId}'`);
  const now = deps.clock.now();
  // An expired session is gone, whether or not the sweeper has removed it yet.
  if (session.expires_at !== undefined && session.expires_at * 1000 <= now.getTime()) throw new NotFoundError('Session::NotFound', `no session '${sessionId}' (it expired)`);
  if (!tokenMatches(token, session.token_hash)) throw new ForbiddenError();
  if (session.expires_at !== undefined && now.getTime() - Date.parse(session.active_at ?? session.created_at) >= TOUCH_EVERY_MS) {
    // In use: push the idle expiry back. The expiry watch stays where it is: when it comes due, the sweeper finds
    // the session alive, moves its items' TTL along and watches the new expiry (see expireSessions).
    const expiresAt = expiryFrom(deps, now);
    await deps.sessions.touch(sessionId, now.toISOString(), expiresAt);
    return { ...session, expires_at: expiresAt, active_at: now.toISOString() };
  }
  return session;
}

/**
 * The session a token alone opens (a WebSocket's `?token=`): the session id it carries, then the same rules as
 * `authorize`. A token issued before tokens carried their session is refused (403): get a new session.
 */
export async function authorizeToken(deps: Pick<Deps, 'sessions' | 'clock' | 'sessionIdleSeconds'>, token: string | undefined): Promise<Session> {
  if (!token) throw new UnauthorizedError();
  const sessionId = sessionOfToken(token);
  if (!sessionId) throw new ForbiddenError();
  return authorize(deps, sessionId, token);
}

/**
 * The session's buffer, as a serverless service has one: what it holds (files by state, versions kept, bytes stored)
 * and how much of its work is still waiting (its queue). In the original single-process server this was the fill
 * of an in-memory circular buffer; here nothing is buffered in memory between requests, so it is the session's share
 * of the queues and of storage.
 */
export function bufferStatus(files: FileRecord[], jobs: Job[], maxVersionsPerFile: number) {
  const count = (s: Job['status']) => jobs.filter((j) => j.status === s).length;
  const uploads = files.reduce((n, f) => n + (f.status === 'ready' ? (f.size ?? 0) : 0), 0);
  const outputs = jobs.reduce((n, j) => n + (j.outputs ?? []).reduce((m, o) => m + o.size, 0), 0);
  return {
    files_pending: files.filter((f) => f.status === 'pending').length,
    files_ready: files.filter((f) => f.status === 'ready').length,
    files_rejected: files.filter((f) => f.status === 'rejected').length,
    files_expired: files.filter((f) => f.status === 'expired').length,
    jobs_queued: count('queued'),
    jobs_processing: count('processing'),
    jobs_completed: count('completed'),
    jobs_failed: count('failed'),
    jobs_expired: count('expired'),
    queue_depth: count('queued') + count('processing') + files.filter((f) => f.status === 'pending').length,
    versions_kept: count('completed'),
    max_versions_per_file: maxVersionsPerFile,
    bytes_uploads: uploads,
    bytes_outputs: outputs,
    bytes_stored: uploads + outputs,
  };
}

export async function getSessionInfo(deps: Deps, session: Session) {
  const [files, jobs] = await Promise.all([deps.files.list(session.session_id), deps.jobs.list(session.session_id)]);
  files.sort((a, b) => a.created_at.localeCompare(b.created_at));
  jobs.sort((a, b) => a.created_at.localeCompare(b.created_at));
  return {
    session_id: session.session_id,
    name: session.name,
    created_at: session.created_at,
    ...(session.callback_url ? { callback_url: session.callback_url } : {}),
    uploaded_files: files.map(fileView),
    processing_history: jobs.map((j) => jobView(j, deps.deliveryBaseUrl)),
    buffer_status: bufferStatus(files, jobs, deps.maxVersions ?? LIMITS.maxVersionsPerFile),
  };
}

/**
 * Delete a session so that a retry can always finish it: a tombstone first (the session is invisible from then on),
 * then its objects, its index entries and its records, and the session item last. Each step is idempotent.
 */
export async function deleteSession(deps: Deps, session: Session): Promise<void> {
  await deps.sessions.markDeleting(session.session_id, deps.clock.now().toISOString());
  await deps.store.deleteSessionObjects(session.session_id);
  await deps.index?.publish({ op: 'removeSession', session_id: session.session_id }, `rm-${session.session_id}`);
  await deps.sessions.delete(session.session_id);
}

/**
 * The sweeper's third task, for each session whose expiry watch is due: a session idle past its expiry is deleted
 * with everything it holds (objects, index entries, records), the same resumable way as a DELETE, and so is one
 * whose DELETE was cut short. A session used since is renewed: its items' TTL moves to its later expiry and the
 * watch to that time (new watch first, old one last, so a crash at any point repeats the visit). A watch of a
 * session that is gone is dropped. One visit per idle period per session, however often it is used.
 */
export async function expireSessions(deps: Deps): Promise<{ expired: number; renewed: number; dropped: number }> {
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const counts = { expired: 0, renewed: 0, dropped: 0 };
  for (const due of await deps.sessions.listExpiryDue(now)) {
    const session = await deps.sessions.get(due.session_id);
    if (!session || session.expires_at === undefined) counts.dropped++;
    else if (session.expires_at <= now || session.deleting_at) {
      await deleteSession(deps, session);
      counts.expired++;
    } else {
      // Alive (its expiry is later than this watch, which is due).
      await deps.sessions.restampItems(session.session_id, session.expires_at);
      await deps.sessions.watchExpiry(session.session_id, session.expires_at);
      counts.renewed++;
    }
    await deps.sessions.unwatchExpiry(due.session_id, due.expires_at);
  }
  return counts;
}
