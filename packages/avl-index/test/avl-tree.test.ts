import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AvlTree, compareNumbers, compareStrings, InvariantError } from '../src/avl-tree.ts';
import { LruCache } from '../src/lru-cache.ts';

/** The model: a plain sorted array of [key, value]. */
class Model {
  entries: [number, number][] = [];
  private idx(k: number) {
    let lo = 0, hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.entries[mid][0] < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
  set(k: number, v: number) {
    const i = this.idx(k);
    if (this.entries[i]?.[0] === k) {
      this.entries[i][1] = v;
      return false;
    }
    this.entries.splice(i, 0, [k, v]);
    return true;
  }
  delete(k: number) {
    const i = this.idx(k);
    if (this.entries[i]?.[0] !== k) return false;
    this.entries.splice(i, 1);
    return true;
  }
  get(k: number) {
    const i = this.idx(k);
    return this.entries[i]?.[0] === k ? this.entries[i][1] : undefined;
  }
  rank(k: number) {
    return this.idx(k);
  }
}

const op = fc.oneof(
  fc.record({ t: fc.constant('set' as const), k: fc.integer({ min: 0, max: 200 }), v: fc.integer() }),
  fc.record({ t: fc.constant('delete' as const), k: fc.integer({ min: 0, max: 200 }) }),
);

describe('AvlTree', () => {
  it('behaves like a sorted array under random operations, keeping its invariants', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(fc.integer({ min: -5, max: 205 }), { maxLength: 20 }), (ops, probes) => {
        const tree = new AvlTree<number, number>(compareNumbers);
        const model = new Model();
        for (const o of ops) {
          if (o.t === 'set') expect(tree.set(o.k, o.v)).toBe(model.set(o.k, o.v));
          else expect(tree.delete(o.k)).toBe(model.delete(o.k));
          tree.assertInvariants();
          expect(tree.size).toBe(model.entries.length);
        }
        const all = tree.toArrays();
        expect(all.keys).toEqual(model.entries.map((e) => e[0]));
        expect(all.values).toEqual(model.entries.map((e) => e[1]));
        for (const p of probes) {
          expect(tree.get(p)).toBe(model.get(p));
          expect(tree.rank(p)).toBe(model.rank(p));
          const r = model.rank(p);
          expect(tree.at(r)?.[0]).toBe(model.entries[r]?.[0]);
          const ceil = model.entries[r];
          expect(tree.ceiling(p)?.[0]).toBe(ceil?.[0]);
          const floorEntry = model.get(p) !== undefined ? model.entries[r] : model.entries[r - 1];
          expect(tree.floor(p)?.[0]).toBe(floorEntry?.[0]);
          expect(tree.floor(p, true)?.[0]).toBe(model.entries[r - 1]?.[0]);
          expect(tree.ceiling(p, true)?.[0]).toBe(model.entries[model.get(p) !== undefined ? r + 1 : r]?.[0]);
          const to = p + 37;
          expect(tree.range(p, to).map((e) => e[0])).toEqual(model.entries.filter((e) => e[0] >= p && e[0] < to).map((e) => e[0]));
          const down: number[] = [];
          tree.walk((k) => void down.push(k), { from: p, descending: true });
          expect(down).toEqual(model.entries.filter((e) => e[0] <= p).map((e) => e[0]).reverse());
          expect([...tree.entries({ from: p })].map((e) => e[0])).toEqual(model.entries.filter((e) => e[0] >= p).map((e) => e[0]));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('stays balanced (height ≤ 1.44 log2 n) through sequential inserts and deletes', () => {
    const tree = new AvlTree<number, null>(compareNumbers);
    for (let i = 0; i < 100_000; i++) tree.set(i, null);
    tree.assertInvariants();
    for (let i = 0; i < 100_000; i += 2) tree.delete(i);
    tree.assertInvariants();
    expect(tree.size).toBe(50_000);
    expect(tree.at(0)?.[0]).toBe(1);
    expect(tree.rank(99_999)).toBe(49_999);
    expect(tree.min()?.[0]).toBe(1);
    expect(tree.max()?.[0]).toBe(99_999);
  });

  it('builds a balanced tree from sorted input in one pass, and refuses unsorted input', () => {
    const keys = Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    const tree = AvlTree.fromSorted(compareStrings, keys, keys.map((_, i) => i));
    tree.assertInvariants();
    expect(tree.size).toBe(1000);
    expect(tree.get('k0500')).toBe(500);
    tree.set('k0500x', -1);
    tree.delete('k0000');
    tree.assertInvariants();
    expect(() => AvlTree.fromSorted(compareStrings, ['b', 'a'], [1, 2])).toThrow(InvariantError);
    expect(AvlTree.fromSorted(compareStrings, [], []).size).toBe(0);
  });
});

describe('LruCache', () => {
  it('evicts the least recently used entry by count and by bytes', () => {
    const c = new LruCache<string, string>(3, 10, (v) => v.length);
    c.set('a', 'xx');
    c.set('b', 'xx');
    c.set('c', 'xx');
    expect(c.get('a')).toBe('xx'); // a is now most recent
    c.set('d', 'xx'); // count limit: b goes
    expect(c.get('b')).toBeUndefined();
    expect(c.get('c')).toBe('xx');
    c.set('e', 'xxxxxx'); // byte limit (2+2+2+6 > 10): oldest go until it fits
    expect(c.totalBytes).toBeLessThanOrEqual(10);
    expect(c.get('e')).toBe('xxxxxx');
    c.set('huge', 'x'.repeat(11));
    expect(c.get('huge')).toBeUndefined();
    expect(c.hits).toBeGreaterThan(0);
    expect(c.misses).toBeGreaterThan(0);
  });
});
