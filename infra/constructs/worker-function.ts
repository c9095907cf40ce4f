import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Size } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { EventSourceSpec, FunctionSpec } from '../../packages/core/src/resources.ts';

export interface DavidFunctionProps {
  /** Repository root: entries in FunctionSpec are relative to it. */
  readonly repoRoot: string;
  /** Memory, timeout, storage and concurrency from the shared resource definitions. */
  readonly spec: FunctionSpec;
  readonly environment: Record<string, string>;
  readonly layers?: lambda.ILayerVersion[];
  /** Consume this queue with partial batch responses. */
  readonly queue?: { queue: sqs.IQueue; source: EventSourceSpec };
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** Copy an npm package's files beside the bundle (local bundling runs these commands on this machine). */
function copyFiles(b: NonNullable<FunctionSpec['bundleFiles']>): nodejs.ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir: string, outputDir: string) => [
      `mkdir -p "${outputDir}/${b.into}"`,
      ...b.files.map((f) => `cp "${inputDir}/node_modules/${b.package}/${f}" "${outputDir}/${b.into}/${f}"`),
    ],
  };
}

/** One of our Lambda functions: Node 24, bundled locally by esbuild as ESM, traced, with its own log group. */
export class DavidFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: DavidFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(props.repoRoot, spec.entry),
      handler: 'handler',
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
      projectRoot: props.repoRoot,
      depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
      bundling: {
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // CommonJS dependencies inside an ESM bundle need a require.
        banner: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);",
        // Lambda finds ffmpeg through FFMPEG_PATH (the layer); the npm fallbacks are for local use only.
        externalModules: ['@aws-sdk/*', 'ffmpeg-static', '@ffmpeg-installer/ffmpeg'],
        ...(spec.bundleFiles ? { commandHooks: copyFiles(spec.bundleFiles) } : {}),
      },
    });
    if (props.queue) {
      const { source } = props.queue;
      this.fn.addEventSource(
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
