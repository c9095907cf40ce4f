import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { objectsInS3Message, removeDeadScratch, withTempDir } from './sqs.ts';

const base = mkdtempSync(join(tmpdir(), 'scratch-test-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('worker scratch space', () => {
  it('removes what dead processes left behind and nothing else', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    for (const name of [`david-process-${dead}-abc`, `david-ingest-${process.pid}-def`, 'david-ingest-1-ghi', 'someone-else']) mkdirSync(join(base, name));
    expect(await removeDeadScratch(base)).toEqual([`david-process-${dead}-abc`]);
    expect(readdirSync(base).sort()).toEqual([`david-ingest-${process.pid}-def`, 'david-ingest-1-ghi', 'someone-else'].sort());
  });

  it('names scratch directories by their owner, and removes them after use', async () => {
    const seen = await withTempDir('process', async (dir) => dir);
    expect(seen).toContain(`david-process-${process.pid}-`);
    expect(readdirSync(tmpdir())).not.toContain(seen.split('/').pop());
  });

  it('tells an S3 notification from a message that is none', () => {
    expect(objectsInS3Message('not json')).toBeNull();
    expect(objectsInS3Message('{"Records":"x"}')).toBeNull();
    expect(objectsInS3Message('{"hello":1}')).toBeNull();
    expect(objectsInS3Message('{"Event":"s3:TestEvent"}')).toEqual([]);
    const ev = { Records: [{ eventName: 'ObjectCreated:Post', s3: { bucket: { name: 'b' }, object: { key: 'uploads/a+b%21.wav', size: 3 } } }] };
    expect(objectsInS3Message(JSON.stringify(ev))).toEqual([{ bucket: 'b', key: 'uploads/a b!.wav', size: 3, etag: undefined }]);
  });
});
