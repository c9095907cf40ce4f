/**
 * `npm run load [-- --files N --concurrency C --phased]`: N uploads (short WAVs, 5 % junk) and one gain job per
 * ready file on a fresh local stack, started as `npm start` starts it (its own process; this client apart), then the
 * invariants. By default C uploaders send every file at once while C watchers long-poll each accepted file and ask
 * for its job as soon as it is ready, as a client does; `--phased` does every upload, then waits for every ingest,
 * then runs every job (the harness of the crash-safety issue). Prints wall times, API latency percentiles (and
 * /health's, sampled throughout), DLQ depths and whether uploads = ready + rejected, jobs = completed + failed, one
 * output per job and index = records hold; then the latency of a file GET while two long jobs run. Not part of
 * `npm test`.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { BUCKETS, QUEUES } from '@david/core';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EMULATOR_CREDENTIALS } from '../src/emulators.ts';
import { processTree } from '../src/sandbox.ts';
import { dlqNameOf } from '../src/provision.ts';
import { freePorts } from '../../../test/helpers/ports.ts';

const { values } = parseArgs({
  options: { files: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '50' }, phased: { type: 'boolean', default: false } },
  strict: true,
});
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

/**
 * How fast this machine's CPU is just now (its speed drifts by tens of percent over minutes here): a fixed loop,
 * timed before and after the run, so runs taken at different times can be told apart.
 */
let probeSink = 0;
const cpuProbe = () => {
  const t = performance.now();
  for (let i = 0; i < 1e8; i++) probeSink += i;
  return `${Math.round(performance.now() - t)} ms`;
};
const probeBefore = cpuProbe();

/**
 * CPU seconds (user + system) a process and all its descendants have used so far, by part (see `partOf`), from
 * /proc: each process's own, plus what its exited children used (recycled environments, ffmpeg runs).
 */
function treeCpu(root: number): Map<string, number> {
  const parts = new Map<string, number>();
  for (const pid of processTree(root)) {
    let ticks = 0;
    try {
      // After the name: state ppid … utime(12) stime(13) cutime(14) cstime(15), counted from state = 0.
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // gone meanwhile
    }
    const part = partOf(pid, root);
    parts.set(part, (parts.get(part) ?? 0) + ticks / 100); // USER_HZ: 100 on Linux
  }
  return parts;
}

/** What a process of the stack is: an emulator, a function's environment (with the ffmpeg it runs), or the stack itself. */
const parts = new Map<number, string>();
function partOf(pid: number, root: number): string {
  if (pid === root) return 'stack';
  if (parts.has(pid)) return parts.get(pid)!;
  let part = 'stack';
  try {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const fn = env.find((v) => v.startsWith('DAVID_FUNCTION_NAME='));
    const emulator = env.find((v) => v.startsWith('DAVID_EMULATORS='));
    if (fn) part = fn.slice('DAVID_FUNCTION_NAME='.length).replace(/^david-/, '');
    else if (emulator) part = (JSON.parse(emulator.slice('DAVID_EMULATORS='.length)) as { service?: string; kind?: string }).service ?? 'emulators';
  } catch {
    // gone meanwhile
  }
  parts.set(pid, part);
  return part;
}

