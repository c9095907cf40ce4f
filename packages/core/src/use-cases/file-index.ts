import { IndexReader, IndexWriter, type IndexChange, type IndexPorts, type ListOptions } from '@david/avl-index';
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
