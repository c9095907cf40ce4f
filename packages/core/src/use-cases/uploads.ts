import { deleteVisuals } from '../domain/visuals.ts';
import { ConflictError, NotFoundError, PayloadTooLargeError } from '../errors.ts';
import { isWellFormedId, newFileId } from '../ids.ts';
import { LIMITS } from '../resources.ts';
import { checkUploadType, safeFilename } from '../domain/formats.ts';
import { uploadKey } from '../domain/keys.ts';
import type { FileRecord, Session } from '../domain/types.ts';
import { fileView } from './views.ts';
import { pollUntil } from './poll.ts';
import { removeJob } from './jobs.ts';
import { publishUpload } from './ingest.ts';
import { publishFile } from './live.ts';
import type { Deps } from './deps.ts';

export interface UploadRequest {
  session_id: string;
  filename: string;
  content_type: string;
  size: number;
}

export async function requestUpload(deps: Deps, session: Session, req: UploadRequest) {
  if (req.size > LIMITS.maxUploadBytes) {
    throw new PayloadTooLargeError('Upload::TooLarge', `files may be at most ${LIMITS.maxUploadBytes} bytes`, {
      field: 'size',
      allowed: { min: 1, max: LIMITS.maxUploadBytes },
    });
  }
  checkUploadType(req.filename, req.content_type);
  const fileId = newFileId();
  const name = safeFilename(req.filename);
  const key = uploadKey(session.session_id, fileId, name);
  const contentType = req.content_type.split(';')[0].trim().toLowerCase();
  const now = deps.clock.now();
  const dueAt = new Date(now.getTime() + (LIMITS.uploadExpirySeconds + LIMITS.uploadGraceSeconds) * 1000).toISOString();
  const record: FileRecord = {
    session_id: session.session_id,
    file_id: fileId,
    filename: name,
    content_type: contentType,
    declared_size: req.size,
    key,
    status: 'pending',
    created_at: now.toISOString(),
    upload_due_at: dueAt,
  };
  // Watched first: a crash before the record leaves only a watch, which the sweeper drops.
  await deps.files.watchPending(session.session_id, fileId, dueAt);
  await deps.files.create(record, session.expires_at);
  // Other clients of the session see the new file at once (advice: this caller has the answer).
  await publishFile(deps, record).catch(() => undefined);
  const upload = await deps.store.presignUpload({
    key,
    contentType,
    bytes: req.size,
    expiresSeconds: LIMITS.uploadExpirySeconds,
  });
  return { file_id: fileId, upload: { url: upload.url, method: 'POST', fields: upload.fields }, expires_in: LIMITS.uploadExpirySeconds };
}

export async function loadFile(deps: Pick<Deps, 'files'>, session: Session, fileId: string): Promise<FileRecord> {
  const file = isWellFormedId(fileId, 'fil') ? await deps.files.get(session.session_id, fileId) : null;
  if (!file) throw new NotFoundError('File::NotFound', `no file '${fileId}' in this session`, { field: 'file_id' });
  return file;
}

/** A file record; with `waitSeconds`, held open while it is still pending. */
export async function getFile(deps: Pick<Deps, 'files'>, session: Session, fileId: string, waitSeconds = 0) {
  return fileView(await pollUntil(() => loadFile(deps, session, fileId), (f) => f.status !== 'pending', waitSeconds));
}

/** How long a download link of an original upload works. */
export const DOWNLOAD_EXPIRY_SECONDS = 300;

/** A short-lived link to the bytes that were uploaded (only once ingest has accepted them). */
export async function downloadFile(deps: Deps, session: Session, fileId: string) {
  const file = await loadFile(deps, session, fileId);
  if (file.status !== 'ready') {
    throw new ConflictError('File::NotReady', `file '${file.file_id}' is ${file.status}; only a ready file can be downloaded`, { field: 'file_id' });
  }
  const url = await deps.store.presignDownload(file.key, file.filename, DOWNLOAD_EXPIRY_SECONDS);
  return { file_id: file.file_id, filename: file.filename, url, expires_in: DOWNLOAD_EXPIRY_SECONDS };
}

/** Remove one file: every job made from it (with their outputs), its record, its upload and its index entry. */
export async function deleteFile(deps: Deps, session: Session, fileId: string): Promise<void> {
  const file = await loadFile(deps, session, fileId);
  const jobs = (await deps.jobs.list(session.session_id)).filter((j) => j.file_id === file.file_id);
  for (const job of jobs) await removeJob(deps, job);
  await deleteVisuals(deps.store, session.session_id, file.file_id);
  await deps.files.delete(session.session_id, file.file_id);
  if (file.upload_due_at) await deps.files.unwatchPending(session.session_id, file.file_id, file.upload_due_at);
  await deps.store.deleteUpload(file.key);
  await deps.index?.publish({ op: 'remove', file_id: file.file_id }, `rm-${file.file_id}`);
}

/**
 * The sweeper's second task: an upload still pending after its link expired (plus a grace period) and with no bytes
 * in storage is recorded as `expired` — never `pending` for ever. Where bytes did arrive, ingest decides.
 */
const EXPIRED = { code: 'Upload::Expired', message: 'no file arrived before the upload link expired; ask for a new upload' };

export async function expireUploads(deps: Deps): Promise<{ expired: number; dropped: number; waiting: number }> {
  const now = deps.clock.now().toISOString();
  let expired = 0;
  let dropped = 0;
  let waiting = 0;
  for (const due of await deps.files.listPendingDue(now)) {
    const file = await deps.files.get(due.session_id, due.file_id);
    if (file?.status === 'pending' && (await deps.store.statUpload(file.key))) {
      waiting++; // bytes are there: their event is on its way, and ingest decides
      continue;
    }
    if (file?.status === 'pending') {
      const won = await deps.files.completeIngest(file.session_id, file.file_id, {
        status: 'expired',
        rejection: EXPIRED,
      });
      if (won) {
        const { progress: _p, ...rest } = file;
        await publishUpload(deps, { ...rest, status: 'expired', rejection: EXPIRED });
        expired++;
      }
    } else dropped++;
    await deps.files.unwatchPending(due.session_id, due.file_id, due.due_at);
  }
  return { expired, dropped, waiting };
}
