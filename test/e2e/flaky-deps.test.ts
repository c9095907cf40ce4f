import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BUCKETS } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { startFaultProxy, type FaultRule } from '../helpers/fault-proxy.ts';

/** A small deterministic generator, so a failing run can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

const FAIL_SHARE = 0.08;
const DELAY_SHARE = 0.04;
const injected = { s3: 0, sqs: 0, dynamodb: 0, delayed: 0 };

/** Failures as each service answers them: S3's 503 SlowDown, DynamoDB's throttling and 500s, SQS's 500s. */
function rule(service: keyof typeof injected, next: () => number): FaultRule {
  return (req) => {
    // The browser's own upload to the presigned POST is the client's business, not a dependency of ours.
    if (service === 's3' && req.method === 'POST' && String(req.headers['content-type']).startsWith('multipart/form-data')) return 'pass';
    const r = next();
    if (r < FAIL_SHARE) {
      injected[service]++;
      if (service === 's3') return { status: 503, body: '<Error><Code>SlowDown</Code><Message>injected</Message></Error>', headers: { 'content-type': 'application/xml' } };
      if (service === 'dynamodb' && r < FAIL_SHARE / 2) return { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'injected' }) };
      return { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected' }) };
    }
    if (r < FAIL_SHARE + DELAY_SHARE) {
      injected.delayed++;
      return { delayMs: 300 };
    }
    return 'pass';
  };
}

let dir: string;
let stack: LocalStack;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-flaky-'));
  const next = random(Number(process.env.FAULT_SEED ?? 20261201)); // FAULT_SEED=n replays another run
  stack = await startLocalStack({
    dataDir: join(dir, 'data'),
    port: 0,
    deliveryPort: 0,
    logLevel: 'SILENT',
    onError: () => undefined,
    jobs: { leaseSeconds: 2, sweepEverySeconds: 1 },
    queueVisibilitySeconds: 2,
    functionEndpoints: async (direct) => {
      const proxies = await Promise.all((['s3', 'sqs', 'dynamodb'] as const).map((svc) => startFaultProxy(direct[svc], rule(svc, next))));
      closers.push(...proxies.map((p) => p.close));
      return { s3: proxies[0].url, sqs: proxies[1].url, dynamodb: proxies[2].url };
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  for (const close of closers) await close();
  await rm(dir, { recursive: true, force: true });
});

/** A client that retries what the API says is worth retrying (5xx), as a well-behaved client does. */
async function retrying<T>(fn: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 10; i++) {
    try {
      last = await fn();
      if (ok(last)) return last;
    } catch {
      // a 5xx inside a helper: try again
    }
    await new Promise((r) => setTimeout(r, 100 * (i + 1)));
  }
  return last as T;
}

describe('with S3, DynamoDB and SQS failing or slow on a share of calls', () => {
  it('every accepted upload and job reaches a final state, each job with its outputs, and the index matches', { timeout: 120_000 }, async () => {
    const api = new ApiClient(stack.apiUrl);
    const session = await retrying(() => api.createSession('flaky'), () => true);
    const accepted: { file_id: string; junk: boolean }[] = [];
    for (let i = 0; i < 8; i++) {
      const junk = i === 5;
      const bytes = junk ? Buffer.alloc(40_000, 3) : sineWav({ seconds: 1, freqHz: 300 + 40 * i });
      const up = await retrying(() => api.upload(session, `f${i}.wav`, 'audio/wav', bytes), (v) => !!v?.file_id);
      if (up?.file_id) accepted.push({ file_id: up.file_id, junk });
    }
    expect(accepted.length).toBe(8);
    const wait = (path: string, final: (b: { status?: string }) => boolean) =>
      api.waitFor(async () => {
        const r = await api.call('GET', path, { token: session.access_token }).catch(() => undefined);
        return r?.status === 200 && final(r.body) ? r.body : undefined;
      }, path, 60_000);
    for (const a of accepted) {
      const f = await wait(`/api/audio/${session.session_id}/files/${a.file_id}`, (b) => b.status !== 'pending');
      expect(f.status, a.file_id).toBe(a.junk ? 'rejected' : 'ready');
    }
    const jobs: string[] = [];
    for (const a of accepted.filter((x) => !x.junk)) {
      const r = await retrying(
        () => api.call('POST', `/api/audio/${session.session_id}/process`, { token: session.access_token, body: { file_id: a.file_id, effect: 'compressor', output_formats: ['wav', 'flac'] } }),
        (v) => v.status === 202,
      );
      expect(r.status).toBe(202);
      jobs.push(r.body.job_id);
    }
    for (const id of jobs) {
      const j = await wait(`/api/audio/${session.session_id}/jobs/${id}`, (b) => b.status === 'completed' || b.status === 'failed');
      expect(j.status, `${id}: ${JSON.stringify(j.error)}`).toBe('completed');
      const objects = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.prefix}${session.session_id}/${id}` }));
      expect(objects.Contents?.map((o) => o.Key).sort()).toEqual(['flac', 'wav'].map((e) => `${BUCKETS.processed.prefix}${session.session_id}/${id}.${e}`));
    }
    // Every final file and every job output in the index, once (a retried request may have left an extra pending file).
    const info = await wait(`/api/audio/${session.session_id}`, () => true);
    const expected = [...info.uploaded_files.filter((f: { status: string }) => f.status !== 'pending').map((f: { file_id: string }) => f.file_id), ...jobs].sort();
    const listed = await api.waitFor(async () => {
      const r = await api.call('GET', `/api/audio/${session.session_id}/files?limit=1000`, { token: session.access_token }).catch(() => undefined);
      const ids = (r?.body?.items ?? []).map((e: { file_id: string }) => e.file_id).sort();
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : undefined;
    }, 'the index to match the records', 60_000);
    expect(listed).toEqual(expected);
    // The faults really happened (typically 15–25 failed and 12–25 delayed calls a run).
    expect(injected.s3 + injected.sqs + injected.dynamodb).toBeGreaterThanOrEqual(10);
    console.log('injected faults', injected);
  });
});
