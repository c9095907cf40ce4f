import { describe, expect, it } from 'vitest';
import { FileIndex } from '../src/file-index.ts';
import { entry } from './helpers.ts';

describe('FileIndex', () => {
  const build = (n: number) => {
    const idx = new FileIndex();
    for (let i = 0; i < n; i++) idx.upsert(entry(i));
    return idx;
  };

  it('lists a session by upload time with offset, limit, order and time bounds', () => {
    const idx = build(100);
    const all = idx.listSession('ses_3', { limit: 1000 });
    const expected = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 7 === 3);
    expect(all.total).toBe(expected.length);
    expect(all.items.map((e) => e.file_id)).toEqual(expected.map((i) => entry(i).file_id));
    expect(all.items[0]).toEqual(entry(3));
    const page = idx.listSession('ses_3', { offset: 2, limit: 3 });
    expect(page.items.map((e) => e.file_id)).toEqual(expected.slice(2, 5).map((i) => entry(i).file_id));
    expect(page.total).toBe(expected.length);
    const desc = idx.listSession('ses_3', { order: 'desc', limit: 2, offset: 1 });
    expect(desc.items.map((e) => e.file_id)).toEqual(expected.slice().reverse().slice(1, 3).map((i) => entry(i).file_id));
    const bounded = idx.listSession('ses_3', { after: entry(20).uploaded_at, before: entry(60).uploaded_at });
    expect(bounded.items.map((e) => e.file_id)).toEqual(expected.filter((i) => i >= 20 && i < 60).map((i) => entry(i).file_id));
    expect(bounded.total).toBe(expected.filter((i) => i >= 20 && i < 60).length);
    expect(idx.listSession('ses_none').total).toBe(0);
  });

  it('lists everything by time, and keeps both orderings in step on upsert, remove and session removal', () => {
    const idx = build(50);
    expect(idx.listAll({ limit: 5 }).items.map((e) => e.file_id)).toEqual([0, 1, 2, 3, 4].map((i) => entry(i).file_id));
    expect(idx.listAll({ order: 'desc', limit: 1 }).items[0].file_id).toBe(entry(49).file_id);
    // Moving an entry in time re-keys it in both trees.
    idx.upsert({ ...entry(0), uploaded_at: entry(100).uploaded_at, status: 'ready' });
    expect(idx.listAll({ order: 'desc', limit: 1 }).items[0]).toMatchObject({ file_id: entry(0).file_id, status: 'ready' });
    expect(idx.size).toBe(50);
    expect(idx.remove(entry(1).file_id)).toBe(true);
    expect(idx.remove(entry(1).file_id)).toBe(false);
    expect(idx.get(entry(1).file_id)).toBeUndefined();
    const removed = idx.removeSession('ses_2');
    expect(removed).toBe(7);
    expect(idx.listSession('ses_2').total).toBe(0);
    expect(idx.listAll({ limit: 1000 }).items.some((e) => e.session_id === 'ses_2')).toBe(false);
    expect(idx.size).toBe(50 - 1 - 7);
    idx.bySession.assertInvariants();
    idx.byTime.assertInvariants();
  });
});
