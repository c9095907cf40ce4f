/**
 * The one definition of every cloud resource. Read by the CDK stacks (infra/) and by the local stack
 * (packages/local), so names, timeouts, batch sizes and retry counts cannot drift apart.
 * Plain data: no AWS SDK, no CDK imports.
 */

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
  /** A session unused this long expires with everything it holds (override: SESSION_IDLE_SECONDS). */
  sessionIdleSeconds: 30 * 86_400,
} as const;

export interface FunctionSpec {
  /** Path of the handler module from the repository root; it exports `handler`. */
  readonly entry: string;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb?: number;
  readonly reservedConcurrency?: number;
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

export const FUNCTIONS = {
  api: {
    entry: 'functions/api/handler.ts',
    memoryMb: 1024,
    timeoutSeconds: 29,
    // The /docs page's assets (Swagger UI), served by the function itself.
    bundleFiles: { package: 'swagger-ui-dist', files: ['swagger-ui.css', 'swagger-ui-bundle.js'], into: 'swagger-ui' },
  },
  ingest: { entry: 'functions/ingest/handler.ts', memoryMb: 1024, timeoutSeconds: 60 },
  process: { entry: 'functions/process/handler.ts', memoryMb: 3008, timeoutSeconds: 300, ephemeralStorageMb: 4096 },
  // The whole index lives in memory while a batch is applied (about 0.4 GB per million entries).
  index: { entry: 'functions/index/handler.ts', memoryMb: 2048, timeoutSeconds: 60, reservedConcurrency: 1 },
  // Runs every JOBS.sweepEverySeconds (an EventBridge schedule in the cloud, a timer locally).
  sweeper: { entry: 'functions/sweeper/handler.ts', memoryMb: 256, timeoutSeconds: 30, reservedConcurrency: 1 },
} as const satisfies Record<string, FunctionSpec>;

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
} as const satisfies Record<string, QueueSpec>;

export const EVENT_SOURCES = {
  ingest: { batchSize: 10, maxBatchingWindowSeconds: 1, maxConcurrency: 20 },
  process: { batchSize: 1, maxBatchingWindowSeconds: 0, maxConcurrency: 50 },
  index: { batchSize: 10, maxBatchingWindowSeconds: 0 },
} as const satisfies Record<keyof typeof QUEUES, EventSourceSpec>;

export const BUCKETS = {
  // No age-based expiry on uploads: an upload lives as long as its session (idle sessions expire with everything
  // they hold, LIMITS.sessionIdleDays), so a record never says `ready` for bytes a bucket rule removed.
  uploads: { name: 'david-uploads', prefix: 'uploads/' },
  processed: { name: 'david-processed', prefix: 'processed/' },
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
} as const;

export const SERVICE_NAME = 'david';

/** Versioned buckets (outputs, index): overwritten or deleted versions are kept this long for recovery, then removed. */
export const NONCURRENT_VERSION_DAYS = 7;

/**
 * Jobs under a lease a living worker renews (heartbeat every `leaseSeconds / 4`); the sweeper, every
 * `sweepEverySeconds`, sends a job whose lease ran out to the queue again, so a job whose worker died runs again
 * within about lease + sweep (≤ 2 minutes) instead of waiting for the message's 30-minute visibility timeout.
 * `maxAttempts` bounds the claims of one job (a file that kills its worker every time ends failed).
 */
export const JOBS = { leaseSeconds: 60, sweepEverySeconds: 60, maxAttempts: 3 } as const;

/** Delivery (CloudFront, and the local stand-in): how long an output may be served from a cache after a delete. */
export const DELIVERY = { cacheSeconds: 60, maxCacheSeconds: 300 } as const;
