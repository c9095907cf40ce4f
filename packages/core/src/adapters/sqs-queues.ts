import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import type { LiveEvent } from '../domain/types.ts';
import type { EventFeed, IndexChange, IndexFeed, JobQueue } from '../ports.ts';
import type { WebhookDelivery, WebhookQueue } from '../use-cases/webhooks.ts';

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

/**
 * State changes for clients through a FIFO queue: one message group per session (its changes stay in order, other
 * sessions are not held up), deduplicated on content (a retried send of the same change is one message).
 */
export class SqsEventFeed implements EventFeed {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async publish(event: LiveEvent): Promise<void> {
    const body = JSON.stringify(event);
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: body,
        MessageGroupId: event.kind === 'change' ? event.message.session_id : event.session_id,
        MessageDeduplicationId: createHash('sha256').update(body).digest('hex'),
      }),
    );
  }
}

/** Webhook deliveries through a standard queue; a retry is a new message with SQS's own delay (at most 15 min). */
export class SqsWebhookQueue implements WebhookQueue {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async schedule(delivery: WebhookDelivery, delaySeconds: number): Promise<void> {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(delivery), DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) }));
  }
}
