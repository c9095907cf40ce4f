import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Size } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { buildFunction } from '../../packages/bundle/src/index.ts';
import type { EventSourceSpec, FunctionSpec } from '../../packages/core/src/resources.ts';

export interface DavidFunctionProps {
  /** The function's name in FUNCTIONS (its bundle's name). */
  readonly name: string;
  /** Memory, timeout, storage and concurrency from the shared resource definitions. */
  readonly spec: FunctionSpec;
  readonly environment: Record<string, string>;
  readonly layers?: lambda.ILayerVersion[];
  /** Consume this queue with partial batch responses. */
  readonly queue?: { queue: sqs.IQueue; source: EventSourceSpec };
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * One of our Lambda functions: Node 24, traced, with its own log group, running the bundle that `buildFunction`
 * makes — the very folder the local stack runs (packages/bundle), so what is tested locally is what deploys.
 */
export class DavidFunction extends Construct {
  readonly fn: lambda.Function;
  /** What triggers invoke: the `live` alias when the function keeps provisioned environments, else the function. */
  readonly target: lambda.IFunction;

  constructor(scope: Construct, id: string, props: DavidFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const bundle = buildFunction(props.name, spec);
    this.fn = new lambda.Function(this, 'Function', {
      code: lambda.Code.fromAsset(bundle.dir),
      handler: bundle.handler,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.X86_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      ...(spec.ephemeralStorageMb ? { ephemeralStorageSize: Size.mebibytes(spec.ephemeralStorageMb) } : {}),
      ...(spec.reservedConcurrency ? { reservedConcurrentExecutions: spec.reservedConcurrency } : {}),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      layers: props.layers,
      environment: props.environment,
    });
    this.target = spec.provisionedConcurrency
      ? new lambda.Alias(this, 'Live', { aliasName: 'live', version: this.fn.currentVersion, provisionedConcurrentExecutions: spec.provisionedConcurrency })
      : this.fn;
    if (props.queue) {
      const { source } = props.queue;
      this.target.addEventSource(
        new SqsEventSource(props.queue.queue, {
          batchSize: source.batchSize,
          ...(source.maxBatchingWindowSeconds > 0 ? { maxBatchingWindow: Duration.seconds(source.maxBatchingWindowSeconds) } : {}),
          ...(source.maxConcurrency ? { maxConcurrency: source.maxConcurrency } : {}),
          reportBatchItemFailures: true,
        }),
      );
    }
  }
}
