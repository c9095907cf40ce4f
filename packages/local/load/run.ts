/**
 * `npm run load [-- --files N --concurrency C]`: N uploads (short WAVs, 5 % junk) and one gain job per ready file on
 * a fresh local stack, then the invariants. Prints wall times, API latency percentiles (and /health's, sampled
 * throughout), DLQ depths and whether uploads = ready + rejected, jobs = completed + failed, one output per job and
 * index = records hold; then the latency of a file GET while two long jobs run. Not part of `npm test`.
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { BUCKETS, QUEUES } from '@david/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../src/stack.ts';

const { values } = parseArgs({ options: { files: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '50' } }, strict: true });
const N = Number(values.files);
const C = Number(values.concurrency);
if (!Number.isInteger(N) || N < 1 || !Number.isInteger(C) || C < 1) throw new Error('--files and --concurrency take whole numbers ≥ 1');

function wav(seconds: number, freq: number): Buffer {
  const sr = 16_000;
  const n = Math.round(seconds * sr);
  const b = Buffer.alloc(44 + n * 2);
  b.write('RIFF', 0);
  b.writeUInt32LE(36 + n * 2, 4);
  b.write('WAVEfmt ', 8);
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20);
  b.writeUInt16LE(1, 22);
  b.writeUInt32LE(sr, 24);
  b.writeUInt32LE(sr * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36);
  b.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) b.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * freq * i) / sr)), 44 + i * 2);
  return b;
}

const latencies: number[] = [];
const health: number[] = [];
const pct = (xs: number[], p: number) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] : NaN);

async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const dir = await mkdtemp(join(tmpdir(), 'david-load-'));
const stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
const api = async (method: string, path: string, token?: string, body?: unknown) => {
  const t0 = performance.now();
  const res = await fetch(stack.apiUrl + path, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = (await res.json().catch(() => undefined)) as Record<string, any>;
  latencies.push(performance.now() - t0);
  return { status: res.status, body: json };
};

let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const t0 = performance.now();
    await fetch(`${stack.apiUrl}/health`).then((r) => r.arrayBuffer()).catch(() => undefined);
    health.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 100));
  }
})();

try {
  const session = (await api('POST', '/api/audio/session', undefined, { name: 'load' })).body;
  const token = session.access_token as string;
  const sid = session.session_id as string;
  const files = Array.from({ length: N }, (_, i) => ({ i, junk: i % 20 === 7, bytes: i % 20 === 7 ? Buffer.alloc(20_000, 9) : wav(1 + (i % 3), 200 + (i % 50) * 10) }));
  const t0 = performance.now();
  const accepted: { id: string; junk: boolean }[] = [];
  /** Ask for an upload and send the bytes through its presigned POST: the file id, or null when either was refused. */
  const upload = async (filename: string, bytes: Buffer): Promise<string | null> => {
    const req = await api('POST', '/api/audio/upload', token, { session_id: sid, filename, content_type: 'audio/wav', size: bytes.length });
    if (req.status !== 201) return null;
    const form = new FormData();
    for (const [k, v] of Object.entries(req.body.upload.fields as Record<string, string>)) form.append(k, v);
    form.append('file', new Blob([bytes], { type: 'audio/wav' }), filename);
    const post = await fetch(req.body.upload.url, { method: 'POST', body: form });
    return post.status < 300 ? (req.body.file_id as string) : null;
  };
  await pool(files, C, async (f) => {
    const id = await upload(`f${f.i}.wav`, f.bytes);
    if (id) accepted.push({ id, junk: f.junk });
  });
  const tUploaded = performance.now();
  const status = new Map<string, string>();
  await pool(accepted, C, async (a) => {
    for (;;) {
      const r = await api('GET', `/api/audio/${sid}/files/${a.id}?wait=20`, token);
      if (r.body?.status && r.body.status !== 'pending') return void status.set(a.id, r.body.status);
    }
  });
  const tIngested = performance.now();
  const ready = accepted.filter((a) => status.get(a.id) === 'ready');
  const jobs: string[] = [];
  await pool(ready, C, async (a) => {
    const r = await api('POST', `/api/audio/${sid}/process`, token, { file_id: a.id, effect: 'gain', parameters: { gainDb: -3 } });
    if (r.status === 202) jobs.push(r.body.job_id);
  });
  const jobStatus = new Map<string, string>();
  await pool(jobs, C, async (id) => {
    for (;;) {
      const r = await api('GET', `/api/audio/${sid}/jobs/${id}?wait=20`, token);
      if (r.body?.status === 'completed' || r.body?.status === 'failed') return void jobStatus.set(id, r.body.status);
    }
  });
  const tJobs = performance.now();

  // Invariants.
  const count = (m: Map<string, string>, s: string) => [...m.values()].filter((v) => v === s).length;
  const outputs = new Set<string>();
  let token_: string | undefined;
  do {
    const page = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.prefix}${sid}/`, ContinuationToken: token_ }));
    for (const o of page.Contents ?? []) outputs.add(o.Key!);
    token_ = page.NextContinuationToken;
  } while (token_);
  const completed = [...jobStatus].filter(([, s]) => s === 'completed').map(([id]) => id);
  const oneOutputEach = completed.every((id) => outputs.has(`${BUCKETS.processed.prefix}${sid}/${id}.wav`)) && outputs.size === completed.length;
  const records = accepted.length + completed.length;
  let indexed = 0;
  const tIndex0 = performance.now();
  for (let i = 0; i < 600; i++) {
    indexed = (await api('GET', `/api/audio/${sid}/files?limit=1`, token)).body?.total ?? 0;
    if (indexed === records) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const indexLag = performance.now() - tIndex0;
  const dlq: Record<string, number> = {};
  for (const name of Object.keys(QUEUES) as (keyof typeof QUEUES)[]) {
    const a = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: stack.queues[name].dlqUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    dlq[name] = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  sampling = false;
  await sampler;

  // Reads while two long jobs run (30 min of audio through three reverbs each): a file GET every 50 ms until both
  // are done.
  const long = await Promise.all(
    [0, 1].map(async (i) => {
      const id = await upload(`long${i}.wav`, wav(1800, 330 + i * 110));
      if (!id) throw new Error(`the long upload ${i} was refused`);
      while ((await api('GET', `/api/audio/${sid}/files/${id}?wait=20`, token)).body?.status === 'pending');
      return id;
    }),
  );
  const longJobs = await Promise.all(long.map(async (id) => (await api('POST', `/api/audio/${sid}/process`, token, { file_id: id, chain: [1, 2, 3].map(() => ({ effect: 'reverb' })) })).body.job_id as string));
  const reads: number[] = [];
  const probe = ready[0]?.id;
  const running = async () =>
    (await Promise.all(longJobs.map(async (id) => (await api('GET', `/api/audio/${sid}/jobs/${id}`, token)).body?.status))).some((st) => st === 'queued' || st === 'processing');
  while (probe && (await running())) {
    const t = performance.now();
    await fetch(`${stack.apiUrl}/api/audio/${sid}/files/${probe}`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.arrayBuffer());
    reads.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 50));
  }

  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const ok = (b: boolean) => (b ? 'yes' : 'NO');
  const rows: [string, string][] = [
    ['uploads sent / accepted', `${N} / ${accepted.length}`],
    ['ready / rejected (junk sent)', `${count(status, 'ready')} / ${count(status, 'rejected')} (${files.filter((f) => f.junk).length})`],
    ['uploads = ready + rejected', ok(count(status, 'ready') + count(status, 'rejected') === accepted.length)],
    ['jobs submitted / completed / failed', `${jobs.length} / ${count(jobStatus, 'completed')} / ${count(jobStatus, 'failed')}`],
    ['jobs = completed + failed', ok(count(jobStatus, 'completed') + count(jobStatus, 'failed') === jobs.length)],
    ['one output per completed job', ok(oneOutputEach)],
    ['index entries = records', `${ok(indexed === records)} (${indexed} of ${records}, ${s(indexLag)} after the last job)`],
    ['DLQ depths (ingest, process, index)', `${dlq.ingest}, ${dlq.process}, ${dlq.index}`],
    ['all uploaded', s(tUploaded - t0)],
    ['all ingested', s(tIngested - t0)],
    ['all jobs finished', s(tJobs - t0)],
    ['API p50 / p99 / max (every call)', `${pct(latencies, 50).toFixed(0)} / ${pct(latencies, 99).toFixed(0)} / ${Math.max(...latencies).toFixed(0)} ms (long polls included)`],
    ['/health p50 / p99 / max during the run', `${pct(health, 50).toFixed(0)} / ${pct(health, 99).toFixed(0)} / ${Math.max(...health).toFixed(0)} ms`],
    ['file GET p50 / p99 / max while two long jobs run', `${pct(reads, 50).toFixed(0)} / ${pct(reads, 99).toFixed(0)} / ${Math.max(...reads).toFixed(0)} ms (${reads.length} reads)`],
  ];
  console.log(`\n${N} files, concurrency ${C}\n\n| what | measured |\n| --- | --- |`);
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
} finally {
  sampling = false;
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}
