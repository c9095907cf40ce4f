/**
 * Benchmark of the AVL index against sorted-btree, js-sdsl's OrderedMap (with its position index) and, for
 * small n, a plain sorted array — in the same process, same keys, rounds interleaved, medians reported.
 *   npm run bench:index [-- --n 1000000 --rounds 3]
 */
import BTreeModule from 'sorted-btree';
// sorted-btree is CommonJS with `exports.default`.
interface BTreeLike {
  set(k: number, v: number): boolean;
  get(k: number): number | undefined;
  delete(k: number): boolean;
  getRange(lo: number, hi: number, includeHi: boolean, max: number): [number, number][];
  forEachPair(fn: (k: number, v: number) => { break?: boolean } | void): void;
}
const m = BTreeModule as unknown as { default?: unknown };
const BTree = (m.default ?? m) as new (entries: undefined, cmp: (a: number, b: number) => number) => BTreeLike;
import { OrderedMap } from 'js-sdsl';
import { AvlTree, compareNumbers } from '../src/avl-tree.ts';
import { FileIndex, type FileEntry } from '../src/file-index.ts';
import { LruCache } from '../src/lru-cache.ts';
import { collectBytes, decodeSnapshot, encodeSnapshot } from '../src/snapshot.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const N = arg('n', 1_000_000);
const ROUNDS = arg('rounds', 3);
const LOOKUPS = N;
const DELETES = Math.min(100_000, N / 10);
const SCANS = 10_000;
const PAGES = 10_000;

let seed = 42;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const keys = Float64Array.from({ length: N }, () => Math.floor(rand() * 2 ** 40));
const lookups = Float64Array.from({ length: LOOKUPS }, (_, i) => keys[Math.floor(rand() * N)] + (i % 10 === 0 ? 1 : 0));
const scanStarts = Float64Array.from({ length: SCANS }, () => Math.floor(rand() * 2 ** 40));
const pageAt = Int32Array.from({ length: PAGES }, () => Math.floor(rand() * (N - DELETES - 100)));

interface Subject {
  name: string;
  insert(): void;
  lookup(): number;
  remove(): void;
  scan(): number;
  page(): number;
}

function avl(): Subject {
  let t = new AvlTree<number, number>(compareNumbers);
  return {
    name: 'david AvlTree',
    insert() {
      t = new AvlTree<number, number>(compareNumbers);
      for (let i = 0; i < N; i++) t.set(keys[i], i);
    },
    lookup() {
      let hits = 0;
      for (let i = 0; i < LOOKUPS; i++) if (t.get(lookups[i]) !== undefined) hits++;
      return hits;
    },
    remove() {
      for (let i = 0; i < DELETES; i++) t.delete(keys[i]);
    },
    scan() {
      let n = 0;
      for (let i = 0; i < SCANS; i++) {
        let c = 0;
        t.walk(() => (n++, ++c < 100), { from: scanStarts[i] });
      }
      return n;
    },
    page() {
      let n = 0;
      for (let i = 0; i < PAGES; i++) {
        const first = t.at(pageAt[i] % (t.size - 100))!;
        let c = 0;
        t.walk(() => (n++, ++c < 100), { from: first[0] });
      }
      return n;
    },
  };
}

function btree(): Subject {
  let t = new BTree(undefined, compareNumbers);
  return {
    name: 'sorted-btree',
    insert() {
      t = new BTree(undefined, compareNumbers);
      for (let i = 0; i < N; i++) t.set(keys[i], i);
    },
    lookup() {
      let hits = 0;
      for (let i = 0; i < LOOKUPS; i++) if (t.get(lookups[i]) !== undefined) hits++;
      return hits;
    },
    remove() {
      for (let i = 0; i < DELETES; i++) t.delete(keys[i]);
    },
    scan() {
      let n = 0;
      for (let i = 0; i < SCANS; i++) n += t.getRange(scanStarts[i], Infinity, false, 100).length;
      return n;
    },
    page() {
      // No order statistics: an offset means walking from the start (O(offset)). Measured on 1/100 of the pages, scaled.
      let n = 0;
      for (let i = 0; i < PAGES / 100; i++) {
        let pos = 0;
        const target = pageAt[i] % (N - DELETES - 200);
        t.forEachPair(() => {
          if (pos++ >= target + 100) return { break: true };
          if (pos > target) n++;
        });
      }
      return n * 100;
    },
  };
}

