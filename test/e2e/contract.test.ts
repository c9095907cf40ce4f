import SwaggerParser from '@apidevtools/swagger-parser';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLocalStack } from '../helpers/stack.ts';
import { routes } from '../../functions/api/openapi.ts';
import type { ExampleIds, Route } from '../../functions/api/routes.ts';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';

const ctx = useLocalStack('contract');
let api: ApiClient;
type Session = { session_id: string; access_token: string };
/** Two sessions, each with a ready file and a completed job. */
let A: Session & { file_id: string; job_id: string };
let B: Session & { file_id: string; job_id: string };

async function sessionWithWork(name: string) {
  const s = await api.createSession(name);
  const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.5 }));
  expect((await api.waitForFile(s, file_id)).status).toBe('ready');
  const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain', parameters: { gainDb: -6 } } });
  expect(job.status).toBe(202);
  expect((await api.waitForJob(s, job.body.job_id)).status).toBe('completed');
  return { ...s, file_id, job_id: job.body.job_id as string };
}

beforeAll(async () => {
  api = new ApiClient(ctx.stack.apiUrl);
  [A, B] = await Promise.all([sessionWithWork('A'), sessionWithWork('B')]);
});

const pathFor = (r: Route, ids: ExampleIds) => r.path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent((ids as unknown as Record<string, string>)[k] ?? 'x'));
const withQuery = (path: string, q?: Record<string, string>) => (q && Object.keys(q).length ? `${path}?${new URLSearchParams(q)}` : path);

