import { BUCKETS } from '../resources.ts';

/** Object keys: uploads/<session>/<file id>/<safe name> and processed/<session>/<job>.<ext>. */
export const uploadKey = (sessionId: string, fileId: string, safeName: string) =>
  `${BUCKETS.uploads.prefix}${sessionId}/${fileId}/${safeName}`;
export const outputKey = (sessionId: string, jobId: string, ext: string) => `${BUCKETS.processed.prefix}${sessionId}/${jobId}.${ext}`;
export const sessionUploadPrefix = (sessionId: string) => `${BUCKETS.uploads.prefix}${sessionId}/`;
export const sessionOutputPrefix = (sessionId: string) => `${BUCKETS.processed.prefix}${sessionId}/`;

const UPLOAD_KEY = /^uploads\/(ses_[0-9a-f]{32})\/(fil_[0-9a-f]{32})\/([A-Za-z0-9._-]{1,120})$/;

/** Parse an upload key back into its parts, or null when it is not one of ours. */
export function parseUploadKey(key: string): { sessionId: string; fileId: string; name: string } | null {
  const m = UPLOAD_KEY.exec(key);
  return m ? { sessionId: m[1], fileId: m[2], name: m[3] } : null;
}
