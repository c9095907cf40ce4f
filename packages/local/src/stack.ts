import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BUCKETS, CONNECTIONS, ENV, EVENT_SOURCES, FUNCTIONS, functionEnvironment, MAX_WAIT_SECONDS, QUEUES, TABLE, type FunctionId, type FunctionSpec } from '@david/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import { EMULATOR_CREDENTIALS, EMULATOR_KINDS, startEmulatorsApart, type EmulatorKind, type EmulatorPorts } from './emulators.ts';
import { startApiGateway, startDelivery } from './http-gateway.ts';
import { reconcileUploads } from './reconcile.ts';
import { invoke, SqsEventSource, type Handler } from './lambda-runtime.ts';
import { FunctionPool } from './sandbox.ts';
import { buildStudio } from '@david/studio';
import { buildFunction } from '@david/bundle';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { provisionConnectionsTable, provisionQueues, provisionTable } from './provision.ts';
import { attachWebSockets, EVENTS_PATH } from './websocket-gateway.ts';

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
  /** Completed versions a file keeps (default LIMITS.maxVersionsPerFile). */
  readonly maxVersions?: number;
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
  /** The WebSocket push channel (`?token=<access_token>`). */
  readonly eventsUrl: string;
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
 * connections at once and each one as its last request finishes (they are kept a minute otherwise: see
 * keep-alive.ts), and cut what is still open after DRAIN_MS.
 */
const close = (server: Server) =>
  new Promise<void>((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    server.close(() => {
      clearTimeout(cut);
      clearInterval(sweep);
      resolve();
    });
    server.closeIdleConnections();
  });

