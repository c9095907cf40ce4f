import { FORMAT_IDS, probeFile, sniffFormat, type FfmpegInfo, type ProbeResult, type Visuals } from '@david/dsp';
import { failureInfo, isPermanentFailure, TransientError } from '../errors.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LIMITS } from '../resources.ts';
import { parseUploadKey } from '../domain/keys.ts';
import { deleteVisuals, visualObjects } from '../domain/visuals.ts';
import type { ErrorInfo, FileRecord, MediaInfo, Session } from '../domain/types.ts';
import type { Deps } from './deps.ts';
import { fileProgress, publishFile } from './live.ts';

export interface UploadedObject {
  readonly bucket: string;
  readonly key: string;
  readonly size?: number;
  readonly etag?: string;
}

export type IngestOutcome =
  | { outcome: 'ready'; sessionId: string; fileId: string; media: MediaInfo }
  | { outcome: 'rejected'; sessionId: string; fileId: string; reason: ErrorInfo }
  | { outcome: 'duplicate'; sessionId: string; fileId: string }
  | { outcome: 'overwritten'; sessionId: string; fileId: string }
  | { outcome: 'ignored'; reason: string };

export interface IngestOptions {
  readonly tempDir: string;
  readonly ffmpeg?: FfmpegInfo;
  readonly probeTimeoutMs?: number;
  /**
   * Optional analysis of ready files (duration-bounded), with the waveform and spectrogram drawn in the same pass;
   * failures here never reject a file.
   */
  readonly analyze?: (path: string, media: MediaInfo, probe: ProbeResult) => Promise<{ analysis: Record<string, unknown>; visuals?: Visuals }>;
  /** SQS ApproximateReceiveCount and the queue's maxReceiveCount: on the last try a transient failure rejects the file with its reason. */
  readonly receiveCount?: number;
  readonly maxReceiveCount?: number;
}

/** What sniffing reads of an upload. */
const HEAD_BYTES = 4096;
/** An upload up to this size is read whole in the first request (size, ETag and bytes in one GET). */
const WHOLE_BYTES = 1024 * 1024;

/**
 * Decide what an uploaded object is and record it exactly once. Re-checks everything the presigned
 * POST policy should have enforced (the emulators do not enforce it): key shape, session, size.
 * Throws only for transient failures; bad media is a recorded rejection.
 */
export async function ingestObject(deps: Deps, obj: UploadedObject, opts: IngestOptions): Promise<IngestOutcome> {
  const parsed = parseUploadKey(obj.key);
  if (!parsed) {
    await deps.store.deleteUpload(obj.key);
    return { outcome: 'ignored', reason: 'Ingest::ForeignKey' };
  }
  const { sessionId, fileId } = parsed;
  const [session, file] = await Promise.all([deps.sessions.get(sessionId), deps.files.get(sessionId, fileId)]);
  if (!session || session.deleting_at || !file || file.key !== obj.key) {
    await deps.store.deleteUpload(obj.key);
    return { outcome: 'ignored', reason: session ? 'Ingest::UnknownFile' : 'Ingest::UnknownSession' };
  }
  if (file.status !== 'pending') {
    // A write after ingest decided (a replayed POST): recorded on the file, never processed — jobs read only the
    // checked bytes and fail with File::Changed.
    if (file.status === 'ready') {
      const now = await deps.store.statUpload(obj.key);
      if (now && now.etag !== file.etag && file.overwritten?.etag !== now.etag) {
        await deps.files.recordOverwrite(sessionId, fileId, { etag: now.etag, size: now.size, at: deps.clock.now().toISOString() });
        return { outcome: 'overwritten', sessionId, fileId };
      }
    }
    // Bytes that arrived after the upload expired are never used: they go, the record stays.
    if (file.status === 'expired') await deps.store.deleteUpload(obj.key);
    // Recorded already: a crash may have come between the record and the index, so tell the index again (idempotent).
    await publishUpload(deps, file);
    return { outcome: 'duplicate', sessionId, fileId };
  }
  try {
    return await checkAndRecord(deps, obj, file, opts);
  } catch (err) {
    if (isPermanentFailure(err)) return recordRejection(deps, file, failureInfo(err));
    if ((opts.receiveCount ?? 1) >= (opts.maxReceiveCount ?? Infinity)) {
      return recordRejection(deps, file, { code: 'Ingest::RetriesExhausted', message: `gave up after ${opts.receiveCount} attempts: ${(err as Error).message}` });
    }
    throw err;
  }
}

