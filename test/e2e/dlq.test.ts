import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';

// A one-second visibility timeout from the start (the real 30 min would make a slow test; set later on the queue,
// it would reach the pollers' waiting long polls late in some emulators, as in moto).
let stack: LocalStack;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-dlq-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined, queueVisibilitySeconds: 1 });
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a message that keeps failing', () => {
  it('is retried and moves to the DLQ after maxReceiveCount', async () => {
    // A well-formed job message that fails in a way no check calls permanent (DynamoDB refuses an over-long key).
    // (An unparsable message is not retried at all: the poison test covers that.)
    const body = JSON.stringify({ session_id: `ses_${'f'.repeat(3000)}`, job_id: 'job_x' });
    await stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queues.process.url, MessageBody: body }));
    const dead = await new ApiClient(stack.apiUrl).waitFor(async () => {
      const r = await stack.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: stack.queues.process.dlqUrl, MaxNumberOfMessages: 1, MessageSystemAttributeNames: ['All'] }),
      );
      return r.Messages?.[0];
    }, 'the message in the DLQ', 20_000);
    expect(dead.Body).toBe(body);
    expect(Number(dead.Attributes?.ApproximateReceiveCount ?? 0)).toBeGreaterThanOrEqual(1);
  });
});
