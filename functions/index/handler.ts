import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { createIndexWriter, parseIndexChange, type IndexChange } from '@david/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('index');
const deps = buildDeps(process.env);
const applyChanges = createIndexWriter(deps.indexPorts);

/**
 * The single writer of the file index (FIFO queue, one message group, reserved concurrency 1). A batch is one
 * committed version; if it cannot be committed every record is reported failed, so FIFO order is kept on retry.
 * A poison message (not a change, so no retry can help) is set aside at once — logged with its body and let go —
 * and the changes around it still apply, instead of stalling every listing update until it reaches the DLQ.
 */
export const lambdaHandler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  const changes: IndexChange[] = [];
  for (const r of event.Records) {
    const change = parseIndexChange(r.body);
    if (change) changes.push(change);
    else logger.error('poison index message set aside', { messageId: r.messageId, body: r.body.slice(0, 2000) });
  }
  if (changes.length === 0) return { batchItemFailures: [] };
  try {
    const result = await applyChanges(changes);
    logger.info('index committed', { changes: changes.length, ...result });
    return { batchItemFailures: [] };
  } catch (err) {
    logger.error('index batch failed; it will be retried in order', err as Error);
    return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