describe('the contract: one schema per route, nothing ignored', () => {
  const processPath = () => `/api/audio/${A.session_id}/process`;
  const post = (body: unknown) => api.call('POST', processPath(), { token: A.access_token, body });

  it('refuses unknown fields, naming them and the closest known one', async () => {
    for (const [typo, meant] of [
      ['paramters', 'parameters'],
      ['params', 'parameters'],
      ['output_formatss', 'output_formats'],
      ['fileid', 'file_id'],
    ]) {
      const r = await post({ file_id: A.file_id, effect: 'gain', [typo]: { gainDb: -20 } });
      expect(r.status, typo).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'Request::UnknownField', details: { field: typo, suggestion: meant, location: 'body' } });
      expect(r.body.error.message).toContain(`did you mean '${meant}'`);
    }
    // Inside a chain step, with the step's own fields.
    const nested = await post({ file_id: A.file_id, chain: [{ effect: 'gain', paramters: {} }] });
    expect(nested.body.error).toMatchObject({ code: 'Request::UnknownField', details: { field: 'chain[0].paramters', suggestion: 'parameters' } });
    // In the query string and the effect parameters too.
    const q = await api.call('GET', `/api/audio/${A.session_id}/jobs/${A.job_id}?wiat=1`, { token: A.access_token });
    expect(q.body.error).toMatchObject({ code: 'Request::UnknownField', details: { field: 'wiat', suggestion: 'wait', location: 'query' } });
    const p = await post({ file_id: A.file_id, effect: 'gain', parameters: { gainDB: -20 } });
    expect(p.body.error).toMatchObject({ code: 'Effect::UnknownParameter', details: { suggestion: 'gainDb' } });
    const dup = await api.call('GET', `/api/audio/${A.session_id}/files?limit=1&limit=2`, { token: A.access_token });
    expect(dup.body.error.code).toBe('Request::DuplicateQuery');
    const session = await api.call('POST', '/api/audio/session', { body: { nmae: 'x' } });
    expect(session.body.error).toMatchObject({ code: 'Request::UnknownField', details: { suggestion: 'name' } });
  });

  it('does a request with an Idempotency-Key once, however often it is repeated', async () => {
    const jobsNow = async () => (await api.call('GET', `/api/audio/${A.session_id}`, { token: A.access_token })).body.processing_history.length;
    const before = await jobsNow();
    const send = (key: string, body: unknown) =>
      fetch(`${ctx.stack.apiUrl}${processPath()}`, { method: 'POST', headers: { authorization: `Bearer ${A.access_token}`, 'content-type': 'application/json', 'idempotency-key': key }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const body = { file_id: A.file_id, effect: 'gain', parameters: { gainDb: -1 } };
    const answers = await Promise.all([send('retry-1', body), send('retry-1', body)]);
    const again = await send('retry-1', body);
    const ids = [...answers, again].filter((a) => a.status === 202).map((a) => a.body.job_id);
    expect(new Set(ids).size).toBe(1); // one job, whichever answer each repeat got
    for (const a of answers) expect(a.status === 202 || a.body.error.code === 'Request::InProgress').toBe(true);
    expect(again.status).toBe(202);
    expect(await jobsNow()).toBe(before + 1);
    const other = await send('retry-1', { ...body, parameters: { gainDb: -2 } });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('Request::IdempotencyKeyReused');
    expect((await send('x'.repeat(200), body)).body.error.code).toBe('Request::InvalidIdempotencyKey');
    const onGet = await fetch(`${ctx.stack.apiUrl}/api/audio/${A.session_id}`, { headers: { authorization: `Bearer ${A.access_token}`, 'idempotency-key': 'k' } });
    expect(((await onGet.json()) as any).error.code).toBe('Request::UnexpectedHeader');
  });

  it('tells a missing field from a wrong one, and says what is allowed', async () => {
    const missing = await post({ effect: 'gain' });
    expect(missing.body.error).toMatchObject({ code: 'Request::MissingField', details: { field: 'file_id' } });
    const wrong = await post({ file_id: 42, effect: 'gain' });
    expect(wrong.body.error).toMatchObject({ code: 'Request::InvalidField', details: { field: 'file_id' } });
    expect(wrong.body.error.message).toContain('expected string, received number');
    const range = await api.call('GET', `/api/audio/${A.session_id}/jobs/${A.job_id}?wait=99`, { token: A.access_token });
    expect(range.body.error).toMatchObject({ code: 'Request::InvalidField', details: { field: 'wait', location: 'query', allowed: { max: 20 } } });
    const size = await api.call('POST', '/api/audio/upload', { token: A.access_token, body: { session_id: A.session_id, filename: 'a.wav', content_type: 'audio/wav', size: 1.5 } });
    expect(size.body.error).toMatchObject({ code: 'Request::InvalidField', details: { field: 'size' } });
    const big = await api.call('POST', '/api/audio/upload', { token: A.access_token, body: { session_id: A.session_id, filename: 'a.wav', content_type: 'audio/wav', size: 104857601 } });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('Upload::TooLarge');
    const oga = await api.call('POST', '/api/audio/upload', { token: A.access_token, body: { session_id: A.session_id, filename: 'a.oga', content_type: 'audio/ogg', size: 100 } });
    expect(oga.status).toBe(201);
  });

  it('looks formats and effects up as own properties only', async () => {
    for (const v of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
      const f = await post({ file_id: A.file_id, effect: 'gain', output_format: v });
      expect(f.status, v).toBe(400);
      expect(f.body.error.code).toBe('Request::InvalidField');
      const fs = await post({ file_id: A.file_id, effect: 'gain', output_formats: [v] });
      expect(fs.status, v).toBe(400);
      const e = await post({ file_id: A.file_id, effect: v });
      expect(e.status, v).toBe(400);
      expect(e.body.error.code).toBe('Effect::UnknownEffect');
    }
    const near = await post({ file_id: A.file_id, effect: 'gain', output_format: 'mp4' });
    expect(near.body.error.details.allowed.values).toEqual(expect.arrayContaining(['wav', 'mp3', 'aac']));
  });

  it('answers 400 for malformed percent-encoding, 415 for a non-JSON body, 400 for a body where none is taken', async () => {
    const bad = await api.call('GET', `/api/audio/${A.session_id}/files/%E0%A4%A`, { token: A.access_token });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('Request::MalformedPath');
    const text = await fetch(`${ctx.stack.apiUrl}${processPath()}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${A.access_token}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ file_id: A.file_id, effect: 'gain' }),
    });
    expect(text.status).toBe(415);
    expect(((await text.json()) as { error: { code: string } }).error.code).toBe('Request::UnsupportedMediaType');
    const json = await api.call('POST', processPath(), { token: A.access_token, raw: '{"file_id": ' });
    expect(json.body.error.code).toBe('Request::InvalidJson');
    const proto = await api.call('POST', processPath(), { token: A.access_token, raw: `{"file_id":"${A.file_id}","effect":"gain","__proto__":{"x":1}}` });
    expect(proto.status).toBe(400);
    const extra = await api.call('DELETE', `/api/audio/${A.session_id}/jobs/job_${'0'.repeat(32)}`, { token: A.access_token, body: { force: true } });
    expect(extra.body.error.code).toBe('Request::UnexpectedBody');
  });

  it('answers HEAD wherever GET works, with GET’s status and no body', async () => {
    for (const path of ['/health', '/api/effects', '/openapi.json', `/api/audio/${A.session_id}/files/${A.file_id}`]) {
      const get = await fetch(ctx.stack.apiUrl + path, { headers: { authorization: `Bearer ${A.access_token}` } });
      const head = await fetch(ctx.stack.apiUrl + path, { method: 'HEAD', headers: { authorization: `Bearer ${A.access_token}` } });
      expect(head.status, path).toBe(get.status);
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
    }
    const head = await fetch(`${ctx.stack.apiUrl}/api/audio/${A.session_id}`, { method: 'HEAD' });
    expect(head.status).toBe(401);
    const put = await fetch(`${ctx.stack.apiUrl}/api/audio/session`, { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toContain('POST');
  });

  it('answers 413 for a body over 10 MiB and keeps the connection usable', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: Buffer) =>
      new Promise<{ status: number; text: string; reused: boolean; ms: number }>((resolve, reject) => {
        const t0 = Date.now();
        const req = httpRequest(`${ctx.stack.apiUrl}${path}`, { method, agent, headers: body ? { 'content-type': 'application/json', 'content-length': body.length } : {} }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, text, reused: req.reusedSocket, ms: Date.now() - t0 }));
        });
        req.on('error', reject);
        req.end(body);
      });
    const big = await send('POST', '/api/audio/session', Buffer.alloc(11 * 1024 * 1024, 0x20));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.text).error.code).toBe('Request::TooLarge');
    const next = await send('GET', '/health');
    expect(next.status).toBe(200);
    expect(next.reused).toBe(true);
    expect(next.ms).toBeLessThan(2000);
    agent.destroy();
  });
});

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.0 and lists exactly the routes the router serves', async () => {
    const doc = (await api.call('GET', '/openapi.json')).body;
    expect(doc.openapi).toMatch(/^3\.0\./);
    await SwaggerParser.validate(structuredClone(doc)); // throws on an invalid document
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`));
    const served = routes.map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual(served.sort());
    // Request and response shapes and error codes per operation.
    const process = doc.paths['/api/audio/{session_id}/process'].post;
    expect(Object.keys(process.requestBody.content['application/json'].schema)).toContain('$ref');
    expect(Object.keys(process.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '403', '404', '409', '413', '415', '422']));
    expect(doc.components.schemas['EffectParameters.gain'].properties.gainDb).toMatchObject({ minimum: -96, maximum: 48, default: 0 });
    expect(Object.keys(doc.components.schemas).filter((k) => k.startsWith('EffectParameters.'))).toHaveLength((await api.call('GET', '/api/effects')).body.total);
  });

  it('is rendered at /docs from our own assets', async () => {
    const page = await fetch(`${ctx.stack.apiUrl}/docs`);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//); // no CDN
    for (const src of html.match(/(?:href|src)="([^"]+)"/g)!.map((m) => m.split('"')[1])) {
      const asset = await fetch(new URL(src, `${ctx.stack.apiUrl}/docs`));
      expect(asset.status, src).toBe(200);
      expect((await asset.text()).length).toBeGreaterThan(10_000);
    }
    expect((await fetch(`${ctx.stack.apiUrl}/docs/index.html`)).status).toBe(400);
  });
});

