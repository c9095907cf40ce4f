import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { buildFunction } from '@david/bundle';
import { EMULATOR_CREDENTIALS, FunctionPool, RuntimeError, SqsEventSource, startLocalStack } from '@david/local';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { readFileSync, existsSync } from 'node:fs';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { emulatorsForFile } from '../helpers/emulators.ts';
import { ApiClient } from '../helpers/client.ts';

const shared = emulatorsForFile('david-sandbox-');

// 256 MB, 2 s, 64 MB of /tmp: the limits the fixture breaks.
const spec = { entry: 'test/fixtures/limits-handler.ts', memoryMb: 256, timeoutSeconds: 2, ephemeralStorageMb: 64, trigger: { queue: 'ingest' }, access: {} } as const;
const bundle = () => buildFunction('test-limits', spec);

describe('the local Lambda runtime', () => {
  it('runs the bundle, not the sources, in a process of its own with its own /tmp, reused warm', async () => {
    const pool = new FunctionPool({ name: 'limits', spec, bundle: bundle(), environment: {}, concurrency: 1, tmpRoot: join(shared.dir, 'tmp') });
    try {
      const first = (await pool.invoke({ probe: true })) as { url: string; tmp: string; pid: number };
      const second = (await pool.invoke({ probe: true })) as { url: string; tmp: string; pid: number };
      expect(fileURLToPath(first.url)).toBe(bundle().file);
      expect(first.url).not.toMatch(/\.ts$/);
      expect(first.pid).not.toBe(process.pid);
      expect(second.pid).toBe(first.pid); // warm
      expect(first.tmp.startsWith(join(shared.dir, 'tmp'))).toBe(true);
      expect(pool.starts).toHaveLength(1);
    } finally {
      await pool.stop();
    }
  });

  it('gives an invocation that arrives while its environment dies to a fresh one, and the runtime lives on', async () => {
    // Lambda Managed Instances style (several invocations per environment), so the next one would share the dying one.
    const pool = new FunctionPool({ name: 'limits', spec, bundle: bundle(), environment: {}, concurrency: 1, perEnvironment: 4, tmpRoot: join(shared.dir, 'tmp') });
    try {
      const first = (await pool.invoke({ probe: true })) as { pid: number };
      const dying: Promise<unknown> = pool.invoke({ leave: true }).then(() => undefined, (err: unknown) => err);
      // Its channel is closed now and the process still there (it exits 500 ms after closing it).
      await new Promise((r) => setTimeout(r, 200));
      expect(() => process.kill(first.pid, 0), 'the dying environment is still running').not.toThrow();
      const next = (await pool.invoke({ probe: true })) as { pid: number };
      expect(next.pid).not.toBe(first.pid);
      expect(await dying).toBeInstanceOf(RuntimeError);
      expect((await dying as RuntimeError).name).toBe('Runtime.ExitError');
      expect(pool.starts).toHaveLength(2);
    } finally {
      await pool.stop();
    }
  });

  it('runs a background environment below the stack by the weight the scheduler uses: its session’s autogroup, where Linux has one', async () => {
    const pool = new FunctionPool({ name: 'limits', spec, bundle: bundle(), environment: {}, concurrency: 1, tmpRoot: join(shared.dir, 'tmp'), niceness: 10 });
    try {
      const { pid } = (await pool.invoke({ probe: true })) as { pid: number };
      const niceOf = async (p: number) => Number((await readFile(`/proc/${p}/stat`, 'utf8')).split(') ')[1].split(' ')[16]);
      expect(await niceOf(pid)).toBe(10);
      // The environment is a session of its own (its own process group): with autogroup scheduling on (Linux's
      // default), only the group's niceness weighs against the API's, so a process at 10 alone was not below it.
      if (existsSync('/proc/self/autogroup')) {
        expect(await readFile(`/proc/${pid}/autogroup`, 'utf8')).toMatch(/ nice 10\n?$/);
        expect(await readFile(`/proc/${pid}/autogroup`, 'utf8')).not.toBe(await readFile('/proc/self/autogroup', 'utf8'));
      }
    } finally {
      await pool.stop();
    }
  });

  it('kills an invocation past its memory, timeout or /tmp size, and the message comes back and succeeds', { timeout: 90_000 }, async () => {
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: shared.emulators.endpoints.sqs, credentials: EMULATOR_CREDENTIALS, useQueueUrlAsEndpoint: false });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'limits', Attributes: { VisibilityTimeout: '1' } }));
    const pool = new FunctionPool({ name: 'limits', spec, bundle: bundle(), environment: {}, concurrency: 1, tmpRoot: join(shared.dir, 'tmp'), watchEveryMs: 50 });
    const errors: RuntimeError[] = [];
    const seen: { body: string; count: string; ok: boolean }[] = [];
    const source = new SqsEventSource({
      name: 'limits',
      fn: { ...spec, timeoutSeconds: 30 }, // the pool enforces the function's own 2 s
      sqs,
      queueUrl: QueueUrl!,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:limits',
      batchSize: 1,
      waitSeconds: 1,
      concurrency: 1,
      handler: async (event: SQSEvent) => {
        const r = event.Records[0];
        try {
          const res = (await pool.invoke(event)) as SQSBatchResponse;
          seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount, ok: true });
          return res;
        } catch (err) {
          seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount, ok: false });
          throw err;
        }
      },
      onError: (e) => errors.push(e as RuntimeError),
    });
    source.start();
    try {
      // A child process's memory counts too (ffmpeg under a job), and the child goes with its environment.
      const pidFile = join(shared.dir, 'child.pid');
      const bodies = ['memory', `child-memory:${pidFile}`, 'timeout', 'disk'];
      for (const body of bodies) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      for (let i = 0; i < 400 && seen.filter((s) => s.ok).length < bodies.length; i++) await new Promise((r) => setTimeout(r, 100));
      const types = errors.map((e) => e.name).sort();
      expect(types).toEqual(['Runtime.OutOfMemory', 'Runtime.OutOfMemory', 'Sandbox.EphemeralStorageFull', 'Sandbox.Timedout']);
      for (const body of bodies) {
        expect(seen.filter((s) => s.body === body).map((s) => s.ok), body).toEqual([false, true]);
      }
      const childPid = Number(readFileSync(pidFile, 'utf8'));
      expect(() => process.kill(childPid, 0), 'the child was killed with its environment').toThrow();
      expect(errors.find((e) => e.name === 'Sandbox.Timedout')?.message).toMatch(/Task timed out after 2\.00 seconds/);
      // Each failure cost its environment: the next invocation started a fresh one.
      expect(pool.starts.length).toBeGreaterThanOrEqual(4);
      const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      expect(Number(left.Attributes!.ApproximateNumberOfMessages) + Number(left.Attributes!.ApproximateNumberOfMessagesNotVisible)).toBe(0);
    } finally {
      await source.stop();
      await pool.stop();
      sqs.destroy();
    }
  });

  // Environments start on demand, as in Lambda: the API's is there once a request came.
  /** The process listening on a loopback TCP port (from /proc/net/tcp's socket inode and the processes' fds). */
  const listenerOf = async (port: number): Promise<number | undefined> => {
    const hex = port.toString(16).toUpperCase().padStart(4, '0');
    const row = (await readFile('/proc/net/tcp', 'utf8')).split('\n').map((l) => l.trim().split(/\s+/)).find((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A');
    if (!row) return undefined;
    const socket = `socket:[${row[9]}]`;
    for (const pid of (await readdir('/proc')).filter((d) => /^\d+$/.test(d))) {
      const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
      for (const fd of fds) if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === socket) return Number(pid);
    }
    return undefined;
  };

  it('is what the local stack runs: a function from its bundle under .build, in a process apart from the emulators', async () => {
    const stack = await startLocalStack({ dataDir: join(shared.dir, 'stack'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
    try {
      expect((await new ApiClient(stack.apiUrl).call('GET', '/health')).status).toBe(200);
      const bundles: string[] = [];
      for (const pid of (await readFile(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8')).split(/\s+/).filter(Boolean)) {
        const environ = await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '');
        const b = environ.split('\0').find((v) => v.startsWith('DAVID_BUNDLE='));
        if (b) bundles.push(b.slice('DAVID_BUNDLE='.length));
      }
      expect(bundles.some((b) => /\/\.build\/functions\/api\/[0-9a-f]{16}\/index\.mjs$/.test(b))).toBe(true);
      // Each emulator listens in a process of its own (a child of the stack), not in the stack's.
      const owners = new Set<number | undefined>();
      for (const url of Object.values(stack.endpoints)) {
        const owner = await listenerOf(Number(new URL(url).port));
        expect(owner).not.toBe(process.pid);
        expect(await readFile(`/proc/${owner}/environ`, 'utf8')).toContain('DAVID_EMULATORS=');
        owners.add(owner);
      }
      expect(owners.size).toBe(3);
      for (const b of bundles) {
        expect(existsSync(b)).toBe(true);
        // Self-contained: the SDK is inside, not left to the runtime.
        expect(readFileSync(b, 'utf8')).not.toMatch(/from\s*["']@aws-sdk\//);
      }
    } finally {
      await stack.stop();
    }
    // Stopped: no environment of it is left.
    const left = (await readFile(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').catch(() => '')).split(/\s+/).filter(Boolean);
    for (const pid of left) expect((await readFile(`/proc/${pid}/environ`, 'utf8').catch(() => '')).includes(join(shared.dir, 'stack'))).toBe(false);
    expect(await readdir(join(shared.dir, 'stack', 'lambda-tmp')).catch(() => [])).toEqual([]);
  });
});
