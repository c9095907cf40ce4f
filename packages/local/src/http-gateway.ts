import { GetObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { DELIVERY, FUNCTIONS, VISUAL_NAMES, VISUALS, type FunctionSpec } from '@david/core';
import { FORMAT_IDS, FORMATS } from '@david/dsp';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { StudioConfig } from '@david/studio';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { keepIdleConnections } from './keep-alive.ts';
import { invoke, type Handler } from './lambda-runtime.ts';

/** The content types outputs and their pictures are stored under (one per format in the registry, one per visual). */
const OUTPUT_TYPES: ReadonlySet<string> = new Set([...FORMAT_IDS.map((f) => FORMATS[f].contentTypes[0]), ...VISUAL_NAMES.map((n) => VISUALS[n].contentType)]);

/** API Gateway's payload limit. */
const MAX_BODY = 10 * 1024 * 1024;

/** Past this much of an over-size body, the connection is closed instead of read to its end. */
const MAX_DRAIN = 64 * 1024 * 1024;

/**
 * The body, or 'too-large'. An over-size body is still read to its end (and dropped), so the 413 goes out on a
 * connection that stays usable for the next keep-alive request; only a body beyond MAX_DRAIN closes it.
 */
async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'abusive'> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_DRAIN) return 'abusive';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAIN) return 'abusive';
    if (size <= MAX_BODY) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY ? 'too-large' : Buffer.concat(chunks);
}

/** The REST API proxy event API Gateway builds for `/{proxy+}`. */
export function toProxyEvent(req: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    const values = Array.isArray(v) ? v : [v];
    headers[k] = values[values.length - 1];
    multiValueHeaders[k] = values;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const isText = body.length === 0 || /json|text|xml|form-urlencoded/.test(headers['content-type'] ?? 'application/json');
  return {
    resource: '/{proxy+}',
    path: url.pathname,
    httpMethod: (req.method ?? 'GET').toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: url.searchParams.size > 0 ? query : null,
    multiValueQueryStringParameters: url.searchParams.size > 0 ? multiQuery : null,
    pathParameters: { proxy: url.pathname.replace(/^\//, '') },
    stageVariables: null,
    body: body.length === 0 ? null : isText ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !isText,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: (req.method ?? 'GET').toUpperCase(),
      identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? null } as never,
      path: url.pathname,
      stage: 'local',
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: 'local',
      resourcePath: '/{proxy+}',
    },
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** The studio's files, by the path the page asks for (`/` is its index.html). */
const STUDIO_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json', '.json': 'application/json' };

/** The studio on the API port: `/`, and `/studio/*` from its build (the distribution serves the same in the cloud). */
async function serveStudio(req: IncomingMessage, res: ServerResponse, studio: { dir: string; config: StudioConfig }): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (path !== '/' && !path.startsWith('/studio/')) return false;
  if (path === '/studio/config.json') {
    send(res, 200, JSON.stringify(studio.config), { 'cache-control': 'no-store' });
    return true;
  }
  const rel = path === '/' ? 'index.html' : path.slice(1);
  if (rel.includes('..') || !STUDIO_TYPES[extname(rel)]) return false;
  try {
    const body = await readFile(join(studio.dir, rel));
    res.writeHead(200, { 'content-type': STUDIO_TYPES[extname(rel)], 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  } catch {
    return false;
  }
}

/** API Gateway stand-in: every request becomes a proxy event for the api function (and `/` is the studio). */
export async function startApiGateway(
  handler: Handler<APIGatewayProxyEvent, APIGatewayProxyResult>,
  port: number,
  host: string,
  fn: FunctionSpec = FUNCTIONS.api,
  studio?: { dir: string; config: StudioConfig },
): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    try {
      if (studio && (await serveStudio(req, res, studio))) return;
      const body = await readBody(req);
      if (body === 'too-large' || body === 'abusive') {
        const payload = JSON.stringify({ error: { code: 'Request::TooLarge', message: 'the request body is over 10 MiB' } });
        return send(res, 413, payload, body === 'abusive' ? { connection: 'close' } : {});
      }
      const result = await invoke('david-api', fn, handler, toProxyEvent(req, body));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } catch (err) {
      send(res, 502, JSON.stringify({ error: { code: 'Gateway::BadGateway', message: (err as Error).message } }));
    }
  });
  return { server, port: await listen(server, port, host) };
}

/**
 * CloudFront stand-in over the processed bucket: GET/HEAD of `processed/...` keys with Range support,
 * reading through the S3 API like the distribution's origin does.
 */
export async function startDelivery(s3: S3Client, bucket: string, prefixes: readonly string[], port: number, host: string): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    const method = req.method ?? 'GET';
    if (method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'range', 'access-control-allow-methods': 'GET,HEAD' });
      return res.end();
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, JSON.stringify({ error: { code: 'Delivery::MethodNotAllowed', message: 'GET or HEAD only' } }), { allow: 'GET, HEAD' });
    const key = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname.replace(/^\/+/, ''));
    if (!prefixes.some((p) => key.startsWith(p)) || key.includes('..')) return send(res, 404, JSON.stringify({ error: { code: 'Delivery::NotFound', message: 'no such object' } }));
    try {
      const range = req.headers.range;
      const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(range ? { Range: range } : {}) }));
      // Only what our workers write is served: an object of another type (the emulator accepts unsigned writes)
      // could be a page that runs in this origin.
      if (!OUTPUT_TYPES.has((obj.ContentType ?? '').split(';')[0].trim().toLowerCase())) {
        (obj.Body as Readable).destroy();
        return send(res, 404, JSON.stringify({ error: { code: 'Delivery::NotFound', message: 'no such object' } }), { 'x-content-type-options': 'nosniff' });
      }
      const headers: Record<string, string> = {
        'x-content-type-options': 'nosniff',
        'content-type': obj.ContentType ?? 'application/octet-stream',
        'accept-ranges': 'bytes',
        'access-control-allow-origin': '*',
        'cache-control': `public, max-age=${DELIVERY.cacheSeconds}`,
      };
      if (obj.ContentLength !== undefined) headers['content-length'] = String(obj.ContentLength);
      if (obj.ETag) headers.etag = obj.ETag;
      if (obj.ContentRange) headers['content-range'] = obj.ContentRange;
      res.writeHead(obj.ContentRange ? 206 : 200, headers);
      if (method === 'HEAD') {
        (obj.Body as Readable).destroy();
        return res.end();
      }
      await pipeline(obj.Body as Readable, res);
    } catch (err) {
      if (res.headersSent) return res.destroy();
      const status = err instanceof S3ServiceException ? (err.$metadata.httpStatusCode ?? 500) : 500;
      if (status === 404) return send(res, 404, JSON.stringify({ error: { code: 'Delivery::NotFound', message: 'no such object' } }));
      if (status === 416) return send(res, 416, JSON.stringify({ error: { code: 'Delivery::RangeNotSatisfiable', message: 'invalid range' } }));
      send(res, 502, JSON.stringify({ error: { code: 'Delivery::OriginError', message: (err as Error).message } }));
    }
  });
  return { server, port: await listen(server, port, host) };
}
