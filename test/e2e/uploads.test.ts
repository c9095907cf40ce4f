import { PutObjectCommand } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
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
  it('rejects an upload whose size is not the declared one', async () => {
    const api = new ApiClient(ctx.stack.apiUrl);
    const s = await api.createSession('sizes');
    const bytes = sineWav({ seconds: 5 });
    const req = await api.call('POST', '/api/audio/upload', { token: s.access_token, body: { session_id: s.session_id, filename: 'take.wav', content_type: 'audio/wav', size: 100 } });
    expect(req.status).toBe(201);
    // The policy itself names the exact size (S3 refuses anything else; the emulator does not, so ingest checks).
    const policy = JSON.parse(Buffer.from(req.body.upload.fields.Policy, 'base64').toString('utf8'));
    expect(policy.conditions).toContainEqual(['content-length-range', 100, 100]);
    await postForm(req.body.upload, bytes);
    const file = await api.waitForFile(s, req.body.file_id);
    expect(file).toMatchObject({ status: 'rejected', rejection: { code: 'Upload::SizeMismatch' } });
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
