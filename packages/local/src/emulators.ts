import { CreateBucketCommand, PutBucketCorsCommand, PutBucketNotificationConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import S3rver from 's3rver';
import { startFauxqs } from 'fauxqs';
import dynalite from 'dynalite';
import { BUCKETS, LIMITS } from '@david/core';
import { objectCreatedEvent } from './reconcile.ts';
import { motoPython } from './moto.ts';
import { startS3Gate, type GateTarget } from './s3-gate.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * Which emulators stand in for AWS: `s3rver` (s3rver + fauxqs + dynalite, persistent under the data directory, the
 * default) or `moto` (Python moto_server for all three, in memory: a second, independent implementation of the same
 * APIs, with S3's own event notifications to SQS, so the code is not tuned to one emulator's quirks).
 */
export type EmulatorKind = 's3rver' | 'moto';
export const EMULATOR_KINDS: readonly EmulatorKind[] = ['s3rver', 'moto'];

export interface EmulatorPorts {
  s3?: number;
  sqs?: number;
  dynamodb?: number;
}

export interface Emulators {
  readonly kind: EmulatorKind;
  readonly endpoints: { s3: string; sqs: string; dynamodb: string };
  /**
   * Deliver the uploads bucket's ObjectCreated events under its prefix to the ingest queue in the S3 event
   * format, as the bucket notification does in the cloud.
   */
  notifyUploads(sqs: SQSClient, queue: { url: string; arn: string }, onError: (err: unknown) => void): Promise<void>;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

/** The emulators' one credential (s3rver accepts only this access key). */
export const EMULATOR_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

const OBJECT_SUFFIX = '._S3rver_object';

/**
 * s3rver writes an object's bytes, then its metadata, and answers after both; a process killed in between leaves
 * bytes without metadata, which s3rver then fails on (500 for a listing). Such an object was never acknowledged,
 * so it is removed before the emulator starts, as S3 would never have stored it.
 */
export async function removeHalfWrittenObjects(root: string): Promise<string[]> {
  const removed: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith(OBJECT_SUFFIX)) {
        const base = path.slice(0, -OBJECT_SUFFIX.length);
        try {
          JSON.parse(await readFile(`${base}._S3rver_metadata.json`, 'utf8'));
          continue;
        } catch {
          // missing or cut short: the write never completed
        }
        await Promise.all([path, `${path}.md5`, `${base}._S3rver_metadata.json`].map((p) => rm(p, { force: true })));
        removed.push(path);
      }
    }
  };
  await walk(root);
  return removed;
}

/** CORS on the buckets so browsers can POST straight to the presigned URL, as in the cloud. */
const CORS_RULE = { AllowedOrigins: ['*'], AllowedMethods: ['GET', 'PUT', 'POST', 'HEAD'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 };
const tags = (name: string, values: readonly string[]) => values.map((v) => `<${name}>${v}</${name}>`).join('');
export const CORS_XML = `<CORSConfiguration><CORSRule>${tags('AllowedOrigin', CORS_RULE.AllowedOrigins)}${tags('AllowedMethod', CORS_RULE.AllowedMethods)}${tags('AllowedHeader', CORS_RULE.AllowedHeaders)}${tags('ExposeHeader', CORS_RULE.ExposeHeaders)}<MaxAgeSeconds>${CORS_RULE.MaxAgeSeconds}</MaxAgeSeconds></CORSRule></CORSConfiguration>`;

const gateFor = (target: GateTarget, port: number | undefined) =>
  startS3Gate({
    target,
    host: HOST,
    port: port ?? 0,
    secrets: { [EMULATOR_CREDENTIALS.accessKeyId]: EMULATOR_CREDENTIALS.secretAccessKey },
    maxFormBytes: LIMITS.maxUploadBytes + 1024 * 1024,
  });

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

type S3RecordLike = { eventName: string; s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string } } };

export function startEmulators(kind: EmulatorKind, dataDir: string, ports: EmulatorPorts, buckets: string[]): Promise<Emulators> {
  return kind === 'moto' ? startMoto(ports, buckets) : startS3rverFauxqsDynalite(dataDir, ports, buckets);
}

/** One of the three AWS APIs the default emulators serve, each from its own emulator. */
export type EmulatedService = 's3' | 'sqs' | 'dynamodb';
export const EMULATED_SERVICES: readonly EmulatedService[] = ['s3', 'sqs', 'dynamodb'];

interface ServiceHandle {
  readonly endpoint: string;
  /** S3 only: forward ObjectCreated events of the uploads bucket to the ingest queue. */
  readonly notifyUploads?: Emulators['notifyUploads'];
  stop(): Promise<void>;
}

/**
 * One of the default emulators over real HTTP on loopback, persisting under `dataDir`: s3rver behind the
 * authenticating gate (S3, with in-process object events), fauxqs (SQS with visibility, long polling, DLQ redrive,
 * FIFO) or dynalite (DynamoDB with conditional writes).
 */
