import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTIONS } from '@david/core';
import { EMULATOR_CREDENTIALS, SqsEventSource } from '@david/local';
import type { SQSEvent } from 'aws-lambda';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emulatorsForFile } from '../helpers/emulators.ts';
import { startFaultProxy } from '../helpers/fault-proxy.ts';

const shared = emulatorsForFile('david-faults-');

const client = (endpoint: string) =>
  new SQSClient({ region: 'us-east-1', endpoint, credentials: EMULATOR_CREDENTIALS, useQueueUrlAsEndpoint: false, maxAttempts: 1 });

describe('the local event source when SQS fails', () => {
  it('survives acknowledgements that fail: the batch comes back and is handled again, and polling goes on', async () => {
    const direct = client(shared.emulators.endpoints.sqs);
    const { QueueUrl } = await direct.send(new CreateQueueCommand({ QueueName: 'faulty', Attributes: { VisibilityTimeout: '1' } }));
    let refusals = 4; // more than the event source's own three tries
    const proxy = await startFaultProxy(shared.emulators.endpoints.sqs, (req) =>
      String(req.headers['x-amz-target']).endsWith('.DeleteMessageBatch') && refusals-- > 0
        ? { status: 500, body: JSON.stringify({ __type: 'com.amazonaws.sqs#InternalError', message: 'injected' }) }
        : 'pass',
    );
    const seen: string[] = [];
    const errors: unknown[] = [];
    const source = new SqsEventSource({
      name: 'faulty',
      fn: FUNCTIONS.index,
      sqs: client(proxy.url),
      queueUrl: QueueUrl!,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:faulty',
      batchSize: 1,
      waitSeconds: 1,
      concurrency: 1,
      handler: async (event: SQSEvent) => {
        seen.push(...event.Records.map((r) => r.body));
        return { batchItemFailures: [] };
      },
      onError: (e) => errors.push(e),
    });
    source.start();
    try {
      await direct.send(new SendMessageCommand({ QueueUrl, MessageBody: 'first' }));
      const until = async (cond: () => boolean) => {
        for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
      };
      await until(() => seen.filter((b) => b === 'first').length >= 2);
      expect(seen.filter((b) => b === 'first').length).toBeGreaterThanOrEqual(2); // handled again after the failed ack
      expect(errors.length).toBeGreaterThan(0); // and said so
      await direct.send(new SendMessageCommand({ QueueUrl, MessageBody: 'second' }));
      await until(() => seen.includes('second'));
      expect(seen).toContain('second'); // the poller is alive
      // Both acknowledged in the end: nothing visible or in flight once a visibility timeout has passed.
      await new Promise((r) => setTimeout(r, 1500));
      const after = await direct.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      expect(Number(after.Attributes!.ApproximateNumberOfMessages) + Number(after.Attributes!.ApproximateNumberOfMessagesNotVisible)).toBe(0);
    } finally {
      await source.stop();
      await proxy.close();
    }
  });
});
