import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { deliverWebhook, parseWebhookDelivery } from '@david/core';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('webhook');
const base = buildDeps(process.env);
if (!base.webhookQueue) throw new Error('webhook needs WEBHOOKS_QUEUE_URL');
const deps = { sessions: base.sessions, sender: base.webhookSender, queue: base.webhookQueue, clock: base.clock };
const processor = new BatchProcessor(EventType.SQS);

/** One attempt per record; a failed attempt queues the next one (delayed) and lets this record go. */
async function recordHandler(record: SQSRecord): Promise<void> {
  const delivery = parseWebhookDelivery(record.body);
  if (!delivery) {
    logger.error('poison webhook message set aside', { messageId: record.messageId, body: record.body.slice(0, 2000) });
    return;
  }
  const result = await deliverWebhook(deps, delivery);
  const keys = { session_id: delivery.session_id, delivery_id: delivery.delivery_id, event: delivery.type, attempt: delivery.attempt };
  if (result.outcome === 'delivered') logger.info('webhook delivered', { ...keys, status: result.status });
  else if (result.outcome === 'retrying') logger.warn('webhook failed; it will be tried again', { ...keys, ...result });
  else logger.warn('webhook given up', { ...keys, reason: result.reason });
}

export const lambdaHandler = async (event: SQSEvent, context: Context) => processPartialResponse(event, recordHandler, processor, { context });

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
