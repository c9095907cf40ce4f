import { ConflictError, NotFoundError, PayloadTooLargeError } from '../errors.ts';
import { isWellFormedId, newFileId } from '../ids.ts';
import { LIMITS } from '../resources.ts';
import { checkUploadType, safeFilename } from '../domain/formats.ts';
import { uploadKey } from '../domain/keys.ts';
import type { FileRecord, Session } from '../domain/types.ts';
import { fileView } from './views.ts';
import { pollUntil } from './poll.ts';
import { removeJob } from './jobs.ts';
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
  const record: FileRecord = {
    session_id: session.session_id,
    file_id: fileId,
    filename: name,
    content_type: contentType,
    declared_size: req.size,
    key,
    status: 'pending',
    created_at: deps.clock.now().toISOString(),
  };
  await deps.files.create(record);
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
  await deps.files.delete(session.session_id, file.file_id);
  await deps.store.deleteUpload(file.key);
  await deps.index?.publish({ op: 'remove', file_id: file.file_id }, `rm-${file.file_id}`);
}
