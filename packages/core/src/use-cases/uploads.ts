import { NotFoundError, PayloadTooLargeError, ValidationError } from '../errors.ts';
import { isWellFormedId, newFileId } from '../ids.ts';
import { LIMITS } from '../resources.ts';
import { checkUploadType, safeFilename } from '../domain/formats.ts';
import { uploadKey } from '../domain/keys.ts';
import type { FileRecord, Session } from '../domain/types.ts';
import { fileView } from './views.ts';
import { pollUntil } from './poll.ts';
import type { Deps } from './deps.ts';

export interface UploadRequest {
  session_id: string;
  filename: string;
  content_type: string;
  size: number;
}

/** Shape-check the body; the session itself is authorised by the caller with `authorize`. */
export function parseUploadRequest(body: unknown): UploadRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b !== 'object' || Array.isArray(b)) throw new ValidationError('Request::InvalidBody', 'body must be a JSON object');
  for (const field of ['session_id', 'filename', 'content_type'] as const) {
    if (typeof b[field] !== 'string' || (b[field] as string).length === 0 || (b[field] as string).length > 300) {
      throw new ValidationError('Upload::InvalidField', `${field} is required (a non-empty string)`, { field });
    }
  }
  if (typeof b.size !== 'number' || !Number.isInteger(b.size) || b.size < 1) {
    throw new ValidationError('Upload::InvalidField', 'size is required (bytes, a positive whole number)', {
      field: 'size',
      allowed: { min: 1, max: LIMITS.maxUploadBytes },
    });
  }
  if (b.size > LIMITS.maxUploadBytes) {
    throw new PayloadTooLargeError('Upload::TooLarge', `files may be at most ${LIMITS.maxUploadBytes} bytes`, {
      field: 'size',
      allowed: { min: 1, max: LIMITS.maxUploadBytes },
    });
  }
  return { session_id: b.session_id as string, filename: b.filename as string, content_type: b.content_type as string, size: b.size };
}

export async function requestUpload(deps: Deps, session: Session, req: UploadRequest) {
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
    maxBytes: LIMITS.maxUploadBytes,
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
