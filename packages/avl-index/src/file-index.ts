import { AvlTree, compareStrings } from './avl-tree.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { LruCache } from './lru-cache.ts';

/** One indexed file: an upload (ready or rejected) or a processed output. */
export interface FileEntry {
  file_id: string;
  session_id: string;
  kind: 'upload' | 'output';
  name: string;
  status: string;
  size: number;
  uploaded_at: string;
  format?: string;
  duration_s?: number;
  job_id?: string;
}

export type IndexChange =
  | { op: 'upsert'; entry: FileEntry }
  | { op: 'remove'; file_id: string }
  | { op: 'removeSession'; session_id: string };

export interface ListOptions {
  /** Only entries uploaded at or after this ISO time. */
  after?: string;
  /** Only entries uploaded before this ISO time. */
  before?: string;
  limit?: number;
  offset?: number;
  order?: 'asc' | 'desc';
}

export interface ListResult {
  items: FileEntry[];
  total: number;
}

const SEP = '\u0000';
const END = '\u0001';
/** Above every character a key uses: an open upper bound. */
const HIGH = '\uffff';
export const MAX_LIST_LIMIT = 1000;

/**
 * Compact binary form of an entry, held as a binary string (one byte per character, see bytes.ts): values stay
 * encoded in the trees and are decoded on read, through an LRU cache.
 */
export type EncodedEntry = string;

export function encodeEntry(e: FileEntry, w = new ByteWriter(256)): EncodedEntry {
  w.string(e.file_id);
  w.string(e.session_id);
  w.u8(e.kind === 'output' ? 1 : 0);
  w.string(e.name);
  w.string(e.status);
  w.f64(e.size);
  w.string(e.uploaded_at);
  w.string(e.format ?? '');
  w.f64(e.duration_s ?? Number.NaN);
  w.string(e.job_id ?? '');
  return w.takeBinary();
}

export function decodeEntry(encoded: EncodedEntry): FileEntry {
  const r = new ByteReader(Buffer.from(encoded, 'latin1'));
  const e: FileEntry = {
    file_id: r.string(),
    session_id: r.string(),
    kind: r.u8() === 1 ? 'output' : 'upload',
    name: r.string(),
    status: r.string(),
    size: r.f64(),
    uploaded_at: r.string(),
  };
  const format = r.string();
  const duration = r.f64();
  const job = r.string();
  if (format) e.format = format;
  if (!Number.isNaN(duration)) e.duration_s = duration;
  if (job) e.job_id = job;
  return e;
}

export const sessionKey = (e: Pick<FileEntry, 'session_id' | 'uploaded_at' | 'file_id'>) => `${e.session_id}${SEP}${e.uploaded_at}${SEP}${e.file_id}`;
export const timeKey = (e: Pick<FileEntry, 'uploaded_at' | 'file_id'>) => `${e.uploaded_at}${SEP}${e.file_id}`;

/** file id from either kind of key (it is always the last part). */
const fileIdOf = (key: string) => key.slice(key.lastIndexOf(SEP) + 1);

/**
 * The file index: the same entries in two AVL trees, so the useful listings are range scans —
 * by session then upload time, and globally by upload time. Offsets use order statistics (O(log n)).
 */
export class FileIndex {
  /** Lazily built: file id → session key (only removals need it). */
  private ids: Map<string, string> | null = null;
  private readonly scratch = new ByteWriter(1024);
  readonly cache: LruCache<string, FileEntry>;

  constructor(
    readonly bySession: AvlTree<string, EncodedEntry> = new AvlTree(compareStrings),
    readonly byTime: AvlTree<string, EncodedEntry> = new AvlTree(compareStrings),
    cache?: LruCache<string, FileEntry>,
  ) {
    this.cache = cache ?? new LruCache(10_000, 16 * 1024 * 1024, (e) => 200 + e.name.length * 2);
  }

  get size(): number {
    return this.bySession.size;
  }

  private idMap(): Map<string, string> {
    if (!this.ids) {
      this.ids = new Map();
      const ids = this.ids;
      this.bySession.walk((k) => void ids.set(fileIdOf(k), k));
    }
    return this.ids;
  }

  private decode(key: string, encoded: EncodedEntry): FileEntry {
    const id = fileIdOf(key);
    const hit = this.cache.get(id);
    if (hit) return hit;
    const e = decodeEntry(encoded);
    this.cache.set(id, e);
    return e;
  }

  get(fileId: string): FileEntry | undefined {
    const key = this.idMap().get(fileId);
    if (key === undefined) return undefined;
    return this.decode(key, this.bySession.get(key)!);
  }

  upsert(entry: FileEntry): void {
    this.remove(entry.file_id);
    const encoded = encodeEntry(entry, this.scratch);
    const key = sessionKey(entry);
    this.bySession.set(key, encoded);
    this.byTime.set(timeKey(entry), encoded);
    this.idMap().set(entry.file_id, key);
    this.cache.delete(entry.file_id);
  }

  remove(fileId: string): boolean {
    const ids = this.idMap();
    const key = ids.get(fileId);
    if (key === undefined) return false;
    const uploadedAt = key.split(SEP)[1];
    this.bySession.delete(key);
    this.byTime.delete(`${uploadedAt}${SEP}${fileId}`);
    ids.delete(fileId);
    this.cache.delete(fileId);
    return true;
  }

  removeSession(sessionId: string): number {
    const keys = this.bySession.range(`${sessionId}${SEP}`, `${sessionId}${END}`).map(([k]) => k);
    for (const k of keys) this.remove(fileIdOf(k));
    return keys.length;
  }

  apply(change: IndexChange): void {
    if (change.op === 'upsert') this.upsert(change.entry);
    else if (change.op === 'remove') this.remove(change.file_id);
    else this.removeSession(change.session_id);
  }

  /** A session's files ordered by upload time. */
  listSession(sessionId: string, opts: ListOptions = {}): ListResult {
    const prefix = `${sessionId}${SEP}`;
    return this.list(this.bySession, prefix + (opts.after ?? ''), prefix + (opts.before ?? HIGH), opts);
  }

  /** Every file ordered by upload time (the operator listing). */
  listAll(opts: ListOptions = {}): ListResult {
    return this.list(this.byTime, opts.after ?? '', opts.before ?? HIGH, opts);
  }

  private list(tree: AvlTree<string, EncodedEntry>, from: string, to: string, opts: ListOptions): ListResult {
    const limit = Math.min(Math.max(0, opts.limit ?? 100), MAX_LIST_LIMIT);
    const offset = Math.max(0, opts.offset ?? 0);
    const lo = tree.rank(from);
    const hi = tree.rank(to);
    const total = Math.max(0, hi - lo);
    const items: FileEntry[] = [];
    if (opts.order === 'desc') {
      for (let i = hi - 1 - offset; i >= lo && items.length < limit; i--) {
        const [k, v] = tree.at(i)!;
        items.push(this.decode(k, v));
      }
    } else {
      // Jump to the offset in O(log n), then walk.
      const start = tree.at(lo + offset);
      if (start && lo + offset < hi) {
        tree.walk(
          (k, v) => {
            if (k >= to) return false;
            items.push(this.decode(k, v));
            return items.length < limit;
          },
          { from: start[0] },
        );
      }
    }
    return { items, total };
  }
}
