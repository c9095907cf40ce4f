/**
 * A generic AVL tree with order statistics (subtree sizes), stored as a struct of typed arrays indexed by node
 * number with a free list: no per-node objects, so it is cheap to build, walk and collect. Every operation is
 * iterative (an explicit path stack), so depth never costs stack frames.
 */
export type Comparator<K> = (a: K, b: K) => number;

const NIL = 0; // node 0 is the sentinel: height 0, size 0
const MAX_DEPTH = 96; // an AVL tree of 2^53 nodes is shallower than 1.45 * 53 + 2

export const compareStrings: Comparator<string> = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
export const compareNumbers: Comparator<number> = (a, b) => a - b;

export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantError';
  }
}

export class AvlTree<K, V> {
  // Slot 0 is NIL. The arrays start empty and slot 0 takes the first key/value stored, so they never hold
  // `undefined` next to keys: V8 keeps number keys unboxed (packed doubles) and every comparison skips a heap load.
  private keys: K[] = [];
  private vals: V[] = [];
  /** Children interleaved (left at 2n, right at 2n + 1): one cache line per step down. */
  private kids = new Int32Array(32);
  private height = new Int8Array(16);
  private sizes = new Int32Array(16);
  private root = NIL;
  private next = 1; // first never-used slot
  private free: number[] = [];
  private readonly path = new Int32Array(MAX_DEPTH);
  private readonly dirs = new Uint8Array(MAX_DEPTH);

  constructor(readonly compare: Comparator<K>) {}

  /** Build a balanced tree in O(n) from keys in strictly ascending order (checked). */
  static fromSorted<K, V>(compare: Comparator<K>, keys: K[], values: V[]): AvlTree<K, V> {
    const t = new AvlTree<K, V>(compare);
    const n = keys.length;
    for (let i = 1; i < n; i++) {
      if (compare(keys[i - 1], keys[i]) >= 0) throw new InvariantError(`keys are not strictly ascending at ${i}`);
    }
    if (n === 0) return t;
    // Slot 0 (NIL) repeats the first entry so the arrays stay packed (see the field comment).
    return AvlTree.adopt(compare, [keys[0], ...keys], [values[0], ...values]);
  }

  /**
   * Build a balanced tree in O(n) around arrays that already have the layout of its storage: entry i at slot
   * i + 1, slot 0 repeating the first entry, keys strictly ascending (not checked: the caller has). The tree
   * takes the arrays over — no copy (a snapshot loader fills them directly).
   */
  static adopt<K, V>(compare: Comparator<K>, slottedKeys: K[], slottedValues: V[]): AvlTree<K, V> {
    const t = new AvlTree<K, V>(compare);
    const n = slottedKeys.length - 1;
    if (n <= 0) return t;
    if (slottedValues.length !== n + 1 || slottedKeys === (slottedValues as unknown)) throw new RangeError('adopt needs two separate arrays of the same length');
    t.grow(n + 1);
    // Node i + 1 holds entry i: in-order position equals node number, so only links, heights and sizes are built.
    t.keys = slottedKeys;
    t.vals = slottedValues;
    // Ranges from an explicit stack (no recursion). A range of m nodes split at its middle has height bitlength(m).
    const kids = t.kids, height = t.height, sizes = t.sizes;
    const stack = new Int32Array(3 * 2 * MAX_DEPTH);
    let sp = 0;
    stack[sp++] = 0, stack[sp++] = n - 1, stack[sp++] = -1;
    while (sp > 0) {
      const slot = stack[--sp], hi = stack[--sp], lo = stack[--sp];
      const mid = (lo + hi) >>> 1;
      const node = mid + 1;
      if (slot < 0) t.root = node;
      else kids[slot] = node;
      const m = hi - lo + 1;
      sizes[node] = m;
      height[node] = 32 - Math.clz32(m);
      if (lo <= mid - 1) (stack[sp++] = lo, stack[sp++] = mid - 1, stack[sp++] = 2 * node);
      if (mid + 1 <= hi) (stack[sp++] = mid + 1, stack[sp++] = hi, stack[sp++] = 2 * node + 1);
    }
    t.next = n + 1;
    return t;
  }

  get size(): number {
    return this.sizes[this.root];
  }

  // ---- storage ---------------------------------------------------------------------------------------

