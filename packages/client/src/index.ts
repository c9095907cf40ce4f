/**
 * A typed client for the David API, generated from its OpenAPI document (openapi-typescript types +
 * openapi-fetch), so a request or response that drifts from the server fails to compile.
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

export type { components, paths };
export type DavidClient = Client<paths>;
export type ApiError = components['schemas']['Error']['error'];
export type JobView = components['schemas']['Job'];
export type FileView = components['schemas']['File'];

/** A client for one API base URL; with a token, every request carries `Authorization: Bearer <token>`. */
export function createDavidClient(baseUrl: string, token?: string): DavidClient {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
}

/** An API error as a thrown value, with its stable code. */
export class DavidApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DavidApiError';
  }
}

/** The data of a response, or a DavidApiError with the server's code and message. */
export function unwrap<T>(r: { data?: T; error?: unknown; response: Response }): T {
  if (r.error !== undefined || !r.response.ok) {
    const e = (r.error as { error?: ApiError } | undefined)?.error;
    throw new DavidApiError(r.response.status, e?.code ?? `Http::${r.response.status}`, e?.message ?? r.response.statusText, e?.details);
  }
  return r.data as T;
}