describe('auth on every session route, walked from the route table', () => {
  const sessionRoutes = routes.filter((r) => r.auth === 'session');

  it('covers every session route (a route without an example request fails here)', () => {
    expect(sessionRoutes.length).toBeGreaterThanOrEqual(11);
    for (const r of sessionRoutes) expect(r.example, `${r.method} ${r.path} needs an example`).toBeTypeOf('function');
    // A route under a session, or one that names a session in its body, is a session route: it cannot opt out.
    for (const r of routes) {
      const namesSession = r.path.includes('{session_id}') || (r.body && 'session_id' in ((r.body as unknown as { shape?: object }).shape ?? {}));
      if (namesSession) expect(r.auth, `${r.method} ${r.path}`).toBe('session');
    }
  });

  it('no token → 401, another session’s token → 403, another session’s ids → 404, and no foreign data', async () => {
    let checked = 0;
    for (const r of sessionRoutes) {
      const own: ExampleIds = { session_id: A.session_id, file_id: A.file_id, job_id: A.job_id };
      const ex = r.example!(own);
      const path = withQuery(pathFor(r, own), ex.query);
      const what = `${r.method} ${r.path}`;
      const none = await api.call(r.method, path, { body: ex.body });
      expect(none.status, what).toBe(401);
      expect(none.body.error.code).toBe('Auth::MissingToken');
      const foreign = await api.call(r.method, path, { body: ex.body, token: B.access_token });
      expect(foreign.status, what).toBe(403);
      expect(foreign.body.error.code).toBe('Auth::Forbidden');
      const usesIds = /file_id|job_id/.test(r.path) || JSON.stringify(ex.body ?? {}).includes(A.file_id);
      if (usesIds) {
        const theirs: ExampleIds = { session_id: A.session_id, file_id: B.file_id, job_id: B.job_id };
        const t = r.example!(theirs);
        const res = await api.call(r.method, withQuery(pathFor(r, theirs), t.query), { body: t.body, token: A.access_token });
        expect(res.status, what).toBe(404);
      }
      if (r.method === 'GET') {
        // HEAD is served wherever GET is: the same checks, without a body.
        const head = (token?: string) => fetch(ctx.stack.apiUrl + path, { method: 'HEAD', headers: token ? { authorization: `Bearer ${token}` } : {} });
        expect((await head()).status, `HEAD ${r.path}`).toBe(401);
        expect((await head(B.access_token)).status, `HEAD ${r.path}`).toBe(403);
        expect((await head(A.access_token)).status, `HEAD ${r.path}`).toBe(200);
        checked++;
      }
      if (r.method !== 'DELETE') {
        const res = await api.call(r.method, path, { body: ex.body, token: A.access_token });
        // A picture's route redirects to the delivered object (checked in visuals.test.ts); the rest answer 2xx.
        if (r.response.status === 302) expect([res.status, res.headers.get('location')?.startsWith(ctx.stack.deliveryUrl)], what).toEqual([302, true]);
        else expect(res.status, what).toBeLessThan(300);
        const text = JSON.stringify(res.body);
        for (const id of [B.session_id, B.file_id, B.job_id]) expect(text, what).not.toContain(id);
      }
      checked++;
    }
    expect(checked).toBe(sessionRoutes.length + sessionRoutes.filter((r) => r.method === 'GET').length);
  });
});

