import middy from '@middy/core';
import httpCors from '@middy/http-cors';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpRouterHandler from '@middy/http-router';
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { AppError, authorize, fingerprintOf, onceByKey, UnauthorizedError, UnsupportedMediaError, ValidationError } from '@david/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { z } from 'zod';
import { routes } from './openapi.ts';
import type { ApiDeps, Route, RouteResult } from './routes.ts';
import { parseWith } from './validate.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
const NO_QUERY = z.strictObject({});

function errorBody(code: string, message: string, details?: Record<string, unknown>) {
  return { error: { code, message, ...(details ? { details } : {}) } };
}

function respond(status: number, body?: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult {
  return {
    statusCode: status,
    headers: { 'content-type': JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: body === undefined ? '' : JSON.stringify(body),
  };
}

function lowerCaseHeaders(h: Record<string, string | undefined> | null): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(h ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

function bearer(headers: Record<string, string | undefined>): string | undefined {
  const m = headers.authorization ? /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization) : null;
  return m?.[1];
}

/** `{session_id}` names of a path template. */
const paramNames = (path: string) => [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);

function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ValidationError('Request::MalformedPath', `the ${name} in the path is not valid percent-encoding`, { field: name, location: 'path' });
  }
}

/** The query as API Gateway gives it; a name given twice is refused rather than one value silently winning. */
function queryOf(event: APIGatewayProxyEvent): Record<string, string> {
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if ((values?.length ?? 0) > 1) throw new ValidationError('Request::DuplicateQuery', `query parameter '${name}' is given ${values!.length} times`, { field: name, location: 'query' });
  }
  return Object.fromEntries(Object.entries(event.queryStringParameters ?? {}).filter((e): e is [string, string] => e[1] !== undefined));
}

const jsonParser = httpJsonBodyParser();

/** The body through middy's JSON parser (415 for another content type, prototype keys refused), then the route's schema. */
async function bodyOf(route: Route, event: APIGatewayProxyEvent, headers: Record<string, string | undefined>): Promise<unknown> {
  const present = event.body !== null && event.body !== undefined && event.body !== '';
  if (!route.body) {
    if (present) throw new ValidationError('Request::UnexpectedBody', `${route.method} ${route.path} takes no request body`, { location: 'body' });
    return undefined;
  }
  if (!present) {
    if (route.bodyOptional) return undefined;
    throw new ValidationError('Request::MissingBody', 'this request needs a JSON body', { location: 'body' });
  }
  const request = { event: { ...event, headers } } as unknown as middy.Request<{ body: unknown }>;
  try {
    await jsonParser.before!(request as never);
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 415) {
      throw new UnsupportedMediaError('Request::UnsupportedMediaType', `send the body as application/json (got ${headers['content-type'] ? `'${headers['content-type']}'` : 'no content type'})`, {
        location: 'body',
        allowed: ['application/json'],
      });
    }
    const forbidden = (err as Error).message === 'Forbidden key in JSON body';
    throw new ValidationError(forbidden ? 'Request::ForbiddenKey' : 'Request::InvalidJson', forbidden ? 'the body uses a reserved key (__proto__ or constructor)' : 'the request body is not valid JSON', { location: 'body' });
  }
  return parseWith(route.body, request.event.body, 'body');
}

function toResponse(result: RouteResult, head: boolean): APIGatewayProxyResult {
  if (result.raw) {
    const cache = result.raw.cacheSeconds ? `public, max-age=${result.raw.cacheSeconds}` : 'no-store';
    return { statusCode: result.status, headers: { 'content-type': result.raw.contentType, 'cache-control': cache }, body: head ? '' : result.raw.text };
  }
  if (result.redirect) {
    const r = respond(result.status, { url: result.redirect }, { location: result.redirect });
    return head ? { ...r, body: '' } : r;
  }
  const r = respond(result.status, result.body);
  return head ? { ...r, body: '' } : r;
}

