import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueSpec } from '../../packages/core/src/resources.ts';

export interface QueueWithDlqProps {
  /** The queue's settings from the shared resource definitions. */
  readonly spec: QueueSpec;
}

/** A queue and its dead-letter queue, SSE and TLS-only, configured from one QueueSpec. */
export class QueueWithDlq extends Construct {
  readonly queue: sqs.Queue;
  readonly dlq: sqs.Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const { spec } = props;
    const fifo = spec.fifo ? { fifo: true, contentBasedDeduplication: false } : {};
    this.dlq = new sqs.Queue(this, 'Dlq', {
      ...fifo,
      retentionPeriod: Duration.days(spec.dlqRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      ...fifo,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      receiveMessageWaitTime: Duration.seconds(spec.receiveWaitSeconds),
      retentionPeriod: Duration.days(spec.retentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: spec.maxReceiveCount },
    });
  }
}