  private grow(min: number): void {
    if (min <= this.sizes.length) return;
    let cap = this.sizes.length;
    while (cap < min) cap *= 2;
    const widen = <T extends Int32Array | Int8Array>(a: T, make: (n: number) => T) => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    const kids = new Int32Array(cap * 2);
    kids.set(this.kids);
    this.kids = kids;
    this.sizes = widen(this.sizes, (n) => new Int32Array(n));
    this.height = widen(this.height, (n) => new Int8Array(n));
  }

  private alloc(key: K, value: V): number {
    let n = this.free.pop();
    if (n === undefined) {
      n = this.next++;
      this.grow(this.next);
    }
    if (n === 1 && this.keys.length === 0) {
      this.keys.push(key);
      this.vals.push(value);
    }
    if (n === this.keys.length) {
      this.keys.push(key);
      this.vals.push(value);
    } else {
      this.keys[n] = key;
      this.vals[n] = value;
    }
    this.kids[2 * n] = NIL;
    this.kids[2 * n + 1] = NIL;
    this.height[n] = 1;
    this.sizes[n] = 1;
    return n;
  }

  private release(n: number): void {
    // Keep the arrays' element kind: park slot 0's entry instead of writing undefined (freed slots are reused first).
    this.keys[n] = this.keys[0];
    this.vals[n] = this.vals[0];
    this.free.push(n);
  }

  // ---- lookups ---------------------------------------------------------------------------------------

  private find(key: K): number {
    const cmp = this.compare;
    const keys = this.keys, kids = this.kids;
    let n = this.root;
    while (n !== NIL) {
      const c = cmp(key, keys[n]);
      if (c === 0) return n;
      n = kids[2 * n + (c < 0 ? 0 : 1)];
    }
    return NIL;
  }

  has(key: K): boolean {
    return this.find(key) !== NIL;
  }

  get(key: K): V | undefined {
    const n = this.find(key);
    return n === NIL ? undefined : this.vals[n];
  }

  min(): [K, V] | undefined {
    let n = this.root;
    if (n === NIL) return undefined;
    while (this.kids[2 * (n)] !== NIL) n = this.kids[2 * (n)];
    return [this.keys[n], this.vals[n]];
  }

  max(): [K, V] | undefined {
    let n = this.root;
    if (n === NIL) return undefined;
    while (this.kids[2 * (n) + 1] !== NIL) n = this.kids[2 * (n) + 1];
    return [this.keys[n], this.vals[n]];
  }