describe('invalid bodies generated from the schemas', () => {
  const bodyRoutes = routes.filter((r) => r.body && r.example);
  const ids = () => ({ session_id: A.session_id, file_id: A.file_id, job_id: A.job_id });
  const junk = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything(), { maxLength: 3 }), fc.object({ maxDepth: 2 }));

  it('are answered 4xx with an error code, never 5xx', async () => {
    let sent = 0;
    for (const r of bodyRoutes) {
      const valid = r.example!(ids()).body as Record<string, unknown>;
      const mutation = fc.oneof(
        // an unknown field
        fc.tuple(fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in valid) && k !== '__proto__'), junk).map(([k, v]) => ({ ...valid, [k]: v })),
        // a known field given the wrong kind of value
        fc.tuple(fc.constantFrom(...Object.keys(valid)), junk).map(([k, v]) => ({ ...valid, [k]: v })),
        // a required field left out
        fc.constantFrom(...Object.keys(valid)).map((k) => Object.fromEntries(Object.entries(valid).filter(([x]) => x !== k))),
        // not an object at all
        junk.filter((v) => v === null || typeof v !== 'object' || Array.isArray(v)),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (body) => {
          if (JSON.stringify(body) === JSON.stringify(valid)) return;
          if (r.bodyOptional && body && typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0) return;
          const res = await api.call(r.method, pathFor(r, ids()), { token: A.access_token, raw: JSON.stringify(body) });
          sent++;
          // Changing a known value may still be valid (e.g. another name); everything else must be a 4xx.
          expect(res.status).toBeLessThan(500);
          if (res.status >= 400) expect(res.body.error.code).toMatch(/^[A-Z][A-Za-z]+::[A-Z][A-Za-z]+$/);
        }),
        { numRuns: 40 },
      );
    }
    expect(sent).toBeGreaterThan(100);
  });
});

