import { DspError } from '@david/dsp';

/**
 * One base error with a stable namespaced code (`Area::Reason`) and an HTTP status. Responses are
 * mapped by class/status, never by message text. Only errors below 500 are shown to callers.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
  get expose(): boolean {
    return this.status < 500;
  }
}

export class ValidationError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(400, code, message, details, options);
    this.name = 'ValidationError';
  }
}
export class UnauthorizedError extends AppError {
  constructor(message = 'missing or malformed Authorization: Bearer <access_token>') {
    super(401, 'Auth::MissingToken', message);
    this.name = 'UnauthorizedError';
  }
}
export class ForbiddenError extends AppError {
  constructor(code = 'Auth::Forbidden', message = 'this token does not grant access to that resource') {
    super(403, code, message);
    this.name = 'ForbiddenError';
  }
}
export class NotFoundError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(404, code, message, details);
    this.name = 'NotFoundError';
  }
}
export class ConflictError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(409, code, message, details);
    this.name = 'ConflictError';
  }
}
export class PayloadTooLargeError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(413, code, message, details);
    this.name = 'PayloadTooLargeError';
  }
}
export class UnsupportedMediaError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(415, code, message, details);
    this.name = 'UnsupportedMediaError';
  }
}
export class UnprocessableError extends AppError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(422, code, message, details);
    this.name = 'UnprocessableError';
  }
}
/** A failure worth retrying (network, throttling, a dependency down). Workers rethrow these so SQS redelivers. */
export class TransientError extends AppError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(503, code, message, undefined, options);
    this.name = 'TransientError';
  }
}

/** DSP failures of the machine rather than of the input: a timeout under load, ffmpeg missing or not starting. */
const TRANSIENT_DSP_CODES = new Set(['Codec::Timeout', 'Codec::FfmpegFailed', 'Codec::FfmpegNotFound', 'Codec::FfmpegPathUnusable']);

/**
 * Whether retrying can help. Permanent: a bad request or bad media (an AppError below 500, a DSP error about the
 * input), or an input too big for the scratch space (ENOSPC, EFBIG: it fails the same way every time). Transient:
 * everything else — network, throttling, AWS 5xx, ffmpeg timing out or failing to start.
 */
export function isPermanentFailure(err: unknown): boolean {
  if (err instanceof AppError) return err.status < 500;
  if (err instanceof DspError) return !TRANSIENT_DSP_CODES.has(err.code);
  const code = (err as { code?: unknown })?.code;
  return code === 'ENOSPC' || code === 'EFBIG';
}

/** The `{ code, message }` a permanent failure is recorded with. */
export function failureInfo(err: unknown): { code: string; message: string } {
  if (err instanceof AppError || err instanceof DspError) return { code: err.code, message: err.message };
  const code = (err as { code?: unknown })?.code;
  if (code === 'ENOSPC' || code === 'EFBIG') return { code: 'Storage::NoSpace', message: 'the file does not fit in the worker’s scratch space' };
  return { code: 'Internal::Error', message: (err as Error)?.message ?? String(err) };
}