export async function startEmulatedService(service: EmulatedService, dataDir: string, ports: EmulatorPorts, corsBuckets: string[]): Promise<ServiceHandle> {
  const dir = join(dataDir, service);
  await mkdir(dir, { recursive: true });
  if (service === 'sqs') {
    const fauxqs = await startFauxqs({ port: ports.sqs ?? 0, host: HOST, logger: false, dataDir: dir });
    return { endpoint: `http://${HOST}:${fauxqs.port}`, stop: () => fauxqs.stop() };
  }
  if (service === 'dynamodb') {
    const ddb = dynalite({ path: dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => {
      ddb.once('error', reject);
      ddb.listen(ports.dynamodb ?? 0, HOST, () => resolve());
    });
    return { endpoint: `http://${HOST}:${(ddb.address() as AddressInfo).port}`, stop: () => closeServer(ddb) };
  }
  await removeHalfWrittenObjects(dir);
  // s3rver on a port of its own; the S3 endpoint is the authenticating gate in front of it (see s3-gate.ts).
  const s3rver = new S3rver({ address: HOST, port: 0, directory: dir, silent: true, configureBuckets: corsBuckets.map((name) => ({ name, configs: [CORS_XML] })) });
  const s3Addr = (await s3rver.run()) as AddressInfo;
  let gate: Server;
  try {
    // Requests it lets through go straight to s3rver's handler (s3rver is a Koa app), not through a second HTTP
    // server and client in this process (0.3–0.7 ms of CPU less per request here). Browser-form uploads,
    // whose body the gate has read to check the policy, still go over s3rver's port.
    const handle = (s3rver as unknown as { callback(): (req: IncomingMessage, res: ServerResponse) => void }).callback();
    ({ server: gate } = await gateFor({ host: HOST, port: s3Addr.port, handle }, ports.s3));
  } catch (err) {
    await s3rver.close().catch(() => undefined);
    throw err;
  }
  return {
    endpoint: `http://${HOST}:${(gate.address() as AddressInfo).port}`,
    // s3rver announces writes as in-process events (lost in a crash: reconcileUploads covers that at start-up).
    async notifyUploads(sqs, queue, onError) {
      s3rver.on('event', (ev: { Records: S3RecordLike[] }) => {
        const rec = ev.Records[0];
        if (rec.s3.bucket.name !== BUCKETS.uploads.name || !rec.eventName.startsWith('ObjectCreated:')) return;
        if (!rec.s3.object.key.startsWith(BUCKETS.uploads.prefix)) return;
        const event = objectCreatedEvent(rec.s3.bucket.name, rec.s3.object.key, rec.s3.object.size, rec.s3.object.eTag);
        sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: JSON.stringify(event) })).catch(onError);
      });
    },
    async stop() {
      await Promise.allSettled([closeServer(gate), s3rver.close()]);
    },
  };
}

/** The default emulators as one set: S3, SQS and DynamoDB from the services above (in this process). */
async function startS3rverFauxqsDynalite(dataDir: string, ports: EmulatorPorts, corsBuckets: string[]): Promise<Emulators> {
  return composeServices(EMULATED_SERVICES.map((service) => () => startEmulatedService(service, dataDir, ports, corsBuckets)));
}

async function composeServices(starts: (() => Promise<ServiceHandle>)[]): Promise<Emulators> {
  const settled = await Promise.allSettled(starts.map((start) => start()));
  const up = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(up.map((h) => h.stop()));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [s3, sqs, dynamodb] = up;
  return {
    kind: 's3rver',
    endpoints: { s3: s3.endpoint, sqs: sqs.endpoint, dynamodb: dynamodb.endpoint },
    notifyUploads: (client, queue, onError) => s3.notifyUploads!(client, queue, onError),
    async stop() {
      await Promise.allSettled(up.map((h) => h.stop()));
    },
  };
}

/**
 * moto_server as a child that exits with us: it reads its stdin, which closes when this process dies for any
 * reason (kill -9 included), and then exits.
 */
const MOTO_MAIN = `
import os, sys, threading
from moto.server import main
def orphaned():
    sys.stdin.buffer.read()
    os._exit(0)
threading.Thread(target=orphaned, daemon=True).start()
main(sys.argv[1:])
`;

