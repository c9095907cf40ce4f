import { ValidationError, UnsupportedMediaError } from '../errors.ts';

/** Upload formats we accept: extension → allowed content types. One list; health and validation derive from it. */
export const UPLOAD_FORMATS = {
  '.wav': ['audio/wav', 'audio/x-wav', 'audio/wave', 'audio/vnd.wave'],
  '.mp3': ['audio/mpeg', 'audio/mp3'],
  '.flac': ['audio/flac', 'audio/x-flac'],
  '.ogg': ['audio/ogg', 'application/ogg'],
  '.opus': ['audio/opus', 'audio/ogg'],
  '.m4a': ['audio/mp4', 'audio/x-m4a', 'audio/m4a'],
  '.aac': ['audio/aac', 'audio/x-aac'],
} as const satisfies Record<string, readonly string[]>;

export type UploadExtension = keyof typeof UPLOAD_FORMATS;
export const SUPPORTED_EXTENSIONS = Object.keys(UPLOAD_FORMATS) as UploadExtension[];

/** Output formats a job may ask for, with the content type the result is stored under. */
export const OUTPUT_FORMATS = {
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
} as const;
export type OutputFormat = keyof typeof OUTPUT_FORMATS;

export function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot).toLowerCase();
}

/**
 * A name safe to put in an S3 key and a Content-Disposition: path parts dropped, anything outside
 * [A-Za-z0-9._-] replaced, bounded length, extension kept.
 */
export function safeFilename(filename: string): string {
  const base = filename.split(/[\\/]/).pop() ?? '';
  const ext = extensionOf(base);
  const stem = base
    .slice(0, base.length - ext.length)
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return `${stem.slice(0, 100) || 'audio'}${ext}`;
}

export function checkUploadType(filename: string, contentType: string): UploadExtension {
  const ext = extensionOf(filename);
  if (!(ext in UPLOAD_FORMATS)) {
    throw new UnsupportedMediaError('Upload::UnsupportedExtension', `files ending in '${ext || '(none)'}' are not accepted`, {
      field: 'filename',
      allowed: SUPPORTED_EXTENSIONS,
    });
  }
  const allowed: readonly string[] = UPLOAD_FORMATS[ext as UploadExtension];
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (!allowed.includes(type)) {
    throw new UnsupportedMediaError('Upload::UnsupportedContentType', `content type '${contentType}' does not match ${ext}`, {
      field: 'content_type',
      allowed,
    });
  }
  return ext as UploadExtension;
}

export function checkOutputFormat(format: unknown, fallback: OutputFormat): OutputFormat {
  if (format === undefined || format === null) return fallback;
  if (typeof format !== 'string' || !(format in OUTPUT_FORMATS)) {
    throw new ValidationError('Job::InvalidOutputFormat', `output_format must be one of ${Object.keys(OUTPUT_FORMATS).join(', ')}`, {
      field: 'output_format',
      allowed: Object.keys(OUTPUT_FORMATS),
    });
  }
  return format as OutputFormat;
}

/** The output format used when a job does not name one: the input's own, where we can write it. */
export function defaultOutputFor(inputFormat: string | undefined): OutputFormat {
  if (inputFormat && inputFormat in OUTPUT_FORMATS) return inputFormat as OutputFormat;
  if (inputFormat === 'aac') return 'm4a';
  return 'wav';
}
