import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BUCKETS, DynamoFileRepository, DynamoJobRepository, newJobId, TABLE, type Job } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';

// A short lease and sweep, so a dead worker is noticed in seconds (the shared defaults: 60 s each).
const LEASE_SECONDS = 2;
let stack: LocalStack;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-lease-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined, jobs: { leaseSeconds: LEASE_SECONDS, sweepEverySeconds: 1 } });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a job whose worker died', () => {
  it('runs again once its lease runs out, and completes exactly once', async () => {
    const api = new ApiClient(stack.apiUrl);
    const s = await api.createSession('lease');
    const { file_id } = await api.upload(s, 'take.wav', 'audio/wav', sineWav({ seconds: 0.5 }));
    expect((await api.waitForFile(s, file_id)).status).toBe('ready');

    // A worker claimed this job, took its message out of sight (30 minutes) and died: no heartbeat, no result.
    const jobs = new DynamoJobRepository(DynamoDBDocumentClient.from(stack.clients.ddb), TABLE.name);
    const now = new Date();
    const job: Job = {
      session_id: s.session_id,
      job_id: newJobId(),
      file_id,
      chain: [{ effect: 'gain', parameters: { gainDb: -6 } }],
      output_formats: ['wav'],
      status: 'queued',
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      attempts: 0,
    };
    await jobs.create(job);
    const claimed = await jobs.claim(s.session_id, job.job_id, now, new Date(now.getTime() + LEASE_SECONDS * 1000));
    expect(claimed?.status).toBe('processing');
    await jobs.trackLease({ session_id: s.session_id, job_id: job.job_id, lease_until: claimed!.lease_until! });

    const t0 = Date.now();
    const done = await api.waitForJob(s, job.job_id);
    const recovered = (Date.now() - t0) / 1000;
    expect(done).toMatchObject({ status: 'completed', attempts: 2 });
    // lease + one sweep + pickup; with the shared 60 s lease and 60 s sweep that is about two minutes.
    expect(recovered).toBeLessThan(LEASE_SECONDS + 5);

    const objects = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.prefix}${s.session_id}/${job.job_id}` }));
    expect(objects.Contents?.map((o) => o.Key)).toEqual([`${BUCKETS.processed.prefix}${s.session_id}/${job.job_id}.wav`]);
    // The sweeper's copy of the lease goes once the job is done (just after its result is recorded and told).
    await api.waitFor(async () => ((await jobs.listLeases()).some((l) => l.job_id === job.job_id) ? undefined : true), 'the lease copy dropped', 5_000);
    const listed = await api.waitFor(async () => {
      const r = await api.call('GET', `/api/audio/${s.session_id}/files`, { token: s.access_token });
      return r.body.items?.some((e: { file_id: string }) => e.file_id === job.job_id) ? r.body : undefined;
    }, 'the output in the index', 10_000);
    expect(listed.items.filter((e: { file_id: string }) => e.file_id === job.job_id)).toHaveLength(1);
  });
});

describe('an upload that never arrives', () => {
  it('is recorded as expired by the sweeper once it is due, and a job on it is refused', async () => {
    const api = new ApiClient(stack.apiUrl);
    const s = await api.createSession('expiry');
    const req = await api.call('POST', '/api/audio/upload', { token: s.access_token, body: { session_id: s.session_id, filename: 'never.wav', content_type: 'audio/wav', size: 1000 } });
    expect(req.status).toBe(201);
    // Make it due now (its link really runs 15 minutes, plus 5 of grace).
    const files = new DynamoFileRepository(DynamoDBDocumentClient.from(stack.clients.ddb), TABLE.name);
    await files.watchPending(s.session_id, req.body.file_id, new Date(Date.now() - 1000).toISOString());
    const f = await api.waitForFile(s, req.body.file_id);
    expect(f).toMatchObject({ status: 'expired', rejection: { code: 'Upload::Expired' } });
    const job = await api.call('POST', `/api/audio/${s.session_id}/process`, { token: s.access_token, body: { file_id: req.body.file_id, effect: 'gain' } });
    expect(job.status).toBe(422);
    expect(job.body.error.code).toBe('File::Expired');
    const info = await api.call('GET', `/api/audio/${s.session_id}`, { token: s.access_token });
    expect(info.body.buffer_status).toMatchObject({ files_expired: 1, files_pending: 0 });
  });
});