function sdsl(): Subject {
  let t = new OrderedMap<number, number>([], compareNumbers, true);
  return {
    name: 'js-sdsl OrderedMap',
    insert() {
      t = new OrderedMap<number, number>([], compareNumbers, true);
      for (let i = 0; i < N; i++) t.setElement(keys[i], i);
    },
    lookup() {
      let hits = 0;
      for (let i = 0; i < LOOKUPS; i++) if (t.getElementByKey(lookups[i]) !== undefined) hits++;
      return hits;
    },
    remove() {
      for (let i = 0; i < DELETES; i++) t.eraseElementByKey(keys[i]);
    },
    scan() {
      let n = 0;
      const end = t.end();
      for (let i = 0; i < SCANS; i++) {
        const it = t.lowerBound(scanStarts[i]);
        for (let c = 0; c < 100 && !it.equals(end); c++, it.next()) n++;
      }
      return n;
    },
    page() {
      // getElementByPos walks the tree in order from the start (O(offset): js-sdsl keeps no subtree sizes).
      // Measured on 1/100 of the pages, scaled, as for sorted-btree.
      let n = 0;
      const end = t.end();
      for (let i = 0; i < PAGES / 100; i++) {
        const [k] = t.getElementByPos(pageAt[i] % (t.size() - 100));
        const it = t.lowerBound(k);
        for (let c = 0; c < 100 && !it.equals(end); c++, it.next()) n++;
      }
      return n * 100;
    },
  };
}

function time(fn: () => unknown): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const subjects = [avl(), btree(), sdsl()];
const ops = ['insert', 'lookup', 'remove', 'scan', 'page'] as const;
const results: Record<string, Record<string, number[]>> = {};
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round so no structure always runs first (GC, JIT warm-up).
  for (let s = 0; s < subjects.length; s++) {
    const subject = subjects[(s + round) % subjects.length];
    const r = (results[subject.name] ??= {});
    for (const op of ops) {
      const ms = time(() => subject[op]());
      (r[op] ??= []).push(ms);
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${subject.name} ${op}: ${ms.toFixed(0)} ms\n`);
    }
  }
}

// Small n: a sorted array is the honest baseline.
const SMALL = 1000;
const smallKeys = Array.from(keys.subarray(0, SMALL));
const arrayTime = median(
  Array.from({ length: ROUNDS }, () =>
    time(() => {
      for (let rep = 0; rep < 100; rep++) {
        const a: number[] = [];
        for (const k of smallKeys) {
          let lo = 0, hi = a.length;
          while (lo < hi) {
            const m = (lo + hi) >> 1;
            if (a[m] < k) lo = m + 1;
            else hi = m;
          }
          a.splice(lo, 0, k);
        }
      }
    }),
  ),
);
const avlSmall = median(
  Array.from({ length: ROUNDS }, () =>
    time(() => {
      for (let rep = 0; rep < 100; rep++) {
        const t = new AvlTree<number, number>(compareNumbers);
        for (const k of smallKeys) t.set(k, 0);
      }
    }),
  ),
);

// Snapshot of a 1M-entry file index.
function fileEntry(i: number): FileEntry {
  return {
    file_id: `fil_${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')}${String(i).padStart(8, '0')}`,
    session_id: `ses_${String(i % 5000).padStart(6, '0')}`,
    kind: i % 4 === 0 ? 'output' : 'upload',
    name: `take-${i}.wav`,
    status: 'ready',
    size: 100_000 + i,
    uploaded_at: new Date(Date.UTC(2026, 0, 1) + i * 250).toISOString(),
    format: 'wav',
    duration_s: 30 + (i % 100),
  };
}
const index = FileIndex.fromEntries(Array.from({ length: N }, (_, i) => fileEntry(i)));
const hotSession = fileEntry(12345).session_id;
let bytes: Uint8Array = new Uint8Array();
const writes: number[] = [];
const loads: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  bytes = await collectBytes(encodeSnapshot(index));
  writes.push(performance.now() - t0);
  const t1 = performance.now();
  const loaded = await decodeSnapshot(bytes);
  loads.push(performance.now() - t1);
  if (loaded.size !== N) throw new Error('snapshot lost entries');
}

