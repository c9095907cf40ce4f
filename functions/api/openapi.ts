import { OpenAPIRegistry, OpenApiGeneratorV3 } from '@asteasolutions/zod-to-openapi';
import { FUNCTIONS } from '@david/core';
import { VERSION } from '@david/dsp';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { apiRoutes, type Route } from './routes.ts';
import { EffectParameterSchemas, ErrorBody } from './schemas.ts';

/** What each error status means here; every operation lists the ones it can answer. */
const ERROR_STATUS: Record<number, string> = {
  400: 'invalid input: `Request::UnknownField` (with the closest known field), `Request::MissingField`, `Request::InvalidField`, `Request::InvalidJson`, `Request::MalformedPath`, `Effect::*`, `Job::*`',
  401: '`Auth::MissingToken`: no `Authorization: Bearer <access_token>`',
  403: "`Auth::Forbidden`: another session's token; `Admin::Disabled` / `Admin::Forbidden` for the operator routes",
  404: '`Session::NotFound`, `File::NotFound`, `Job::NotFound` (also for ids of another session)',
  409: '`File::NotReady`: the file is still pending',
  413: '`Request::TooLarge` (body over 10 MiB) or `Upload::TooLarge` (the declared size is over the limit)',
  415: '`Request::UnsupportedMediaType` (a JSON route given another content type), `Upload::UnsupportedExtension`, `Upload::UnsupportedContentType`',
  422: '`File::Rejected`: the file was not accepted as audio',
  503: 'a dependency is unavailable; retry (see Retry-After)',
};

/** The error statuses an operation can answer: its own plus the ones its kind always has. */
export function errorStatuses(r: Route): number[] {
  const s = new Set<number>(r.errors ?? []);
  if (r.params || r.query || r.body) s.add(400);
  if (r.body) [413, 415].forEach((x) => s.add(x));
  if (r.auth === 'session') [401, 403, 404].forEach((x) => s.add(x));
  if (r.auth === 'operator') s.add(403);
  if (r.auth !== 'none') s.add(503);
  return [...s].sort((a, b) => a - b);
}

// ------------------------------------------------------------- the API's own documentation routes

const ASSETS = FUNCTIONS.api.bundleFiles;

/** swagger-ui-dist's files: next to the bundle in Lambda (copied at bundling), else from node_modules. */
function swaggerAsset(name: string): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, ASSETS.into, name)];
  try {
    candidates.push(join(dirname(createRequire(import.meta.url).resolve(`${ASSETS.package}/package.json`)), name));
  } catch {
    // not installed here: only the copied assets can be used
  }
  for (const c of candidates) {
    try {
      return readFileSync(c, 'utf8');
    } catch {
      // next candidate
    }
  }
  throw new Error(`swagger-ui asset ${name} not found`);
}

export const DOC_ASSETS = ASSETS.files;

// Relative URLs, so the page works under an API Gateway stage prefix too.
const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>David API</title><link rel="stylesheet" href="docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: 'openapi.json', dom_id: '#ui', deepLinking: true });</script></body></html>`;

let document: object | undefined;

const docRoutes: Route[] = [
  {
    method: 'GET',
    path: '/openapi.json',
    operationId: 'getOpenApi',
    summary: 'This document (OpenAPI 3.0), generated from the route schemas',
    auth: 'none',
    response: { status: 200, description: 'the OpenAPI document', schema: z.record(z.string(), z.unknown()) },
    handler: async () => ({ status: 200, body: openApiDocument() }),
  },
  {
    method: 'GET',
    path: '/docs',
    operationId: 'getDocs',
    summary: 'The API reference (Swagger UI, served from our own assets)',
    auth: 'none',
    response: { status: 200, description: 'an HTML page', contentType: 'text/html' },
    handler: async () => ({ status: 200, raw: { text: DOCS_HTML, contentType: 'text/html; charset=utf-8' } }),
  },
  {
    method: 'GET',
    path: '/docs/{asset}',
    operationId: 'getDocsAsset',
    summary: "The reference page's script and style sheet",
    auth: 'none',
    params: z.strictObject({ asset: z.enum(DOC_ASSETS as unknown as [string, ...string[]]) }),
    response: { status: 200, description: 'a static file', contentType: 'text/plain' },
    handler: async (_d, r) => {
      const name = (r.params as { asset: string }).asset;
      const type = name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
      return { status: 200, raw: { text: swaggerAsset(name), contentType: type, cacheSeconds: 86400 } };
    },
  },
];

/** Every route the API answers: the table the router, the document and the auth test all read. */
export const routes: Route[] = [...apiRoutes, ...docRoutes];

/** The OpenAPI 3.0 document, generated from the route table and its schemas (never written by hand). */
export function openApiDocument(): object {
  if (document) return document;
  const registry = new OpenAPIRegistry();
  registry.register('Error', ErrorBody);
  for (const [id, schema] of Object.entries(EffectParameterSchemas)) registry.register(`EffectParameters.${id}`, schema);
  const bearer = registry.registerComponent('securitySchemes', 'sessionToken', { type: 'http', scheme: 'bearer', description: 'the access_token of the session' });
  const operator = registry.registerComponent('securitySchemes', 'operatorKey', { type: 'apiKey', in: 'header', name: 'x-operator-key' });
  for (const r of routes) {
    const responses: Record<string, object> = {
      [r.response.status]: {
        description: r.response.description,
        ...(r.response.schema ? { content: { 'application/json': { schema: r.response.schema } } } : {}),
        ...(r.response.contentType ? { content: { [r.response.contentType]: { schema: { type: 'string' } } } } : {}),
        ...(r.response.redirectsTo
          ? { headers: { Location: { description: `where the object (${r.response.redirectsTo}) is delivered`, schema: { type: 'string' } } } }
          : {}),
      },
    };
    for (const status of errorStatuses(r)) {
      responses[status] = { description: ERROR_STATUS[status], content: { 'application/json': { schema: ErrorBody } } };
    }
    registry.registerPath({
      method: r.method.toLowerCase() as 'get' | 'post' | 'delete',
      path: r.path,
      operationId: r.operationId,
      summary: r.summary,
      ...(r.auth === 'session' ? { security: [{ [bearer.name]: [] }] } : r.auth === 'operator' ? { security: [{ [operator.name]: [] }] } : {}),
      request: {
        ...(r.idempotent
          ? { headers: z.object({ 'idempotency-key': z.string().min(1).max(128).optional().openapi({ description: 'repeat the request safely: the same key and request return the first answer; another request under the key is a 422' }) }) }
          : {}),
        ...(r.params ? { params: r.params as z.ZodObject } : {}),
        ...(r.query ? { query: r.query as z.ZodObject } : {}),
        ...(r.body ? { body: { required: !r.bodyOptional, content: { 'application/json': { schema: r.body } } } } : {}),
      },
      responses,
    });
  }
  document = new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'David API',
      version: VERSION,
      description:
        'Sessions, presigned uploads, effect jobs and the file index. Every input is checked against these schemas: unknown fields are refused with `Request::UnknownField` and a suggestion. Errors are `{ error: { code, message, details? } }`. Every GET also answers HEAD.',
    },
  });
  return document;
}