/** Reject a pending file with a reason, exactly once; its bytes are never used again. */
async function recordRejection(deps: Deps, file: FileRecord, reason: ErrorInfo, stat?: { size: number; etag: string }): Promise<IngestOutcome> {
  const { session_id: sessionId, file_id: fileId } = file;
  const uploadedAt = deps.clock.now().toISOString();
  const won = await deps.files.completeIngest(sessionId, fileId, {
    status: 'rejected',
    rejection: reason,
    ...(stat ? { size: stat.size, etag: stat.etag } : {}),
    uploaded_at: uploadedAt,
  });
  if (!won) return { outcome: 'duplicate', sessionId, fileId };
  if (file.upload_due_at) await deps.files.unwatchPending(sessionId, fileId, file.upload_due_at);
  await deps.store.deleteUpload(file.key);
  await publishUpload(deps, { ...withoutProgress(file), status: 'rejected', rejection: reason, size: stat?.size ?? file.size, uploaded_at: uploadedAt });
  return { outcome: 'rejected', sessionId, fileId, reason };
}

async function checkAndRecord(deps: Deps, obj: UploadedObject, file: FileRecord, opts: IngestOptions): Promise<IngestOutcome> {
  const progress = fileProgress(deps, file);
  try {
    return await checkAndRecordWith(deps, obj, file, opts, (phase) => progress.report(phase), () => progress.close());
  } finally {
    await progress.close();
  }
}

