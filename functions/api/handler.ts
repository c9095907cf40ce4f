import { DynamoIdempotencyStore, ENV, FileIndexQueries } from '@david/core';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';
import { createApiHandler } from './app.ts';

const logger = createLogger('api');
const base = buildDeps(process.env);
const deps = {
  ...base,
  fileIndex: new FileIndexQueries(base.indexPorts),
  idempotency: new DynamoIdempotencyStore(DynamoDBDocumentClient.from(base.ddb, { marshallOptions: { removeUndefinedValues: true } }), process.env[ENV.tableName]!),
  operatorKeySha256: process.env[ENV.operatorKeySha256],
};

export const handler = createApiHandler(deps, logger);
