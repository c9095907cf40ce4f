import { waveformDat, type Visuals } from '@david/dsp';
import { BUCKETS } from '../resources.ts';
import type { AudioStore } from '../ports.ts';
import type { FileRecord, Job } from './types.ts';

/**
 * The pictures of a ready file and of a completed job's output: computed once (in the pass that reads the audio
 * anyway: the analysis at ingest, the chain's output in a job), stored in the processed bucket beside the outputs
 * and delivered like them. The API answers `…/waveform.json` and the others with a redirect to the stored object.
 */
export const VISUALS = {
  'waveform.json': { contentType: 'application/json', what: 'waveform peaks as audiowaveform v2 JSON, 8-bit (loads in peaks.js, wavesurfer.js, waveform-data)' },
  'waveform.dat': { contentType: 'application/octet-stream', what: 'the same peaks in audiowaveform’s binary .dat format (version 2)' },
  'spectrogram.png': { contentType: 'image/png', what: 'a spectrogram of the mono mix, 0 Hz at the bottom, −100…0 dBFS, with frequency and time axes and its dB scale' },
} as const;

export type VisualName = keyof typeof VISUALS;
export const VISUAL_NAMES = Object.keys(VISUALS) as VisualName[];

/** visuals/<session>/<file or job id>/<name>: apart from processed/<session>/, which holds outputs only. */
export const visualKey = (sessionId: string, ownerId: string, name: VisualName) => `${BUCKETS.processed.visualsPrefix}${sessionId}/${ownerId}/${name}`;
export const sessionVisualsPrefix = (sessionId: string) => `${BUCKETS.processed.visualsPrefix}${sessionId}/`;
export const visualKeysOf = (sessionId: string, ownerId: string) => VISUAL_NAMES.map((n) => visualKey(sessionId, ownerId, n));

/** Remove a file's or an output's pictures (each a no-op when it is already gone). */
export async function deleteVisuals(store: Pick<AudioStore, 'deleteOutput'>, sessionId: string, ownerId: string): Promise<void> {
  for (const key of visualKeysOf(sessionId, ownerId)) await store.deleteOutput(key);
}

/** The objects to store for one file or output. */
export function visualObjects(sessionId: string, ownerId: string, v: Visuals): { key: string; bytes: Uint8Array; contentType: string }[] {
  const bytes: Record<VisualName, Uint8Array> = {
    'waveform.json': new TextEncoder().encode(JSON.stringify(v.waveform)),
    'waveform.dat': waveformDat(v.waveform),
    'spectrogram.png': v.spectrogram,
  };
  return VISUAL_NAMES.map((name) => ({ key: visualKey(sessionId, ownerId, name), bytes: bytes[name], contentType: VISUALS[name].contentType }));
}

/** The API paths of a file's or an output's pictures, for the views (absent until they are stored). */
export function visualLinks(sessionId: string, owner: { file_id: string; job_id?: string }): Record<string, string> {
  const base = owner.job_id ? `/api/audio/${sessionId}/jobs/${owner.job_id}` : `/api/audio/${sessionId}/files/${owner.file_id}`;
  return Object.fromEntries(VISUAL_NAMES.map((n) => [n.replace('.', '_'), `${base}/${n}`]));
}

export const fileHasVisuals = (f: FileRecord) => f.status === 'ready' && f.visuals_at !== undefined;
export const jobHasVisuals = (j: Job) => j.status === 'completed' && j.visuals_at !== undefined;