/**
 * Boot the whole pipeline on one machine: S3/SQS/DynamoDB emulators over HTTP (in a process of their own),
 * resources created from the shared definitions, the same Lambda handlers behind an API Gateway stand-in and SQS
 * event sources, and a CloudFront stand-in for delivery. State persists under `dataDir`.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const host = opts.host ?? '127.0.0.1';
  const onError = opts.onError ?? ((where, err) => console.error(`[local] ${where}:`, err));
  const kind = opts.emulator ?? (process.env.DAVID_EMULATOR as EmulatorKind | undefined) ?? 's3rver';
  if (!EMULATOR_KINDS.includes(kind)) throw new Error(`unknown emulator '${kind}': use one of ${EMULATOR_KINDS.join(', ')}`);
  const emulators = await startEmulatorsApart(kind, opts.dataDir, opts.emulatorPorts ?? {}, [BUCKETS.uploads.name, BUCKETS.processed.name, BUCKETS.index.name]);
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
    };
    const s3 = new S3Client({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.s3, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const sqs = new SQSClient({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.sqs, useQueueUrlAsEndpoint: false });
    const ddb = new DynamoDBClient({ region: REGION, credentials: CREDENTIALS, endpoint: endpoints.dynamodb });
    const [queues] = await Promise.all([provisionQueues(sqs, opts.queueVisibilitySeconds), provisionTable(ddb), provisionConnectionsTable(ddb)]);

    // The API Gateway stand-in listens first (the functions are told its WebSocket URL); until the functions are
    // up, nobody knows its port, and a request would get a 503.
    let api: Handler<APIGatewayProxyEvent, APIGatewayProxyResult> | undefined;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- events cross a process boundary as data
    let sockets: Handler<any, any> | undefined;
    const gateway = await startApiGateway(
      async (event, context) => {
        if (!api) return { statusCode: 503, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { code: 'Service::Starting', message: 'the stack is starting' } }) };
        return api(event, context);
      },
      opts.port ?? 0,
      host,
      FUNCTIONS.api,
      // The studio, same origin as the API (so its config names no URL).
      { dir: buildStudio().dir, config: { api_url: '' } },
    );
    const socketSpec = (Object.values(FUNCTIONS) as FunctionSpec[]).find((f) => 'websocket' in f.trigger);
    if (!socketSpec) throw new Error('no function with a websocket trigger in FUNCTIONS');
    const webSockets = await attachWebSockets(
      gateway.server,
      async (event, context) => {
        if (!sockets) throw new Error('the stack is starting');
        return sockets(event, context);
      },
      socketSpec,
      onError,
    );
    const shown = host === '0.0.0.0' ? 'localhost' : host;
    const eventsUrl = `ws://${shown}:${gateway.port}${EVENTS_PATH}`;

    const delivery = await startDelivery(s3, BUCKETS.processed.name, [BUCKETS.processed.prefix, BUCKETS.processed.visualsPrefix], opts.deliveryPort ?? 0, host);
    stopping.unshift(() => close(delivery.server));
    const deliveryUrl = `http://${host === '0.0.0.0' ? 'localhost' : host}:${delivery.port}`;
    Object.assign(
      environment,
      functionEnvironment({
        tableName: TABLE.name,
        buckets: { uploads: BUCKETS.uploads.name, processed: BUCKETS.processed.name, index: BUCKETS.index.name },
        queueUrls: { process: queues.process.url, index: queues.index.url, events: queues.events.url, webhooks: queues.webhooks.url },
        // A developer's own receiver (and the tests') runs on this machine.
        callbackAllowLoopback: true,
        deliveryBaseUrl: deliveryUrl,
        connectionsTable: CONNECTIONS.name,
        eventsUrl,
        connectionsEndpoint: webSockets.connectionsEndpoint,
        logLevel: environment.POWERTOOLS_LOG_LEVEL,
        ...(process.env[ENV.ffmpegPath] ? { ffmpegPath: process.env[ENV.ffmpegPath] } : {}),
        ...(opts.operatorKey ? { operatorKeySha256: createHash('sha256').update(opts.operatorKey).digest('hex') } : {}),
        // Settings the handlers read at load (the fault drills shorten them).
        ...(opts.jobs?.leaseSeconds ? { jobLeaseSeconds: opts.jobs.leaseSeconds } : {}),
        ...(opts.sessionIdleSeconds ? { sessionIdleSeconds: opts.sessionIdleSeconds } : {}),
        ...(opts.maxVersions ? { maxVersions: opts.maxVersions } : {}),
      }),
    );

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

    // Every function runs the bundle the CDK app deploys, in execution environments of its own (see sandbox.ts),
    // wired from its declaration in FUNCTIONS: an HTTP one behind the gateway, a queue one behind an event source
    // mapping, a scheduled one on a timer.
    const tmpRoot = join(opts.dataDir, 'lambda-tmp');
    await rm(tmpRoot, { recursive: true, force: true });
    /**
     * Environments per function on this machine (Lambda scales out; reserved concurrency still caps). The API's take
     * many requests each, as Lambda Managed Instances do: its requests mostly wait (long polls), and a process per
     * waiting request would starve two cores. 128 each, so that 100 clients' long polls leave room for the
     * requests that need an answer now (/health waited for a free slot behind them at 32). Four process
     * environments: short jobs wait mostly on S3 and DynamoDB, and four kept both cores busy where two did not.
     */
    const local: Record<FunctionId, number> = { api: opts.workers?.api ?? 2, ingest: opts.workers?.ingest ?? 2, process: opts.workers?.process ?? 4, index: 1, sweeper: 1, sockets: 1, notify: 2, webhook: 1 };
    const perEnvironment: Partial<Record<FunctionId, number>> = { api: 128, sockets: 32 };
    /** The queue and schedule workers yield the cores to the API, the gateway and the emulators when both want them. */
    /** …but the notifier, whose pushes should land within 100 ms of the change (its work is small). */
    const niceness = (id: FunctionId, spec: FunctionSpec) => ('http' in spec.trigger || 'websocket' in spec.trigger || id === 'notify' ? 0 : 10);
    const pools: FunctionPool[] = [];
    const provisioning: Promise<void>[] = [];
    const sources: SqsEventSource[] = [];
    for (const id of Object.keys(FUNCTIONS) as FunctionId[]) {
      const spec: FunctionSpec = FUNCTIONS[id];
      const name = `david-${id}`;
      const concurrency = Math.min(spec.reservedConcurrency ?? Infinity, local[id]);
      const pool = new FunctionPool({ name, spec, bundle: buildFunction(id, spec), environment, concurrency, tmpRoot, perEnvironment: perEnvironment[id], niceness: niceness(id, spec) });
      pools.push(pool);
      if (spec.provisionedConcurrency) provisioning.push(pool.provision(spec.provisionedConcurrency));
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- events cross a process boundary as data
      const handler = ((event: unknown) => pool.invoke(event)) as Handler<any, any>;
      const trigger = spec.trigger;
      if ('http' in trigger) api = handler;
      else if ('websocket' in trigger) sockets = handler;
      else if ('queue' in trigger) {
        const queue = queues[trigger.queue];
        sources.push(
          new SqsEventSource({
            name,
            fn: spec,
            sqs,
            queueUrl: queue.url,
            queueArn: queue.arn,
            batchSize: EVENT_SOURCES[trigger.queue].batchSize,
            batchingWindowSeconds: EVENT_SOURCES[trigger.queue].maxBatchingWindowSeconds,
            waitSeconds: QUEUES[trigger.queue].receiveWaitSeconds,
            concurrency,
            handler,
            onError: (e) => onError(id, e),
          }),
        );
      } else {
        // As the schedule runs it in the cloud; one at a time (reserved concurrency 1).
        let running: Promise<unknown> = Promise.resolve();
        if (!('everySeconds' in trigger)) throw new Error(`function ${id} has a trigger the local stack does not know`);
        const every = id === 'sweeper' && opts.jobs?.sweepEverySeconds ? opts.jobs.sweepEverySeconds : trigger.everySeconds;
        const timer = setInterval(() => {
          running = running.then(() => invoke(name, spec, handler, {} as never).catch((e) => onError(id, e)));
        }, every * 1000);
        stopping.unshift(async () => {
          clearInterval(timer);
          await running;
        });
      }
    }
    stopping.unshift(async () => {
      await Promise.all(pools.map((p) => p.stop()));
    });
    // Provisioned environments are initialised before their trigger delivers anything, as Lambda does.
    await Promise.all(provisioning);
    for (const s of sources) s.start();
    stopping.unshift(async () => {
      await Promise.all(sources.map((s) => s.stop()));
    });
    // At stop, first the open sockets close (their $disconnect still runs), then the gateway takes no more requests
    // and lets those in flight finish, and only then do the event sources and functions stop.
    stopping.unshift(() => close(gateway.server));
    stopping.unshift(() => webSockets.close());
    if (!api) throw new Error('no function with an http trigger in FUNCTIONS');

    const urlPort = (u: string) => Number(new URL(u).port);

    let stopped = false;
    return {
      apiUrl: `http://${shown}:${gateway.port}`,
      eventsUrl,
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
