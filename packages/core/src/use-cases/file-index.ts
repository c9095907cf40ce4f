import { IndexReader, IndexWriter, MAX_LIST_LIMIT, type IndexChange, type IndexPorts, type ListOptions } from '@david/avl-index';
import { timingSafeEqual, createHash } from 'node:crypto';
import { ForbiddenError, ValidationError } from '../errors.ts';
import type { Session } from '../domain/types.ts';

export const FILE_INDEX_NAME = 'files';

/** Parse the listing query (`after`, `before`, `limit`, `offset`, `order`) with clear errors. */
export function parseListQuery(q: Record<string, string | undefined>): ListOptions {
  const int = (name: string, min: number, max: number, fallback: number) => {
    const raw = q[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ValidationError('List::InvalidQuery', `${name} must be a whole number from ${min} to ${max}`, { field: name, allowed: { min, max } });
    }
    return n;
  };
  const time = (name: string) => {
    const raw = q[name];
    if (raw === undefined || raw === '') return undefined;
    const t = Date.parse(raw);
    if (Number.isNaN(t)) throw new ValidationError('List::InvalidQuery', `${name} must be an ISO 8601 time`, { field: name });
    return new Date(t).toISOString();
  };
  const order = q.order ?? 'asc';
  if (order !== 'asc' && order !== 'desc') throw new ValidationError('List::InvalidQuery', 'order must be asc or desc', { field: 'order', allowed: ['asc', 'desc'] });
  return { after: time('after'), before: time('before'), limit: int('limit', 1, MAX_LIST_LIMIT, 50), offset: int('offset', 0, 1e9, 0), order };
}

/** The index as the API reads it: the committed version, cached by version across requests. */
export class FileIndexQueries {
  private readonly reader: IndexReader;
  constructor(ports: IndexPorts) {
    this.reader = new IndexReader(ports, FILE_INDEX_NAME);
  }

  async listSession(session: Session, q: Record<string, string | undefined>) {
    const opts = parseListQuery(q);
    const { index, version } = await this.reader.current();
    return { ...index.listSession(session.session_id, opts), index_version: version, ...opts };
  }

  /** Across sessions, only with the operator key (no key configured: always 403). */
  async listAll(operatorKeySha256: string | undefined, presented: string | undefined, q: Record<string, string | undefined>) {
    if (!operatorKeySha256) throw new ForbiddenError('Admin::Disabled', 'the operator listing is disabled (no operator key configured)');
    const a = Buffer.from(createHash('sha256').update(presented ?? '').digest('hex'));
    const b = Buffer.from(operatorKeySha256.toLowerCase());
    if (!presented || a.length !== b.length || !timingSafeEqual(a, b)) throw new ForbiddenError('Admin::Forbidden', 'a valid operator key is required');
    const opts = parseListQuery(q);
    const { index, version } = await this.reader.current();
    return { ...index.listAll(opts), index_version: version, ...opts };
  }
}

/** The index worker's use case: apply one ordered batch of changes as one committed version. */
export function createIndexWriter(ports: IndexPorts) {
  const writer = new IndexWriter(ports, FILE_INDEX_NAME, { snapshotEvery: 50 });
  return (changes: IndexChange[]) => writer.apply(changes);
}
