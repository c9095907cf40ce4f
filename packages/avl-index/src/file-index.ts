import { AvlTree } from './avl-tree.ts';
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

/** file id from either kind of key (it is always the last part). */
const fileIdOf = (key: string) => key.slice(key.lastIndexOf(SEP) + 1);
/** The time key is the tail of the session key: `session\0time\0file` → `time\0file`. */
const timeKeyOf = (key: string) => key.slice(key.indexOf(SEP) + 1);

/**
 * Where loaded entries' keys and values lie in the snapshot frames they came from (see EntryStore): per entry id,
 * META_STRIDE int32s at id · META_STRIDE — frame, key start, key end, value start, value end — in one array, so
 * everything about an entry is adjacent.
 */
export interface LazyEntries {
  /** The snapshot's frame payloads (kept as bytes, outside the JS heap). */
  readonly frames: Buffer[];
  readonly meta: Int32Array;
  /** Keys that are not ASCII, decoded at load, by id (the others are read as latin1: one byte, one character). */
  readonly decodedKeys: ReadonlyMap<number, string>;
}
export const META_STRIDE = 5;
export const M_FRAME = 0, M_KEY_START = 1, M_KEY_END = 2, M_VAL_START = 3, M_VAL_END = 4;

/** The id a lookup's own key goes by while it is compared (see EntryStore.probe). */
const PROBE = -1;

/**
 * The entries of a file index by id: its two trees hold ids, and their comparators turn ids into keys. Entries
 * added one by one keep their strings; entries loaded from a snapshot keep only offsets into the snapshot's
 * frames, and their key and value strings are made the first time something needs them — so loading a million
 * entries allocates a few typed arrays, not three million strings.
 */
export class EntryStore {
  private keys: (string | undefined)[] = [];
  private timeKeys: (string | undefined)[] = [];
  private vals: (string | undefined)[] = [];
  private free: number[] = [];
  private lazy: LazyEntries | null = null;
  private probeKey = '';

  constructor(lazy?: LazyEntries, count = 0) {
    if (lazy) {
      this.lazy = lazy;
      this.keys = new Array(count);
      this.timeKeys = new Array(count);
      this.vals = new Array(count);
      for (const [id, key] of lazy.decodedKeys) this.keys[id] = key;
    }
  }

  key(id: number): string {
    if (id === PROBE) return this.probeKey;
    const k = this.keys[id];
    if (k !== undefined) return k;
    return (this.keys[id] = this.lazyKey(id));
  }

  timeKey(id: number): string {
    if (id === PROBE) return this.probeKey;
    const k = this.timeKeys[id];
    return k !== undefined ? k : (this.timeKeys[id] = timeKeyOf(this.key(id)));
  }

  value(id: number): EncodedEntry {
    const v = this.vals[id];
    if (v !== undefined) return v;
    return (this.vals[id] = this.lazyValue(id));
  }

  /** The key without keeping it (snapshot writing walks every entry once). */
  peekKey(id: number): string {
    const k = this.keys[id];
    if (k !== undefined) return k;
    return this.lazyKey(id);
  }

  peekValue(id: number): EncodedEntry {
    const v = this.vals[id];
    if (v !== undefined) return v;
    return this.lazyValue(id);
  }

  private lazyKey(id: number): string {
    const l = this.lazy!;
    const m = id * META_STRIDE;
    return l.frames[l.meta[m + M_FRAME]].toString('latin1', l.meta[m + M_KEY_START], l.meta[m + M_KEY_END]);
  }

  private lazyValue(id: number): EncodedEntry {
    const l = this.lazy!;
    const m = id * META_STRIDE;
    return l.frames[l.meta[m + M_FRAME]].toString('latin1', l.meta[m + M_VAL_START], l.meta[m + M_VAL_END]);
  }

  /** The file id of an entry, without keeping its whole key. */
  fileId(id: number): string {
    return fileIdOf(this.peekKey(id));
  }

  add(key: string, value: EncodedEntry): number {
    const id = this.free.pop() ?? this.keys.length;
    this.keys[id] = key;
    this.timeKeys[id] = undefined;
    this.vals[id] = value;
    return id;
  }

  release(id: number): void {
    // A released id is in no tree, so nothing compares it; it is reused (and overwritten) by the next add.
    this.free.push(id);
  }

  /** Make `key` comparable as the id PROBE, for rank/walk lookups by a caller's key. */
  probe(key: string): number {
    this.probeKey = key;
    return PROBE;
  }

  get capacity(): number {
    return this.keys.length;
  }

