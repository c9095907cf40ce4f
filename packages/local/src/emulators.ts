import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import S3rver from 's3rver';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import dynalite from 'dynalite';
import { LIMITS } from '@david/core';
import { startS3Gate } from './s3-gate.ts';
import type { Server } from 'node:http';

export interface EmulatorPorts {
  s3?: number;
  sqs?: number;
  dynamodb?: number;
}

export interface Emulators {
  readonly endpoints: { s3: string; sqs: string; dynamodb: string };
  readonly s3rver: S3rver;
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

/** CORS on the uploads bucket so browsers can POST straight to the presigned URL, as in the cloud. */
export const CORS_XML = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/**
 * Start the three AWS-API emulators over real HTTP on loopback, each persisting under `dataDir`:
 * s3rver (S3, with in-process object events), fauxqs (SQS with visibility, long polling, DLQ redrive, FIFO),
 * dynalite (DynamoDB with conditional writes).
 */
export async function startEmulators(dataDir: string, ports: EmulatorPorts, corsBuckets: string[]): Promise<Emulators> {
  const s3Dir = join(dataDir, 's3');
  const sqsDir = join(dataDir, 'sqs');
  const ddbDir = join(dataDir, 'dynamodb');
  await Promise.all([s3Dir, sqsDir, ddbDir].map((d) => mkdir(d, { recursive: true })));

  await removeHalfWrittenObjects(s3Dir);
  // s3rver on a port of its own; the S3 endpoint is the authenticating gate in front of it (see s3-gate.ts).
  const s3rver = new S3rver({
    address: HOST,
    port: 0,
    directory: s3Dir,
    silent: true,
    configureBuckets: corsBuckets.map((name) => ({ name, configs: [CORS_XML] })),
  });
  const s3Addr = (await s3rver.run()) as AddressInfo;
  let gate: Server;
  try {
    ({ server: gate } = await startS3Gate({
      target: { host: HOST, port: s3Addr.port },
      host: HOST,
      port: ports.s3 ?? 0,
      secrets: { [EMULATOR_CREDENTIALS.accessKeyId]: EMULATOR_CREDENTIALS.secretAccessKey },
      maxFormBytes: LIMITS.maxUploadBytes + 1024 * 1024,
    }));
  } catch (err) {
    await s3rver.close().catch(() => undefined);
    throw err;
  }
  const gatePort = (gate.address() as AddressInfo).port;

  let fauxqs: FauxqsServer | undefined;
  let ddb: Server | undefined;
  try {
    fauxqs = await startFauxqs({ port: ports.sqs ?? 0, host: HOST, logger: false, dataDir: sqsDir });
    ddb = dynalite({ path: ddbDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
    await new Promise<void>((resolve, reject) => {
      ddb!.once('error', reject);
      ddb!.listen(ports.dynamodb ?? 0, HOST, () => resolve());
    });
  } catch (err) {
    await s3rver.close().catch(() => undefined);
    gate.close();
    await fauxqs?.stop().catch(() => undefined);
    throw err;
  }
  const ddbAddr = ddb.address() as AddressInfo;

  return {
    endpoints: {
      s3: `http://${HOST}:${gatePort}`,
      sqs: `http://${HOST}:${fauxqs.port}`,
      dynamodb: `http://${HOST}:${ddbAddr.port}`,
    },
    s3rver,
    async stop() {
      await Promise.allSettled([
        new Promise<void>((resolve) => {
          gate.close(() => resolve());
          gate.closeAllConnections();
        }),
        s3rver.close(),
        fauxqs!.stop(),
        new Promise<void>((resolve) => {
          ddb!.close(() => resolve());
          (ddb as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
        }),
      ]);
    },
  };
}