// Does the LRU pay? The same hot page listed repeatedly, with the cache and with it bypassed (a 1-entry cache).
const lruOn = median(Array.from({ length: ROUNDS }, () => time(() => {
  for (let i = 0; i < 20_000; i++) index.listSession(hotSession, { limit: 50 });
})));
// Shrink the cache to one entry: every read decodes.
const cold = index.withCache(new LruCache(1, 1e9));
const lruOff = median(Array.from({ length: ROUNDS }, () => time(() => {
  for (let i = 0; i < 20_000; i++) cold.listSession(hotSession, { limit: 50 });
})));

const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const rows: string[] = [];
rows.push(`| operation (n = ${N.toLocaleString('en')}) | david AvlTree ms | sorted-btree ms | js-sdsl OrderedMap ms | david ÷ best other | target ≤ 1.2× |`);
rows.push('| --- | ---: | ---: | ---: | ---: | --- |');
const label: Record<string, string> = {
  insert: `${N.toLocaleString('en')} random inserts`,
  lookup: `${LOOKUPS.toLocaleString('en')} lookups (10 % misses)`,
  remove: `${DELETES.toLocaleString('en')} deletes`,
  scan: `${SCANS.toLocaleString('en')} range scans of 100`,
  page: `${PAGES.toLocaleString('en')} pages of 100 at random offsets`,
};
for (const op of ops) {
  const m = subjects.map((s) => median(results[s.name][op]));
  const best = Math.min(m[1], m[2]);
  const ratio = m[0] / best;
  rows.push(`| ${label[op]} | ${fmt(m[0])} | ${fmt(m[1])}${op === 'page' ? ' (O(offset), scaled)' : ''} | ${fmt(m[2])}${op === 'page' ? ' (O(offset), scaled)' : ''} | ${ratio.toFixed(2)}× | ${ratio <= 1.2 ? 'met' : 'not met'} |`);
}
console.log(`\n${rows.join('\n')}\n`);
console.log(`| small n | david AvlTree ms | sorted array ms |\n| --- | ---: | ---: |\n| 100 × ${SMALL} inserts | ${fmt(avlSmall)} | ${fmt(arrayTime)} |\n`);
console.log(`| snapshot (${N.toLocaleString('en')} file entries) | value |\n| --- | ---: |`);
console.log(`| write (stream to bytes) | ${fmt(median(writes))} ms |`);
console.log(`| load (parse + build both trees) | ${fmt(median(loads))} ms (target ≤ 300 ms: ${median(loads) <= 300 ? 'met' : 'not met'}) |`);
console.log(`| size | ${(bytes.length / N).toFixed(1)} bytes per entry (${(bytes.length / 2 ** 20).toFixed(0)} MiB) |`);
console.log(`\n| LRU in front of record reads | ms for 20,000 listings of a hot 50-entry page |\n| --- | ---: |\n| cache on | ${fmt(lruOn)} |\n| cache off (every read decodes) | ${fmt(lruOff)} |\n`);
console.log(`node ${process.version}, ${ROUNDS} rounds, medians; ${new Date().toISOString().slice(0, 10)}`);
