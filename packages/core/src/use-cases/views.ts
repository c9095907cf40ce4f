import { fileHasVisuals, jobHasVisuals, visualLinks } from '../domain/visuals.ts';
import type { FileRecord, Job } from '../domain/types.ts';

/** The API's snake_case view of a file record (internal fields like the object key stay inside). */
export function fileView(f: FileRecord) {
  return {
    file_id: f.file_id,
    filename: f.filename,
    status: f.status,
    content_type: f.content_type,
    size: f.size ?? f.declared_size,
    created_at: f.created_at,
    ...(f.uploaded_at ? { uploaded_at: f.uploaded_at } : {}),
    ...(f.media ? { ...f.media } : {}),
    ...(f.analysis ? { analysis: f.analysis } : {}),
    ...(f.analysis_error ? { analysis_error: f.analysis_error } : {}),
    ...(f.rejection ? { rejection: f.rejection } : {}),
    ...(f.overwritten ? { overwritten_at: f.overwritten.at } : {}),
    ...(f.progress && f.status === 'pending' ? { progress: f.progress } : {}),
    ...(fileHasVisuals(f) ? { visuals: visualLinks(f.session_id, f) } : {}),
  };
}

export function deliveryUrl(base: string, key: string): string {
  return `${base.replace(/\/+$/, '')}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

export function jobView(j: Job, deliveryBaseUrl: string) {
  // An expired version's outputs are being (or were) deleted: never offered.
  const outputs = (j.status === 'expired' ? [] : (j.outputs ?? [])).map((o) => ({
    url: deliveryUrl(deliveryBaseUrl, o.key),
    format: o.format,
    duration_s: o.duration_s,
    size: o.size,
    sample_rate: o.sample_rate,
    channels: o.channels,
    ...(o.downmixed_from ? { downmixed_from: o.downmixed_from } : {}),
  }));
  return {
    job_id: j.job_id,
    file_id: j.file_id,
    ...(j.parent_job_id ? { parent_job_id: j.parent_job_id } : {}),
    status: j.status,
    effect: j.chain.length === 1 ? j.chain[0].effect : 'chain',
    ...(j.preset ? { preset: j.preset } : {}),
    chain: j.chain,
    output_formats: j.output_formats,
    created_at: j.created_at,
    updated_at: j.updated_at,
    attempts: j.attempts,
    // `output` is the first of `outputs` (the only one unless several formats were asked for).
    ...(outputs.length > 0 ? { output: outputs[0], outputs } : {}),
    ...(j.error ? { error: j.error } : {}),
    ...(j.timings_ms ? { timings_ms: j.timings_ms } : {}),
    ...(j.progress ? { progress: j.progress } : {}),
    ...(j.expired_at ? { expired_at: j.expired_at } : {}),
    ...(jobHasVisuals(j) ? { visuals: visualLinks(j.session_id, j) } : {}),
    ...(j.loudness && j.status === 'completed' ? { output_loudness: j.loudness } : {}),
    ...(j.reports && j.status === 'completed' ? { reports: j.reports } : {}),
  };
}
