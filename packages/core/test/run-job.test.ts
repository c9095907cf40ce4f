import { describe, expect, it } from 'vitest';
import { runJob, newJobId, newSessionId, newFileId, type FileRecord, type Job } from '../src/index.ts';
import { memoryDeps, unreachableStore } from './memory-adapters.ts';

function setup() {
  let clock = new Date('2026-01-01T00:00:00Z');
  const deps = memoryDeps(unreachableStore(), () => clock);
  const session_id = newSessionId();
  const file: FileRecord = {
    session_id,
    file_id: newFileId(),
    filename: 'a.wav',
    content_type: 'audio/wav',
    declared_size: 10,
    key: 'uploads/x',
    status: 'ready',
    created_at: clock.toISOString(),
    media: { format: 'wav', codec: 'pcm_s16le', duration_s: 1, sample_rate: 44100, channels: 2 },
  };
  const job: Job = {
    session_id,
    job_id: newJobId(),
    file_id: file.file_id,
    chain: [{ effect: 'gain', parameters: { gainDb: -1 } }],
    output_formats: ['wav'],
    status: 'queued',
    created_at: clock.toISOString(),
    updated_at: clock.toISOString(),
    attempts: 0,
  };
  void deps.repos.create({ session_id, name: 's', created_at: clock.toISOString(), token_hash: 'x' });
  void deps.repos.create(file);
  void deps.repos.create(job);
  const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
  return { deps, job, advance, msg: { session_id, job_id: job.job_id } };
}

const opts = (receiveCount: number) => ({ tempDir: '/tmp', leaseMs: 300_000, receiveCount, maxReceiveCount: 3 });

describe('running a job', () => {
  it('rethrows a transient failure so SQS retries, keeping the job under lease', async () => {
    const { deps, job, msg } = setup();
    await expect(runJob(deps, msg, opts(1))).rejects.toThrow(/ECONNREFUSED/);
    const after = await deps.jobs.get(job.session_id, job.job_id);
    expect(after).toMatchObject({ status: 'processing', attempts: 1 });
  });

  it('does nothing for a duplicate delivery while another attempt holds the lease', async () => {
    const { deps, job, msg, advance } = setup();
    await expect(runJob(deps, msg, opts(1))).rejects.toThrow();
    advance(60_000);
    expect(await runJob(deps, msg, opts(2))).toEqual({ outcome: 'skipped', reason: 'finished-or-leased' });
    expect((await deps.jobs.get(job.session_id, job.job_id))?.attempts).toBe(1);
  });

  it('takes over after the lease expires, and on the last delivery records why it gave up', async () => {
    const { deps, job, msg, advance } = setup();
    await expect(runJob(deps, msg, opts(1))).rejects.toThrow();
    advance(301_000);
    await expect(runJob(deps, msg, opts(2))).rejects.toThrow();
    advance(301_000);
    await expect(runJob(deps, msg, opts(3))).rejects.toThrow();
    const failed = await deps.jobs.get(job.session_id, job.job_id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'Job::RetriesExhausted' } });
    expect(failed?.error?.message).toMatch(/3 attempts/);
    // A later duplicate changes nothing.
    advance(301_000);
    expect((await runJob(deps, msg, opts(4))).outcome).toBe('skipped');
  });

  it('fails permanently, without retry, when the input file is not ready', async () => {
    const { deps, job, msg } = setup();
    await deps.repos.create({ ...(await deps.files.get(job.session_id, job.file_id))!, status: 'rejected' });
    expect(await runJob(deps, msg, opts(1))).toMatchObject({ outcome: 'failed', error: { code: 'File::NotReady' } });
    expect(await deps.jobs.get(job.session_id, job.job_id)).toMatchObject({ status: 'failed', error: { code: 'File::NotReady' } });
  });
});
