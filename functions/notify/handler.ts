import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { deliverLiveEvent, parseLiveEvent, type LiveDeps } from '@david/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('notify');
const base = buildDeps(process.env);
if (!base.connections || !base.push) throw new Error('notify needs CONNECTIONS_TABLE and CONNECTIONS_ENDPOINT');
const deps: LiveDeps = {
  ...base,
  connections: base.connections,
  push: base.push,
  ...(base.webhookQueue ? { webhooks: { sessions: base.sessions, queue: base.webhookQueue } } : {}),
};

/**
 * Priming, in the init phase (which a provisioned environment runs before its first event): a query and a post to a
 * connection that does not exist open the SDK clients' connections, so the first push does not pay for them.
 * Bounded, and never fatal.
 */
await Promise.race([
  Promise.allSettled([deps.connections.listBySession(`ses_${'0'.repeat(32)}`), deps.push.send('priming', '{}')]),
  new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
]);

/**
 * State changes to the WebSocket connections of their session, and snapshots to new connections. The queue is
 * FIFO (a group per session): records are handled in order, and from the first that fails on, the rest of the
 * batch is reported failed, so a session's messages never overtake each other. A poison record is logged and let go.
 */
export const lambdaHandler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  for (const [i, r] of event.Records.entries()) {
    const e = parseLiveEvent(r.body);
    if (!e) {
      logger.error('poison event set aside', { messageId: r.messageId, body: r.body.slice(0, 2000) });
      continue;
    }
    try {
      await deliverLiveEvent(deps, e);
    } catch (err) {
      logger.error('event delivery failed; it will be retried in order', err as Error);
      return { batchItemFailures: event.Records.slice(i).map((x) => ({ itemIdentifier: x.messageId })) };
    }
  }
  return { batchItemFailures: [] };
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
