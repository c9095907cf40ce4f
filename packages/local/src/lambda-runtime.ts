import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { FunctionSpec } from '@david/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { randomUUID } from 'node:crypto';

export type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/** A Lambda context as the runtime gives it, with the function's configured memory and timeout. */
export function makeContext(name: string, fn: FunctionSpec): Context {
  const deadline = Date.now() + fn.timeoutSeconds * 1000;
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: String(fn.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Invoke like the Lambda service: with a fresh context, failing the invocation when the timeout passes. */
export async function invoke<E, R>(name: string, fn: FunctionSpec, handler: Handler<E, R>, event: E): Promise<R> {
  const context = makeContext(name, fn);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Task timed out after ${fn.timeoutSeconds} seconds`)), fn.timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function toRecord(m: Message, queueArn: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(a.MessageGroupId ? { MessageGroupId: a.MessageGroupId } : {}),
      ...(a.MessageDeduplicationId ? { MessageDeduplicationId: a.MessageDeduplicationId } : {}),
      ...(a.SequenceNumber ? { SequenceNumber: a.SequenceNumber } : {}),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: 'us-east-1',
  };
}

/** How often a batch held in its batching window looks for more messages. */
const TOP_UP_MS = 200;

export interface EventSourceOptions {
  readonly name: string;
  readonly fn: FunctionSpec;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  /**
   * MaximumBatchingWindowInSeconds: a batch short of `batchSize` is held (its messages invisible) and topped up
   * for up to this long before the function is invoked, as Lambda's pollers do. 0 invokes at once.
   */
  readonly batchingWindowSeconds?: number;
  readonly waitSeconds: number;
  /** Parallel pollers (Lambda scales out; here it is bounded by the machine). */
  readonly concurrency: number;
  readonly handler: Handler<SQSEvent, SQSBatchResponse | void>;
  readonly onError?: (err: unknown) => void;
}

/**
 * An SQS event source mapping with ReportBatchItemFailures: receive a batch, invoke the handler, delete the
 * records it did not report as failed. A thrown handler (or a timeout) fails the whole batch; failed messages
 * come back after their visibility timeout and go to the DLQ after maxReceiveCount, all done by the queue.
 */
export class SqsEventSource {
  private readonly abort = new AbortController();
  private loops: Promise<void>[] = [];
  private inFlight = 0;

  constructor(private readonly opts: EventSourceOptions) {}

  start(): void {
    for (let i = 0; i < this.opts.concurrency; i++) this.loops.push(this.loop());
  }

  get busy(): number {
    return this.inFlight;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.allSettled(this.loops);
  }

  private async loop(): Promise<void> {
    const { sqs, queueUrl } = this.opts;
    while (!this.abort.signal.aborted) {
      let messages: Message[] = [];
      try {
        const res = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: this.opts.batchSize,
            WaitTimeSeconds: this.opts.waitSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.abort.signal },
        );
        messages = res.Messages ?? [];
        if (messages.length > 0) messages = await this.topUp(messages);
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.opts.onError?.(err);
        await new Promise((r) => setTimeout(r, 500));
        if (messages.length === 0) continue;
      }
      if (messages.length === 0) continue;
      this.inFlight++;
      try {
        await this.deliver(messages);
      } catch (err) {
        // A poller never dies of one batch: what could not be acknowledged comes back and is handled again
        // (every handler is idempotent), as Lambda's event source would do.
        this.opts.onError?.(err);
      } finally {
        this.inFlight--;
      }
    }
  }

  /** Fill a short batch within the batching window: a short receive every TOP_UP_MS until it is full or the window ends. */
  private async topUp(messages: Message[]): Promise<Message[]> {
    const { batchSize, batchingWindowSeconds = 0, sqs, queueUrl } = this.opts;
    const until = Date.now() + batchingWindowSeconds * 1000;
    while (messages.length < batchSize && Date.now() < until && !this.abort.signal.aborted) {
      await new Promise((r) => setTimeout(r, Math.min(TOP_UP_MS, until - Date.now())));
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: batchSize - messages.length,
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      messages = [...messages, ...(res.Messages ?? [])];
    }
    return messages;
  }

  private async deliver(messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, this.opts.queueArn)) };
    let failed: Set<string>;
    try {
      const res = await invoke(this.opts.name, this.opts.fn, this.opts.handler, event);
      failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch (err) {
      this.opts.onError?.(err);
      failed = new Set(messages.map((m) => m.MessageId!));
    }
    let done = messages.filter((m) => !failed.has(m.MessageId!));
    for (let attempt = 0; done.length > 0; attempt++) {
      let res;
      try {
        res = await this.opts.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.opts.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        );
      } catch (err) {
        if (attempt >= 2) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        continue;
      }
      const refused = new Set((res.Failed ?? []).map((f) => Number(f.Id)));
      done = done.filter((_, i) => refused.has(i));
      if (done.length > 0 && attempt >= 2) throw new Error(`could not acknowledge ${done.length} message(s) of ${this.opts.name}`);
    }
  }
}
