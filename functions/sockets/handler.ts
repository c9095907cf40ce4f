import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AppError, authorizeToken, openConnection } from '@david/core';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';

const logger = createLogger('sockets');
const deps = buildDeps(process.env);
if (!deps.connections || !deps.events) throw new Error('sockets needs CONNECTIONS_TABLE and EVENTS_QUEUE_URL');
const { connections, events } = deps;

/** A WebSocket route event (API Gateway's, or the local gateway's in the same shape). */
interface RouteEvent {
  readonly requestContext: {
    readonly routeKey: string;
    readonly connectionId: string;
    readonly authorizer?: { readonly session_id?: string } | null;
  };
  readonly body?: string | null;
}

const isAuthorizerEvent = (e: unknown): e is APIGatewayRequestAuthorizerEvent => (e as { type?: string }).type === 'REQUEST' && typeof (e as { methodArn?: unknown }).methodArn === 'string';

const policy = (effect: 'Allow' | 'Deny', resource: string, sessionId?: string): APIGatewayAuthorizerResult => ({
  principalId: sessionId ?? 'anonymous',
  policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }] },
  ...(sessionId ? { context: { session_id: sessionId } } : {}),
});

/**
 * The $connect authoriser: the session the `?token=` opens (the same rules as the REST API's bearer token). A
 * missing token is refused by API Gateway itself (401); a wrong, foreign or expired one here (403).
 */
async function authorizeConnect(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  try {
    const session = await authorizeToken(deps, event.queryStringParameters?.token ?? undefined);
    return policy('Allow', event.methodArn, session.session_id);
  } catch (err) {
    if (err instanceof AppError && err.status < 500) {
      logger.info('connection refused', { code: err.code });
      return policy('Deny', event.methodArn);
    }
    throw err;
  }
}

/** $connect (remember it, ask for its snapshot), $disconnect (forget it), $default (the channel only sends). */
async function route(event: RouteEvent): Promise<{ statusCode: number; body?: string }> {
  const { routeKey, connectionId } = event.requestContext;
  if (routeKey === '$connect') {
    const sessionId = event.requestContext.authorizer?.session_id;
    if (!sessionId) return { statusCode: 403 };
    await openConnection({ sessions: deps.sessions, connections, events, clock: deps.clock }, { connection_id: connectionId, session_id: sessionId });
    return { statusCode: 200 };
  }
  if (routeKey === '$disconnect') {
    await connections.delete(connectionId);
    return { statusCode: 200 };
  }
  // Nothing a client sends is ignored in silence: it is told that this channel does not take messages.
  return {
    statusCode: 400,
    body: JSON.stringify({ type: 'error', error: { code: 'Events::PushOnly', message: 'this channel only sends; act through the REST API (nothing sent here is read)' } }),
  };
}

export const lambdaHandler = async (event: APIGatewayRequestAuthorizerEvent | RouteEvent) => (isAuthorizerEvent(event) ? authorizeConnect(event) : route(event as RouteEvent));

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
