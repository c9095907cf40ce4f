import { describe, expect, it } from 'vitest';
import { CorruptIndexError } from '../src/errors.ts';
import { AvlTree } from '../src/avl-tree.ts';
import { EntryStore, FileIndex, encodeEntry, sessionKey } from '../src/file-index.ts';
import { collectBytes, decodeSnapshot, encodeSnapshot } from '../src/snapshot.ts';
import { entry } from './helpers.ts';

async function roundTrip(idx: FileIndex) {
  const bytes = await collectBytes(encodeSnapshot(idx));
  return { bytes, loaded: await decodeSnapshot(bytes) };
}

describe('snapshots', () => {
  it('round-trip an empty index and a single entry', async () => {
    const empty = await roundTrip(new FileIndex());
    expect(empty.loaded.size).toBe(0);
    const one = new FileIndex();
    one.upsert(entry(42));
    const r = await roundTrip(one);
    expect(r.loaded.get(entry(42).file_id)).toEqual(entry(42));
    expect(r.loaded.listAll().items).toEqual([entry(42)]);
  });

  it('round-trip 1 M entries, streaming, into balanced trees', async () => {
    // Built directly from sorted input (upserting a million entries one by one is the benchmark's job).
    const n = 1_000_000;
    const entries = Array.from({ length: n }, (_, i) => entry(i, `ses_${String(i % 1000).padStart(3, '0')}`));
    const idx = FileIndex.fromEntries(entries);
    const chunks: number[] = [];
    const parts: Uint8Array[] = [];
    for await (const c of encodeSnapshot(idx)) {
      chunks.push(c.length);
      parts.push(c);
    }
    // Streamed in frames, none near the size of the whole snapshot.
    const total = chunks.reduce((a, b) => a + b, 0);
    expect(Math.max(...chunks)).toBeLessThan(total / 50);
    const loaded = await decodeSnapshot((async function* () { yield* parts; })());
    expect(loaded.size).toBe(1_000_000);
    loaded.bySession.assertInvariants();
    loaded.byTime.assertInvariants();
    expect(loaded.listSession('ses_007', { offset: 500, limit: 2 }).items).toEqual([entry(500_007, 'ses_007'), entry(501_007, 'ses_007')]);
    expect(loaded.listAll({ offset: 999_999 }).items).toEqual([entry(999_999, 'ses_999')]);
    expect(loaded.get(entry(123_456).file_id)).toEqual(entry(123_456, 'ses_456'));
  }, 60_000);

  it('keeps non-ASCII keys and names intact, and still reads version 1 snapshots', async () => {
    const idx = new FileIndex();
    const sessions = ['ses_plain', 'séance_été', 'セッション', 'ses_😀'];
    const all = Array.from({ length: 400 }, (_, i) => ({ ...entry(i, sessions[i % 4]), name: i % 3 ? `Grüße ${i}.wav` : `take ${i}.wav` }));
    for (const e of all) idx.upsert(e);
    for (const version of [1, 2] as const) {
      const bytes = await collectBytes(encodeSnapshot(idx, version));
      expect(bytes[8], 'version field').toBe(version);
      const loaded = await decodeSnapshot(bytes);
      loaded.bySession.assertInvariants();
      loaded.byTime.assertInvariants();
      for (const s of sessions) expect(loaded.listSession(s, { limit: 1000 })).toEqual(idx.listSession(s, { limit: 1000 }));
      expect(loaded.listAll({ limit: 1000 }).items).toEqual(idx.listAll({ limit: 1000 }).items);
      expect(loaded.get(all[7].file_id)).toEqual(all[7]);
    }
  });

  it('a loaded index (keys and values still in the snapshot bytes) takes every change and saves again', async () => {
    const idx = new FileIndex();
    for (let i = 0; i < 5000; i++) idx.upsert(entry(i));
    const loaded = (await roundTrip(idx)).loaded;
    for (const x of [idx, loaded]) {
      x.upsert({ ...entry(12), uploaded_at: entry(9000).uploaded_at, status: 'moved' });
      x.upsert(entry(6000, 'ses_new'));
      x.remove(entry(11).file_id);
      x.removeSession('ses_3');
      x.bySession.assertInvariants();
      x.byTime.assertInvariants();
    }
    expect(loaded.size).toBe(idx.size);
    expect(loaded.listAll({ limit: 1000, offset: 3000 })).toEqual(idx.listAll({ limit: 1000, offset: 3000 }));
    expect(loaded.listSession('ses_new')).toEqual(idx.listSession('ses_new'));
    expect(loaded.listSession('ses_3').total).toBe(0);
    expect(loaded.get(entry(12).file_id)?.status).toBe('moved');
    expect(loaded.listAll({ order: 'desc', limit: 1 }).items[0].file_id).toBe(entry(12).file_id);
    const again = (await roundTrip(loaded)).loaded;
    expect(again.listAll({ limit: 1000, order: 'desc' })).toEqual(idx.listAll({ limit: 1000, order: 'desc' }));
  });

  it('rejects a snapshot whose session keys are out of order or whose time section repeats an entry', async () => {
    const store = new EntryStore();
    const ids = [0, 1, 2].map((i) => store.add(sessionKey(entry(i)), encodeEntry(entry(i))));
    const sorted = [ids[0], ...ids];
    // Built with adopt, which trusts its caller: a writer bug in miniature.
    const swapped = new FileIndex(store, {
      bySession: AvlTree.adopt(store.bySessionKey, [ids[1], ids[1], ids[0], ids[2]], [ids[1], ids[1], ids[0], ids[2]]),
      byTime: AvlTree.adopt(store.byTimeKey, sorted.slice(), sorted.slice()),
    });
    await expect(decodeSnapshot(await collectBytes(encodeSnapshot(swapped)))).rejects.toMatchObject({ code: 'Index::CorruptSnapshot', message: expect.stringContaining('out of order') });
    const repeated = new FileIndex(store, {
      bySession: AvlTree.adopt(store.bySessionKey, sorted.slice(), sorted.slice()),
      byTime: AvlTree.adopt(store.byTimeKey, [ids[0], ids[0], ids[0], ids[2]], [ids[0], ids[0], ids[0], ids[2]]),
    });
    await expect(decodeSnapshot(await collectBytes(encodeSnapshot(repeated)))).rejects.toMatchObject({ code: 'Index::CorruptSnapshot', message: expect.stringContaining('twice') });
  });

  it('detects a flipped byte anywhere and a truncated file', async () => {
    const idx = new FileIndex();
    for (let i = 0; i < 5000; i++) idx.upsert(entry(i));
    const bytes = await collectBytes(encodeSnapshot(idx));
    for (const at of [3, 20, 40, 1000, Math.floor(bytes.length / 2), bytes.length - 20, bytes.length - 3]) {
      const bad = bytes.slice();
      bad[at] ^= 0x10;
      await expect(decodeSnapshot(bad), `byte ${at}`).rejects.toBeInstanceOf(CorruptIndexError);
    }
    for (const cut of [0, 10, 100, bytes.length - 1]) {
      await expect(decodeSnapshot(bytes.subarray(0, cut)), `cut at ${cut}`).rejects.toMatchObject({ code: expect.stringMatching(/^Index::/) });
    }
  });
});