describe('files and jobs: download, several outputs, delete', () => {
  it('says so when a format cannot hold the channels: 6 channels into MP3 are 2, downmixed_from 6; the WAV keeps 6', async () => {
    const s = await api.createSession('downmix');
    const { file_id } = await api.upload(s, 'surround.wav', 'audio/wav', sineWav({ seconds: 0.3, channels: 6 }));
    await api.waitForFile(s, file_id);
    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain', output_formats: ['mp3', 'wav'] } });
    expect(job.status).toBe(202);
    const done = await api.waitForJob(s, job.body.job_id);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.outputs[0]).toMatchObject({ format: 'mp3', channels: 2, downmixed_from: 6 });
    expect(done.outputs[1]).toMatchObject({ format: 'wav', channels: 6 });
    expect(done.outputs[1].downmixed_from).toBeUndefined();
    // ffmpeg, reading the stored MP3, finds the two channels the view promises.
    const mp3 = Buffer.from(await (await fetch(done.outputs[0].url)).arrayBuffer());
    const path = join(mkdtempSync(join(tmpdir(), 'david-downmix-')), 'out.mp3');
    writeFileSync(path, mp3);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=channels', '-of', 'csv=p=0', path], { encoding: 'utf8' });
    expect(probe.stdout.trim()).toBe('2');
  });

  it('downloads the original bytes, writes several formats per job, and deletes a job and a file with their objects', async () => {
    const s = await api.createSession('outputs');
    const bytes = sineWav({ seconds: 0.5 });
    const { file_id } = await api.upload(s, 'orig.wav', 'audio/wav', bytes);
    await api.waitForFile(s, file_id);
    const dl = await api.call('GET', `/api/audio/${s.session_id}/files/${file_id}/download`, { token: s.access_token });
    expect(dl.status).toBe(200);
    expect(Buffer.from(await (await fetch(dl.body.url)).arrayBuffer()).equals(bytes)).toBe(true);

    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain', output_formats: ['mp3', 'wav', 'aac'] } });
    expect(job.status).toBe(202);
    const done = await api.waitForJob(s, job.body.job_id);
    expect(done.status, JSON.stringify(done.error)).toBe('completed');
    expect(done.outputs.map((o: { format: string }) => o.format)).toEqual(['mp3', 'wav', 'aac']);
    const heads = await Promise.all(done.outputs.map(async (o: { url: string }) => Buffer.from(await (await fetch(o.url)).arrayBuffer())));
    expect(heads[0][0] === 0xff || heads[0].subarray(0, 3).toString() === 'ID3').toBe(true);
    expect(heads[1].subarray(8, 12).toString()).toBe('WAVE');
    expect(heads[2][0]).toBe(0xff); // ADTS sync
    for (const o of done.outputs) expect(o.duration_s).toBeCloseTo(0.5, 1);

    const del = await api.call('DELETE', `/api/audio/${s.session_id}/jobs/${job.body.job_id}`, { token: s.access_token });
    expect(del.status).toBe(204);
    expect((await api.call('GET', `/api/audio/${s.session_id}/jobs/${job.body.job_id}`, { token: s.access_token })).status).toBe(404);
    for (const o of done.outputs) expect((await fetch(o.url)).status).toBe(404);

    const again = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
    const second = await api.waitForJob(s, again.body.job_id);
    expect((await api.call('DELETE', `/api/audio/${s.session_id}/files/${file_id}`, { token: s.access_token })).status).toBe(204);
    expect((await api.call('GET', `/api/audio/${s.session_id}/files/${file_id}`, { token: s.access_token })).status).toBe(404);
    expect((await api.call('GET', `/api/audio/${s.session_id}/jobs/${again.body.job_id}`, { token: s.access_token })).status).toBe(404);
    expect((await fetch(second.output.url)).status).toBe(404);
    // The download link no longer yields the bytes: S3 answers 404 to a caller allowed to list the bucket and 403 to
    // one that is not (moto answers a presigned GET of a missing key with a 403 too).
    const gone = await fetch(dl.body.url);
    expect([403, 404]).toContain(gone.status);
    expect(await gone.text()).toMatch(/^<\?xml/);
    expect((await api.call('DELETE', `/api/audio/${s.session_id}/files/${file_id}`, { token: s.access_token })).status).toBe(404);
  });
});
