import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DavidStack } from '../stacks/david-stack.ts';

/** The CDK app: one stack, settings from packages/core/src/resources.ts, cdk-nag's AWS Solutions checks on. */
const app = new App();
new DavidStack(app, 'David', {
  corsOrigins: (app.node.tryGetContext('corsOrigins') as string | undefined)?.split(',') ?? ['*'],
  operatorKeySha256: app.node.tryGetContext('operatorKeySha256') as string | undefined,
  retainData: app.node.tryGetContext('retainData') !== 'false',
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
