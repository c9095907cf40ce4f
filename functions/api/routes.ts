import {
  createSession,
  deleteFile,
  deleteJob,
  deleteSession,
  downloadFile,
  fileVersions,
  fileVisualUrl,
  jobVisualUrl,
  VISUAL_NAMES,
  VISUALS,
  getFile,
  getJob,
  getSessionInfo,
  health,
  listEffects,
  listPresets,
  getPresetInfo,
  requestUpload,
  submitBatch,
  submitJob,
  type Deps,
  type FileIndexQueries,
  type IdempotencyStore,
  type Session,
} from '@david/core';
import type { z } from 'zod';
import * as S from './schemas.ts';

/** What routes need beyond the use-case dependencies. */
export interface ApiDeps extends Deps {
  readonly fileIndex: FileIndexQueries;
  readonly idempotency: IdempotencyStore;
  readonly operatorKeySha256?: string;
}

export interface RouteResult {
  readonly status: number;
  readonly body?: unknown;
  /** A body sent as it is (HTML, scripts), with its content type. */
  readonly raw?: { readonly text: string; readonly contentType: string; readonly cacheSeconds?: number };
  /** Answer with a redirect (302) there: a stored object, delivered as outputs are. */
  readonly redirect?: string;
}

export interface RouteRequest<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly headers: Record<string, string | undefined>;
  /** The authorised session (routes with `auth: 'session'`). */
  readonly session: Session;
}

/** Ids the auth test (and the document's examples) build a request from. */
export interface ExampleIds {
  readonly session_id: string;
  readonly file_id: string;
  readonly job_id: string;
}

