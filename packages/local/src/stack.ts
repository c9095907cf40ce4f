import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BUCKETS, ENV, EVENT_SOURCES, FUNCTIONS, JOBS, MAX_WAIT_SECONDS, QUEUES, SERVICE_NAME, TABLE, type FunctionSpec } from '@david/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { EMULATOR_CREDENTIALS, EMULATOR_KINDS, startEmulators, type EmulatorKind, type EmulatorPorts } from './emulators.ts';
import { startApiGateway, startDelivery } from './http-gateway.ts';
import { reconcileUploads } from './reconcile.ts';
import { invoke, SqsEventSource, type Handler } from './lambda-runtime.ts';
import { FunctionPool } from './sandbox.ts';
import { buildFunction } from '@david/bundle';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { provisionQueues, provisionTable } from './provision.ts';

export interface LocalStackOptions {
  readonly dataDir: string;
  /** API port (0 = any free port). */
  readonly port?: number;
  /** Delivery (CloudFront stand-in) port (0 = any free port). */
  readonly deliveryPort?: number;
  readonly host?: string;
  readonly emulatorPorts?: EmulatorPorts;
  /** Which emulators (default: the DAVID_EMULATOR environment variable, else s3rver + fauxqs + dynalite). */
  readonly emulator?: EmulatorKind;
  /** Parallel pollers per queue. */
  readonly workers?: { api?: number; ingest?: number; process?: number };
  readonly logLevel?: string;
  /** Operator key for the admin routes (only its SHA-256 reaches the handlers). */
  readonly operatorKey?: string;
  readonly onError?: (where: string, err: unknown) => void;
  /** Job lease and sweep period (default JOBS from the shared definitions; the fault tests shorten them). */
  readonly jobs?: { readonly leaseSeconds?: number; readonly sweepEverySeconds?: number };
  /** Idle time after which a session expires (default LIMITS.sessionIdleSeconds). */
  readonly sessionIdleSeconds?: number;
  /** Every queue's visibility timeout (fault drills: messages a killed poller held come back in seconds). */
  readonly queueVisibilitySeconds?: number;
  /**
   * The endpoints the functions use, from the emulators' (fault drills put a failing proxy between them; the
   * stack's own provisioning and bridging keep the direct ones).
   */
  readonly functionEndpoints?: (direct: { s3: string; sqs: string; dynamodb: string }) => Promise<{ s3: string; sqs: string; dynamodb: string }>;
}

export interface LocalStack {
  readonly apiUrl: string;
  readonly deliveryUrl: string;
  readonly endpoints: { s3: string; sqs: string; dynamodb: string };
  readonly emulator: EmulatorKind;
  readonly emulatorPorts: Required<EmulatorPorts>;
  readonly queues: Awaited<ReturnType<typeof provisionQueues>>;
  readonly clients: { s3: S3Client; sqs: SQSClient; ddb: DynamoDBClient };
  stop(): Promise<void>;
}

const CREDENTIALS = EMULATOR_CREDENTIALS;
const REGION = 'us-east-1';


/** Longest a stop waits for requests in flight (a long poll holds one up to MAX_WAIT_SECONDS). */
const DRAIN_MS = (MAX_WAIT_SECONDS + 5) * 1000;

/**
 * Stop taking connections, let the requests in flight finish (long polls included), close idle keep-alive
 * connections at once, and cut what is still open after DRAIN_MS.
 */
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });

