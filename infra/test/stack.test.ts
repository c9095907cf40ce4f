import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { API, CONNECTIONS, DELIVERY, ENV, EVENT_SOURCES, FUNCTIONS, JOBS, NONCURRENT_VERSION_DAYS, QUEUES, TABLE, type FunctionSpec } from '../../packages/core/src/resources.ts';
import { DavidStack } from '../stacks/david-stack.ts';

let template: Template;
let report: { pluginReports: { conclusion?: string; violations?: { ruleName: string; severity: string }[] }[] };
let outdir: string;

/** The feature flags and context the CLI would pass from cdk.json. */
const context = JSON.parse(readFileSync(join(import.meta.dirname, '../../cdk.json'), 'utf8')).context as Record<string, unknown>;

/** Synthesize an app with cdk-nag on, into a temp dir; return the validation report. */
function synthWithNag(build: (app: App) => Stack, dir: string) {
  const app = new App({ outdir: dir, context });
  const stack = build(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let error: unknown;
  try {
    app.synth();
  } catch (err) {
    error = err;
  }
  return { stack, error, report: JSON.parse(readFileSync(join(dir, 'validation-report.json'), 'utf8')) };
}

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'david-cdk-'));
  const result = synthWithNag((app) => new DavidStack(app, 'Test', { operatorKeySha256: 'ab'.repeat(32) }), outdir);
  expect(result.error).toBeUndefined();
  template = Template.fromStack(result.stack);
  report = result.report;
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const functionWithMemory = (mb: number, timeout: number) =>
  template.findResources('AWS::Lambda::Function', { Properties: { MemorySize: mb, Timeout: timeout, Runtime: 'nodejs24.x' } });

