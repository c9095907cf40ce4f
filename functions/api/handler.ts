import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AppError, ENV, FileIndexQueries } from '@david/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { buildDeps } from '../shared/deps.ts';
import { createLogger } from '../shared/logger.ts';
import { matchRoute } from './routes.ts';

const logger = createLogger('api');
const base = buildDeps(process.env);
const deps = { ...base, fileIndex: new FileIndexQueries(base.indexPorts), operatorKeySha256: process.env[ENV.operatorKeySha256] };

const HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'authorization,content-type,x-operator-key',
  'access-control-allow-methods': 'GET,POST,DELETE,OPTIONS',
  'cache-control': 'no-store',
};

function respond(status: number, body?: unknown, extra: Record<string, string> = {}): APIGatewayProxyResult {
  return { statusCode: status, headers: { ...HEADERS, ...extra }, body: body === undefined ? '' : JSON.stringify(body) };
}

function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

function parseBody(event: APIGatewayProxyEvent): unknown {
  if (!event.body) return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError(400, 'Request::InvalidJson', 'the request body is not valid JSON');
  }
}

function bearer(headers: Record<string, string | undefined>): string | undefined {
  const h = Object.entries(headers).find(([k]) => k.toLowerCase() === 'authorization')?.[1];
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

export const lambdaHandler = async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  if (event.httpMethod === 'OPTIONS') return respond(204);
  const match = matchRoute(event.httpMethod, event.path);
  if (!match) return respond(404, errorBody('Route::NotFound', `no route ${event.httpMethod} ${event.path}`));
  if ('allowed' in match) {
    return respond(405, errorBody('Route::MethodNotAllowed', `${event.httpMethod} is not allowed here`, { allowed: match.allowed }), {
      allow: match.allowed.join(', '),
    });
  }
  if (match.params.session_id) logger.appendKeys({ session_id: match.params.session_id });
  if (match.params.file_id) logger.appendKeys({ file_id: match.params.file_id });
  if (match.params.job_id) logger.appendKeys({ job_id: match.params.job_id });
  try {
    const headers = event.headers ?? {};
    const result = await match.route.handler(deps, {
      params: match.params,
      query: event.queryStringParameters ?? {},
      body: parseBody(event),
      token: bearer(headers),
      headers,
    });
    logger.info('request handled', { method: event.httpMethod, path: event.path, status: result.status });
    return respond(result.status, result.body);
  } catch (err) {
    if (err instanceof AppError && err.expose) {
      logger.info('request rejected', { code: err.code, status: err.status });
      return respond(err.status, errorBody(err.code, err.message, err.details));
    }
    if (err instanceof AppError) {
      logger.warn('request failed', { code: err.code, error: err as Error });
      return respond(err.status, errorBody(err.code, err.message), { 'retry-after': '1' });
    }
    logger.error('unhandled error', err as Error);
    return respond(500, errorBody('Internal::Error', 'internal error'));
  } finally {
    logger.removeKeys(['session_id', 'file_id', 'job_id']);
  }
};

export const handler = middy(lambdaHandler).use(injectLambdaContext(logger));
