import { CfnOutput, Duration, RemovalPolicy, Stack, Token, Validations, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { WebSocketLambdaAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { WebSocketLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { mkdirSync, copyFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  API,
  BUCKETS,
  CONNECTIONS,
  DELIVERY,
  EVENT_SOURCES,
  FUNCTIONS,
  functionEnvironment,
  NONCURRENT_VERSION_DAYS,
  QUEUES,
  TABLE,
  type BucketId,
  type FunctionId,
  type FunctionSpec,
  type QueueId,
} from '../../packages/core/src/resources.ts';
import { layerFfmpegBinary } from '../../packages/bundle/src/index.ts';
import { buildStudio, type StudioConfig } from '../../packages/studio/src/build.ts';
import { QueueWithDlq } from '../constructs/queue-with-dlq.ts';
import { DavidFunction } from '../constructs/worker-function.ts';

export interface DavidStackProps extends StackProps {
  /** Origins allowed to POST uploads from a browser. @default ['*'] */
  readonly corsOrigins?: string[];
  /** SHA-256 (hex) of the operator key for the admin routes. @default none: admin routes answer 403 */
  readonly operatorKeySha256?: string;
  /** Keep buckets and the table when the stack is deleted. @default true */
  readonly retainData?: boolean;
  /**
   * Your own ffmpeg layer (x86_64) for ingest and process, e.g. a newer static build or one with other codecs, and
   * the path of the binary in it. @default a layer with the @ffmpeg-installer/linux-x64 build (2018) at /opt/ffmpeg,
   * the one `npm test` also runs the codec tests with
   */
  readonly ffmpeg?: { readonly layer: lambda.ILayerVersion; readonly path: string };
}

/** The construct id of each function (kept as they were, so logical ids and deployed resources stay). */
const CONSTRUCT_IDS: Record<FunctionId, string> = { api: 'Api', ingest: 'Ingest', process: 'Process', index: 'Indexer', sweeper: 'Sweeper', sockets: 'Sockets', notify: 'Notify', webhook: 'Webhook' };

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The default layer's ffmpeg (see layerFfmpegBinary), staged alone for a layer (/opt/ffmpeg). */
function ffmpegLayerDir(): string {
  const dir = join(repoRoot, 'infra', 'cdk.out', '.ffmpeg-layer');
  if (!existsSync(join(dir, 'ffmpeg'))) {
    mkdirSync(dir, { recursive: true });
    copyFileSync(layerFfmpegBinary(), join(dir, 'ffmpeg'));
  }
  return dir;
}

/** A pseudo parameter as cdk-nag prints it: <AWS::Name>, unless the stack's environment fixed its value. */
const shown = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);

/** Where synthesis builds the studio (git-ignored); the asset is hashed from its contents. */
const STUDIO_ASSET_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.build/studio-asset');

export class DavidStack extends Stack {
  constructor(scope: Construct, id: string, props: DavidStackProps = {}) {
    super(scope, id, props);
    const retain = props.retainData ?? true;
    const removalPolicy = retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    // Buckets: private, TLS only, encrypted, access-logged.
    const logs_ = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy,
    });
    const bucketDefaults = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: logs_,
      removalPolicy,
    };
    const uploads = new s3.Bucket(this, 'Uploads', {
      ...bucketDefaults,
      serverAccessLogsPrefix: `${BUCKETS.uploads.name}/`,
      cors: [
        {
          allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.PUT, s3.HttpMethods.GET],
          allowedOrigins: props.corsOrigins ?? ['*'],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    const versionedRules: s3.LifecycleRule[] = [
      { noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS), expiredObjectDeleteMarker: true, abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ];
    const processed = new s3.Bucket(this, 'Processed', { ...bucketDefaults, serverAccessLogsPrefix: `${BUCKETS.processed.name}/`, versioned: true, lifecycleRules: versionedRules });
    const indexBucket = new s3.Bucket(this, 'Index', { ...bucketDefaults, serverAccessLogsPrefix: `${BUCKETS.index.name}/`, versioned: true, lifecycleRules: versionedRules });

    // Queues, each with its DLQ, from the shared definitions.
    const ingestQ = new QueueWithDlq(this, 'IngestQueue', { spec: QUEUES.ingest });
    const processQ = new QueueWithDlq(this, 'ProcessQueue', { spec: QUEUES.process });
    const indexQ = new QueueWithDlq(this, 'IndexQueue', { spec: QUEUES.index });
    const eventsQ = new QueueWithDlq(this, 'EventsQueue', { spec: QUEUES.events });
    const webhooksQ = new QueueWithDlq(this, 'WebhooksQueue', { spec: QUEUES.webhooks });
    uploads.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(ingestQ.queue), { prefix: BUCKETS.uploads.prefix });

    const table = new dynamodb.TableV2(this, 'Table', {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: TABLE.ttlAttribute,
      deletionProtection: retain,
      removalPolicy,
    });

    // WebSocket connections: short-lived, so no backups and nothing retained; TTL removes those never disconnected.
    const connectionsTable = new dynamodb.TableV2(this, 'Connections', {
      partitionKey: { name: CONNECTIONS.partitionKey, type: dynamodb.AttributeType.STRING },
      globalSecondaryIndexes: [{ indexName: CONNECTIONS.sessionIndex, partitionKey: { name: CONNECTIONS.sessionKey, type: dynamodb.AttributeType.STRING } }],
      billing: dynamodb.Billing.onDemand(),
      timeToLiveAttribute: CONNECTIONS.ttlAttribute,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // The push channel: a WebSocket API whose routes are wired once the sockets function exists (below).
    const eventsApi = new apigwv2.WebSocketApi(this, 'EventsApi', { description: 'David: state changes pushed to the clients of a session' });
    const eventsStage = new apigwv2.WebSocketStage(this, 'EventsStage', {
      webSocketApi: eventsApi,
      stageName: API.stageName,
      autoDeploy: true,
      throttle: { rateLimit: API.throttleRateLimit, burstLimit: API.throttleBurstLimit },
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(new logs.LogGroup(this, 'EventsAccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY })),
      },
    });

    // Delivery: CloudFront over the processed bucket through Origin Access Control.
    const distribution = new cloudfront.Distribution(this, 'Delivery', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(processed),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        // Short lifetimes, so a deleted output stops being served within minutes without an invalidation per
        // delete (invalidations are billed past 1,000 paths a month; a delete is a routine call here).
        cachePolicy: new cloudfront.CachePolicy(this, 'DeliveryCache', {
          defaultTtl: Duration.seconds(DELIVERY.cacheSeconds),
          maxTtl: Duration.seconds(DELIVERY.maxCacheSeconds),
          minTtl: Duration.seconds(0),
          enableAcceptEncodingGzip: false,
          enableAcceptEncodingBrotli: false,
        }),
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        // CORS for the studio and security headers (X-Content-Type-Options: nosniff among them), as the local stand-in.
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.CORS_ALLOW_ALL_ORIGINS_AND_SECURITY_HEADERS,
      },
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      // `/` is the studio (its index.html, below).
      defaultRootObject: 'index.html',
    });

    const ffmpeg =
      props.ffmpeg?.layer ??
      new lambda.LayerVersion(this, 'Ffmpeg', {
        code: lambda.Code.fromAsset(ffmpegLayerDir()),
        compatibleArchitectures: [lambda.Architecture.X86_64],
        description: 'ffmpeg (x86_64) at /opt/ffmpeg',
      });

    const env = functionEnvironment({
      tableName: table.tableName,
      buckets: { uploads: uploads.bucketName, processed: processed.bucketName, index: indexBucket.bucketName },
      queueUrls: { process: processQ.queue.queueUrl, index: indexQ.queue.queueUrl, events: eventsQ.queue.queueUrl, webhooks: webhooksQ.queue.queueUrl },
      deliveryBaseUrl: `https://${distribution.distributionDomainName}`,
      connectionsTable: connectionsTable.tableName,
      eventsUrl: eventsStage.url,
      connectionsEndpoint: eventsStage.callbackUrl,
      logLevel: 'INFO',
      ffmpegPath: props.ffmpeg?.path ?? '/opt/ffmpeg',
      operatorKeySha256: props.operatorKeySha256,
    });

    // Every function from its one declaration (FUNCTIONS in resources.ts): trigger, layer and grants included.
    const buckets: Record<BucketId, s3.Bucket> = { uploads, processed, index: indexBucket };
    const queues: Record<QueueId, QueueWithDlq> = { ingest: ingestQ, process: processQ, index: indexQ, events: eventsQ, webhooks: webhooksQ };
    const fns = {} as Record<FunctionId, lambda.Function>;
    for (const name of Object.keys(FUNCTIONS) as FunctionId[]) {
      const spec: FunctionSpec = FUNCTIONS[name];
      const trigger = spec.trigger;
      const fn = new DavidFunction(this, CONSTRUCT_IDS[name], {
        name,
        spec,
        environment: env,
        ...(spec.ffmpeg ? { layers: [ffmpeg] } : {}),
        ...('queue' in trigger ? { queue: { queue: queues[trigger.queue].queue, source: EVENT_SOURCES[trigger.queue] } } : {}),
      }).fn;
      if ('everySeconds' in trigger) {
        new events.Rule(this, `${CONSTRUCT_IDS[name]}Schedule`, {
          schedule: events.Schedule.rate(Duration.seconds(trigger.everySeconds)),
          targets: [new targets.LambdaFunction(fn, { retryAttempts: 0 })],
        });
      }
      // Grants, not hand-written policies.
      if (spec.access.table === 'readWrite') table.grantReadWriteData(fn);
      if (spec.access.connections === 'readWrite') connectionsTable.grantReadWriteData(fn);
      else if (spec.access.connections === 'read') connectionsTable.grantReadData(fn);
      if (spec.access.pushes) eventsApi.grantManageConnections(fn);
      for (const [id, rights] of Object.entries(spec.access.buckets ?? {}) as [BucketId, readonly string[]][]) {
        const b = buckets[id];
        for (const right of rights) {
          if (right === 'read') b.grantRead(fn);
          else if (right === 'put') b.grantPut(fn);
          else if (right === 'delete') b.grantDelete(fn);
          else b.grantReadWrite(fn);
        }
      }
      for (const q of spec.access.sends ?? []) queues[q].queue.grantSendMessages(fn);
      fns[name] = fn;
    }
    const api = fns.api;

    // The WebSocket routes, all on the one function that declares the websocket trigger: the token in `?token=` is
    // checked by the $connect authoriser; $default answers (two-way) that the channel only sends.
    const socketFns = (Object.keys(FUNCTIONS) as FunctionId[]).filter((n) => 'websocket' in FUNCTIONS[n].trigger).map((n) => fns[n]);
    if (socketFns.length !== 1) throw new Error('exactly one function may take the websocket trigger');
    const [sockets] = socketFns;
    // (Not 'Default': CDK drops a 'Default' path part from logical ids, and the integration's would equal the route's.)
    const socketRoute = (id: string) => new WebSocketLambdaIntegration(`${id}Integration`, sockets);
    eventsApi.addRoute('$connect', {
      integration: socketRoute('Connect'),
      authorizer: new WebSocketLambdaAuthorizer('TokenAuthorizer', sockets, { identitySource: ['route.request.querystring.token'] }),
    });
    eventsApi.addRoute('$disconnect', { integration: socketRoute('Disconnect') });
    eventsApi.addRoute('$default', { integration: socketRoute('Message'), returnResponse: true });

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const rest = new apigw.LambdaRestApi(this, 'RestApi', {
      handler: api,
      proxy: true,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: API.stageName,
        throttlingRateLimit: API.throttleRateLimit,
        throttlingBurstLimit: API.throttleBurstLimit,
        tracingEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      },
      defaultCorsPreflightOptions: { allowOrigins: props.corsOrigins ?? ['*'], allowHeaders: ['authorization', 'content-type'] },
    });

    // The studio: the very build `npm start` serves, from a private bucket behind the delivery distribution (`/` and
    // `/studio/*`); the API URL reaches it as studio/config.json written at deploy time, not baked into the build.
    const studio = new s3.Bucket(this, 'Studio', { ...bucketDefaults, serverAccessLogsPrefix: 'david-studio/' });
    const studioOrigin = origins.S3BucketOrigin.withOriginAccessControl(studio);
    const studioBehavior: cloudfront.AddBehaviorOptions = {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
    };
    distribution.addBehavior('/index.html', studioOrigin, studioBehavior);
    distribution.addBehavior('/studio/*', studioOrigin, studioBehavior);
    const studioConfig: StudioConfig = { api_url: rest.url };
    const site = new s3deploy.BucketDeployment(this, 'StudioSite', {
      sources: [s3deploy.Source.asset(buildStudio(join(STUDIO_ASSET_DIR)).dir), s3deploy.Source.jsonData('studio/config.json', studioConfig)],
      destinationBucket: studio,
      distribution,
      distributionPaths: ['/index.html', '/studio/*'],
      memoryLimit: 256,
    });
    new CfnOutput(this, 'StudioUrl', { value: `https://${distribution.distributionDomainName}/` });

    this.acknowledge(rest, distribution, Object.values(fns), [uploads, processed, indexBucket]);
    this.acknowledgeDeployment(site, studio);
    for (const route of ['$disconnect-Route', '$default-Route']) {
      Validations.of(eventsApi.node.findChild(route)).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'API Gateway authorises a WebSocket once, at $connect (the token authoriser); later routes belong to that connection.',
      });
    }
    const connectionsIndex = this.getLogicalId(connectionsTable.node.defaultChild as dynamodb.CfnGlobalTable);
    const eventsApiId = this.getLogicalId(eventsApi.node.defaultChild as apigwv2.CfnApi);
    for (const fn of [fns.sockets, fns.notify]) {
      Validations.of(fn).acknowledge({ id: `AwsSolutions-IAM5[Resource::<${connectionsIndex}.Arn>/index/*]`, reason: 'The connections table’s by-session index, from a table grant.' });
    }
    const arnHead = `arn:${shown(this.partition, 'Partition')}:execute-api:${shown(this.region, 'Region')}:${shown(this.account, 'AccountId')}`;
    Validations.of(fns.notify).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arnHead}:<${eventsApiId}>/*/*/@connections/*]`,
      reason: 'Posting to any connection of our own WebSocket API (connection ids are only known at run time), from grantManageConnections.',
    });

    new CfnOutput(this, 'ApiUrl', { value: rest.url });
    new CfnOutput(this, 'EventsUrl', { value: eventsStage.url });
    new CfnOutput(this, 'DeliveryDomain', { value: distribution.distributionDomainName });
    new CfnOutput(this, 'UploadsBucket', { value: uploads.bucketName });
    new CfnOutput(this, 'ProcessedBucket', { value: processed.bucketName });
    new CfnOutput(this, 'TableName', { value: table.tableName });
  }

  /** cdk-nag findings on CDK's own BucketDeployment handler (which copies the studio into its bucket). */
  private acknowledgeDeployment(site: s3deploy.BucketDeployment, bucket: s3.Bucket): void {
    // Its handler is a singleton function at the stack's root (its id starts with Custom::CDKBucketDeployment).
    const handlers = this.node.children.filter((c) => c.node.id.startsWith('Custom::CDKBucketDeployment'));
    const scopes = [site, ...handlers];
    const logicalId = this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
    for (const scope of scopes) {
      const ack = (id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
      ack('AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'CDK\'s own deployment handler (logs).');
      ack('AwsSolutions-L1', 'CDK\'s own deployment handler; its runtime is chosen by aws-cdk-lib.');
      for (const action of ['s3:GetBucket*', 's3:GetObject*', 's3:List*', 's3:Abort*', 's3:DeleteObject*']) ack(`AwsSolutions-IAM5[Action::${action}]`, 'The deployment handler reads its asset and replaces the studio bucket’s objects (CDK’s grants).');
      ack(`AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`, 'The studio bucket’s objects, which the deployment replaces.');
      ack('AwsSolutions-IAM5[Resource::*]', 'CloudFront invalidations (CreateInvalidation, GetInvalidation) have no resource-level scope in CDK’s policy.');
      const assets = `arn:${shown(this.partition, 'Partition')}:s3:::cdk-hnb659fds-assets-${shown(this.account, 'AccountId')}-${shown(this.region, 'Region')}/*`;
      ack(`AwsSolutions-IAM5[Resource::${assets}]`, 'The CDK bootstrap assets bucket, where the studio build is staged.');
    }
  }

  /** cdk-nag findings we accept, each with its reason. */
  private acknowledge(rest: apigw.RestApi, distribution: cloudfront.Distribution, fns: lambda.Function[], buckets: s3.Bucket[]): void {
    const ack = (scope: Construct, id: string, reason: string) => Validations.of(scope).acknowledge({ id, reason });
    ack(rest, 'AwsSolutions-APIG2', 'Requests are validated by the api function against the effect declarations, with precise error codes.');
    ack(rest, 'AwsSolutions-APIG4', 'Sessions are authorised by bearer tokens checked in the api function (only token hashes are stored).');
    ack(rest, 'AwsSolutions-APIG3', 'WAF is left to the deployer; the stage is throttled and every route validates its input.');
    ack(rest, 'AwsSolutions-COG4', 'No Cognito: session bearer tokens, see APIG4.');
    ack(rest, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]', 'The AWS-managed role API Gateway uses to write its logs.');
    ack(distribution, 'AwsSolutions-CFR1', 'The service is not geo-restricted.');
    ack(distribution, 'AwsSolutions-CFR2', 'WAF is left to the deployer (costs money per web ACL); objects are unguessable and read-only.');
    ack(distribution, 'AwsSolutions-CFR3', 'CloudFront standard logs need an ACL-enabled bucket; origin access is logged by S3 access logs.');
    ack(distribution, 'AwsSolutions-CFR4', 'The default CloudFront certificate; set a custom domain and certificate to enforce TLS 1.2 at the viewer.');
    for (const fn of fns) {
      ack(fn, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'The AWS-managed basic execution role (logs).');
      ack(fn, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray tracing actions (PutTraceSegments) have no resource-level permissions.');
      // bucket.grant*() scopes object actions to <bucket>/* with the action families S3 needs (e.g. GetObject + GetObjectVersion).
      for (const action of ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']) {
        ack(fn, `AwsSolutions-IAM5[Action::${action}]`, 'Action families generated by bucket grants, scoped to our own buckets.');
      }
      for (const bucket of buckets) {
        const logicalId = this.getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
        ack(fn, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/*]`, 'Objects of one of our buckets, from a bucket grant; keys are checked in code.');
      }
    }
    const notifications = this.node.tryFindChild('BucketNotificationsHandler050a0587b7544547bf325f094a3db834');
    if (notifications) {
      ack(notifications, 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'CDK\'s own handler that configures the S3 notification.');
    }
  }
}
