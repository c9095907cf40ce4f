import { describe, expect, it } from 'vitest';
import { IndexReader, IndexWriter, loadCommitted } from '../src/writer.ts';
import { entry, MemoryBlobs, MemoryPointers } from './helpers.ts';

const ports = () => ({ blobs: new MemoryBlobs(), pointers: new MemoryPointers() });

describe('the index writer', () => {
  it('commits versions, taking snapshots now and then, and readers see the committed state', async () => {
    const p = ports();
    const w = new IndexWriter(p, 'files', { snapshotEvery: 3 });
    for (let i = 0; i < 10; i++) await w.apply([{ op: 'upsert', entry: entry(i) }]);
    const pointer = await p.pointers.read('files');
    expect(pointer?.version).toBe(10);
    expect(pointer?.snapshotKey).toMatch(/^index\/files\/snapshots\/000000000009-/);
    expect(pointer?.journal).toHaveLength(1);
    const reader = new IndexReader(p, 'files');
    const { index, version } = await reader.current();
    expect(version).toBe(10);
    expect(index.size).toBe(10);
    expect(await reader.current()).toBe(await reader.current()); // cached by version
  });

  it('leaves the old version intact when it crashes between writing a snapshot and committing', async () => {
    const p = ports();
    const w = new IndexWriter(p, 'files', { snapshotEvery: 2 });
    await w.apply([{ op: 'upsert', entry: entry(1) }]);
    p.blobs.failNextPut = null;
    // Simulate the crash: the snapshot object is written, then the commit never happens.
    const realCas = p.pointers.compareAndSet.bind(p.pointers);
    p.pointers.compareAndSet = async () => {
      throw new Error('crashed before commit');
    };
    await expect(w.apply([{ op: 'upsert', entry: entry(2) }])).rejects.toThrow('crashed before commit');
    expect([...p.blobs.objects.keys()].some((k) => k.includes('/snapshots/'))).toBe(true);
    p.pointers.compareAndSet = realCas;
    const committed = await loadCommitted(p, await p.pointers.read('files'));
    expect(committed.index.size).toBe(1);
    expect((await p.pointers.read('files'))?.version).toBe(1);
    // A new writer (after the crash) carries on from the committed version; the batch is redelivered.
    await new IndexWriter(p, 'files', { snapshotEvery: 2 }).apply([{ op: 'upsert', entry: entry(2) }]);
    expect((await loadCommitted(p, await p.pointers.read('files'))).index.size).toBe(2);
  });

  it('lets exactly one of two concurrent writers win each version; the other retries and nothing is lost', async () => {
    const p = ports();
    const a = new IndexWriter(p, 'files', { snapshotEvery: 4 });
    const b = new IndexWriter(p, 'files', { snapshotEvery: 4 });
    // Two writer processes, each handling its own batches in order, racing for every version.
    const run = async (w: IndexWriter, parity: number) => {
      const out = [];
      for (let i = parity; i < 20; i += 2) out.push(await w.apply([{ op: 'upsert', entry: entry(i) }]));
      return out;
    };
    const results = (await Promise.all([run(a, 0), run(b, 1)])).flat();
    const versions = results.map((r) => r.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    const { index } = await loadCommitted(p, await p.pointers.read('files'));
    expect(index.size).toBe(20);
    for (let i = 0; i < 20; i++) expect(index.get(entry(i).file_id)).toEqual(entry(i));
  });

  it('recovers from a corrupted snapshot through the previous snapshot plus the journal', async () => {
    const p = ports();
    const w = new IndexWriter(p, 'files', { snapshotEvery: 2 });
    for (let i = 0; i < 7; i++) await w.apply([{ op: 'upsert', entry: entry(i) }]);
    await w.apply([{ op: 'remove', file_id: entry(3).file_id }]);
    const pointer = (await p.pointers.read('files'))!;
    const snap = p.blobs.objects.get(pointer.snapshotKey!)!;
    snap[snap.length >> 1] ^= 0xff;
    const { index, recovered } = await loadCommitted(p, pointer);
    expect(recovered).toBe(true);
    expect(index.size).toBe(6);
    expect(index.get(entry(3).file_id)).toBeUndefined();
    expect(index.get(entry(6).file_id)).toEqual(entry(6));
  });
});

describe('collecting superseded snapshots and journal segments', () => {
  it('keeps only the current and previous chains (past the retention window), and the index still loads', async () => {
    const blobs = new MemoryBlobs();
    const pointers = new MemoryPointers();
    let now = Date.UTC(2026, 0, 1);
    blobs.clock = () => new Date(now);
    const writer = new IndexWriter({ blobs, pointers }, 'files', { snapshotEvery: 3, retainMs: 60_000, now: () => new Date(now) });
    let collected = 0;
    for (let i = 0; i < 30; i++) {
      now += 10_000; // a batch every 10 s
      collected += (await writer.apply([{ op: 'upsert', entry: entry(i) }])).collected;
    }
    expect(collected).toBeGreaterThan(0);
    const p = (await pointers.read('files'))!;
    const live = new Set([p.snapshotKey, ...p.journal, p.previous?.snapshotKey, ...(p.previous?.journal ?? [])].filter(Boolean));
    // Everything left is either referenced or younger than the retention window (a reader may be streaming it).
    for (const [key, at] of blobs.writtenAt) if (blobs.objects.has(key) && !live.has(key)) expect(now - at.getTime()).toBeLessThan(60_000 + 30_000);
    expect(blobs.objects.size).toBeLessThan(30 + 10); // 30 segments and 10 snapshots written
    const { index } = await loadCommitted({ blobs, pointers }, p);
    expect(index.listAll({ limit: 1000 }).total).toBe(30);
    // A reader of the previous snapshot still finds it (recovery path).
    expect(blobs.objects.has(p.previous!.snapshotKey!)).toBe(true);
  });

  it('deletes nothing younger than the retention window', async () => {
    const blobs = new MemoryBlobs();
    const writer = new IndexWriter({ blobs, pointers: new MemoryPointers() }, 'files', { snapshotEvery: 2, retainMs: 3_600_000 });
    for (let i = 0; i < 12; i++) expect((await writer.apply([{ op: 'upsert', entry: entry(i) }])).collected).toBe(0);
    expect(blobs.objects.size).toBe(12 + 6);
  });
});

describe('the index reader', () => {
  /** Count what the reader reads from the blob store. */
  const counting = () => {
    const p = ports();
    const reads: string[] = [];
    const get = p.blobs.get.bind(p.blobs);
    p.blobs.get = async (key: string) => {
      reads.push(key);
      return get(key);
    };
    return { p, reads };
  };

  it('catches up by applying only the new journal segments, across new snapshots, and matches a full load', async () => {
    const { p, reads } = counting();
    const w = new IndexWriter(p, 'files', { snapshotEvery: 4 });
    const reader = new IndexReader(p, 'files');
    for (let i = 0; i < 30; i++) {
      await w.apply([{ op: 'upsert', entry: entry(i) }, ...(i % 6 === 5 ? [{ op: 'remove' as const, file_id: entry(i - 3).file_id }] : [])]);
      reads.length = 0;
      const { index, version } = await reader.current();
      expect(version).toBe(i + 1);
      // Never a snapshot after the first load: one new segment per version.
      if (i > 0) expect(reads.filter((k) => k.includes('/snapshots/'))).toEqual([]);
      if (i > 0) expect(reads).toHaveLength(1);
      const full = (await loadCommitted(p, await p.pointers.read('files'))).index;
      expect(index.size).toBe(full.size);
      expect(index.listAll({ limit: 1000 }).items.length).toBe(full.size);
      expect(index.listAll({ limit: 1000 })).toEqual(full.listAll({ limit: 1000 }));
    }
    expect(reader.stats).toMatchObject({ loads: 1, updates: 29, segments: 29 });
  });

  it('loads whole when its version fell out of the chain, and shares one load among concurrent reads', async () => {
    const { p, reads } = counting();
    const w = new IndexWriter(p, 'files', { snapshotEvery: 2 });
    const reader = new IndexReader(p, 'files');
    await w.apply([{ op: 'upsert', entry: entry(1) }]);
    await reader.current();
    for (let i = 2; i < 8; i++) await w.apply([{ op: 'upsert', entry: entry(i) }]); // several snapshots later
    reads.length = 0;
    const all = await Promise.all(Array.from({ length: 10 }, () => reader.current()));
    expect(new Set(all.map((a) => a.version))).toEqual(new Set([7]));
    expect(all[0].index.size).toBe(7);
    expect(reader.stats.loads).toBe(2);
    // One snapshot read for the ten calls, not ten.
    expect(reads.filter((k) => k.includes('/snapshots/'))).toHaveLength(1);
  });
});