async function startMoto(ports: EmulatorPorts, buckets: string[]): Promise<Emulators> {
  // moto serves S3, SQS and DynamoDB on one port; S3 is reached through the authenticating gate on its own port.
  const motoPort = ports.sqs ?? (await freeLoopbackPort());
  const child: ChildProcess = spawn(motoPython(), ['-c', MOTO_MAIN, '-H', HOST, '-p', String(motoPort)], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async () => {
    child.stdin!.end();
    child.kill('SIGTERM');
    await exited;
  };
  const url = `http://${HOST}:${motoPort}`;
  try {
    await waitUntil(async () => (await fetch(`${url}/moto-api/`).then((r) => r.ok, () => false)), () => child.exitCode !== null, 20_000);
  } catch (err) {
    await kill();
    throw new Error(`moto_server did not start on ${url} (${(err as Error).message}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  let gate: Server;
  try {
    ({ server: gate } = await gateFor({ host: HOST, port: motoPort }, ports.s3));
  } catch (err) {
    await kill();
    throw err;
  }
  const s3Url = `http://${HOST}:${(gate.address() as AddressInfo).port}`;
  const s3 = new S3Client({ region: 'us-east-1', endpoint: s3Url, forcePathStyle: true, credentials: EMULATOR_CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED' });
  for (const Bucket of buckets) {
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [CORS_RULE] } }));
  }
  return {
    kind: 'moto',
    endpoints: { s3: s3Url, sqs: url, dynamodb: url },
    // moto implements S3 event notifications to SQS: the same configuration the CDK app deploys.
    async notifyUploads(_sqs, queue) {
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: BUCKETS.uploads.name,
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: queue.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: BUCKETS.uploads.prefix }] } } }],
          },
        }),
      );
    },
    async stop() {
      s3.destroy();
      await closeServer(gate);
      await kill();
    },
  };
}

async function waitUntil(ready: () => Promise<boolean>, failed: () => boolean, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (failed()) throw new Error('it exited');
    if (Date.now() > until) throw new Error(`not ready after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}


/**
 * The same emulators in child processes (emulators-process.ts), apart from the stack and from each other: what
 * `npm start` runs, so the gateway, the API, S3, SQS and DynamoDB never wait behind one another's work on one event
 * loop (a 300 MB output written to S3 does not hold up a DynamoDB read). Each child leaves with its parent, kill -9
 * included (its IPC channel closes).
 */
export async function startEmulatorsApart(kind: EmulatorKind, dataDir: string, ports: EmulatorPorts, buckets: string[]): Promise<Emulators> {
  if (kind === 'moto') {
    // moto is one process already; its child holds the gate.
    const child = await emulatorChild({ kind, dataDir, ports, buckets });
    return {
      kind,
      endpoints: child.up.endpoints!,
      notifyUploads: (_sqs, queue, onError) => child.call({ type: 'notify', queue }, onError),
      stop: child.stop,
    };
  }
  let sqsEndpoint = '';
  const emulators = await composeServices(
    EMULATED_SERVICES.map((service) => async () => {
      const child = await emulatorChild({ service, dataDir, ports, buckets });
      return {
        endpoint: child.up.endpoint!,
        // Only S3's child forwards events; it sends them to the SQS child.
        notifyUploads: (_sqs, queue, onError) => child.call({ type: 'notify', queue, sqsEndpoint }, onError),
        stop: child.stop,
      };
    }),
  );
  sqsEndpoint = emulators.endpoints.sqs;
  return emulators;
}

interface EmulatorChild {
  readonly up: { endpoint?: string; endpoints?: Emulators['endpoints'] };
  call(message: object, onError?: (err: unknown) => void): Promise<void>;
  stop(): Promise<void>;
}

async function emulatorChild(settings: object): Promise<EmulatorChild> {
  const child = fork(fileURLToPath(new URL('./emulators-process.ts', import.meta.url)), [], {
    env: { ...process.env, DAVID_EMULATORS: JSON.stringify(settings) },
    execArgv: ['--import', 'tsx'],
    // Its own process group: a terminal's Ctrl-C reaches only the stack, which still needs the emulators to finish.
    detached: true,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const up = await new Promise<EmulatorChild['up']>((resolve, reject) => {
    child.once('message', (m: { type: string; message?: string } & EmulatorChild['up']) =>
      m.type === 'up' ? resolve(m) : reject(new Error(`an emulator did not start: ${m.message}`)),
    );
    child.once('exit', (code) => reject(new Error(`an emulator's process exited (${code}) before it was up`)));
  });
  let next = 0;
  const calls = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let onError: (err: unknown) => void = () => undefined;
  child.on('message', (m: { type: string; id?: number; error?: string; message?: string }) => {
    if (m.type === 'error') onError(new Error(m.message));
    if (m.type !== 'done') return;
    const call = calls.get(m.id!);
    calls.delete(m.id!);
    if (m.error) call?.reject(new Error(m.error));
    else call?.resolve();
  });
  const call = (message: object, report?: (err: unknown) => void) =>
    new Promise<void>((resolve, reject) => {
      if (report) onError = report;
      const id = next++;
      calls.set(id, { resolve, reject });
      child.send({ ...message, id });
    });
  return {
    up,
    call,
    async stop() {
      if (child.exitCode === null && child.connected) await call({ type: 'stop' }).catch(() => undefined);
      await exited;
    },
  };
}