const dir = await mkdtemp(join(tmpdir(), 'david-load-'));
// The stack as a user runs it (`npm start`, its own process); this client apart from it, as users are.
const [port] = await freePorts(1);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
// A session of its own, as a terminal running `npm start` is: where Linux schedules sessions as groups (autogroup),
// the stack would otherwise share one group's CPU with this client.
const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'packages/local/src/main.ts')], {
  cwd: root,
  env: { ...process.env, DATA_DIR: join(dir, 'data'), PORT: String(port), DELIVERY_PORT: '0', S3_PORT: '0', SQS_PORT: '0', DYNAMODB_PORT: '0', LOG_LEVEL: 'SILENT' },
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
// Being apart, it does not get the terminal's Ctrl-C: pass it on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => child.kill('SIGTERM'));
let banner = '';
await new Promise<void>((ok, fail) => {
  child.stdout!.on('data', (d: Buffer) => {
    banner += d.toString();
    if (banner.includes('Press Ctrl-C')) ok();
  });
  child.once('exit', (code) => fail(new Error(`npm start exited (${code}) before it was up:\n${banner}`)));
});
const shown = (label: string) => new RegExp(`^\\s+${label}\\s+(\\S+)`, 'm').exec(banner)![1];
const endpointOpts = { region: 'us-east-1', credentials: EMULATOR_CREDENTIALS };
const stack = {
  apiUrl: shown('API'),
  clients: {
    s3: new S3Client({ ...endpointOpts, endpoint: shown('S3'), forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' }),
    sqs: new SQSClient({ ...endpointOpts, endpoint: shown('SQS') }),
  },
  async stop() {
    child.kill('SIGTERM');
    if (child.exitCode === null) await once(child, 'exit');
  },
};
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

// /health is sampled from a process of its own, as a load balancer's health check is: in this client's process its
// timings would include this client's own event loop (a hundred requests in flight), not only the service's answer.
const SAMPLER = `
  const health = [];
  let sampling = true;
  process.stdin.on('end', () => { sampling = false; }).resume();
  (async () => {
    while (sampling) {
      const t0 = performance.now();
      await fetch(process.argv[1] + '/health').then((r) => r.arrayBuffer()).catch(() => undefined);
      health.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 100));
    }
    process.stdout.write(JSON.stringify(health));
  })();`;
const samplerChild = spawn(process.execPath, ['-e', SAMPLER, stack.apiUrl], { stdio: ['pipe', 'pipe', 'inherit'], detached: true });
let samplerOut = '';
samplerChild.stdout!.on('data', (d: Buffer) => (samplerOut += d.toString()));
/** Ends the sampling and takes its timings. */
const stopSampler = async () => {
  samplerChild.stdin!.end();
  if (samplerChild.exitCode === null) await once(samplerChild, 'exit');
  health.push(...(JSON.parse(samplerOut || '[]') as number[]));
};

try {
  const session = (await api('POST', '/api/audio/session', undefined, { name: 'load' })).body;
  const token = session.access_token as string;
  const sid = session.session_id as string;
  const files = Array.from({ length: N }, (_, i) => ({ i, junk: i % 20 === 7, bytes: i % 20 === 7 ? Buffer.alloc(20_000, 9) : wav(1 + (i % 3), 200 + (i % 50) * 10) }));
  const t0 = performance.now();
  const cpu0 = { stack: treeCpu(child.pid!), client: process.cpuUsage() };
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
  const status = new Map<string, string>();
  const jobs: string[] = [];
  const jobStatus = new Map<string, string>();
  let tUploaded = 0;
  let tIngested = 0;
  /** Long-poll a file until it is no longer pending; its status. */
  const settle = async (id: string) => {
    for (;;) {
      const r = await api('GET', `/api/audio/${sid}/files/${id}?wait=20`, token);
      if (r.body?.status && r.body.status !== 'pending') {
        status.set(id, r.body.status);
        tIngested = performance.now();
        return r.body.status as string;
      }
    }
  };
  const submitAndFinish = async (id: string) => {
    const r = await api('POST', `/api/audio/${sid}/process`, token, { file_id: id, effect: 'gain', parameters: { gainDb: -3 } });
    if (r.status !== 202) return;
    jobs.push(r.body.job_id);
    for (;;) {
      const j = await api('GET', `/api/audio/${sid}/jobs/${r.body.job_id}?wait=20`, token);
      if (j.body?.status === 'completed' || j.body?.status === 'failed') return void jobStatus.set(r.body.job_id, j.body.status);
    }
  };
  if (values.phased) {
    // Each stage for every file before the next starts (the harness of the crash-safety issue).
    await pool(files, C, async (f) => {
      const id = await upload(`f${f.i}.wav`, f.bytes);
      if (id) accepted.push({ id, junk: f.junk });
    });
    tUploaded = performance.now();
    await pool(accepted, C, async (a) => void (await settle(a.id)));
    await pool(accepted.filter((a) => status.get(a.id) === 'ready'), C, (a) => submitAndFinish(a.id));
  } else {
    // As a client does: uploads go out at full speed, and each file's job is asked for as soon as that file is
    // ready (C uploaders, C watchers).
    let uploading = true;
    const waiting: (() => void)[] = [];
    const wake = () => waiting.splice(0).forEach((f) => f());
    let taken = 0;
    const watch = async () => {
      for (;;) {
        if (taken < accepted.length) {
          const id = accepted[taken++].id;
          if ((await settle(id)) === 'ready') await submitAndFinish(id);
        } else if (uploading) await new Promise<void>((r) => waiting.push(r));
        else return;
      }
    };
    const watchers = Array.from({ length: C }, watch);
    await pool(files, C, async (f) => {
      const id = await upload(`f${f.i}.wav`, f.bytes);
      if (id) accepted.push({ id, junk: f.junk });
      wake();
    });
    tUploaded = performance.now();
    uploading = false;
    wake();
    await Promise.all(watchers);
  }
  const ready = accepted.filter((a) => status.get(a.id) === 'ready');
  const tJobs = performance.now();
  const cpuParts = [...treeCpu(child.pid!)].map(([part, secs]) => [part, secs - (cpu0.stack.get(part) ?? 0)] as const).sort((a, b) => b[1] - a[1]);
  const cpuStack = cpuParts.reduce((total, [, secs]) => total + secs, 0);
  const clientUsage = process.cpuUsage(cpu0.client);
  const cpuClient = (clientUsage.user + clientUsage.system) / 1e6;

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
    const { QueueUrl } = await stack.clients.sqs.send(new GetQueueUrlCommand({ QueueName: dlqNameOf(QUEUES[name]) }));
    const a = await stack.clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    dlq[name] = Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  await stopSampler();

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
    ['CPU used until all jobs finished: the stack / this client', `${cpuStack.toFixed(1)} s (${((cpuStack / N) * 1000).toFixed(0)} ms a file with its job) / ${cpuClient.toFixed(1)} s`],
    ['… of which (seconds)', cpuParts.filter(([, secs]) => secs >= 0.05).map(([part, secs]) => `${part} ${secs.toFixed(1)}`).join(', ')],
    ['CPU probe (1e8 additions) before / after', `${probeBefore} / ${cpuProbe()}`],
    ['file GET p50 / p99 / max while two long jobs run', `${pct(reads, 50).toFixed(0)} / ${pct(reads, 99).toFixed(0)} / ${Math.max(...reads).toFixed(0)} ms (${reads.length} reads)`],
  ];
  console.log(`\n${N} files, concurrency ${C}, ${values.phased ? 'phased (every upload, then every ingest, then every job)' : 'each job asked for when its file is ready'}\n\n| what | measured |\n| --- | --- |`);
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
} finally {
  samplerChild.kill();
  await stack.stop();
  await rm(dir, { recursive: true, force: true });
}
