import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWithFfmpeg, rmsDb, sineWav } from '../helpers/audio.ts';
import { ApiClient } from '../helpers/client.ts';

// A small limit, so the test reaches it with a few jobs (the default is 20, LIMITS.maxVersionsPerFile).
const MAX_VERSIONS = 3;
let stack: LocalStack;
let dir: string;
let api: ApiClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-versions-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined, maxVersions: MAX_VERSIONS });
  api = new ApiClient(stack.apiUrl);
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

type Session = { session_id: string; access_token: string };
const gainJob = async (s: Session, input: { file_id: string } | { job_id: string }, gainDb: number) => {
  const res = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { ...input, effect: 'gain', parameters: { gainDb } } });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return api.waitForJob(s, res.body.job_id);
};

/** RMS (dB) of the first channel of a delivered output, decoded by ffmpeg. */
async function outputRms(url: string): Promise<number> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const path = join(dir, `out-${Date.now()}-${Math.random().toString(36).slice(2)}.wav`);
  await writeFile(path, Buffer.from(await res.arrayBuffer()));
  return rmsDb((await decodeWithFfmpeg(path)).channels[0]);
}

describe('versions of a file', () => {
  it('applies a job on top of a completed job’s output, lists the tree, and keeps at most the limit, the oldest expiring first', async () => {
    const s = await api.createSession('versions');
    const original = sineWav({ seconds: 1, peakDbfs: -6 });
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', original);
    expect((await api.waitForFile(s, file_id)).status).toBe('ready');
    const originalPath = join(dir, 'take.wav');
    await writeFile(originalPath, original);
    const base = rmsDb((await decodeWithFfmpeg(originalPath)).channels[0]);

    const a = await gainJob(s, { file_id }, -6);
    expect(a.status).toBe('completed');
    const b = await gainJob(s, { job_id: a.job_id }, -6);
    expect(b).toMatchObject({ status: 'completed', file_id, parent_job_id: a.job_id });
    // B worked on A's output: −6 dB twice (ffmpeg decodes both; 16-bit rounding is far below the tolerance).
    expect((await outputRms(a.output.url)) - base).toBeCloseTo(-6, 1);
    expect((await outputRms(b.output.url)) - base).toBeCloseTo(-12, 1);

    const tree = await api.call('GET', `/api/audio/${s.session_id}/files/${file_id}/versions`, { token: s.access_token });
    expect(tree.status).toBe(200);
    expect(tree.body).toMatchObject({ file_id, max_versions: MAX_VERSIONS, kept: 2 });
    expect(tree.body.versions.map((v: { job_id: string; parent_job_id: string | null; depth: number; path: string[] }) => [v.job_id, v.parent_job_id, v.depth, v.path])).toEqual([
      [a.job_id, null, 1, [a.job_id]],
      [b.job_id, a.job_id, 2, [a.job_id, b.job_id]],
    ]);
    expect(tree.body.versions[1].chain).toEqual([{ effect: 'gain', parameters: { gainDb: -6 } }]);

    // Two more versions: four completed, one over the limit, so the oldest (A) expires.
    const c = await gainJob(s, { file_id }, -3);
    const d = await gainJob(s, { job_id: c.job_id }, -1);
    const after = await api.waitFor(async () => {
      const r = await api.call('GET', `/api/audio/${s.session_id}/files/${file_id}/versions`, { token: s.access_token });
      return r.body.kept === MAX_VERSIONS ? r.body : undefined;
    }, 'the oldest version expired', 10_000);
    const byId = Object.fromEntries(after.versions.map((v: { job_id: string }) => [v.job_id, v]));
    expect(byId[a.job_id]).toMatchObject({ status: 'expired', expired_at: expect.any(String) });
    expect(byId[a.job_id].output).toBeUndefined();
    for (const j of [b, c, d]) expect(byId[j.job_id].status).toBe('completed');
    // B still hangs under A in the tree (its own output is kept).
    expect(byId[b.job_id]).toMatchObject({ parent_job_id: a.job_id, depth: 2 });
    // A's output is gone from storage (the expiry finishes deleting it after the state says expired) and from
    // delivery; B's is not.
    const keys = await api.waitFor(async () => {
      const objects = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.prefix}${s.session_id}/` }));
      const ks = (objects.Contents ?? []).map((o) => o.Key!);
      return ks.some((k) => k.includes(a.job_id)) ? undefined : ks;
    }, 'the expired output deleted', 10_000);
    expect(keys.some((k) => k.includes(b.job_id))).toBe(true);
    expect((await fetch(a.output.url)).status).toBe(404);
    // Its waveform and spectrogram went with it; B's are kept.
    const pictures = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.visualsPrefix}${s.session_id}/` }));
    const pictureKeys = (pictures.Contents ?? []).map((o) => o.Key!);
    expect(pictureKeys.filter((k) => k.includes(a.job_id))).toEqual([]);
    expect(pictureKeys.filter((k) => k.includes(b.job_id))).toHaveLength(3);
    const waveA = await api.call('GET', `/api/audio/${s.session_id}/jobs/${a.job_id}/waveform.json`, { token: s.access_token });
    expect([waveA.status, waveA.body.error.code]).toEqual([404, 'Visual::Expired']);
    const gotA = await api.call('GET', `/api/audio/${s.session_id}/jobs/${a.job_id}`, { token: s.access_token });
    expect(gotA.body).toMatchObject({ status: 'expired' });
    expect(gotA.body.output).toBeUndefined();

    // An expired version cannot be worked on; the request says why.
    const onExpired = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { job_id: a.job_id, effect: 'gain' } });
    expect(onExpired.status).toBe(422);
    expect(onExpired.body.error.code).toBe('Job::Expired');
    const session = await api.call('GET', `/api/audio/${s.session_id}`, { token: s.access_token });
    // The session's buffer: its queue is empty, and it stores the upload and the three kept outputs.
    const kept = after.versions.filter((v: { output?: { size: number } }) => v.output).reduce((n: number, v: { output: { size: number } }) => n + v.output.size, 0);
    expect(session.body.buffer_status).toMatchObject({
      jobs_completed: 3,
      jobs_expired: 1,
      queue_depth: 0,
      versions_kept: 3,
      max_versions_per_file: MAX_VERSIONS,
      bytes_uploads: original.length,
      bytes_outputs: kept,
      bytes_stored: original.length + kept,
    });
  }, 120_000);

  it('takes exactly one input: file_id or job_id', async () => {
    const s = await api.createSession('inputs');
    const { file_id } = await api.upload(s, 'x.wav', 'audio/wav', sineWav({ seconds: 0.3 }));
    await api.waitForFile(s, file_id);
    const a = await gainJob(s, { file_id }, -1);
    const both = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id, job_id: a.job_id, effect: 'gain' } });
    expect([both.status, both.body.error.code]).toEqual([400, 'Job::AmbiguousInput']);
    const none = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { effect: 'gain' } });
    expect([none.status, none.body.error.code, none.body.error.details.alternatives]).toEqual([400, 'Request::MissingField', ['file_id', 'job_id']]);
    const other = await api.createSession('other');
    const foreign = await api.call('POST', `/api/audio/${other.session_id}/process`, { token: other.access_token, body: { job_id: a.job_id, effect: 'gain' } });
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'Job::NotFound']);
  }, 60_000);
});