  /** The greatest entry with key ≤ `key` (< with `strict`). */
  floor(key: K, strict = false): [K, V] | undefined {
    const cmp = this.compare;
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      const c = cmp(key, this.keys[n]);
      if (c > 0 || (c === 0 && !strict)) {
        best = n;
        if (c === 0) break;
        n = this.kids[2 * (n) + 1];
      } else n = this.kids[2 * (n)];
    }
    return best === NIL ? undefined : [this.keys[best], this.vals[best]];
  }

  /** The least entry with key ≥ `key` (> with `strict`). */
  ceiling(key: K, strict = false): [K, V] | undefined {
    const cmp = this.compare;
    let n = this.root;
    let best = NIL;
    while (n !== NIL) {
      const c = cmp(key, this.keys[n]);
      if (c < 0 || (c === 0 && !strict)) {
        best = n;
        if (c === 0) break;
        n = this.kids[2 * (n)];
      } else n = this.kids[2 * (n) + 1];
    }
    return best === NIL ? undefined : [this.keys[best], this.vals[best]];
  }

  /** How many keys are strictly less than `key` (its 0-based index when present). O(log n). */
  rank(key: K): number {
    const cmp = this.compare;
    let n = this.root;
    let r = 0;
    while (n !== NIL) {
      const c = cmp(key, this.keys[n]);
      if (c < 0) n = this.kids[2 * (n)];
      else if (c > 0) {
        r += this.sizes[this.kids[2 * (n)]] + 1;
        n = this.kids[2 * (n) + 1];
      } else return r + this.sizes[this.kids[2 * (n)]];
    }
    return r;
  }

  /** The entry at a 0-based position in key order. O(log n). */
  at(index: number): [K, V] | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) return undefined;
    let n = this.root;
    let i = index;
    for (;;) {
      const ls = this.sizes[this.kids[2 * (n)]];
      if (i < ls) n = this.kids[2 * (n)];
      else if (i === ls) return [this.keys[n], this.vals[n]];
      else {
        i -= ls + 1;
        n = this.kids[2 * (n) + 1];
      }
    }
  }

  // ---- ordered walks ---------------------------------------------------------------------------------

  /**
   * Visit entries in order starting at `from` (inclusive; the first/last entry when omitted), ascending or
   * descending, until `visit` returns false. O(log n + k).
   */
  walk(visit: (key: K, value: V) => boolean | void, opts: { from?: K; descending?: boolean } = {}): void {
    const cmp = this.compare;
    const keys = this.keys;
    const desc = opts.descending ?? false;
    const kids = this.kids;
    const near = desc ? 1 : 0;
    const far = 1 - near;
    const stack = new Int32Array(MAX_DEPTH);
    let sp = 0;
    let n = this.root;
    const hasFrom = opts.from !== undefined;
    while (n !== NIL) {
      const c = hasFrom ? cmp(opts.from as K, keys[n]) : desc ? 1 : -1;
      // Ascending: keep nodes ≥ from; descending: keep nodes ≤ from.
      if (desc ? c >= 0 : c <= 0) {
        stack[sp++] = n;
        n = kids[2 * n + near];
      } else n = kids[2 * n + far];
    }
    while (sp > 0) {
      n = stack[--sp];
      if (visit(keys[n], this.vals[n]) === false) return;
      n = kids[2 * n + far];
      while (n !== NIL) {
        stack[sp++] = n;
        n = kids[2 * n + near];
      }
    }
  }

  /** Entries with from ≤ key < to, in order (at most `limit`). */
  range(from: K, to: K, limit = Infinity): [K, V][] {
    const out: [K, V][] = [];
    const cmp = this.compare;
    if (limit <= 0) return out;
    this.walk(
      (k, v) => {
        if (cmp(k, to) >= 0) return false;
        out.push([k, v]);
        return out.length < limit;
      },
      { from },
    );
    return out;
  }

  *entries(opts: { from?: K; descending?: boolean } = {}): IterableIterator<[K, V]> {
    // A generator over a snapshot of positions: rank-based so it stays valid and O(log n) per step.
    const start = opts.from === undefined ? (opts.descending ? this.size - 1 : 0) : opts.descending ? this.rank(opts.from) - (this.has(opts.from) ? 0 : 1) : this.rank(opts.from);
    for (let i = start; opts.descending ? i >= 0 : i < this.size; opts.descending ? i-- : i++) yield this.at(i)!;
  }

  /** All keys and values in order (for snapshots). */
  toArrays(): { keys: K[]; values: V[] } {
    const keys: K[] = new Array(this.size);
    const values: V[] = new Array(this.size);
    let i = 0;
    this.walk((k, v) => {
      keys[i] = k;
      values[i++] = v;
    });
    return { keys, values };
  }

  // ---- updates ---------------------------------------------------------------------------------------

  private update(n: number): void {
    const l = this.kids[2 * (n)], r = this.kids[2 * (n) + 1];
    const hl = this.height[l], hr = this.height[r];
    this.height[n] = (hl > hr ? hl : hr) + 1;
    this.sizes[n] = this.sizes[l] + this.sizes[r] + 1;
  }

  private rotateRight(y: number): number {
    const x = this.kids[2 * (y)];
    this.kids[2 * (y)] = this.kids[2 * (x) + 1];
    this.kids[2 * (x) + 1] = y;
    this.update(y);
    this.update(x);
    return x;
  }

  private rotateLeft(x: number): number {
    const y = this.kids[2 * (x) + 1];
    this.kids[2 * (x) + 1] = this.kids[2 * (y)];
    this.kids[2 * (y)] = x;
    this.update(x);
    this.update(y);
    return y;
  }

  private rebalance(n: number): number {
    const h = this.height;
    const l = this.kids[2 * (n)], r = this.kids[2 * (n) + 1];
    const bf = h[l] - h[r];
    if (bf > 1) {
      if (h[this.kids[2 * (l)]] < h[this.kids[2 * (l) + 1]]) this.kids[2 * (n)] = this.rotateLeft(l);
      return this.rotateRight(n);
    }
    if (bf < -1) {
      if (h[this.kids[2 * (r) + 1]] < h[this.kids[2 * (r)]]) this.kids[2 * (n) + 1] = this.rotateRight(r);
      return this.rotateLeft(n);
    }
    this.update(n);
    return n;
  }

  /**
   * Walk back up the recorded path after one entry was added (delta 1) or removed (delta −1): rebalance while
   * subtree heights change; once a subtree's height is what it was, nothing above can need a rotation or a new
   * height, and the ancestors only gain or lose one in size — no more reads of off-path children.
   */
  private retrace(depth: number, delta: 1 | -1): void {
    const path = this.path, dirs = this.dirs, kids = this.kids, height = this.height;
    let i = depth - 1;
    for (; i >= 0; i--) {
      const n = path[i];
      const before = height[n];
      const sub = this.rebalance(n);
      if (i === 0) this.root = sub;
      else if (dirs[i - 1] === 0) kids[2 * path[i - 1]] = sub;
      else kids[2 * path[i - 1] + 1] = sub;
      if (height[sub] === before) {
        i--;
        break;
      }
    }
    const sizes = this.sizes;
    for (; i >= 0; i--) sizes[path[i]] += delta;
  }

  /** Insert or replace. Returns true when the key was new. */
  set(key: K, value: V): boolean {
    const cmp = this.compare;
    let n = this.root;
    let depth = 0;
    while (n !== NIL) {
      const c = cmp(key, this.keys[n]);
      if (c === 0) {
        this.vals[n] = value;
        return false;
      }
      this.path[depth] = n;
      this.dirs[depth++] = c < 0 ? 0 : 1;
      n = c < 0 ? this.kids[2 * (n)] : this.kids[2 * (n) + 1];
    }
    const node = this.alloc(key, value);
    if (depth === 0) this.root = node;
    else if (this.dirs[depth - 1] === 0) this.kids[2 * (this.path[depth - 1])] = node;
    else this.kids[2 * (this.path[depth - 1]) + 1] = node;
    this.retrace(depth, 1);
    return true;
  }

  /** Remove a key. Returns true when it was present. */
  delete(key: K): boolean {
    const cmp = this.compare;
    let n = this.root;
    let depth = 0;
    while (n !== NIL) {
      const c = cmp(key, this.keys[n]);
      if (c === 0) break;
      this.path[depth] = n;
      this.dirs[depth++] = c < 0 ? 0 : 1;
      n = c < 0 ? this.kids[2 * (n)] : this.kids[2 * (n) + 1];
    }
    if (n === NIL) return false;
    if (this.kids[2 * (n)] !== NIL && this.kids[2 * (n) + 1] !== NIL) {
      // Two children: move the in-order successor's entry here and remove the successor instead.
      this.path[depth] = n;
      this.dirs[depth++] = 1;
      let s = this.kids[2 * (n) + 1];
      while (this.kids[2 * (s)] !== NIL) {
        this.path[depth] = s;
        this.dirs[depth++] = 0;
        s = this.kids[2 * (s)];
      }
      this.keys[n] = this.keys[s];
      this.vals[n] = this.vals[s];
      n = s;
    }
    const child = this.kids[2 * (n)] !== NIL ? this.kids[2 * (n)] : this.kids[2 * (n) + 1];
    if (depth === 0) this.root = child;
    else if (this.dirs[depth - 1] === 0) this.kids[2 * (this.path[depth - 1])] = child;
    else this.kids[2 * (this.path[depth - 1]) + 1] = child;
    this.release(n);
    this.retrace(depth, -1);
    return true;
  }

  clear(): void {
    this.keys = [];
    this.vals = [];
    this.root = NIL;
    this.next = 1;
    this.free = [];
  }

  /** Check BST order, heights, balance factors and sizes everywhere; throws InvariantError. */
  assertInvariants(): void {
    const cmp = this.compare;
    const check = (n: number, lo: K | undefined, hi: K | undefined, depth: number): void => {
      if (n === NIL) return;
      if (depth > MAX_DEPTH) throw new InvariantError('tree too deep');
      const k = this.keys[n];
      if (lo !== undefined && cmp(k, lo) <= 0) throw new InvariantError(`order broken at ${String(k)}`);
      if (hi !== undefined && cmp(k, hi) >= 0) throw new InvariantError(`order broken at ${String(k)}`);
      const l = this.kids[2 * (n)], r = this.kids[2 * (n) + 1];
      check(l, lo, k, depth + 1);
      check(r, k, hi, depth + 1);
      if (this.height[n] !== 1 + Math.max(this.height[l], this.height[r])) throw new InvariantError(`height wrong at ${String(k)}`);
      if (Math.abs(this.height[l] - this.height[r]) > 1) throw new InvariantError(`unbalanced at ${String(k)}`);
      if (this.sizes[n] !== this.sizes[l] + this.sizes[r] + 1) throw new InvariantError(`size wrong at ${String(k)}`);
    };
    if (this.height[NIL] !== 0 || this.sizes[NIL] !== 0) throw new InvariantError('sentinel modified');
    check(this.root, undefined, undefined, 0);
  }
}
