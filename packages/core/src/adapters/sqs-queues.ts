import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import type { IndexChange, IndexFeed, JobQueue } from '../ports.ts';

export class SqsJobQueue implements JobQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async sendJob(message: { session_id: string; job_id: string }): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(message) }));
  }
}

/** Index changes go through a FIFO queue with one message group: one writer applies them in order. */
export class SqsIndexFeed implements IndexFeed {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly indexName = 'files',
  ) {}

  async publish(change: IndexChange, dedupId: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(change),
        MessageGroupId: this.indexName,
        MessageDeduplicationId: createHash('sha256').update(dedupId).digest('hex'),
      }),
    );
  }
}
