/**
 * The one definition of every cloud resource. Read by the CDK stacks (infra/) and by the local stack
 * (packages/local), so names, timeouts, batch sizes and retry counts cannot drift apart.
 * Plain data: no AWS SDK, no CDK imports.
 */

import { RNNOISE_FILES } from '@david/dsp';

export const LIMITS = {
  /** Largest upload accepted (presigned POST content-length-range, re-checked on ingest). */
  maxUploadBytes: 104_857_600,
  /**
   * Presigned upload lifetime: short, as the link is asked for just before the upload (S3 checks it when the POST
   * arrives, so a slow upload that started in time still lands). A replay within it is recorded, never processed.
   */
  uploadExpirySeconds: 300,
  /** A pending upload is given up as `expired` this long after its link expired (a POST under way may still land). */
  uploadGraceSeconds: 300,
  /** Longest decoded input we process (duration-bomb guard). */
  maxDurationSeconds: 4 * 60 * 60,
  /** Default and only output sample rate when resampling is asked for (the original document's 44100). */
  sampleRate: 44_100,
  /**
   * Completed versions a file keeps (jobs on it and on its versions); past that the oldest outputs are removed and
   * their jobs shown as `expired` — the original design's bounded processing history (override: MAX_VERSIONS).
   */
  maxVersionsPerFile: 20,
  /** A session unused this long expires with everything it holds (override: SESSION_IDLE_SECONDS). */
  sessionIdleSeconds: 30 * 86_400,
} as const;

export type BucketId = 'uploads' | 'processed' | 'index';
export type QueueId = 'ingest' | 'process' | 'index' | 'events' | 'webhooks';

/**
 * What invokes a function: API Gateway (REST), an SQS event source mapping, a schedule, or the WebSocket API (its
 * $connect authoriser and its $connect, $disconnect and $default routes).
 */
export type Trigger = { readonly http: true } | { readonly queue: QueueId } | { readonly everySeconds: number } | { readonly websocket: true };

/** What a function may touch: the CDK turns this into grants (the local emulators have no IAM). */
export interface Access {
  readonly table?: 'readWrite';
  /** The WebSocket connections table. */
  readonly connections?: 'read' | 'readWrite';
  /** Posts to WebSocket connections (API Gateway's management API). */
  readonly pushes?: true;
  readonly buckets?: Partial<Record<BucketId, readonly ('read' | 'put' | 'delete' | 'readWrite')[]>>;
  /** Queues it sends to (a queue-triggered function consumes its own through the event source). */
  readonly sends?: readonly QueueId[];
}

export interface FunctionSpec {
  /** Path of the handler module from the repository root; it exports `handler`. */
  readonly entry: string;
  readonly trigger: Trigger;
  readonly access: Access;
  /** Needs the ffmpeg layer (FFMPEG_PATH). */
  readonly ffmpeg?: boolean;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb?: number;
  readonly reservedConcurrency?: number;
  /**
   * Environments kept initialised: Lambda provisioned concurrency on the function's `live` alias, which its trigger
   * invokes; locally that many environments are started with the stack. No cold start on the first event.
   */
  readonly provisionedConcurrency?: number;
  /** Files of an npm package shipped beside the bundle (in `into/`), read at run time. */
  readonly bundleFiles?: { readonly package: string; readonly files: readonly string[]; readonly into: string };
}

export interface QueueSpec {
  readonly name: string;
  readonly fifo?: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly receiveWaitSeconds: number;
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
  readonly dlqRetentionDays: number;
}

export interface EventSourceSpec {
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly maxConcurrency?: number;
}

/**
 * Every function, with everything both the CDK stack and the local stack derive from it: its bundle, limits,
 * trigger, access and layer. Adding a worker is one entry here, its handler and its use case.
 */
