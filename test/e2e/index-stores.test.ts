import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { collectBytes, IndexReader, IndexWriter, loadCommitted, type FileEntry, type IndexPorts } from '@david/avl-index';
import { BUCKETS, DynamoPointerStore, S3BlobStore, TABLE } from '@david/core';
import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The index writer's guarantees with the real adapters: S3 (s3rver) for objects, DynamoDB (dynalite) for the pointer. */
let stack: LocalStack;
let dir: string;
let ports: () => IndexPorts;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'david-index-stores-'));
  stack = await startLocalStack({ dataDir: join(dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
  // Each writer gets its own clients' view, as two Lambda instances would.
  ports = () => ({
    blobs: new S3BlobStore(stack.clients.s3, BUCKETS.index.name),
    pointers: new DynamoPointerStore(DynamoDBDocumentClient.from(stack.clients.ddb), TABLE.name),
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

const entry = (i: number, session = `ses_${i % 3}`): FileEntry => ({
  file_id: `fil_${String(i).padStart(6, '0')}`,
  session_id: session,
  kind: 'upload',
  name: `take ${i}.wav`,
  status: 'ready',
  size: 100 + i,
  uploaded_at: new Date(Date.UTC(2026, 10, 25) + i * 1000).toISOString(),
});

describe('the file index on S3 and DynamoDB', () => {
  it('two writers racing: every version is committed once, the loser retries, nothing is lost', async () => {
    const a = new IndexWriter(ports(), 'race', { snapshotEvery: 4 });
    const b = new IndexWriter(ports(), 'race', { snapshotEvery: 4 });
    const runs = await Promise.all([
      (async () => { const r = []; for (let i = 0; i < 8; i++) r.push(await a.apply([{ op: 'upsert', entry: entry(i) }])); return r; })(),
      (async () => { const r = []; for (let i = 100; i < 108; i++) r.push(await b.apply([{ op: 'upsert', entry: entry(i) }])); return r; })(),
    ]);
    const versions = runs.flat().map((r) => r.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: 16 }, (_, i) => i + 1)); // each version won by exactly one writer
    expect(runs.flat().some((r) => r.attempts > 1)).toBe(true); // they did collide
    const { index, version } = await new IndexReader(ports(), 'race').current();
    expect(version).toBe(16);
    expect(index.size).toBe(16);
    expect(index.listAll({ limit: 100 }).items.map((e) => e.file_id)).toEqual([...Array.from({ length: 8 }, (_, i) => entry(i).file_id), ...Array.from({ length: 8 }, (_, i) => entry(100 + i).file_id)]);
  }, 60_000);

  it('a crash between writing a snapshot and committing it leaves the committed version in force', async () => {
    const p = ports();
    await new IndexWriter(p, 'crash', { snapshotEvery: 1 }).apply([{ op: 'upsert', entry: entry(1) }]);
    const crashing: IndexPorts = { blobs: p.blobs, pointers: { read: (n) => p.pointers.read(n), compareAndSet: async () => { throw new Error('killed before commit'); } } };
    await expect(new IndexWriter(crashing, 'crash', { snapshotEvery: 1 }).apply([{ op: 'upsert', entry: entry(2) }])).rejects.toThrow('killed before commit');
    const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.index.name, Prefix: 'index/crash/snapshots/' }));
    expect(listed.Contents?.length).toBe(2); // the orphan snapshot is there, never referenced
    const pointer = await p.pointers.read('crash');
    expect(pointer?.version).toBe(1);
    const { index } = await loadCommitted(p, pointer);
    expect(index.listAll().items.map((e) => e.file_id)).toEqual([entry(1).file_id]);
  }, 60_000);

  it('a corrupted snapshot object is detected and the index recovers from the previous snapshot and journal', async () => {
    const p = ports();
    const w = new IndexWriter(p, 'corrupt', { snapshotEvery: 2 });
    for (let i = 0; i < 6; i++) await w.apply([{ op: 'upsert', entry: entry(i) }]);
    const pointer = (await p.pointers.read('corrupt'))!;
    expect(pointer.snapshotKey).toBeTruthy();
    const obj = await stack.clients.s3.send(new GetObjectCommand({ Bucket: BUCKETS.index.name, Key: pointer.snapshotKey! }));
    const bytes = await collectBytes(obj.Body as unknown as AsyncIterable<Uint8Array>);
    bytes[Math.floor(bytes.length / 2)] ^= 0x40;
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: BUCKETS.index.name, Key: pointer.snapshotKey!, Body: bytes }));
    const { index, recovered } = await loadCommitted(p, pointer);
    expect(recovered).toBe(true);
    expect(index.size).toBe(6);
    expect(index.listAll().items.map((e) => e.file_id)).toEqual(Array.from({ length: 6 }, (_, i) => entry(i).file_id));
  }, 60_000);

  it('collects superseded snapshots and segments from S3, keeping the committed chains', async () => {
    const name = 'gc-test';
    const writer = new IndexWriter(ports(), name, { snapshotEvery: 2, retainMs: 0 });
    for (let i = 0; i < 12; i++) await writer.apply([{ op: 'upsert', entry: entry(i) }]);
    const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: BUCKETS.index.name, Prefix: `index/${name}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!);
    const p = (await ports().pointers.read(name))!;
    const live = [p.snapshotKey, ...p.journal, p.previous?.snapshotKey, ...(p.previous?.journal ?? [])].filter(Boolean);
    expect(keys.sort()).toEqual([...live].sort()); // 12 segments and 6 snapshots were written
    expect((await loadCommitted(ports(), p)).index.listAll({ limit: 100 }).total).toBe(12);
  });
});
