import { crc32 } from 'node:zlib';
import { AvlTree } from './avl-tree.ts';
import { ByteReader, ByteWriter } from './bytes.ts';
import { CorruptIndexError } from './errors.ts';
import { EntryStore, FileIndex, M_FRAME, M_KEY_END, M_KEY_START, M_VAL_END, M_VAL_START, META_STRIDE, type LazyEntries } from './file-index.ts';

/**
 * Snapshot format (little endian), written and read as a stream of frames:
 *
 *   header   "DAVIDIX1" | u16 version=2 | u16 flags=0 | f64 primaryCount | f64 secondaryCount | u32 crc32(header)
 *   frame*   u32 payloadBytes (>0) | u32 crc32(payload) | u32 records | payload
 *   trailer  u32 0 | u32 0x454e4421 ("!DNE") | f64 totalRecords
 *
 * Primary records (session order): key as varint(2·utf8Bytes + notAscii) then UTF-8; value (the encoded entry)
 * as varint length then bytes. Secondary records (time order): varint index of the primary record; the time key
 * is the tail of the primary key (`session\0time\0file` → `time\0file`). Version 1 differed only in the key
 * length (plain varint, no ASCII bit) and is still read.
 *
 * Loading keeps each frame's bytes and records, per entry, where its key and value lie in them (typed arrays);
 * key and value strings are made only when first used (see EntryStore). The session keys' order is checked on
 * the bytes (ASCII keys order the same as bytes and as strings), without making strings; the time section is
 * checked to be a permutation of the entries (see decodeSnapshot).
 * Every frame is checksummed, counts are checked against the header, and the trailer proves the end was
 * reached: a flipped bit or a cut file is a CorruptIndexError, never a silently smaller index.
 */
export const SNAPSHOT_MAGIC = 'DAVIDIX1';
export const SNAPSHOT_VERSION = 2 as const;
const HEADER_BYTES = 8 + 2 + 2 + 8 + 8 + 4;
const TRAILER_TAG = 0x454e4421;
const FRAME_TARGET = 256 * 1024;

function header(primary: number, secondary: number, version: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  for (let i = 0; i < 8; i++) h[i] = SNAPSHOT_MAGIC.charCodeAt(i);
  v.setUint16(8, version, true);
  v.setUint16(10, 0, true);
  v.setFloat64(12, primary, true);
  v.setFloat64(20, secondary, true);
  v.setUint32(28, crc32(h.subarray(0, 28)), true);
  return h;
}

function frame(w: ByteWriter, records: number): Uint8Array {
  const payload = w.buf.subarray(0, w.length);
  const out = new Uint8Array(12 + payload.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, payload.length, true);
  v.setUint32(4, crc32(payload), true);
  v.setUint32(8, records, true);
  out.set(payload, 12);
  w.length = 0;
  return out;
}

/**
 * Frames of one tree's records, produced a frame at a time: the walk stops when a frame is full and resumes
 * after the last key written (O(log n) per frame), so memory holds one frame, not the snapshot.
 */
function* framesOf(tree: AvlTree<number, number>, w: ByteWriter, write: (id: number) => void): Generator<Uint8Array> {
  let last: number | undefined;
  for (;;) {
    let records = 0;
    const skip = last;
    tree.walk(
      (id) => {
        if (id === skip) return true;
        write(id);
        records++;
        last = id;
        return w.length < FRAME_TARGET;
      },
      last === undefined ? {} : { from: last },
    );
    if (records === 0) return;
    yield frame(w, records);
  }
}

/** Stream a snapshot of the index as byte chunks (`version` 1 only to test that old snapshots still load). */
export async function* encodeSnapshot(index: FileIndex, version: 1 | 2 = SNAPSHOT_VERSION): AsyncGenerator<Uint8Array> {
  const n = index.bySession.size;
  const store = index.store;
  yield header(n, index.byTime.size, version);
  const w = new ByteWriter(FRAME_TARGET + 4096);
  // Primary records, remembering each entry's position so the secondary section can refer to it.
  const position = new Int32Array(store.capacity).fill(-1);
  let i = 0;
  yield* framesOf(index.bySession, w, (id) => {
    const key = store.peekKey(id);
    if (version === 1) w.string(key);
    else w.taggedString(key);
    w.binary(store.peekValue(id));
    position[id] = i++;
  });
  yield* framesOf(index.byTime, w, (id) => {
    const p = position[id];
    if (p < 0) throw new Error('time index holds an entry the session index does not');
    w.varint(p);
  });
  const t = new Uint8Array(16);
  const tv = new DataView(t.buffer);
  tv.setUint32(0, 0, true);
  tv.setUint32(4, TRAILER_TAG, true);
  tv.setFloat64(8, n + index.byTime.size, true);
  yield t;
}

