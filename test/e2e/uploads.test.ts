import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { BUCKETS, S3AudioStore } from '@david/core';
import { Agent, request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('uploads');

/** Send a presigned POST's form with any bytes (as an attacker replaying or tampering with it would). */
async function postForm(upload: { url: string; fields: Record<string, string> }, bytes: Uint8Array, fields: Record<string, string> = {}) {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...upload.fields, ...fields })) form.append(k, v);
  form.append('file', new Blob([bytes], { type: 'audio/wav' }), 'take.wav');
  return fetch(upload.url, { method: 'POST', body: form });
}

describe('an upload’s bytes, once checked, are the ones processed', () => {
  it('enforces the presigned POST policy as S3 does: size, key, content type, extra fields, signature, expiry', async () => {
    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('policy');
    const other = await api.createSession('someone else');
    const bytes = sineWav({ seconds: 0.5 });
    const ask = async (session: { session_id: string; access_token: string }) =>
      (await api.call('POST', '/api/audio/upload', { token: session.access_token, body: { session_id: session.session_id, filename: 'take.wav', content_type: 'audio/wav', size: bytes.length } })).body;
    const mine = await ask(s);
    const theirs = await ask(other);
    // The policy names the exact size.
    const policy = JSON.parse(Buffer.from(mine.upload.fields.Policy, 'base64').toString('utf8'));
    expect(policy.conditions).toContainEqual(['content-length-range', bytes.length, bytes.length]);

    const refused = async (res: Response) => ({ status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] });
    const sig = mine.upload.fields['X-Amz-Signature'] as string;
    const cases: [string, Promise<Response>, { status: number; code: string }][] = [
      ['a larger file', postForm(mine.upload, sineWav({ seconds: 5 })), { status: 400, code: 'EntityTooLarge' }],
      ['a smaller file', postForm(mine.upload, bytes.subarray(0, 1000)), { status: 400, code: 'EntityTooSmall' }],
      ["another session's key", postForm(mine.upload, bytes, { key: theirs.upload.fields.key }), { status: 403, code: 'AccessDenied' }],
      ['another content type', postForm(mine.upload, bytes, { 'Content-Type': 'text/html' }), { status: 403, code: 'AccessDenied' }],
      ['a field the policy does not name', postForm(mine.upload, bytes, { 'x-amz-meta-evil': '1' }), { status: 403, code: 'AccessDenied' }],
      ['a forged signature', postForm(mine.upload, bytes, { 'X-Amz-Signature': `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}` }), { status: 403, code: 'SignatureDoesNotMatch' }],
    ];
    for (const [what, res, expected] of cases) expect(await refused(await res), what).toEqual(expected);

    // An expired policy, signed by the real SDK's createPresignedPost with a one-second lifetime.
    const store = new S3AudioStore(ctx.stack.clients.s3, { uploads: BUCKETS.uploads.name, processed: BUCKETS.processed.name });
    const short = await store.presignUpload({ key: mine.upload.fields.key, contentType: 'audio/wav', bytes: bytes.length, expiresSeconds: 1 });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await refused(await postForm(short, bytes))).toEqual({ status: 403, code: 'AccessDenied' });

    // Nothing refused reached storage: both files are still pending; the honest form then goes through.
    for (const [session, id] of [[s, mine.file_id], [other, theirs.file_id]] as const) {
      expect((await api.call('GET', `/api/audio/${session.session_id}/files/${id}`, { token: session.access_token })).body.status).toBe('pending');
    }
    expect((await postForm(mine.upload, bytes)).status).toBe(204);
    expect((await api.waitForFile(s, mine.file_id)).status).toBe('ready');
  });

  it('records a replayed POST after ingest and never processes the new bytes', async () => {
    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('replay');
    const original = sineWav({ seconds: 1, freqHz: 440 });
    const { file_id, upload } = await api.upload(s, 'take.wav', 'audio/wav', original);
    expect((await api.waitForFile(s, file_id)).status).toBe('ready');

    // The same form again, with other bytes of the same size (S3 itself would accept this within the expiry).
    const replay = sineWav({ seconds: 1, freqHz: 1000 });
    expect(replay.length).toBe(original.length);
    expect((await postForm(upload, replay)).status).toBeLessThan(300);
    const noted = await api.waitFor(async () => {
      const f = await api.call('GET', `/api/audio/${s.session_id}/files/${file_id}`, { token: s.access_token });
      return f.body.overwritten_at ? f.body : undefined;
    }, 'the overwrite recorded');
    expect(noted).toMatchObject({ status: 'ready', duration_s: 1 });

    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
    const done = await api.waitForJob(s, job.body.job_id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'File::Changed' } });
    expect(done.outputs).toBeUndefined();
  });
});

