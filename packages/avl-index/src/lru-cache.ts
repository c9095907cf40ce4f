/**
 * A least-recently-used cache bounded by entry count and by total bytes (as estimated by `sizeOf`).
 * A Map keeps insertion order, so re-inserting on access makes the first key the least recently used.
 */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; bytes: number }>();
  private bytes = 0;
  hits = 0;
  misses = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxBytes: number,
    private readonly sizeOf: (value: V) => number = () => 1,
  ) {
    if (!(maxEntries > 0) || !(maxBytes > 0)) throw new RangeError('LruCache needs positive maxEntries and maxBytes');
  }

  get size(): number {
    return this.map.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  get(key: K): V | undefined {
    const e = this.map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(key);
    this.map.set(key, e);
    return e.value;
  }

  set(key: K, value: V): void {
    const bytes = this.sizeOf(value);
    this.delete(key);
    if (bytes > this.maxBytes) return; // never cache what alone exceeds the budget
    this.map.set(key, { value, bytes });
    this.bytes += bytes;
    while (this.map.size > this.maxEntries || this.bytes > this.maxBytes) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (!e) return false;
    this.map.delete(key);
    this.bytes -= e.bytes;
    return true;
  }

  clear(): void {
    this.map.clear();
    this.bytes = 0;
  }
}
