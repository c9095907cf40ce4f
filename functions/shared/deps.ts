import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { IndexPorts } from '@david/avl-index';
import {
  ApiGatewayPushChannel,
  CONNECTIONS,
  DynamoConnectionRepository,
  DynamoFileRepository,
  DynamoJobRepository,
  DynamoPointerStore,
  DynamoSessionRepository,
  ENV,
  S3BlobStore,
  S3AudioStore,
  NodeWebhookSender,
  SqsEventFeed,
  SqsWebhookQueue,
  SqsIndexFeed,
  SqsJobQueue,
  systemClock,
  type ConnectionRepository,
  type Deps,
  type PushChannel,
  type WebhookQueue,
  type WebhookSender,
} from '@david/core';

export type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const v = env[name];
  if (!v) throw new Error(`missing environment variable ${name}`);
  return v;
}

/**
 * Build the AWS clients and adapters once per handler module (module scope), from the handler's environment.
 * Endpoints come from the SDK's own AWS_ENDPOINT_URL_* variables, so the same code talks to AWS or the emulators.
 */
export function buildDeps(env: Env): Deps & {
  s3: S3Client;
  ddb: DynamoDBClient;
  sqs: SQSClient;
  indexPorts: IndexPorts;
  connections?: ConnectionRepository;
  push?: PushChannel;
  webhookQueue?: WebhookQueue;
  webhookSender: WebhookSender;
} {
  const s3 = new S3Client({
    forcePathStyle: env.S3_FORCE_PATH_STYLE === 'true',
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const ddb = new DynamoDBClient({});
  const db = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  // The resolved regional endpoint (or AWS_ENDPOINT_URL_SQS) is right in both worlds; emulator queue URLs carry fake hosts.
  const sqs = new SQSClient({ useQueueUrlAsEndpoint: false });
  const table = required(env, ENV.tableName);
  const indexQueue = env[ENV.indexQueueUrl];
  const eventsQueue = env[ENV.eventsQueueUrl];
  const connectionsTable = env[ENV.connectionsTable];
  const connectionsEndpoint = env[ENV.connectionsEndpoint];
  const webhooksQueue = env[ENV.webhooksQueueUrl];
  const callbackPolicy = { allowLoopback: env[ENV.callbackAllowLoopback] === 'true' };
  return {
    s3,
    ddb,
    sqs,
    indexPorts: { blobs: new S3BlobStore(s3, required(env, ENV.indexBucket)), pointers: new DynamoPointerStore(db, table) },
    sessions: new DynamoSessionRepository(db, table),
    files: new DynamoFileRepository(db, table),
    jobs: new DynamoJobRepository(db, table),
    store: new S3AudioStore(s3, { uploads: required(env, ENV.uploadsBucket), processed: required(env, ENV.processedBucket) }),
    queue: new SqsJobQueue(sqs, env[ENV.processQueueUrl] ?? ''),
    ...(indexQueue ? { index: new SqsIndexFeed(sqs, indexQueue) } : {}),
    ...(eventsQueue ? { events: new SqsEventFeed(sqs, eventsQueue) } : {}),
    ...(connectionsTable ? { connections: new DynamoConnectionRepository(db, connectionsTable, CONNECTIONS.sessionIndex) } : {}),
    ...(connectionsEndpoint ? { push: new ApiGatewayPushChannel(new ApiGatewayManagementApiClient({ endpoint: connectionsEndpoint })) } : {}),
    ...(env[ENV.eventsUrl] ? { eventsUrl: env[ENV.eventsUrl] } : {}),
    ...(webhooksQueue ? { webhookQueue: new SqsWebhookQueue(sqs, webhooksQueue) } : {}),
    callbackPolicy,
    webhookSender: new NodeWebhookSender(callbackPolicy),
    clock: systemClock,
    deliveryBaseUrl: env[ENV.deliveryBaseUrl] ?? '',
    ...(env[ENV.sessionIdleSeconds] ? { sessionIdleSeconds: Number(env[ENV.sessionIdleSeconds]) } : {}),
    ...(env[ENV.maxVersions] ? { maxVersions: Number(env[ENV.maxVersions]) } : {}),
  };
}
