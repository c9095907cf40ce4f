import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { BUCKETS, sessionPk, TABLE } from '@david/core';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../helpers/client.ts';
import { sineWav } from '../helpers/audio.ts';
import { freePorts } from '../helpers/ports.ts';

const REPO = join(import.meta.dirname, '..', '..');
let dir: string;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** `npm start`'s entry point as a child process, with short leases and sweeps so a drill takes seconds. */
async function start(env: Record<string, string>): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'packages/local/src/main.ts'], {
    cwd: REPO,
    // Messages a killed poller held come back after their queue's visibility timeout (6 × the function timeout:
    // 6 to 30 minutes); the drill shortens it, as it shortens the job lease, so it takes seconds.
    env: { ...process.env, ...env, LOG_LEVEL: 'SILENT', JOB_LEASE_SECONDS: '2', JOB_SWEEP_SECONDS: '1', QUEUE_VISIBILITY_SECONDS: '3' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the stack did not start: ${out}`)), 30_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('David is running')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.stderr!.on('data', (d) => (out += d));
    proc.once('exit', (code) => reject(new Error(`the stack exited (${code}): ${out}`)));
  });
  proc.removeAllListeners('exit');
  return proc;
}

async function kill9(proc: ChildProcess) {
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await gone;
}

describe('kill -9 of the local stack', () => {
  it('loses no accepted upload and no accepted job, and ends each job with exactly one output', { timeout: 180_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'david-kill9-'));
    const [port, delivery, s3, sqs, ddb] = await freePorts(5);
    const env = { PORT: String(port), DELIVERY_PORT: String(delivery), S3_PORT: String(s3), SQS_PORT: String(sqs), DYNAMODB_PORT: String(ddb), DATA_DIR: join(dir, 'data') };
    const api = new ApiClient(`http://127.0.0.1:${port}`);

    // 1. A burst of uploads (2 of them junk), killed while it is under way.
    child = await start(env);
    const session = await api.createSession('drill');
    const files = Array.from({ length: 16 }, (_, i) => ({ name: `f${i}.wav`, bytes: i % 8 === 3 ? Buffer.alloc(50_000, 7) : sineWav({ seconds: 2, freqHz: 200 + 20 * i }) }));
    const accepted: { file_id: string; junk: boolean }[] = [];
    let answered = 0;
    const burst = files.map(async (f, i) => {
      try {
        const { file_id } = await api.upload(session, f.name, 'audio/wav', f.bytes);
        accepted.push({ file_id, junk: i % 8 === 3 });
      } catch {
        // cut by the kill: not accepted, nothing is owed for it
      } finally {
        answered++;
      }
    });
    while (answered < 6) await new Promise((r) => setTimeout(r, 5));
    await kill9(child);
    await Promise.all(burst);
    expect(accepted.length).toBeGreaterThan(0);

    // 2. Every upload S3 accepted is ingested after the restart.
    child = await start(env);
    for (const a of accepted) {
      const f = await api.waitForFile(session, a.file_id);
      expect(f.status, a.file_id).toBe(a.junk ? 'rejected' : 'ready');
    }
    const ready = accepted.filter((a) => !a.junk);

    // 3. Jobs, killed while they run.
    const jobs: string[] = [];
    for (const a of ready) {
      const r = await api.call('POST', `/api/audio/${session.session_id}/process`, { token: session.access_token, body: { file_id: a.file_id, effect: 'reverb', output_formats: ['wav', 'mp3'] } });
      expect(r.status).toBe(202);
      jobs.push(r.body.job_id);
    }
    await new Promise((r) => setTimeout(r, 300));
    await kill9(child);

    // 4. After the restart each job finishes (its lease runs out and the sweeper sends it again) with one output per format.
    child = await start(env);
    const client = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${s3}`, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    for (const id of jobs) {
      const j = await api.waitForJob(session, id);
      expect(j.status, id).toBe('completed');
      const objects = await client.send(new ListObjectsV2Command({ Bucket: BUCKETS.processed.name, Prefix: `${BUCKETS.processed.prefix}${session.session_id}/${id}` }));
      expect(objects.Contents?.map((o) => o.Key).sort()).toEqual(['mp3', 'wav'].map((e) => `${BUCKETS.processed.prefix}${session.session_id}/${id}.${e}`));
    }
    client.destroy();

    // 5. The file index agrees with the records: every accepted upload and every output, once.
    const info = (await api.call('GET', `/api/audio/${session.session_id}`, { token: session.access_token })).body;
    const expected = [...info.uploaded_files.filter((f: { status: string }) => f.status !== 'pending').map((f: { file_id: string }) => f.file_id), ...jobs].sort();
    const listed = await api.waitFor(async () => {
      const r = await api.call('GET', `/api/audio/${session.session_id}/files?limit=1000`, { token: session.access_token });
      const ids = (r.body.items ?? []).map((e: { file_id: string }) => e.file_id).sort();
      return JSON.stringify(ids) === JSON.stringify(expected) ? ids : undefined;
    }, 'the index to match the records', 60_000);
    expect(listed).toEqual(expected);
  });

  it('during a session delete: the session is gone at once, and a retried DELETE after the restart removes the rest', { timeout: 120_000 }, async () => {
    const [port, delivery, s3, sqs, ddb] = await freePorts(5);
    const env = { PORT: String(port), DELIVERY_PORT: String(delivery), S3_PORT: String(s3), SQS_PORT: String(sqs), DYNAMODB_PORT: String(ddb), DATA_DIR: join(dir, 'data-delete') };
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    child = await start(env);
    const session = await api.createSession('to delete');
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await api.upload(session, `d${i}.wav`, 'audio/wav', sineWav({ seconds: 0.5 }))).file_id);
    for (const id of ids) await api.waitForFile(session, id);

    const deleting = api.call('DELETE', `/api/audio/${session.session_id}`, { token: session.access_token }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 25));
    await kill9(child);
    await deleting;

    child = await start(env);
    const path = `/api/audio/${session.session_id}`;
    const seen = await api.call('GET', path, { token: session.access_token });
    // Either the delete finished before the kill (404), or it began (tombstone: 404 too), or it had not begun (200).
    if (seen.status === 200) expect((await api.call('DELETE', path, { token: session.access_token })).status).toBe(204);
    else {
      expect(seen.status).toBe(404);
      const again = await api.call('DELETE', path, { token: session.access_token });
      expect([204, 404]).toContain(again.status); // resumes while the tombstone stands; 404 once all is gone
    }
    expect((await api.call('DELETE', path, { token: session.access_token })).status).toBe(404);
    const client = new S3Client({ region: 'us-east-1', endpoint: `http://127.0.0.1:${s3}`, forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    const left = await client.send(new ListObjectsV2Command({ Bucket: BUCKETS.uploads.name, Prefix: `${BUCKETS.uploads.prefix}${session.session_id}/` }));
    client.destroy();
    expect(left.Contents ?? []).toEqual([]);
    const db = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${ddb}`, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } }));
    const items = await db.send(new QueryCommand({ TableName: TABLE.name, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': sessionPk(session.session_id) } }));
    expect(items.Items ?? []).toEqual([]); // no record left under the session either
    db.destroy();
  });
});