  readonly bySessionKey = (a: number, b: number): number => {
    const x = this.key(a), y = this.key(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };

  readonly byTimeKey = (a: number, b: number): number => {
    const x = this.timeKey(a), y = this.timeKey(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * The file index: the same entries in two AVL trees, so the useful listings are range scans —
 * by session then upload time, and globally by upload time. Offsets use order statistics (O(log n)).
 * Both trees map an entry id to itself; the EntryStore holds the keys and the encoded entries.
 */
export class FileIndex {
  /** Lazily built: file id → entry id (only get, upsert and removals need it). */
  private ids: Map<string, number> | null = null;
  private readonly scratch = new ByteWriter(1024);
  readonly bySession: AvlTree<number, number>;
  readonly byTime: AvlTree<number, number>;
  readonly cache: LruCache<number, FileEntry>;

  constructor(
    readonly store: EntryStore = new EntryStore(),
    trees?: { bySession: AvlTree<number, number>; byTime: AvlTree<number, number> },
    cache?: LruCache<number, FileEntry>,
  ) {
    this.bySession = trees?.bySession ?? new AvlTree(store.bySessionKey);
    this.byTime = trees?.byTime ?? new AvlTree(store.byTimeKey);
    this.cache = cache ?? new LruCache(10_000, 16 * 1024 * 1024, (e) => 200 + e.name.length * 2);
  }

  /** Build an index from entries in any order (O(n log n); tests and benchmarks). */
  static fromEntries(entries: readonly FileEntry[]): FileIndex {
    const store = new EntryStore();
    const w = new ByteWriter(1024);
    const ids = entries.map((e) => store.add(sessionKey(e), encodeEntry(e, w)));
    const bySession = ids.slice().sort(store.bySessionKey);
    const byTime = ids.slice().sort(store.byTimeKey);
    return new FileIndex(store, {
      bySession: AvlTree.fromSorted(store.bySessionKey, bySession, bySession),
      byTime: AvlTree.fromSorted(store.byTimeKey, byTime, byTime),
    });
  }

  /** The same index (shared store and trees) read through another cache. */
  withCache(cache: LruCache<number, FileEntry>): FileIndex {
    return new FileIndex(this.store, { bySession: this.bySession, byTime: this.byTime }, cache);
  }

  get size(): number {
    return this.bySession.size;
  }

  private idMap(): Map<string, number> {
    if (!this.ids) {
      const ids = new Map<string, number>();
      this.bySession.walk((id) => void ids.set(this.store.fileId(id), id));
      this.ids = ids;
    }
    return this.ids;
  }

  private decode(id: number): FileEntry {
    const hit = this.cache.get(id);
    if (hit) return hit;
    const e = decodeEntry(this.store.value(id));
    this.cache.set(id, e);
    return e;
  }

  get(fileId: string): FileEntry | undefined {
    const id = this.idMap().get(fileId);
    return id === undefined ? undefined : this.decode(id);
  }

  upsert(entry: FileEntry): void {
    this.remove(entry.file_id);
    const id = this.store.add(sessionKey(entry), encodeEntry(entry, this.scratch));
    this.bySession.set(id, id);
    this.byTime.set(id, id);
    this.idMap().set(entry.file_id, id);
  }

  remove(fileId: string): boolean {
    const ids = this.idMap();
    const id = ids.get(fileId);
    if (id === undefined) return false;
    this.bySession.delete(id);
    this.byTime.delete(id);
    this.store.release(id);
    ids.delete(fileId);
    this.cache.delete(id);
    return true;
  }

  removeSession(sessionId: string): number {
    const lo = this.bySession.rank(this.store.probe(`${sessionId}${SEP}`));
    const hi = this.bySession.rank(this.store.probe(`${sessionId}${END}`));
    const fileIds: string[] = [];
    for (let i = lo; i < hi; i++) fileIds.push(this.store.fileId(this.bySession.at(i)![0]));
    for (const f of fileIds) this.remove(f);
    return fileIds.length;
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

  private list(tree: AvlTree<number, number>, from: string, to: string, opts: ListOptions): ListResult {
    const limit = Math.min(Math.max(0, opts.limit ?? 100), MAX_LIST_LIMIT);
    const offset = Math.max(0, opts.offset ?? 0);
    const lo = tree.rank(this.store.probe(from));
    const hi = tree.rank(this.store.probe(to));
    const total = Math.max(0, hi - lo);
    const items: FileEntry[] = [];
    const count = Math.min(limit, Math.max(0, total - offset));
    if (count === 0) return { items, total };
    if (opts.order === 'desc') {
      // Jump to the last wanted position in O(log n), then walk down.
      const start = tree.at(hi - 1 - offset)!;
      tree.walk((id) => items.push(this.decode(id)) < count, { from: start[0], descending: true });
    } else {
      const start = tree.at(lo + offset)!;
      tree.walk((id) => items.push(this.decode(id)) < count, { from: start[0] });
    }
    return { items, total };
  }
}