export interface Route<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** OpenAPI path template: `/api/audio/{session_id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  /** `session`: a bearer token of the session named in the path (or the body's session_id); `operator`: x-operator-key. */
  readonly auth: 'none' | 'session' | 'operator';
  /** Takes an `Idempotency-Key` header: a repeat of the same request returns the first answer and does nothing twice. */
  readonly idempotent?: boolean;
  /** Only DELETE of a session: it also opens a session whose deletion began, to finish it. */
  readonly resumesDeletion?: boolean;
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** The body may be left out entirely (an empty POST). */
  readonly bodyOptional?: boolean;
  readonly response: { readonly status: number; readonly description: string; readonly schema?: z.ZodType; readonly contentType?: string; readonly redirectsTo?: string };
  /** Error statuses this operation can answer beyond the ones every operation of its kind has. */
  readonly errors?: readonly number[];
  /** A valid request for the given ids: every session route has one, so the auth test can walk them all. */
  readonly example?: (ids: ExampleIds) => { body?: unknown; query?: Record<string, string> };
  readonly handler: (deps: ApiDeps, req: RouteRequest<z.output<P>, z.output<Q>, z.output<B>>) => Promise<RouteResult>;
}

/** Keeps each route's handler typed by its own schemas. */
function route<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType>(r: Route<P, Q, B>): Route {
  return r as unknown as Route;
}

const ok = (body: unknown, status = 200): RouteResult => ({ status, body });
/** waveform.json → WaveformJson (operation ids). */
const visualOperation = (name: string) => name.split(/[._]/).map((w) => w[0].toUpperCase() + w.slice(1)).join('');
const noContent: RouteResult = { status: 204 };
const EMPTY = { body: undefined };

/** The API: the original document's paths; each route validates with its schemas and calls one use case. */
export const apiRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/health',
    operationId: 'getHealth',
    summary: 'Service health, version and features',
    auth: 'none',
    response: { status: 200, description: 'healthy', schema: S.Health },
    handler: async () => ok(health()),
  }),
  ...(['/api/effects', '/api/audio/effects'] as const).map((path, i) =>
    route({
      method: 'GET',
      path,
      operationId: i === 0 ? 'listEffects' : 'listAudioEffects',
      summary: 'The effect catalogue: defaults, ranges, units and docs from the effect declarations',
      auth: 'none',
      response: { status: 200, description: 'every effect', schema: S.EffectCatalogue },
      handler: async () => ok(listEffects()),
    }),
  ),
  route({
    method: 'GET',
    path: '/api/presets',
    operationId: 'listPresets',
    summary: 'The presets: named chains with the loudness they deliver, from the preset declarations',
    auth: 'none',
    response: { status: 200, description: 'every preset', schema: S.PresetCatalogue },
    handler: async () => ok(listPresets()),
  }),
  route({
    method: 'GET',
    path: '/api/presets/{preset_id}',
    operationId: 'getPreset',
    summary: 'One preset: its target and its steps',
    auth: 'none',
    params: S.PresetPath,
    response: { status: 200, description: 'the preset', schema: S.Preset },
    errors: [404],
    handler: async (_d, r) => ok(getPresetInfo(r.params.preset_id)),
  }),
  route({
    method: 'POST',
    path: '/api/audio/session',
    operationId: 'createSession',
    summary: 'Create a session; the access token is returned once',
    auth: 'none',
    body: S.CreateSessionBody,
    bodyOptional: true,
    response: { status: 201, description: 'created', schema: S.SessionCreated },
    handler: async (d, r) => ok(await createSession(d, r.body ?? {}), 201),
  }),
  route({
    method: 'POST',
    path: '/api/audio/upload',
    operationId: 'requestUpload',
    summary: 'Ask for a presigned POST to upload one file straight to storage',
    auth: 'session',
    idempotent: true,
    body: S.UploadBody,
    response: { status: 201, description: 'upload ticket', schema: S.UploadTicket },
    errors: [413, 415],
    example: (ids) => ({ body: { session_id: ids.session_id, filename: 'take.wav', content_type: 'audio/wav', size: 1000 } }),
    handler: async (d, r) => ok(await requestUpload(d, r.session, r.body), 201),
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}',
    operationId: 'getSession',
    summary: 'The session: files, processing history and buffer status',
    auth: 'session',
    params: S.SessionPath,
    response: { status: 200, description: 'the session', schema: S.SessionInfo },
    example: () => EMPTY,
    handler: async (d, r) => ok(await getSessionInfo(d, r.session)),
  }),
  route({
    method: 'DELETE',
    path: '/api/audio/{session_id}',
    operationId: 'deleteSession',
    summary: 'Delete the session with all its files, jobs and objects (retry until 204: it resumes)',
    auth: 'session',
    resumesDeletion: true,
    params: S.SessionPath,
    response: { status: 204, description: 'deleted' },
    example: () => EMPTY,
    handler: async (d, r) => {
      await deleteSession(d, r.session);
      return noContent;
    },
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}/files',
    operationId: 'listFiles',
    summary: "The session's uploads and outputs from the file index, by upload time",
    auth: 'session',
    params: S.SessionPath,
    query: S.ListQuery,
    response: { status: 200, description: 'one page', schema: S.Listing },
    example: () => ({ query: { limit: '10' } }),
    handler: async (d, r) => ok(await d.fileIndex.listSession(r.session, r.query)),
  }),
  route({
    method: 'GET',
    path: '/api/admin/files',
    operationId: 'listAllFiles',
    summary: 'Every session’s files (operator key in x-operator-key)',
    auth: 'operator',
    query: S.ListQuery,
    response: { status: 200, description: 'one page', schema: S.Listing },
    handler: async (d, r) => ok(await d.fileIndex.listAll(d.operatorKeySha256, r.headers['x-operator-key'], r.query)),
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}/files/{file_id}',
    operationId: 'getFile',
    summary: 'A file: pending, ready (with its media and analysis) or rejected (with the reason); ?wait= long-polls',
    auth: 'session',
    params: S.FilePath,
    query: S.WaitQuery,
    response: { status: 200, description: 'the file', schema: S.FileView },
    example: () => EMPTY,
    handler: async (d, r) => ok(await getFile(d, r.session, r.params.file_id, r.query.wait)),
  }),
  route({
    method: 'DELETE',
    path: '/api/audio/{session_id}/files/{file_id}',
    operationId: 'deleteFile',
    summary: 'Delete a file with its upload, and every job made from it with their outputs',
    auth: 'session',
    params: S.FilePath,
    response: { status: 204, description: 'deleted' },
    example: () => EMPTY,
    handler: async (d, r) => {
      await deleteFile(d, r.session, r.params.file_id);
      return noContent;
    },
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}/files/{file_id}/download',
    operationId: 'downloadFile',
    summary: 'A short-lived link to the original upload',
    auth: 'session',
    params: S.FilePath,
    response: { status: 200, description: 'the link', schema: S.Download },
    errors: [409],
    example: () => EMPTY,
    handler: async (d, r) => ok(await downloadFile(d, r.session, r.params.file_id)),
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}/files/{file_id}/versions',
    operationId: 'fileVersions',
    summary: 'Every version derived from a file, as a tree (the upload at the root, each job under the version it worked on)',
    auth: 'session',
    params: S.FilePath,
    response: { status: 200, description: 'the version tree', schema: S.Versions },
    example: () => EMPTY,
    handler: async (d, r) => ok(await fileVersions(d, r.session, r.params.file_id)),
  }),
  ...VISUAL_NAMES.flatMap((name) => [
    route({
      method: 'GET',
      path: `/api/audio/{session_id}/files/{file_id}/${name}`,
      operationId: `file${visualOperation(name)}`,
      summary: `A ready file's ${VISUALS[name].what}`,
      auth: 'session',
      params: S.FilePath,
      response: { status: 302, description: 'a redirect to the stored object', redirectsTo: VISUALS[name].contentType },
      errors: [409],
      example: () => EMPTY,
      handler: async (d, r) => ({ status: 302, redirect: await fileVisualUrl(d, r.session, r.params.file_id, name) }),
    }),
    route({
      method: 'GET',
      path: `/api/audio/{session_id}/jobs/{job_id}/${name}`,
      operationId: `job${visualOperation(name)}`,
      summary: `A completed job's output: ${VISUALS[name].what}`,
      auth: 'session',
      params: S.JobPath,
      response: { status: 302, description: 'a redirect to the stored object', redirectsTo: VISUALS[name].contentType },
      errors: [409],
      example: () => EMPTY,
      handler: async (d, r) => ({ status: 302, redirect: await jobVisualUrl(d, r.session, r.params.job_id, name) }),
    }),
  ]),
  route({
    method: 'POST',
    path: '/api/audio/{session_id}/process',
    operationId: 'processFile',
    summary: 'Run an effect or a chain on a ready file, or on a completed job’s output (job_id)',
    auth: 'session',
    idempotent: true,
    params: S.SessionPath,
    body: S.ProcessBody,
    response: { status: 202, description: 'queued', schema: S.JobAccepted },
    errors: [409, 422],
    example: (ids) => ({ body: { file_id: ids.file_id, effect: 'gain', parameters: { gainDb: -6 } } }),
    handler: async (d, r) => ok(await submitJob(d, r.session, r.body), 202),
  }),
  route({
    method: 'POST',
    path: '/api/audio/{session_id}/batch',
    operationId: 'processBatch',
    summary: 'One effect or chain over many ready files: one job each',
    auth: 'session',
    idempotent: true,
    params: S.SessionPath,
    body: S.BatchBody,
    response: { status: 202, description: 'queued', schema: S.BatchAccepted },
    errors: [409, 422],
    example: (ids) => ({ body: { file_ids: [ids.file_id], effect: 'gain' } }),
    handler: async (d, r) => ok(await submitBatch(d, r.session, r.body), 202),
  }),
  route({
    method: 'GET',
    path: '/api/audio/{session_id}/jobs/{job_id}',
    operationId: 'getJob',
    summary: 'A job with its outputs or its error; ?wait= long-polls until it finishes',
    auth: 'session',
    params: S.JobPath,
    query: S.WaitQuery,
    response: { status: 200, description: 'the job', schema: S.JobView },
    example: () => EMPTY,
    handler: async (d, r) => ok(await getJob(d, r.session, r.params.job_id, r.query.wait)),
  }),
  route({
    method: 'DELETE',
    path: '/api/audio/{session_id}/jobs/{job_id}',
    operationId: 'deleteJob',
    summary: 'Delete a job and its outputs',
    auth: 'session',
    params: S.JobPath,
    response: { status: 204, description: 'deleted' },
    example: () => EMPTY,
    handler: async (d, r) => {
      await deleteJob(d, r.session, r.params.job_id);
      return noContent;
    },
  }),
];
