import { EXTENSIONS, FORMAT_IDS, FORMATS, formatFromExtension, isFormat, type ContainerFormat } from '@david/dsp';
import { UnsupportedMediaError } from '../errors.ts';

/** The upload and output formats are the DSP package's format registry: one table for the API, ingest and the CLI. */
export type OutputFormat = ContainerFormat;
export const OUTPUT_FORMAT_IDS: readonly OutputFormat[] = FORMAT_IDS;
export const SUPPORTED_EXTENSIONS: readonly string[] = EXTENSIONS;

/** The content type an output in this format is stored and delivered under. */
export function contentTypeOf(format: OutputFormat): string {
  return FORMATS[format].contentTypes[0];
}

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

/** The format an upload's name and declared content type agree on, or a 415 naming what is accepted. */
export function checkUploadType(filename: string, contentType: string): ContainerFormat {
  const ext = extensionOf(filename);
  const format = formatFromExtension(ext);
  if (!format) {
    throw new UnsupportedMediaError('Upload::UnsupportedExtension', `files ending in '${ext || '(none)'}' are not accepted; accepted: ${SUPPORTED_EXTENSIONS.join(', ')}`, {
      field: 'filename',
      allowed: SUPPORTED_EXTENSIONS,
    });
  }
  const allowed: readonly string[] = FORMATS[format].contentTypes;
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (!allowed.includes(type)) {
    throw new UnsupportedMediaError('Upload::UnsupportedContentType', `content type '${contentType}' does not match ${ext}; use one of ${allowed.join(', ')}`, {
      field: 'content_type',
      allowed,
    });
  }
  return format;
}

/** The output format used when a job does not name one: the input's own. */
export function defaultOutputFor(inputFormat: string | undefined): OutputFormat {
  return isFormat(inputFormat) ? inputFormat : 'wav';
}