export const FUNCTIONS = {
  api: {
    entry: 'functions/api/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 29,
    trigger: { http: true },
    access: { table: 'readWrite', buckets: { uploads: ['put', 'read', 'delete'], processed: ['read', 'delete'], index: ['read'] }, sends: ['process', 'index', 'events'] },
    // The /docs page's assets (Swagger UI), served by the function itself.
    bundleFiles: { package: 'swagger-ui-dist', files: ['swagger-ui.css', 'swagger-ui-bundle.js'], into: 'swagger-ui' },
  },
  ingest: {
    entry: 'functions/ingest/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 60,
    trigger: { queue: 'ingest' },
    access: { table: 'readWrite', buckets: { uploads: ['read', 'delete'] }, sends: ['index', 'events'] },
    ffmpeg: true,
  },
  process: {
    entry: 'functions/process/handler.ts',
    memoryMb: 3008,
    timeoutSeconds: 300,
    ephemeralStorageMb: 4096,
    trigger: { queue: 'process' },
    access: { table: 'readWrite', buckets: { uploads: ['read'], processed: ['read', 'put', 'delete'] }, sends: ['index', 'events'] },
    ffmpeg: true,
    // speech_denoise's network (its weights are inside the WebAssembly module), read at run time.
    bundleFiles: RNNOISE_FILES,
  },
  // The whole index lives in memory while a batch is applied (about 0.4 GB per million entries). The only writer
  // of snapshots, journal segments and the pointer item (it also lists and deletes superseded ones).
  index: {
    entry: 'functions/index/handler.ts',
    memoryMb: 2048,
    timeoutSeconds: 60,
    reservedConcurrency: 1,
    trigger: { queue: 'index' },
    access: { table: 'readWrite', buckets: { index: ['readWrite'] } },
  },
  // Jobs whose worker died go back to the queue when their lease runs out; never-sent uploads and idle sessions
  // expire (with their objects). An EventBridge schedule in the cloud, a timer locally.
  sweeper: {
    entry: 'functions/sweeper/handler.ts',
    memoryMb: 256,
    timeoutSeconds: 30,
    reservedConcurrency: 1,
    trigger: { everySeconds: 60 },
    access: { table: 'readWrite', buckets: { uploads: ['read', 'delete'], processed: ['read', 'delete'] }, sends: ['process', 'index', 'events'] },
  },
  // The WebSocket API's authoriser (the token in `?token=`) and its routes: a connection is remembered on $connect
  // (and its snapshot asked for), forgotten on $disconnect; the channel is push-only ($default answers so).
  sockets: {
    entry: 'functions/sockets/handler.ts',
    memoryMb: 256,
    timeoutSeconds: 10,
    trigger: { websocket: true },
    access: { table: 'readWrite', connections: 'readWrite', sends: ['events'] },
  },
  // State changes to the connections of their session, and the snapshot to a new connection.
  notify: {
    entry: 'functions/notify/handler.ts',
    memoryMb: 512,
    timeoutSeconds: 30,
    // A push should land within 100 ms of its change; a cold start alone takes 0.3–0.4 s.
    provisionedConcurrency: 1,
    trigger: { queue: 'events' },
    access: { table: 'readWrite', connections: 'readWrite', pushes: true, sends: ['webhooks'] },
  },
  // Webhooks to a session's callback_url: signed, an idempotency id, retried with backoff for a day (see webhooks.ts).
  webhook: {
    entry: 'functions/webhook/handler.ts',
    memoryMb: 256,
    // A batch's attempts run in parallel, each cut at 10 s.
    timeoutSeconds: 20,
    trigger: { queue: 'webhooks' },
    access: { table: 'readWrite', sends: ['webhooks'] },
  },
} as const satisfies Record<string, FunctionSpec>;

export type FunctionId = keyof typeof FUNCTIONS;

/** Visibility is 6 x the consuming function's timeout, as AWS recommends for SQS event sources. */
const visibilityFor = (fn: FunctionSpec) => fn.timeoutSeconds * 6;