describe('the local S3 authenticates as S3 does', () => {
  it('refuses unsigned, forged, wrongly keyed and expired requests, and takes the real SDK’s signed and presigned ones', async () => {
    const bucket = BUCKETS.processed.name;
    const key = `${BUCKETS.processed.prefix}ses_sig/take.wav`;
    const s3 = ctx.stack.clients.s3;
    const url = (k: string) => `${ctx.stack.endpoints.s3}/${bucket}/${k}`;
    const code = async (res: Response) => ({ status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1] });

    // Signed by the SDK (Authorization header): accepted, and the bytes are stored.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'signed bytes', ContentType: 'audio/wav' }));
    // Unsigned writes, reads and deletes: refused, and nothing changed.
    expect(await code(await fetch(url(key), { method: 'PUT', body: 'anonymous bytes' }))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await code(await fetch(url('other.wav'), { method: 'PUT', body: 'x' }))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await code(await fetch(url(key)))).toEqual({ status: 403, code: 'AccessDenied' });
    expect(await code(await fetch(url(key), { method: 'DELETE' }))).toEqual({ status: 403, code: 'AccessDenied' });

    // A presigned GET works until it expires; the same URL with the key or the signature changed does not.
    const presigned = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 2 });
    expect(await (await fetch(presigned)).text()).toBe('signed bytes');
    const sig = new URL(presigned).searchParams.get('X-Amz-Signature')!;
    const forged = presigned.replace(sig, `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}`);
    expect(await code(await fetch(forged))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });
    expect(await code(await fetch(presigned.replace('/take.wav?', '/other.wav?')))).toEqual({ status: 403, code: 'SignatureDoesNotMatch' });

    // A client with an unknown key, or the right key and a wrong secret.
    const client = (accessKeyId: string, secretAccessKey: string) =>
      new S3Client({ region: 'us-east-1', endpoint: ctx.stack.endpoints.s3, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
    const failure = (p: Promise<unknown>) => p.then(() => 'accepted', (e: { name: string }) => e.name);
    expect(await failure(client('SOMEONE', 'S3RVER').send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })))).toBe('InvalidAccessKeyId');
    expect(await failure(client('S3RVER', 'guessed').send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' })))).toBe('SignatureDoesNotMatch');

    await new Promise((r) => setTimeout(r, 2100));
    expect(await code(await fetch(presigned))).toEqual({ status: 403, code: 'AccessDenied' });
    // Every refused write left the object as the signed one wrote it.
    const kept = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    expect(await kept.Body!.transformToString()).toBe('signed bytes');
  });
});

describe('delivery', () => {
  it('serves only the audio our workers write, with nosniff and a short cache lifetime', async () => {
    const key = `${BUCKETS.processed.prefix}ses_x/evil.html`;
    await ctx.stack.clients.s3.send(new PutObjectCommand({ Bucket: BUCKETS.processed.name, Key: key, Body: '<script>alert(1)</script>', ContentType: 'text/html' }));
    const evil = await fetch(`${ctx.stack.deliveryUrl}/${key}`);
    expect(evil.status).toBe(404);
    expect(evil.headers.get('x-content-type-options')).toBe('nosniff');

    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('delivery');
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    await api.waitForFile(s, file_id);
    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, effect: 'gain' } });
    const done = await api.waitForJob(s, job.body.job_id);
    const res = await fetch(done.output.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('audio/wav');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
  });
});

describe('outputs into storage', () => {
  it('go up as one PUT when small enough and in parts above, the same bytes either way', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'david-put-'));
    try {
      const path = join(dir, 'out.wav');
      const bytes = Buffer.alloc(12 * 1024 * 1024);
      for (let i = 0; i < bytes.length; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
      await writeFile(path, bytes);
      const buckets = { uploads: BUCKETS.uploads.name, processed: BUCKETS.processed.name };
      const single = new S3AudioStore(ctx.stack.clients.s3, buckets);
      const parts = new S3AudioStore(ctx.stack.clients.s3, buckets, { singlePutMaxBytes: 1024 * 1024, partBytes: 5 * 1024 * 1024 });
      // The commands the real SDK client sends (a middleware that only records their names).
      const sent: string[] = [];
      ctx.stack.clients.s3.middlewareStack.add((next, context) => (args) => (sent.push(String(context.commandName)), next(args)), { step: 'initialize', name: 'recordCommands' });
      const expected = {
        single: ['PutObjectCommand'],
        // 12 MiB in 5 MiB parts: three.
        parts: ['CreateMultipartUploadCommand', 'UploadPartCommand', 'UploadPartCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand'],
      };
      for (const [store, name] of [[single, 'single'], [parts, 'parts']] as const) {
        const key = `${BUCKETS.processed.prefix}ses_put/${name}.wav`;
        sent.length = 0;
        try {
          expect(await store.putOutput(key, path, 'audio/wav')).toEqual({ size: bytes.length });
        } finally {
          if (name === 'parts') ctx.stack.clients.s3.middlewareStack.remove('recordCommands');
        }
        expect(sent, name).toEqual(expected[name]);
        const got = await ctx.stack.clients.s3.send(new GetObjectCommand({ Bucket: BUCKETS.processed.name, Key: key }));
        expect(got.ContentType).toBe('audio/wav');
        expect(Buffer.from(await got.Body!.transformToByteArray()).equals(bytes), name).toBe(true);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the local endpoints keep an idle connection as load balancers do', () => {
  it('the API and S3 answer on a connection left idle past Node’s default (closed after 6 s): the client, not the server, closes it', { timeout: 30_000 }, async () => {
    // A server that drops idle connections after 5 s races the clients that reuse them for about 4 s: on a busy
    // machine the next request goes out on a socket the server is closing ("other side closed").
    const endpoints = [`${ctx.stack.apiUrl}/health`, `${ctx.stack.endpoints.s3}/`];
    await Promise.all(endpoints.map(async (url) => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const get = () =>
        new Promise<{ status: number; port: number }>((resolve, reject) => {
          const req = request(url, { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode!, port: req.socket!.localPort! }));
          });
          req.on('error', reject);
          req.end();
        });
      const first = await get();
      await new Promise((r) => setTimeout(r, 7000));
      const second = await get();
      agent.destroy();
      // S3 refuses the unsigned request (403) and still keeps the connection.
      expect([first.status, second.status], url).toEqual(url.endsWith('/health') ? [200, 200] : [403, 403]);
      expect(second.port, `${url}: the same connection`).toBe(first.port);
    }));
  });
});
