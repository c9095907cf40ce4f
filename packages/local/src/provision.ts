import { CreateTableCommand, DescribeTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CONNECTIONS, QUEUES, TABLE, type QueueSpec } from '@david/core';

const DAY = 86_400;

export interface ProvisionedQueues {
  readonly [name: string]: { url: string; arn: string; dlqUrl: string };
}

/**
 * Create a queue, or bring an existing one to the declared settings (as a deploy converges): the definition wins
 * over whatever a previous run, an older version or a person left on it.
 */
async function ensureQueue(sqs: SQSClient, name: string, attributes: Record<string, string>): Promise<string> {
  try {
    return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!;
  } catch (err) {
    if ((err as { name?: string }).name !== 'QueueNameExists' && !/QueueNameExists/.test(String((err as { Code?: string }).Code))) throw err;
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { FifoQueue: _fifo, ContentBasedDeduplication: _dedup, ...mutable } = attributes;
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: mutable }));
    return QueueUrl!;
  }
}

/** A queue's dead-letter queue: `<name>-dlq`, before the `.fifo` suffix of a FIFO queue. */
export const dlqNameOf = (spec: QueueSpec) => (spec.fifo ? spec.name.replace(/\.fifo$/, '-dlq.fifo') : `${spec.name}-dlq`);

/** Create a queue and its DLQ with the settings from the shared resource definitions (the same ones the CDK uses). */
async function createQueue(sqs: SQSClient, spec: QueueSpec, visibilitySeconds?: number) {
  const fifo: Record<string, string> = spec.fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false' } : {};
  const dlqName = dlqNameOf(spec);
  const dlqUrl = await ensureQueue(sqs, dlqName, { ...fifo, MessageRetentionPeriod: String(spec.dlqRetentionDays * DAY) });
  const dlqAttrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const url = await ensureQueue(sqs, spec.name, {
    ...fifo,
    VisibilityTimeout: String(visibilitySeconds ?? spec.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(spec.receiveWaitSeconds),
    MessageRetentionPeriod: String(spec.retentionDays * DAY),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqAttrs.Attributes!.QueueArn, maxReceiveCount: spec.maxReceiveCount }),
  });
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return { url, arn: attrs.Attributes!.QueueArn!, dlqUrl };
}

/** `visibilitySeconds` overrides every queue's visibility timeout (fault drills only; the definitions are the default). */
export async function provisionQueues(sqs: SQSClient, visibilitySeconds?: number): Promise<Record<keyof typeof QUEUES, { url: string; arn: string; dlqUrl: string }>> {
  const entries = await Promise.all(Object.entries(QUEUES).map(async ([k, spec]) => [k, await createQueue(sqs, spec, visibilitySeconds)] as const));
  return Object.fromEntries(entries) as Record<keyof typeof QUEUES, { url: string; arn: string; dlqUrl: string }>;
}

async function untilActive(ddb: DynamoDBClient, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const d = await ddb.send(new DescribeTableCommand({ TableName: name }));
    if (d.Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

/** The WebSocket connections table as the CDK declares it: keyed by connection, a GSI by session. */
export async function provisionConnectionsTable(ddb: DynamoDBClient): Promise<void> {
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: CONNECTIONS.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: CONNECTIONS.partitionKey, AttributeType: 'S' },
          { AttributeName: CONNECTIONS.sessionKey, AttributeType: 'S' },
        ],
        KeySchema: [{ AttributeName: CONNECTIONS.partitionKey, KeyType: 'HASH' }],
        GlobalSecondaryIndexes: [{ IndexName: CONNECTIONS.sessionIndex, KeySchema: [{ AttributeName: CONNECTIONS.sessionKey, KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await untilActive(ddb, CONNECTIONS.name);
}

/** The table as the CDK declares it: pk/sk strings, on-demand. Idempotent across restarts. */
export async function provisionTable(ddb: DynamoDBClient): Promise<void> {
  try {
    await ddb.send(
      new CreateTableCommand({
        TableName: TABLE.name,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
          { AttributeName: TABLE.sortKey, AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  await untilActive(ddb, TABLE.name);
}