/**
 * Boot the whole pipeline on one machine: S3/SQS/DynamoDB emulators over HTTP, resources created from the
 * shared definitions, the same Lambda handlers behind an API Gateway stand-in and SQS event sources, and a
 * CloudFront stand-in for delivery. State persists under `dataDir`.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const host = opts.host ?? '127.0.0.1';
  const onError = opts.onError ?? ((where, err) => console.error(`[local] ${where}:`, err));
  const kind = opts.emulator ?? (process.env.DAVID_EMULATOR as EmulatorKind | undefined) ?? 's3rver';
  if (!EMULATOR_KINDS.includes(kind)) throw new Error(`unknown emulator '${kind}': use one of ${EMULATOR_KINDS.join(', ')}`);
  const emulators = await startEmulators(kind, opts.dataDir, opts.emulatorPorts ?? {}, [BUCKETS.uploads.name, BUCKETS.processed.name, BUCKETS.index.name]);
  const stopping: (() => Promise<void>)[] = [() => emulators.stop()];
  try {
    const { endpoints } = emulators;
    const forFunctions = opts.functionEndpoints ? await opts.functionEndpoints(endpoints) : endpoints;
    // Each function's configuration, as Lambda would hold it: endpoints aside, the same variables the CDK sets.
    const environment: Record<string, string> = {
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_S3: forFunctions.s3,
      AWS_ENDPOINT_URL_SQS: forFunctions.sqs,
      AWS_ENDPOINT_URL_DYNAMODB: forFunctions.dynamodb,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      S3_FORCE_PATH_STYLE: 'true',
      POWERTOOLS_LOG_LEVEL: opts.logLevel ?? process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO',
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    };
    const s3 = new S3Client({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const sqs = new SQSClient({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false });
    const ddb = new DynamoDBClient({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.dynamodb });
    const [queues] = await Promise.all([provisionQueues(sqs, opts.queueVisibilitySeconds), provisionTable(ddb)]);

    const delivery = await startDelivery(s3, BUCKETS.processed.name, BUCKETS.processed.prefix, opts.deliveryPort ?? 0, host);
    stopping.unshift(() => close(delivery.server));
    const deliveryUrl = `http://${host === '0.0.0.0' ? 'localhost' : host}:${delivery.port}`;
    Object.assign(environment, {
      [ENV.tableName]: TABLE.name,
      [ENV.uploadsBucket]: BUCKETS.uploads.name,
      [ENV.processedBucket]: BUCKETS.processed.name,
      [ENV.indexBucket]: BUCKETS.index.name,
      [ENV.processQueueUrl]: queues.process.url,
      [ENV.indexQueueUrl]: queues.index.url,
      [ENV.deliveryBaseUrl]: deliveryUrl,
    });
    if (opts.operatorKey) environment[ENV.operatorKeySha256] = createHash('sha256').update(opts.operatorKey).digest('hex');

    // S3 → SQS notification: OBJECT_CREATED under the uploads prefix, in the S3 event format (see notifyUploads).
    await emulators.notifyUploads(sqs, queues.ingest, (err) => onError('s3-notification', err));
    const sendIngestEvent = async (event: object) => {
      await sqs.send(new SendMessageCommand({ QueueUrl: queues.ingest.url, MessageBody: JSON.stringify(event) }));
    };
    // Events the bridge may have lost in a crash: every still-pending upload that S3 holds is announced again —
    // in the background (it reads every upload's record), so start-up does not wait for it; stop does.
    const reconciling = reconcileUploads(s3, DynamoDBDocumentClient.from(ddb), sendIngestEvent).catch((err) => onError('reconcile', err));
    stopping.unshift(async () => {
      await reconciling;
    });

    // Settings the handlers read at load, as a function's configuration.
    if (opts.jobs?.leaseSeconds) environment[ENV.jobLeaseSeconds] = String(opts.jobs.leaseSeconds);
    if (opts.sessionIdleSeconds) environment[ENV.sessionIdleSeconds] = String(opts.sessionIdleSeconds);
    // Every function runs the bundle the CDK app deploys, in execution environments of its own (see sandbox.ts).
    const tmpRoot = join(opts.dataDir, 'lambda-tmp');
    await rm(tmpRoot, { recursive: true, force: true });
    const concurrency = { api: opts.workers?.api ?? 16, ingest: opts.workers?.ingest ?? 2, process: opts.workers?.process ?? 2, index: 1, sweeper: 1 };
    const pools = Object.fromEntries(
      (Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]).map((name) => {
        const spec: FunctionSpec = FUNCTIONS[name];
        const pool = new FunctionPool({
          name: `david-${name}`,
          spec,
          bundle: buildFunction(name, spec),
          environment,
          concurrency: Math.min(spec.reservedConcurrency ?? Infinity, concurrency[name]),
          tmpRoot,
        });
        return [name, pool];
      }),
    ) as Record<keyof typeof FUNCTIONS, FunctionPool>;
    stopping.unshift(async () => {
      await Promise.all(Object.values(pools).map((p) => p.stop()));
    });
    const via = <E, R>(pool: FunctionPool) => ((event: E) => pool.invoke(event) as Promise<R>) as unknown as Handler<E, R>;
    const api = via<APIGatewayProxyEvent, APIGatewayProxyResult>(pools.api);
    const ingest = via<SQSEvent, SQSBatchResponse>(pools.ingest);
    const proc = via<SQSEvent, SQSBatchResponse>(pools.process);
    const sweeper = via<unknown, unknown>(pools.sweeper);
    const indexer = via<SQSEvent, SQSBatchResponse>(pools.index);

    const sources = [
      new SqsEventSource({
        name: 'david-ingest',
        fn: FUNCTIONS.ingest,
        sqs,
        queueUrl: queues.ingest.url,
        queueArn: queues.ingest.arn,
        batchSize: EVENT_SOURCES.ingest.batchSize,
        waitSeconds: QUEUES.ingest.receiveWaitSeconds,
        concurrency: opts.workers?.ingest ?? 2,
        handler: ingest,
        onError: (e) => onError('ingest', e),
      }),
      new SqsEventSource({
        name: 'david-process',
        fn: FUNCTIONS.process,
        sqs,
        queueUrl: queues.process.url,
        queueArn: queues.process.arn,
        batchSize: EVENT_SOURCES.process.batchSize,
        waitSeconds: QUEUES.process.receiveWaitSeconds,
        concurrency: opts.workers?.process ?? 2,
        handler: proc,
        onError: (e) => onError('process', e),
      }),
      // One writer for the index, as reserved concurrency 1 gives in the cloud.
      new SqsEventSource({
        name: 'david-index',
        fn: FUNCTIONS.index,
        sqs,
        queueUrl: queues.index.url,
        queueArn: queues.index.arn,
        batchSize: EVENT_SOURCES.index.batchSize,
        waitSeconds: QUEUES.index.receiveWaitSeconds,
        concurrency: 1,
        handler: indexer,
        onError: (e) => onError('index', e),
      }),
    ];
    for (const s of sources) s.start();
    // The sweeper on a timer, as the schedule runs it in the cloud (one at a time, like reserved concurrency 1).
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweepTimer = setInterval(() => {
      sweeping = sweeping.then(() => invoke('david-sweeper', FUNCTIONS.sweeper, sweeper, {}).catch((e) => onError('sweeper', e)));
    }, (opts.jobs?.sweepEverySeconds ?? JOBS.sweepEverySeconds) * 1000);
    stopping.unshift(async () => {
      clearInterval(sweepTimer);
      await sweeping;
    });
    stopping.unshift(async () => {
      await Promise.all(sources.map((s) => s.stop()));
    });

    const gateway = await startApiGateway(api, opts.port ?? 0, host);
    stopping.unshift(() => close(gateway.server));
    const shown = host === '0.0.0.0' ? 'localhost' : host;
    const urlPort = (u: string) => Number(new URL(u).port);

    let stopped = false;
    return {
      apiUrl: `http://${shown}:${gateway.port}`,
      deliveryUrl,
      endpoints,
      emulator: kind,
      emulatorPorts: { s3: urlPort(endpoints.s3), sqs: urlPort(endpoints.sqs), dynamodb: urlPort(endpoints.dynamodb) },
      queues,
      clients: { s3, sqs, ddb },
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const fn of stopping) await fn().catch((err) => onError('stop', err));
      },
    };
  } catch (err) {
    for (const fn of stopping) await fn().catch(() => undefined);
    throw err;
  }
}
