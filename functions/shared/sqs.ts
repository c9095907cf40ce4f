import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRATCH = /^david-[a-z]+-(\d+)-/;

/** A scratch directory for one record, always removed afterwards (Lambda reuses /tmp across invocations). */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `david-${prefix}-${process.pid}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Remove the scratch directories of processes that died (kill -9, an out-of-memory kill, a Lambda sandbox that
 * timed out): their owner's pid is in the name, and a live owner's are left alone. Run when a worker starts.
 */
export async function removeDeadScratch(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(SCRATCH.exec(name)?.[1]);
    if (!pid || pid === process.pid || alive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** S3 event keys arrive URL-encoded with '+' for spaces. */
export function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, ' '));
}

export interface S3EventRecordLike {
  eventName?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number; eTag?: string } };
}

/**
 * The objects an SQS message from an S3 notification names (none for s3:TestEvent or removals), or null when the
 * message is not an S3 notification at all.
 */
export function objectsInS3Message(body: string): { bucket: string; key: string; size?: number; etag?: string }[] | null {
  let parsed: { Records?: S3EventRecordLike[]; Event?: string };
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (!parsed || typeof parsed !== 'object' || (parsed.Records !== undefined && !Array.isArray(parsed.Records))) return null;
  if (parsed.Records === undefined && parsed.Event === undefined) return null;
  return (parsed.Records ?? [])
    .filter((r) => r.eventName?.startsWith('ObjectCreated:') && r.s3?.bucket?.name && r.s3.object?.key)
    .map((r) => ({ bucket: r.s3!.bucket!.name!, key: decodeS3Key(r.s3!.object!.key!), size: r.s3!.object!.size, etag: r.s3!.object!.eTag }));
}
