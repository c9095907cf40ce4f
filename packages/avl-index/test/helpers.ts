import type { FileEntry } from '../src/file-index.ts';
import type { BlobStore, IndexPointer, PointerStore } from '../src/writer.ts';
import { collectBytes } from '../src/snapshot.ts';

export function entry(i: number, session = `ses_${i % 7}`, t0 = Date.UTC(2026, 0, 1)): FileEntry {
  return {
    file_id: `fil_${String(i).padStart(8, '0')}`,
    session_id: session,
    kind: i % 5 === 0 ? 'output' : 'upload',
    name: `take ${i}.wav`,
    status: i % 9 === 0 ? 'rejected' : 'ready',
    size: 1000 + i,
    uploaded_at: new Date(t0 + i * 1000).toISOString(),
    ...(i % 9 === 0 ? {} : { format: 'wav', duration_s: i / 10 }),
    ...(i % 5 === 0 ? { job_id: `job_${i}` } : {}),
  };
}

/** In-memory ports with the same semantics as the S3/DynamoDB adapters (immutable blobs, conditional pointer). */
export class MemoryBlobs implements BlobStore {
  objects = new Map<string, Uint8Array>();
  failNextPut: string | null = null;
  async put(key: string, body: AsyncIterable<Uint8Array> | Uint8Array) {
    if (this.failNextPut && key.includes(this.failNextPut)) {
      this.failNextPut = null;
      throw new Error('simulated crash');
    }
    this.objects.set(key, body instanceof Uint8Array ? body : await collectBytes(body));
    this.writtenAt.set(key, this.clock());
  }
  writtenAt = new Map<string, Date>();
  clock = () => new Date();
  async list(prefix: string) {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).map((key) => ({ key, writtenAt: this.writtenAt.get(key) ?? new Date(0) }));
  }
  async delete(keys: readonly string[]) {
    for (const k of keys) this.objects.delete(k);
  }
  async get(key: string) {
    const bytes = this.objects.get(key);
    if (!bytes) return null;
    return (async function* () {
      // Arbitrary chunking, as S3 streams do.
      for (let i = 0; i < bytes.length; i += 7919) yield bytes.subarray(i, i + 7919);
    })();
  }
}

export class MemoryPointers implements PointerStore {
  items = new Map<string, IndexPointer>();
  async read(name: string) {
    const p = this.items.get(name);
    return p ? structuredClone(p) : null;
  }
  async compareAndSet(name: string, expected: number | null, next: IndexPointer) {
    const cur = this.items.get(name);
    if ((cur?.version ?? null) !== expected) return false;
    this.items.set(name, structuredClone(next));
    return true;
  }
}