async function checkAndRecordWith(
  deps: Deps,
  obj: UploadedObject,
  file: FileRecord,
  opts: IngestOptions,
  phase: (p: 'downloading' | 'decoding' | 'processing') => void,
  endProgress: () => Promise<void>,
): Promise<IngestOutcome> {
  const { session_id: sessionId, file_id: fileId } = file;
  phase('downloading');
  // One read says what is there and starts it: the whole upload when it is small (as most are), else its head.
  const declared = file.declared_size;
  const start = await deps.store.readUploadStart(obj.key, declared > HEAD_BYTES && declared <= WHOLE_BYTES ? declared : HEAD_BYTES);
  if (!start) return { outcome: 'ignored', reason: 'Ingest::ObjectGone' };
  const stat = { size: start.size, etag: start.etag };

  const reject = (code: string, message: string) => recordRejection(deps, file, { code, message }, stat);

  if (stat.size === 0) return reject('Media::Empty', 'the uploaded file is empty');
  if (stat.size > LIMITS.maxUploadBytes) return reject('Upload::TooLarge', `the upload is ${stat.size} bytes; the limit is ${LIMITS.maxUploadBytes}`);
  // The presigned POST fixes the exact size; a store that does not enforce policies is checked here.
  if (stat.size !== file.declared_size) return reject('Upload::SizeMismatch', `the upload is ${stat.size} bytes, but ${file.declared_size} were declared`);

  const sniffed = sniffFormat(start.bytes.subarray(0, HEAD_BYTES));
  if (!sniffed) return reject('Media::UnknownFormat', `the file is not audio in a format we read (${FORMAT_IDS.join(', ')})`);

  const localPath = join(opts.tempDir, `${fileId}-${file.filename}`);
  try {
    // Read whole already (the same response gave its size and ETag), or downloaded pinned to what was looked at.
    if (start.bytes.length === stat.size) await writeFile(localPath, start.bytes);
    else await deps.store.downloadUpload(obj.key, localPath, stat);
  } catch (err) {
    // Replaced between the look and the download: look again (its own event follows).
    if ((err as { code?: string }).code === 'File::Changed') throw new TransientError('Ingest::ObjectChanged', 'the upload changed while it was checked', { cause: err });
    throw err;
  }
  phase('decoding');
  let media: MediaInfo;
  let probe: ProbeResult;
  try {
    // Probed once (the container is the one sniffed from the head); the analysis decodes from this probe.
    probe = await probeFile(localPath, {
      timeoutMs: opts.probeTimeoutMs ?? 20_000,
      maxDurationSeconds: LIMITS.maxDurationSeconds,
      ffmpeg: opts.ffmpeg,
      format: sniffed,
    });
    media = {
      format: probe.format,
      codec: probe.codec,
      duration_s: probe.durationSeconds,
      sample_rate: probe.sampleRate,
      channels: probe.channels,
      ...(probe.bitRate ? { bit_rate: probe.bitRate } : {}),
      ...(probe.bitDepth ? { bit_depth: probe.bitDepth } : {}),
      ...(probe.truncated ? { truncated: { declared_duration_s: probe.truncated.declaredSeconds } } : {}),
    };
  } catch (err) {
    if (isPermanentFailure(err)) return reject(failureInfo(err).code, failureInfo(err).message);
    throw err;
  }
  if (!(media.duration_s > 0) || !(media.sample_rate > 0) || !(media.channels > 0)) {
    return reject('Media::NoAudio', 'the file holds no decodable audio');
  }
  // Analysis never decides a file's fate; when it fails or runs out of time, the record says so.
  let analysis: Record<string, unknown> | undefined;
  let analysisError: ErrorInfo | undefined;
  let visuals: Visuals | undefined;
  if (opts.analyze) {
    phase('processing');
    try {
      ({ analysis, visuals } = await opts.analyze(localPath, media, probe));
    } catch (err) {
      analysisError = failureInfo(err);
    }
  }
  // Stored before the record says ready (a failed store is retried with the message), so a ready file's pictures exist.
  if (visuals) await deps.store.putVisuals(visualObjects(sessionId, fileId, visuals));

  // No progress write may land after the decision.
  await endProgress();
  const outcome = {
    status: 'ready',
    size: stat.size,
    etag: stat.etag,
    media,
    uploaded_at: deps.clock.now().toISOString(),
    ...(analysis ? { analysis } : {}),
    ...(analysisError ? { analysis_error: analysisError } : {}),
    ...(visuals ? { visuals_at: deps.clock.now().toISOString() } : {}),
  } as const;
  const won = await deps.files.completeIngest(sessionId, fileId, outcome);
  // Read after the record was written: whether the session's deletion began, and whether anyone watches it.
  const sessionAfter = won ? await deps.sessions.get(sessionId) : undefined;
  // Pictures stored for a file deleted meanwhile, or for a session whose deletion began (its objects may be gone
  // already), are removed again: nothing outlives its owner.
  if (visuals) {
    const gone = won ? !sessionAfter || sessionAfter.deleting_at !== undefined : !(await deps.files.get(sessionId, fileId));
    if (gone) await deleteVisuals(deps.store, sessionId, fileId);
  }
  if (!won) return { outcome: 'duplicate', sessionId, fileId };
  if (file.upload_due_at) await deps.files.unwatchPending(sessionId, fileId, file.upload_due_at);
  await publishUpload(deps, { ...withoutProgress(file), ...outcome }, sessionAfter);
  return { outcome: 'ready', sessionId, fileId, media };
}

const withoutProgress = ({ progress: _p, ...f }: FileRecord): FileRecord => f;

/**
 * A file's new state, told to the file index (an idempotent upsert, keyed by file and status) and pushed to the
 * session's clients. Called again on a redelivery that finds the file decided (a crash may have come in between).
 */
export async function publishUpload(deps: Deps, f: FileRecord, sessionAfter?: Session | null): Promise<void> {
  await publishFile(deps, f, undefined, { after: sessionAfter });
  await deps.index?.publish(
    {
      op: 'upsert',
      entry: {
        file_id: f.file_id,
        session_id: f.session_id,
        kind: 'upload',
        name: f.filename,
        status: f.status,
        size: f.size ?? 0,
        uploaded_at: f.uploaded_at ?? f.created_at,
        ...(f.media ? { format: f.media.format, duration_s: f.media.duration_s } : {}),
      },
    },
    `ingest-${f.file_id}-${f.status}`,
  );
}
