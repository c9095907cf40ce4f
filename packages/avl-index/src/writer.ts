import { randomBytes } from 'node:crypto';
import { CorruptIndexError } from './errors.ts';
import { FileIndex, type IndexChange } from './file-index.ts';
import { decodeJournal, encodeJournal } from './journal.ts';
import { collectBytes, decodeSnapshot, encodeSnapshot } from './snapshot.ts';

/** Immutable objects (snapshots, journal segments) by key: S3 in production, the S3 emulator locally. */
export interface BlobStore {
  put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array): Promise<void>;
  /** The object's bytes as a stream, or null when it does not exist. */
  get(key: string): Promise<AsyncIterable<Uint8Array> | null>;
  /** Keys under a prefix with their write time (for collecting superseded objects). */
  list(prefix: string): Promise<{ key: string; writtenAt: Date }[]>;
  delete(keys: readonly string[]): Promise<void>;
}

/** Where the committed version lives: a DynamoDB item written with a condition on its version. */
export interface IndexPointer {
  version: number;
  snapshotKey: string | null;
  /** Journal segments after the snapshot, oldest first. */
  journal: string[];
  /** The previous snapshot and every segment since it: recovery when the current snapshot is unreadable. */
  previous?: { snapshotKey: string | null; journal: string[] };
  updatedAt: string;
}

export interface PointerStore {
  read(name: string): Promise<IndexPointer | null>;
  /** Write `next` only if the stored version is `expected` (null: no pointer yet). True when it won. */
  compareAndSet(name: string, expected: number | null, next: IndexPointer): Promise<boolean>;
}

export interface IndexPorts {
  readonly blobs: BlobStore;
  readonly pointers: PointerStore;
}

export interface WriterOptions {
  /** Take a new snapshot once this many journal segments follow the current one. */
  readonly snapshotEvery?: number;
  readonly maxAttempts?: number;
  readonly now?: () => Date;
  /**
   * Snapshots and journal segments no longer referenced (older than the previous snapshot's chain, or written by a
   * writer that lost its commit) are deleted after a new snapshot, once older than this — a reader that loaded an
   * older version may still be streaming them. Default one hour.
   */
  readonly retainMs?: number;
}

const prefix = (name: string) => `index/${name}`;
const nonce = () => randomBytes(6).toString('hex');
const pad = (v: number) => String(v).padStart(12, '0');

async function loadFrom(ports: IndexPorts, snapshotKey: string | null, journal: string[]): Promise<FileIndex> {
  let index = new FileIndex();
  if (snapshotKey) {
    const body = await ports.blobs.get(snapshotKey);
    if (!body) throw new CorruptIndexError('Index::TruncatedSnapshot', `snapshot ${snapshotKey} is missing`);
    index = await decodeSnapshot(body);
  }
  for (const change of await readSegments(ports, journal)) index.apply(change);
  return index;
}

/** The changes of journal segments, in order; a missing segment is a corrupt index. */
async function readSegments(ports: IndexPorts, keys: readonly string[]): Promise<IndexChange[]> {
  const changes: IndexChange[] = [];
  for (const key of keys) {
    const body = await ports.blobs.get(key);
    if (!body) throw new CorruptIndexError('Index::CorruptJournal', `journal segment ${key} is missing`);
    changes.push(...decodeJournal(await collectBytes(body)));
  }
  return changes;
}

/**
 * Load the committed index: its snapshot plus the journal after it. When the snapshot is corrupt or missing,
 * recover from the previous snapshot plus every segment since (and say so through `recovered`).
 */
export async function loadCommitted(ports: IndexPorts, pointer: IndexPointer | null): Promise<{ index: FileIndex; recovered: boolean }> {
  if (!pointer) return { index: new FileIndex(), recovered: false };
  try {
    return { index: await loadFrom(ports, pointer.snapshotKey, pointer.journal), recovered: false };
  } catch (err) {
    if (!(err instanceof CorruptIndexError) || !pointer.previous) throw err;
    const prev = pointer.previous;
    return { index: await loadFrom(ports, prev.snapshotKey, [...prev.journal, ...pointer.journal]), recovered: true };
  }
}

/**
 * The single writer of an index. Applies a batch of changes on top of the committed version, writes a journal
 * segment (and now and then a new immutable snapshot), then commits by a conditional write of the pointer.
 * A writer that loses the race reloads and applies its batch again (changes are idempotent), so nothing is lost;
 * a crash before the commit leaves the old version in force (the uncommitted objects are never referenced).
 */
export class IndexWriter {
  private cached: { version: number; index: FileIndex } | null = null;

  constructor(
    private readonly ports: IndexPorts,
    readonly name: string,
    private readonly opts: WriterOptions = {},
  ) {}

  /** Delete the snapshots and segments older than the committed chain (the current and the previous snapshot's). */
  private async collect(committed: IndexPointer): Promise<number> {
    const keep = new Set([committed.snapshotKey, ...committed.journal, committed.previous?.snapshotKey, ...(committed.previous?.journal ?? [])].filter(Boolean));
    const versionOf = (key: string) => Number(/\/(\d{12})-[0-9a-f]+$/.exec(key)?.[1] ?? NaN);
    const oldestKept = Math.min(...[...keep].map((k) => versionOf(k!)));
    const cutoff = (this.opts.now ?? (() => new Date()))().getTime() - (this.opts.retainMs ?? 3_600_000);
    const listed = [...(await this.ports.blobs.list(`${prefix(this.name)}/snapshots/`)), ...(await this.ports.blobs.list(`${prefix(this.name)}/journal/`))];
    // Unreferenced and not newer than the oldest kept object: superseded (a snapshot at V holds segment V), or a
    // losing writer's; anything newer may belong to a commit in progress.
    const stale = listed.filter((o) => !keep.has(o.key) && versionOf(o.key) <= oldestKept && o.writtenAt.getTime() < cutoff).map((o) => o.key);
    if (stale.length > 0) await this.ports.blobs.delete(stale);
    return stale.length;
  }