/** Reads exact byte counts out of a stream of arbitrarily sized chunks. */
class ChunkReader {
  private queue: Uint8Array[] = [];
  private queued = 0;
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }
  async read(n: number): Promise<Uint8Array | null> {
    if (n === 0) return new Uint8Array(0);
    while (this.queued < n) {
      const r = await this.it.next();
      if (r.done) return null;
      this.queue.push(r.value);
      this.queued += r.value.length;
    }
    const first = this.queue[0];
    if (first.length >= n) {
      // Within one chunk: a view, no copy (a whole snapshot in memory is read without copying it).
      this.queued -= n;
      if (first.length === n) this.queue.shift();
      else this.queue[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.queue[0];
      const take = Math.min(head.length, n - filled);
      out.set(head.subarray(0, take), filled);
      filled += take;
      if (take === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(take);
    }
    this.queued -= n;
    return out;
  }
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

/** Load a snapshot, checking every frame, the counts and the trailer; builds both trees in O(n). */
export async function decodeSnapshot(source: AsyncIterable<Uint8Array> | Uint8Array): Promise<FileIndex> {
  const reader = new ChunkReader(source instanceof Uint8Array ? once(source) : source);
  const truncated = () => new CorruptIndexError('Index::TruncatedSnapshot', 'the snapshot ends early');
  const h = await reader.read(HEADER_BYTES);
  if (!h) throw truncated();
  const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
  for (let i = 0; i < 8; i++) if (h[i] !== SNAPSHOT_MAGIC.charCodeAt(i)) throw new CorruptIndexError('Index::CorruptSnapshot', 'not a David index snapshot');
  if (hv.getUint32(28, true) !== crc32(h.subarray(0, 28))) throw new CorruptIndexError('Index::CorruptSnapshot', 'snapshot header checksum mismatch');
  const version = hv.getUint16(8, true);
  if (version !== SNAPSHOT_VERSION && version !== 1) throw new CorruptIndexError('Index::UnsupportedVersion', `snapshot version ${version} is not supported`);
  const primary = hv.getFloat64(12, true);
  const secondary = hv.getFloat64(20, true);
  if (!Number.isInteger(primary) || !Number.isInteger(secondary) || primary < 0 || secondary !== primary) {
    throw new CorruptIndexError('Index::CorruptSnapshot', 'snapshot counts are inconsistent');
  }
  const tagged = version >= 2;
  const frames: Buffer[] = [];
  const meta = new Int32Array(primary * META_STRIDE);
  const decodedKeys = new Map<number, string>();
  // Tree storage layout (entry j at slot j + 1; slot 0 set to the first entry at the end): adopted, not copied.
  const timeOrder: number[] = new Array(secondary + 1);
  const lazy: LazyEntries = { frames, meta, decodedKeys };
  const seen = new Uint8Array(primary);
  const order = new KeyOrder(lazy);
  let got = 0;
  for (;;) {
    const fh = await reader.read(12);
    if (!fh) throw truncated();
    const fv = new DataView(fh.buffer, fh.byteOffset, fh.byteLength);
    const len = fv.getUint32(0, true);
    if (len === 0) {
      if (fv.getUint32(4, true) !== TRAILER_TAG) throw new CorruptIndexError('Index::CorruptSnapshot', 'bad snapshot trailer');
      const tail = await reader.read(4);
      if (!tail) throw truncated();
      const total = new DataView(new Uint8Array([...fh.subarray(8, 12), ...tail]).buffer).getFloat64(0, true);
      if (total !== primary + secondary || got !== total) throw new CorruptIndexError('Index::CorruptSnapshot', `snapshot holds ${got} records, header says ${primary + secondary}`);
      break;
    }
    const records = fv.getUint32(8, true);
    if (len > 64 * 1024 * 1024 || got + records > primary + secondary) throw new CorruptIndexError('Index::CorruptSnapshot', 'snapshot frame header is corrupt');
    const payload = await reader.read(len);
    if (!payload) throw truncated();
    if (crc32(payload) !== fv.getUint32(4, true)) throw new CorruptIndexError('Index::CorruptSnapshot', 'snapshot frame checksum mismatch');
    const r = new ByteReader(payload);
    const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    const frameIndex = frames.length;
    if (got < primary) frames.push(buf);
    try {
      for (let k = 0; k < records; k++, got++) {
        if (got < primary) {
          const tag = r.varint();
          const n = tagged ? Math.floor(tag / 2) : tag;
          let start = r.pos;
          let end = start + n;
          if (end > payload.length) throw new RangeError('key past end');
          const at = got * META_STRIDE;
          meta[at + M_FRAME] = frameIndex;
          meta[at + M_KEY_START] = start;
          meta[at + M_KEY_END] = end;
          if (!tagged || tag % 2 === 1) decodedKeys.set(got, buf.toString('utf8', start, end));
          r.pos = end;
          const m = r.varint();
          start = r.pos;
          end = start + m;
          if (end > payload.length) throw new RangeError('value past end');
          meta[at + M_VAL_START] = start;
          meta[at + M_VAL_END] = end;
          r.pos = end;
          if (got > 0 && order.compare(got - 1, got) >= 0) throw new RangeError(`session keys out of order at ${got}`);
        } else {
          const j = got - primary;
          const ref = r.varint();
          if (ref >= primary) throw new RangeError('reference out of range');
          timeOrder[j + 1] = ref;
          if (seen[ref]++ !== 0) throw new RangeError(`entry ${ref} appears twice in the time section`);
        }
      }
    } catch (err) {
      throw new CorruptIndexError('Index::CorruptSnapshot', `snapshot frame is malformed: ${(err as Error).message}`);
    }
    if (!r.done) throw new CorruptIndexError('Index::CorruptSnapshot', 'snapshot frame has trailing bytes');
  }
  // The session section's keys are checked to be strictly ascending on the bytes; the time section is checked to
  // be a permutation (every entry exactly once) but its order is not re-compared: that costs ~190 ms of random
  // reads per million entries, and the order is the writer's in-order walk of its tree, which the checksums
  // prove these bytes are. Then both trees are built in O(n).
  const store = new EntryStore(lazy, primary);
  const ids = new Array<number>(primary + 1);
  ids[0] = 0;
  for (let i = 0; i < primary; i++) ids[i + 1] = i;
  timeOrder[0] = timeOrder[1] ?? 0;
  return new FileIndex(store, {
    bySession: AvlTree.adopt(store.bySessionKey, ids, ids.slice()),
    byTime: AvlTree.adopt(store.byTimeKey, timeOrder, timeOrder.slice()),
  });
}

/**
 * Key comparisons during a load, on the bytes (ASCII keys compare the same byte by byte as strings do), so
 * checking the order of a million keys makes no strings. Keys that are not ASCII compare as decoded strings.
 */
class KeyOrder {
  constructor(private readonly l: LazyEntries) {}

  private str(id: number): string {
    const l = this.l;
    const m = id * META_STRIDE;
    return l.decodedKeys.get(id) ?? l.frames[l.meta[m + M_FRAME]].toString('latin1', l.meta[m + M_KEY_START], l.meta[m + M_KEY_END]);
  }

  compare(a: number, b: number): number {
    const l = this.l;
    if (l.decodedKeys.size > 0 && (l.decodedKeys.has(a) || l.decodedKeys.has(b))) {
      const x = this.str(a), y = this.str(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
    const meta = l.meta;
    const ma = a * META_STRIDE, mb = b * META_STRIDE;
    const ia = meta[ma + M_FRAME], ib = meta[mb + M_FRAME];
    const fa = l.frames[ia], fb = l.frames[ib];
    const va = this.view(ia), vb = this.view(ib);
    const as = meta[ma + M_KEY_START], ae = meta[ma + M_KEY_END];
    const bs = meta[mb + M_KEY_START], be = meta[mb + M_KEY_END];
    const n = Math.min(ae - as, be - bs);
    let k = 0;
    // Four bytes at a time (big-endian words order like their bytes), then the rest one by one.
    for (; k + 4 <= n; k += 4) {
      const x = va.getUint32(as + k, false), y = vb.getUint32(bs + k, false);
      if (x !== y) return x < y ? -1 : 1;
    }
    for (; k < n; k++) {
      const d = fa[as + k] - fb[bs + k];
      if (d !== 0) return d;
    }
    return ae - as - (be - bs);
  }

  private readonly views: DataView[] = [];
  private view(frame: number): DataView {
    let v = this.views[frame];
    if (!v) {
      const f = this.l.frames[frame];
      v = this.views[frame] = new DataView(f.buffer, f.byteOffset, f.byteLength);
    }
    return v;
  }
}

/** Collect a stream of chunks into one buffer (tests, small snapshots). */
export async function collectBytes(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const p of source) {
    parts.push(p);
    n += p.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