describe('the CDK app', () => {
  it('blocks public access on every bucket and refuses non-TLS requests', () => {
    const buckets = template.findResources('AWS::S3::Bucket');
    // uploads, processed, index, the studio's, and the access-log bucket
    expect(Object.keys(buckets).length).toBe(5);
    template.allResourcesProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.objectLike({ ServerSideEncryptionConfiguration: Match.anyValue() }),
    });
    const policies = template.findResources('AWS::S3::BucketPolicy');
    expect(Object.keys(policies).length).toBe(5);
    for (const p of Object.values(policies)) {
      expect(p.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      );
    }
  });

  it('removes old versions of outputs and index objects after the retention window, and never ages out an upload', () => {
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')) as { Properties: { VersioningConfiguration?: unknown; LifecycleConfiguration?: { Rules: Record<string, unknown>[] } } }[];
    const versioned = buckets.filter((b) => b.Properties.VersioningConfiguration);
    expect(versioned).toHaveLength(2);
    for (const b of versioned) {
      expect(b.Properties.LifecycleConfiguration?.Rules).toContainEqual(expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: NONCURRENT_VERSION_DAYS } }));
    }
    const withCors = buckets.filter((b) => (b.Properties as { CorsConfiguration?: unknown }).CorsConfiguration);
    expect(withCors).toHaveLength(1); // the uploads bucket
    for (const rule of withCors[0].Properties.LifecycleConfiguration?.Rules ?? []) expect(rule).not.toHaveProperty('ExpirationInDays');
  });

  it('allows browser uploads with CORS on the uploads bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      CorsConfiguration: { CorsRules: [Match.objectLike({ AllowedMethods: Match.arrayWith(['POST']), AllowedOrigins: ['*'] })] },
    });
  });

  it('sends object-created events under uploads/ to the ingest queue', () => {
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: {
        QueueConfigurations: [
          Match.objectLike({ Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } } }),
        ],
      },
    });
  });

  it('gives each queue a DLQ with the shared maxReceiveCount, and a visibility of at least 6x its function timeout', () => {
    for (const [name, spec] of Object.entries(QUEUES)) {
      const fn: FunctionSpec = Object.values(FUNCTIONS).find((f: FunctionSpec) => 'queue' in f.trigger && f.trigger.queue === name)!;
      expect(spec.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * fn.timeoutSeconds);
      template.hasResourceProperties('AWS::SQS::Queue', {
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: spec.maxReceiveCount },
        SqsManagedSseEnabled: true,
        ...(('fifo' in spec && spec.fifo) ? { FifoQueue: true } : {}),
      });
    }
    expect(Object.keys(template.findResources('AWS::SQS::Queue')).length).toBe(2 * Object.keys(QUEUES).length);
  });

  it('runs the functions on nodejs24.x with memory and timeout from the shared definitions', () => {
    for (const spec of Object.values(FUNCTIONS)) {
      expect(Object.keys(functionWithMemory(spec.memoryMb, spec.timeoutSeconds))).toHaveLength(1);
    }
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      EphemeralStorage: { Size: FUNCTIONS.process.ephemeralStorageMb },
      TracingConfig: { Mode: 'Active' },
      Environment: { Variables: Match.objectLike({ FFMPEG_PATH: '/opt/ffmpeg', OPERATOR_KEY_SHA256: 'ab'.repeat(32) }) },
    });
  });

  it('ships the /docs assets beside the api bundle, and the bundle serves them', async () => {
    const [fn] = Object.values(functionWithMemory(FUNCTIONS.api.memoryMb, FUNCTIONS.api.timeoutSeconds)) as { Properties: { Code: { S3Key: string } } }[];
    const assetDir = join(outdir, `asset.${fn.Properties.Code.S3Key.replace(/\.zip$/, '')}`);
    for (const f of FUNCTIONS.api.bundleFiles.files) {
      const copied = readFileSync(join(assetDir, FUNCTIONS.api.bundleFiles.into, f));
      expect(copied.equals(readFileSync(join(import.meta.dirname, '../../node_modules', FUNCTIONS.api.bundleFiles.package, f)))).toBe(true);
    }
    expect(readFileSync(join(assetDir, 'index.mjs'), 'utf8')).toContain(FUNCTIONS.api.bundleFiles.into);
  });

  it('runs the sweeper on the shared schedule, allowed to read jobs and send to the process queue', () => {
    const [id] = Object.keys(functionWithMemory(FUNCTIONS.sweeper.memoryMb, FUNCTIONS.sweeper.timeoutSeconds));
    expect(id).toBeDefined();
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${JOBS.sweepEverySeconds / 60} minute${JOBS.sweepEverySeconds === 60 ? '' : 's'})`,
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  /** Our ffmpeg layer (CDK's BucketDeployment brings an AWS CLI layer of its own). */
  const ffmpegLayers = (t: Template) => Object.fromEntries(Object.entries(t.findResources('AWS::Lambda::LayerVersion')).filter(([, l]) => /ffmpeg/.test(l.Properties.Description ?? '')));

  it('attaches the ffmpeg layer to ingest and process only', () => {
    const layers = ffmpegLayers(template);
    expect(Object.keys(layers)).toHaveLength(1);
    const layerId = Object.keys(layers)[0];
    const withLayer = Object.values(template.findResources('AWS::Lambda::Function')).filter((f) =>
      (f.Properties.Layers ?? []).some((l: unknown) => JSON.stringify(l).includes(layerId)),
    );
    expect(withLayer.map((f) => f.Properties.MemorySize).sort()).toEqual([FUNCTIONS.ingest.memoryMb, FUNCTIONS.process.memoryMb].sort());
    expect(withLayer.map((f) => f.Properties.Timeout).sort()).toEqual([FUNCTIONS.ingest.timeoutSeconds, FUNCTIONS.process.timeoutSeconds].sort());
  });

  it("takes the deployer's own ffmpeg layer and path instead of the default one", () => {
    const app = new App({ outdir: mkdtempSync(join(tmpdir(), 'david-cdk-ffmpeg-')), context });
    const stack = new Stack(app, 'Layer');
    const arn = 'arn:aws:lambda:us-east-1:123456789012:layer:my-ffmpeg:7';
    const own = new DavidStack(app, 'Own', { ffmpeg: { layer: lambda.LayerVersion.fromLayerVersionArn(stack, 'L', arn), path: '/opt/bin/ffmpeg' } });
    const t = Template.fromStack(own);
    expect(Object.keys(ffmpegLayers(t))).toHaveLength(0);
    const withLayer = Object.values(t.findResources('AWS::Lambda::Function')).filter((f) => JSON.stringify(f.Properties.Layers ?? []).includes('my-ffmpeg'));
    expect(withLayer).toHaveLength(2);
    for (const f of withLayer) expect(f.Properties.Environment.Variables.FFMPEG_PATH).toBe('/opt/bin/ffmpeg');
    rmSync(app.outdir, { recursive: true, force: true });
  });

  it('wires every function from its declaration: trigger, layer, grants', () => {
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } });
    const ours = Object.entries(fns).filter(([, f]) => f.Properties.Handler === 'index.handler');
    expect(ours).toHaveLength(Object.keys(FUNCTIONS).length);
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping'));
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const aliases = template.findResources('AWS::Lambda::Alias');
    for (const spec of Object.values(FUNCTIONS) as FunctionSpec[]) {
      const [id] = Object.keys(functionWithMemory(spec.memoryMb, spec.timeoutSeconds));
      // A function with provisioned environments is invoked through its `live` alias, which keeps them.
      const alias = Object.entries(aliases).find(([, a]) => JSON.stringify(a.Properties.FunctionName) === JSON.stringify({ Ref: id }));
      expect(alias?.[1].Properties.ProvisionedConcurrencyConfig, spec.entry).toEqual(
        spec.provisionedConcurrency ? { ProvisionedConcurrentExecutions: spec.provisionedConcurrency } : undefined,
      );
      // (an alias is named by its function name and `:live`, built from the alias's ARN)
      const target = (m: { [key: string]: { FunctionName?: unknown } }) =>
        spec.provisionedConcurrency ? JSON.stringify(m.Properties.FunctionName).includes(JSON.stringify({ Ref: alias![0] })) : JSON.stringify(m.Properties.FunctionName) === JSON.stringify({ Ref: id });
      const consumes = mappings.filter(target);
      expect(consumes.length, spec.entry).toBe('queue' in spec.trigger ? 1 : 0);
      const scheduled = rules.filter((r) => JSON.stringify(r.Properties.Targets).includes(`"${id}"`));
      expect(scheduled.length, spec.entry).toBe('everySeconds' in spec.trigger ? 1 : 0);
    }
  });

  it('consumes the queues with partial batch responses and the shared batch sizes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: FUNCTIONS.index.memoryMb, ReservedConcurrentExecutions: 1 });
    for (const name of ['ingest', 'process', 'index'] as const) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        BatchSize: EVENT_SOURCES[name].batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
  });

  it('keeps jobs in an on-demand table with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
      ],
      Replicas: [Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
      TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
    });
  });

  it('throttles the REST API stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: API.stageName,
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: API.throttleRateLimit, ThrottlingBurstLimit: API.throttleBurstLimit })]),
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
  });

  it('pushes changes through a WebSocket API: token authoriser on $connect, three routes on the sockets function, a connections table with TTL', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'WEBSOCKET' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: API.stageName,
      AutoDeploy: true,
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: API.throttleRateLimit, ThrottlingBurstLimit: API.throttleBurstLimit }),
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    // The authoriser reads the token from the query string (browsers cannot send headers on a WebSocket) and runs
    // the function that declares the websocket trigger.
    const sockets = functionWithMemory(FUNCTIONS.sockets.memoryMb, FUNCTIONS.sockets.timeoutSeconds);
    const [socketsId] = Object.keys(sockets);
    const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer', { Properties: { AuthorizerType: 'REQUEST', IdentitySource: ['route.request.querystring.token'] } });
    expect(Object.keys(authorizers)).toHaveLength(1);
    expect(JSON.stringify(Object.values(authorizers)[0])).toContain(socketsId);
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    const byKey = Object.fromEntries(Object.values(routes).map((r) => [r.Properties.RouteKey, r.Properties]));
    expect(Object.keys(byKey).sort()).toEqual(['$connect', '$default', '$disconnect']);
    expect(byKey.$connect.AuthorizationType).toBe('CUSTOM');
    expect(byKey.$connect.AuthorizerId).toEqual({ Ref: Object.keys(authorizers)[0] });
    // $default answers the client (a two-way route), so nothing a client sends goes unanswered.
    expect(byKey.$default.RouteResponseSelectionExpression).toBe('$default');
    template.resourceCountIs('AWS::ApiGatewayV2::RouteResponse', 1);
    const integrations = Object.values(template.findResources('AWS::ApiGatewayV2::Integration'));
    expect(integrations).toHaveLength(3);
    for (const i of integrations) expect(JSON.stringify(i.Properties.IntegrationUri)).toContain(socketsId);

    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      KeySchema: [{ AttributeName: CONNECTIONS.partitionKey, KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: CONNECTIONS.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: CONNECTIONS.sessionIndex, KeySchema: [{ AttributeName: CONNECTIONS.sessionKey, KeyType: 'HASH' }] })],
    });
    // Only the notifier may post to connections; the API tells clients where to connect.
    const manage = template.findResources('AWS::IAM::Policy', { Properties: { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'execute-api:ManageConnections' })]) } } });
    expect(Object.keys(manage)).toHaveLength(1);
    const api = functionWithMemory(FUNCTIONS.api.memoryMb, FUNCTIONS.api.timeoutSeconds);
    const apiEnv = Object.values(api)[0].Properties.Environment.Variables;
    expect(JSON.stringify(apiEnv[ENV.eventsUrl])).toMatch(/wss:\/\//);
    const notify = Object.values(functionWithMemory(FUNCTIONS.notify.memoryMb, FUNCTIONS.notify.timeoutSeconds))[0];
    expect(JSON.stringify(notify.Properties.Environment.Variables[ENV.connectionsEndpoint])).toMatch(/https:\/\//);
  });

  it('delivers through CloudFront with Origin Access Control, and only the distribution may read the bucket', () => {
    // One for the processed bucket, one for the studio's.
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 2);
    // A deleted output stops being served within the cache's lifetime (no invalidation per delete).
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({ DefaultTTL: DELIVERY.cacheSeconds, MaxTTL: DELIVERY.maxCacheSeconds, MinTTL: 0 }),
    });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'redirect-to-https',
          ResponseHeadersPolicyId: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_AND_SECURITY_HEADERS.responseHeadersPolicyId,
        }),
        Origins: [
          Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } }),
          Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } }),
        ],
      }),
    });
    const readers = Object.values(template.findResources('AWS::S3::BucketPolicy')).flatMap((p) =>
      p.Properties.PolicyDocument.Statement.filter((s: { Effect: string; Action: unknown }) => s.Effect === 'Allow' && JSON.stringify(s.Action).includes('s3:GetObject')),
    );
    expect(readers).toHaveLength(2);
    for (const r of readers) {
      expect(r.Principal).toEqual({ Service: 'cloudfront.amazonaws.com' });
      expect(JSON.stringify(r.Condition)).toContain('AWS:SourceArn');
    }
  });

  it('serves the studio from its private bucket behind the distribution, the API URL deployed as its configuration', () => {
    const [dist] = Object.values(template.findResources('AWS::CloudFront::Distribution'));
    const config = dist.Properties.DistributionConfig;
    expect(config.DefaultRootObject).toBe('index.html');
    const studioBucket = Object.keys(template.findResources('AWS::S3::Bucket')).find((id) => id.startsWith('Studio'))!;
    const studioOrigin = config.Origins.find((o: { DomainName: unknown }) => JSON.stringify(o.DomainName).includes(studioBucket)).Id;
    expect(config.CacheBehaviors.map((b: { PathPattern: string; TargetOriginId: string }) => [b.PathPattern, b.TargetOriginId])).toEqual([
      ['/index.html', studioOrigin],
      ['/studio/*', studioOrigin],
    ]);
    const [deployment] = Object.values(template.findResources('Custom::CDKBucketDeployment'));
    expect(JSON.stringify(deployment.Properties.DestinationBucketName)).toContain(studioBucket);
    expect(deployment.Properties.DistributionPaths).toEqual(['/index.html', '/studio/*']);
    // The build is the one npm start serves, and names no API: the URL arrives as studio/config.json, made at
    // deploy time from the REST API's URL (a marker the deployment fills in).
    const markers = JSON.stringify(deployment.Properties.SourceMarkers ?? []);
    expect(markers).toMatch(/RestApi/);
    const asset = join(import.meta.dirname, '../../.build/studio-asset');
    expect(readFileSync(join(asset, 'index.html'), 'utf8')).toContain('data-testid="upload-input"');
    expect(readFileSync(join(asset, 'studio', 'studio.js'), 'utf8')).not.toMatch(/execute-api|cloudfront\.net/);
  });

  it('grants no wildcard actions to our functions', () => {
    for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
      for (const st of policy.Properties.PolicyDocument.Statement) {
        const actions = ([] as string[]).concat(st.Action);
        expect(actions).not.toContain('*');
        for (const a of actions) expect(a).not.toMatch(/^[a-z0-9-]+:\*$/);
      }
    }
  });

  it('passes the cdk-nag AWS Solutions checks, and the check does catch a violation', () => {
    // Synthesis throws on an unacknowledged error; the report must hold no error either.
    expect(report.pluginReports.flatMap((r) => r.violations ?? []).filter((v) => v.severity === 'error')).toEqual([]);
    const dir = mkdtempSync(join(tmpdir(), 'david-cdk-bad-'));
    try {
      const bad = synthWithNag((app) => {
        const stack = new Stack(app, 'Bad');
        new s3.Bucket(stack, 'Open', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ACLS_ONLY });
        return stack;
      }, dir);
      // The public bucket must fail synthesis through cdk-nag's S3 rules.
      expect(String(bad.error)).toMatch(/ValidationFailed/);
      const rules = bad.report.pluginReports.flatMap((r: { violations?: { ruleName: string }[] }) => r.violations ?? []).map((v: { ruleName: string }) => v.ruleName);
      expect(rules).toContain('AwsSolutions-S2');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