  async apply(changes: readonly IndexChange[]): Promise<{ version: number; attempts: number; snapshot: boolean; collected: number }> {
    const maxAttempts = this.opts.maxAttempts ?? 20;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      const pointer = await this.ports.pointers.read(this.name);
      const version = pointer?.version ?? 0;
      let index: FileIndex;
      if (this.cached && this.cached.version === version) index = this.cached.index;
      else index = (await loadCommitted(this.ports, pointer)).index;
      this.cached = null; // the in-memory copy is about to diverge from any committed version
      for (const c of changes) index.apply(c);
      const nextVersion = version + 1;
      const segment = `${prefix(this.name)}/journal/${pad(nextVersion)}-${nonce()}`;
      await this.ports.blobs.put(segment, encodeJournal(changes));
      const journal = [...(pointer?.journal ?? []), segment];
      let next: IndexPointer;
      const snapshot = journal.length >= (this.opts.snapshotEvery ?? 50);
      const now = (this.opts.now ?? (() => new Date()))().toISOString();
      if (snapshot) {
        const snapshotKey = `${prefix(this.name)}/snapshots/${pad(nextVersion)}-${nonce()}`;
        await this.ports.blobs.put(snapshotKey, encodeSnapshot(index));
        next = { version: nextVersion, snapshotKey, journal: [], previous: { snapshotKey: pointer?.snapshotKey ?? null, journal }, updatedAt: now };
      } else {
        next = { version: nextVersion, snapshotKey: pointer?.snapshotKey ?? null, journal, ...(pointer?.previous ? { previous: pointer.previous } : {}), updatedAt: now };
      }
      if (await this.ports.pointers.compareAndSet(this.name, pointer ? version : null, next)) {
        this.cached = { version: nextVersion, index };
        // Best effort: what is not collected now is collected after the next snapshot.
        const collected = snapshot ? await this.collect(next).catch(() => 0) : 0;
        return { version: nextVersion, attempts: attempt, snapshot, collected };
      }
      // Lost the race: back off a little (with jitter) and apply the batch on top of the winner's version.
      await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
    }
    throw new Error(`index ${this.name}: gave up after ${maxAttempts} conflicting commits`);
  }
}

/**
 * The segments to apply to an index loaded at `from` to reach `to`, or null when `to` does not extend it (then the
 * reader loads `to` whole). `to` extends `from` when it has the same snapshot and more journal, or when its new
 * snapshot was taken on top of `from`'s chain (its `previous` chain starts with `from`'s).
 */
function segmentsBetween(from: IndexPointer, to: IndexPointer): string[] | null {
  const startsWith = (chain: readonly string[], head: readonly string[]) => head.length <= chain.length && head.every((k, i) => chain[i] === k);
  if (to.snapshotKey === from.snapshotKey && startsWith(to.journal, from.journal)) return to.journal.slice(from.journal.length);
  if (to.previous && to.previous.snapshotKey === from.snapshotKey && startsWith(to.previous.journal, from.journal)) {
    return [...to.previous.journal.slice(from.journal.length), ...to.journal];
  }
  return null;
}

/**
 * A reader's cache by version. When the committed version moves, only the journal segments written since are read
 * and applied to the index it holds (a snapshot taken meanwhile holds nothing new); it loads a snapshot only at the
 * first read, after a recovery or when its version fell out of the chain. One load at a time: concurrent reads wait
 * for the load in flight instead of each starting their own.
 */
export class IndexReader {
  private cached: { pointer: IndexPointer | null; version: number; index: FileIndex } | null = null;
  private loading: Promise<{ version: number; index: FileIndex }> | null = null;
  /** How the reader caught up: whole loads and incremental updates (segments applied). */
  readonly stats = { loads: 0, updates: 0, segments: 0 };

  constructor(
    private readonly ports: IndexPorts,
    readonly name: string,
  ) {}

  async current(): Promise<{ version: number; index: FileIndex }> {
    const pointer = await this.ports.pointers.read(this.name);
    const version = pointer?.version ?? 0;
    for (;;) {
      if (this.cached && this.cached.version >= version) return this.cached;
      if (!this.loading) break;
      await this.loading.catch(() => undefined);
    }
    this.loading = this.catchUp(pointer).finally(() => {
      this.loading = null;
    });
    return this.loading;
  }

  private async catchUp(pointer: IndexPointer | null): Promise<{ version: number; index: FileIndex }> {
    const version = pointer?.version ?? 0;
    const from = this.cached;
    const segments = from?.pointer && pointer ? segmentsBetween(from.pointer, pointer) : null;
    if (from && segments) {
      // Read every segment before touching the index: a failure leaves the cached version whole.
      for (const c of await readSegments(this.ports, segments)) from.index.apply(c);
      this.cached = { pointer, version, index: from.index };
      this.stats.updates++;
      this.stats.segments += segments.length;
      return this.cached;
    }
    const { index, recovered } = await loadCommitted(this.ports, pointer);
    // A recovered load did not come from the pointer's own chain: never extend it incrementally.
    this.cached = { pointer: recovered ? null : pointer, version, index };
    this.stats.loads++;
    return this.cached;
  }
}
