/**
 * Every failure the DSP package reports carries a stable, namespaced code (`Area::Reason`).
 * Callers map errors by class/code, never by message text.
 */
export class DspError extends Error {
  constructor(
    public readonly code: string,
    message: string,
    public readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DspError';
  }
}

/** A parameter or chain that does not match an effect declaration (HTTP 400). */
export class InvalidParameterError extends DspError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'InvalidParameterError';
  }
}

/** Input bytes that are not audio we can read, or audio that lies about itself (HTTP 415/422). */
export class InvalidMediaError extends DspError {
  constructor(code: string, message: string, details?: Record<string, unknown>, options?: { cause?: unknown }) {
    super(code, message, details, options);
    this.name = 'InvalidMediaError';
  }
}

/** Input that is valid but beyond our limits (duration bomb, too many channels...) (HTTP 413/422). */
export class LimitExceededError extends DspError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'LimitExceededError';
  }
}