/** One route as a Lambda-style handler: path, query and body checked by its schemas, auth by its declaration. */
function routeHandler(deps: ApiDeps, route: Route, logger: Logger, head: boolean) {
  const names = paramNames(route.path);
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const headers = lowerCaseHeaders(event.headers);
    const raw = Object.fromEntries(names.map((n) => [n, decodeParam(n, event.pathParameters?.[n] ?? '')]));
    for (const key of ['session_id', 'file_id', 'job_id']) if (raw[key]) logger.appendKeys({ [key]: raw[key] });
    const token = bearer(headers);
    if (route.auth === 'session' && !token) throw new UnauthorizedError();
    const params = route.params ? parseWith(route.params, raw, 'path') : {};
    const query = parseWith(route.query ?? NO_QUERY, queryOf(event), 'query');
    const body = await bodyOf(route, event, headers);
    const sessionId = (params as { session_id?: string }).session_id ?? (body as { session_id?: string } | undefined)?.session_id;
    const session = route.auth === 'session' ? await authorize(deps, sessionId ?? '', token, { resumeDeletion: route.resumesDeletion }) : undefined;
    const call = () => route.handler(deps, { params, query, body, headers, session: session! });
    const key = headers['idempotency-key'];
    if (key !== undefined && !route.idempotent) {
      throw new ValidationError('Request::UnexpectedHeader', `${route.method} ${route.path} takes no Idempotency-Key (it is safe to repeat, or not repeatable)`, { field: 'idempotency-key', location: 'header' });
    }
    const result = key !== undefined ? await onceByKey(deps, session!, key, fingerprintOf(route.method, event.path, body), call) : await call();
    logger.info('request handled', { method: event.httpMethod, path: event.path, status: result.status });
    return toResponse(result, head);
  };
}

/** A wrong method on a known path is 405 with Allow; anything else 404. The most literal template wins. */
function notFound({ method, path }: { method: string; path: string }): never {
  const segs = path.replace(/\/+$/, '').split('/').filter(Boolean);
  let best = -1;
  let allowed: string[] = [];
  for (const r of routes) {
    const pat = r.path.split('/').filter(Boolean);
    if (pat.length !== segs.length) continue;
    let literal = 0;
    const fits = pat.every((p, i) => (p.startsWith('{') ? true : p === segs[i] && ++literal > 0));
    if (!fits || literal < best) continue;
    if (literal > best) [best, allowed] = [literal, []];
    allowed.push(r.method, ...(r.method === 'GET' ? ['HEAD'] : []));
  }
  if (allowed.length > 0) {
    throw new AppError(405, 'Route::MethodNotAllowed', `${method} is not allowed here; use ${allowed.join(', ')}`, { allowed });
  }
  throw new AppError(404, 'Route::NotFound', `no route ${method} ${path}`);
}

/** Our error envelope for every failure: exposed codes below 500, a bare `Internal::Error` otherwise. */
function errorEnvelope(logger: Logger): middy.MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      const err = request.error;
      if (err instanceof AppError && err.status === 405) {
        request.response = respond(405, errorBody(err.code, err.message, err.details), { allow: (err.details!.allowed as string[]).join(', ') });
      } else if (err instanceof AppError && err.expose) {
        logger.info('request rejected', { code: err.code, status: err.status });
        request.response = respond(err.status, errorBody(err.code, err.message, err.details));
      } else if (err instanceof AppError) {
        logger.warn('request failed', { code: err.code, error: err });
        request.response = respond(err.status, errorBody(err.code, err.message), { 'retry-after': '1' });
      } else {
        logger.error('unhandled error', err as Error);
        request.response = respond(500, errorBody('Internal::Error', 'internal error'));
      }
      if (request.event.httpMethod === 'HEAD') request.response = { ...request.response, body: '' };
      logger.removeKeys(['session_id', 'file_id', 'job_id']);
    },
    after: async () => {
      logger.removeKeys(['session_id', 'file_id', 'job_id']);
    },
  };
}

/** The API function: middy's router and CORS around our route table, our error envelope, Powertools' logger context. */
export function createApiHandler(deps: ApiDeps, logger: Logger) {
  const table = routes.flatMap((r) => [
    { method: r.method, path: r.path, handler: routeHandler(deps, r, logger, false) },
    ...(r.method === 'GET' ? [{ method: 'HEAD' as const, path: r.path, handler: routeHandler(deps, r, logger, true) }] : []),
  ]);
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult, Error, Context>()
    .use(injectLambdaContext(logger))
    .use(
      httpCors({
        origin: '*',
        headers: 'authorization,content-type,idempotency-key,x-operator-key',
        methods: 'GET,HEAD,POST,DELETE,OPTIONS',
        requestMethods: ['GET', 'HEAD', 'POST', 'DELETE'],
      }),
    )
    .use(errorEnvelope(logger))
    .handler(httpRouterHandler({ routes: table, notFoundResponse: notFound }) as never);
}
