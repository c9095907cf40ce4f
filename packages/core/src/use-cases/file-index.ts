import { IndexReader, IndexWriter, type FileEntry, type IndexChange, type IndexPorts, type ListOptions } from '@david/avl-index';
import { timingSafeEqual, createHash } from 'node:crypto';
import { ForbiddenError } from '../errors.ts';
import type { Session } from '../domain/types.ts';

export const FILE_INDEX_NAME = 'files';

/** The index as the API reads it: the committed version, cached by version across requests. */
export class FileIndexQueries {
  private readonly reader: IndexReader;
  constructor(ports: IndexPorts) {
    this.reader = new IndexReader(ports, FILE_INDEX_NAME);
  }

  async listSession(session: Session, opts: ListOptions) {
    const { index, version } = await this.reader.current();
    return { ...index.listSession(session.session_id, opts), index_version: version, ...opts };
  }

  /** Across sessions, only with the operator key (no key configured: always 403). */
  async listAll(operatorKeySha256: string | undefined, presented: string | undefined, opts: ListOptions) {
    if (!operatorKeySha256) throw new ForbiddenError('Admin::Disabled', 'the operator listing is disabled (no operator key configured)');
    const a = Buffer.from(createHash('sha256').update(presented ?? '').digest('hex'));
    const b = Buffer.from(operatorKeySha256.toLowerCase());
    if (!presented || a.length !== b.length || !timingSafeEqual(a, b)) throw new ForbiddenError('Admin::Forbidden', 'a valid operator key is required');
    const { index, version } = await this.reader.current();
    return { ...index.listAll(opts), index_version: version, ...opts };
  }
}

/** The index worker's use case: apply one ordered batch of changes as one committed version. */
export function createIndexWriter(ports: IndexPorts) {
  const writer = new IndexWriter(ports, FILE_INDEX_NAME, { snapshotEvery: 50 });
  return (changes: IndexChange[]) => writer.apply(changes);
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** One index-queue message as a change, or null for a message no retry can make valid (a poison message). */
export function parseIndexChange(body: string): IndexChange | null {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(body);
  } catch {
    return null;
  }
  if (!m || typeof m !== 'object') return null;
  if (m.op === 'remove') return isStr(m.file_id) ? { op: 'remove', file_id: m.file_id } : null;
  if (m.op === 'removeSession') return isStr(m.session_id) ? { op: 'removeSession', session_id: m.session_id } : null;
  if (m.op !== 'upsert' || !m.entry || typeof m.entry !== 'object') return null;
  const e = m.entry as Record<string, unknown>;
  const ok =
    isStr(e.file_id) &&
    isStr(e.session_id) &&
    (e.kind === 'upload' || e.kind === 'output') &&
    typeof e.name === 'string' &&
    typeof e.status === 'string' &&
    typeof e.size === 'number' &&
    Number.isFinite(e.size) &&
    isStr(e.uploaded_at) &&
    !Number.isNaN(Date.parse(e.uploaded_at));
  return ok ? { op: 'upsert', entry: e as unknown as FileEntry } : null;
}