export const QUEUES = {
  ingest: {
    name: 'david-ingest',
    visibilityTimeoutSeconds: visibilityFor(FUNCTIONS.ingest),
    receiveWaitSeconds: 20,
    maxReceiveCount: 5,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  process: {
    name: 'david-process',
    visibilityTimeoutSeconds: visibilityFor(FUNCTIONS.process),
    receiveWaitSeconds: 20,
    maxReceiveCount: 3,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  index: {
    name: 'david-index.fifo',
    fifo: true,
    visibilityTimeoutSeconds: visibilityFor(FUNCTIONS.index),
    receiveWaitSeconds: 20,
    maxReceiveCount: 5,
    retentionDays: 4,
    dlqRetentionDays: 14,
  },
  // State changes for clients, one message group per session (so a session's changes keep their order; sessions
  // do not wait for each other). Kept a day: a change nobody could be told of by then is old news.
  events: {
    name: 'david-events.fifo',
    fifo: true,
    visibilityTimeoutSeconds: visibilityFor(FUNCTIONS.notify),
    receiveWaitSeconds: 20,
    maxReceiveCount: 5,
    retentionDays: 1,
    dlqRetentionDays: 4,
  },
  // One message per webhook attempt (a retry is a new, delayed message), kept past the day of retries.
  webhooks: {
    name: 'david-webhooks',
    visibilityTimeoutSeconds: visibilityFor(FUNCTIONS.webhook),
    receiveWaitSeconds: 20,
    maxReceiveCount: 5,
    retentionDays: 2,
    dlqRetentionDays: 14,
  },
} as const satisfies Record<string, QueueSpec>;

export const EVENT_SOURCES = {
  ingest: { batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 20 },
  process: { batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 50 },
  index: { batchSize: 10, maxBatchingWindowSeconds: 0 },
  events: { batchSize: 10, maxBatchingWindowSeconds: 0 },
  webhooks: { batchSize: 10, maxBatchingWindowSeconds: 0, maxConcurrency: 10 },
} as const satisfies Record<QueueId, EventSourceSpec>;

export const BUCKETS = {
  // No age-based expiry on uploads: an upload lives as long as its session (idle sessions expire with everything
  // they hold, LIMITS.sessionIdleDays), so a record never says `ready` for bytes a bucket rule removed.
  uploads: { name: 'david-uploads', prefix: 'uploads/' },
  // Outputs under processed/<session>/; their waveforms and spectrograms under visuals/<session>/<file or job>/.
  processed: { name: 'david-processed', prefix: 'processed/', visualsPrefix: 'visuals/' },
  index: { name: 'david-index', prefix: 'index/' },
} as const;

/** One table, single-table design: pk/sk strings. See packages/core/src/adapters/dynamo-keys.ts. */
export const TABLE = {
  name: 'david',
  partitionKey: 'pk',
  sortKey: 'sk',
  // A backstop on session items (expiry + 7 days); the sweeper normally removes an expired session within a minute.
  ttlAttribute: 'ttl_at',
} as const;

/** WebSocket connections: a table of their own (see DynamoConnectionRepository). */
export const CONNECTIONS = {
  name: 'david-connections',
  partitionKey: 'connection_id',
  sessionIndex: 'by-session',
  sessionKey: 'session_id',
  ttlAttribute: 'ttl_at',
} as const;

export const API = {
  throttleRateLimit: 50,
  throttleBurstLimit: 100,
  stageName: 'v1',
} as const;

/** Environment variable names the handlers read (only handler modules read process.env). */
export const ENV = {
  tableName: 'TABLE_NAME',
  uploadsBucket: 'UPLOADS_BUCKET',
  processedBucket: 'PROCESSED_BUCKET',
  indexBucket: 'INDEX_BUCKET',
  processQueueUrl: 'PROCESS_QUEUE_URL',
  indexQueueUrl: 'INDEX_QUEUE_URL',
  eventsQueueUrl: 'EVENTS_QUEUE_URL',
  webhooksQueueUrl: 'WEBHOOKS_QUEUE_URL',
  /** 'true' lets webhooks go to loopback (the local stack); the cloud allows public https destinations only. */
  callbackAllowLoopback: 'CALLBACK_ALLOW_LOOPBACK',
  connectionsTable: 'CONNECTIONS_TABLE',
  /** The WebSocket URL clients open (returned as `events_url`). */
  eventsUrl: 'EVENTS_URL',
  /** The WebSocket API's management endpoint (https://…/stage) the notifier posts to. */
  connectionsEndpoint: 'CONNECTIONS_ENDPOINT',
  deliveryBaseUrl: 'DELIVERY_BASE_URL',
  /** SHA-256 (hex) of the operator key for the admin routes; unset means the admin routes answer 403. */
  operatorKeySha256: 'OPERATOR_KEY_SHA256',
  ffmpegPath: 'FFMPEG_PATH',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  /** Overrides JOBS.leaseSeconds (the fault tests shorten it; unset in the cloud). */
  jobLeaseSeconds: 'JOB_LEASE_SECONDS',
  /** Overrides LIMITS.sessionIdleSeconds. */
  sessionIdleSeconds: 'SESSION_IDLE_SECONDS',
  /** Overrides LIMITS.maxVersionsPerFile. */
  maxVersions: 'MAX_VERSIONS',
} as const;

export const SERVICE_NAME = 'david';

/** What a deployment gives the functions; the same names in the cloud and locally. */
export interface FunctionSettings {
  readonly tableName: string;
  readonly buckets: Readonly<Record<BucketId, string>>;
  readonly queueUrls: Readonly<Record<'process' | 'index' | 'events' | 'webhooks', string>>;
  /** Webhooks may go to loopback (local stacks only). */
  readonly callbackAllowLoopback?: boolean;
  readonly deliveryBaseUrl: string;
  readonly connectionsTable: string;
  readonly eventsUrl: string;
  readonly connectionsEndpoint: string;
  readonly logLevel: string;
  readonly ffmpegPath?: string;
  readonly operatorKeySha256?: string;
  readonly jobLeaseSeconds?: number;
  readonly sessionIdleSeconds?: number;
  readonly maxVersions?: number;
}

/** The functions' environment, built one way for the CDK stack and the local stack. */
export function functionEnvironment(s: FunctionSettings): Record<string, string> {
  const env: Record<string, string | undefined> = {
    [ENV.tableName]: s.tableName,
    [ENV.uploadsBucket]: s.buckets.uploads,
    [ENV.processedBucket]: s.buckets.processed,
    [ENV.indexBucket]: s.buckets.index,
    [ENV.processQueueUrl]: s.queueUrls.process,
    [ENV.indexQueueUrl]: s.queueUrls.index,
    [ENV.eventsQueueUrl]: s.queueUrls.events,
    [ENV.webhooksQueueUrl]: s.queueUrls.webhooks,
    [ENV.callbackAllowLoopback]: s.callbackAllowLoopback ? 'true' : undefined,
    [ENV.connectionsTable]: s.connectionsTable,
    [ENV.eventsUrl]: s.eventsUrl,
    [ENV.connectionsEndpoint]: s.connectionsEndpoint,
    [ENV.deliveryBaseUrl]: s.deliveryBaseUrl,
    [ENV.serviceName]: SERVICE_NAME,
    [ENV.logLevel]: s.logLevel,
    [ENV.ffmpegPath]: s.ffmpegPath,
    [ENV.operatorKeySha256]: s.operatorKeySha256,
    [ENV.jobLeaseSeconds]: s.jobLeaseSeconds === undefined ? undefined : String(s.jobLeaseSeconds),
    [ENV.sessionIdleSeconds]: s.sessionIdleSeconds === undefined ? undefined : String(s.sessionIdleSeconds),
    [ENV.maxVersions]: s.maxVersions === undefined ? undefined : String(s.maxVersions),
    NODE_OPTIONS: '--enable-source-maps',
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Versioned buckets (outputs, index): overwritten or deleted versions are kept this long for recovery, then removed. */
export const NONCURRENT_VERSION_DAYS = 7;

/**
 * Jobs under a lease a living worker renews (heartbeat every `leaseSeconds / 4`); the sweeper, every
 * `sweepEverySeconds`, sends a job whose lease ran out to the queue again, so a job whose worker died runs again
 * within about lease + sweep (≤ 2 minutes) instead of waiting for the message's 30-minute visibility timeout.
 * `maxAttempts` bounds the claims of one job (a file that kills its worker every time ends failed).
 */
export const JOBS = { leaseSeconds: 60, sweepEverySeconds: FUNCTIONS.sweeper.trigger.everySeconds, maxAttempts: 3 } as const;

/** Delivery (CloudFront, and the local stand-in): how long an output may be served from a cache after a delete. */
export const DELIVERY = { cacheSeconds: 60, maxCacheSeconds: 300 } as const;
