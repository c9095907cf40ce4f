import {
  authorize,
  createSession,
  deleteSession,
  getFile,
  getJob,
  getSessionInfo,
  health,
  listEffects,
  parseUploadRequest,
  parseWait,
  submitBatch,
  requestUpload,
  submitJob,
  type Deps,
  type FileIndexQueries,
} from '@david/core';

export interface RouteRequest {
  readonly params: Record<string, string>;
  readonly query: Record<string, string | undefined>;
  readonly body: unknown;
  readonly token: string | undefined;
  readonly headers: Record<string, string | undefined>;
}
export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
}
/** What routes need beyond the use-case dependencies. */
export interface ApiDeps extends Deps {
  readonly fileIndex: FileIndexQueries;
  readonly operatorKeySha256?: string;
}
type Handler = (deps: ApiDeps, req: RouteRequest) => Promise<RouteResult>;

export interface Route {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly pattern: string;
  readonly handler: Handler;
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });

/** The API: the original document's paths; each route calls one use case. */
export const routes: Route[] = [
  { method: 'GET', pattern: '/health', handler: async () => ok(health()) },
  { method: 'GET', pattern: '/api/effects', handler: async () => ok(listEffects()) },
  { method: 'GET', pattern: '/api/audio/effects', handler: async () => ok(listEffects()) },
  { method: 'POST', pattern: '/api/audio/session', handler: async (d, r) => ok(await createSession(d, r.body), 201) },
  {
    method: 'POST',
    pattern: '/api/audio/upload',
    handler: async (d, r) => {
      const req = parseUploadRequest(r.body);
      const session = await authorize(d, req.session_id, r.token);
      return ok(await requestUpload(d, session, req), 201);
    },
  },
  {
    method: 'GET',
    pattern: '/api/audio/:session_id',
    handler: async (d, r) => ok(await getSessionInfo(d, await authorize(d, r.params.session_id, r.token))),
  },
  {
    method: 'DELETE',
    pattern: '/api/audio/:session_id',
    handler: async (d, r) => {
      await deleteSession(d, await authorize(d, r.params.session_id, r.token));
      return { status: 204 };
    },
  },
  {
    method: 'GET',
    pattern: '/api/audio/:session_id/files',
    handler: async (d, r) => ok(await d.fileIndex.listSession(await authorize(d, r.params.session_id, r.token), r.query)),
  },
  {
    method: 'GET',
    pattern: '/api/admin/files',
    handler: async (d, r) => ok(await d.fileIndex.listAll(d.operatorKeySha256, r.headers['x-operator-key'] ?? r.headers['X-Operator-Key'], r.query)),
  },
  {
    method: 'GET',
    pattern: '/api/audio/:session_id/files/:file_id',
    handler: async (d, r) =>
      ok(await getFile(d, await authorize(d, r.params.session_id, r.token), r.params.file_id, parseWait(r.query.wait))),
  },
  {
    method: 'POST',
    pattern: '/api/audio/:session_id/process',
    handler: async (d, r) => ok(await submitJob(d, await authorize(d, r.params.session_id, r.token), r.body), 202),
  },
  {
    method: 'POST',
    pattern: '/api/audio/:session_id/batch',
    handler: async (d, r) => ok(await submitBatch(d, await authorize(d, r.params.session_id, r.token), r.body), 202),
  },
  {
    method: 'GET',
    pattern: '/api/audio/:session_id/jobs/:job_id',
    handler: async (d, r) =>
      ok(await getJob(d, await authorize(d, r.params.session_id, r.token), r.params.job_id, parseWait(r.query.wait))),
  },
];

/**
 * Match a path against the route table. The most literal pattern wins (so /api/audio/effects never reads as a
 * session id, and PUT /api/audio/session is a wrong method rather than a session called "session").
 */
export function matchRoute(method: string, path: string): { route: Route; params: Record<string, string> } | { allowed: string[] } | null {
  const segs = path.replace(/\/+$/, '').split('/').filter(Boolean);
  let bestLiteral = -1;
  let candidates: { route: Route; params: Record<string, string> }[] = [];
  for (const route of routes) {
    const pat = route.pattern.split('/').filter(Boolean);
    if (pat.length !== segs.length) continue;
    const params: Record<string, string> = {};
    let literal = 0;
    let match = true;
    for (let i = 0; i < pat.length && match; i++) {
      if (pat[i].startsWith(':')) params[pat[i].slice(1)] = decodeURIComponent(segs[i]);
      else if (pat[i] === segs[i]) literal++;
      else match = false;
    }
    if (!match || literal < bestLiteral) continue;
    if (literal > bestLiteral) {
      bestLiteral = literal;
      candidates = [];
    }
    candidates.push({ route, params });
  }
  if (candidates.length === 0) return null;
  return candidates.find((c) => c.route.method === method) ?? { allowed: candidates.map((c) => c.route.method) };
}
