import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runJob, newJobId, newSessionId, newFileId, type FileRecord, type Job } from '../src/index.ts';
import { memoryDeps, memoryStore, unreachableStore } from './memory-adapters.ts';
import { pcm16Wav } from '../../../test/helpers/audio.ts';

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

describe('where a job’s time goes (timings_ms)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'david-timings-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Some seconds of 16-bit stereo noise at 44.1 kHz, as a WAV written by hand. */
  function noiseWav(seconds: number): Buffer {
    let s = 1;
    return pcm16Wav(Int16Array.from({ length: 44_100 * seconds * 2 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 20) - 2048), 2, 44_100);
  }

  async function timings(chain: Job['chain']): Promise<Record<string, number>> {
    const objects = new Map<string, Buffer>();
    const deps = memoryDeps(memoryStore(objects), () => new Date());
    const session_id = newSessionId();
    const now = new Date().toISOString();
    const file: FileRecord = {
      session_id,
      file_id: newFileId(),
      filename: 'noise.wav',
      content_type: 'audio/wav',
      declared_size: 0,
      key: 'uploads/noise.wav',
      status: 'ready',
      created_at: now,
      media: { format: 'wav', codec: 'pcm_s16le', duration_s: 20, sample_rate: 44_100, channels: 2, bit_depth: 16 },
    };
    objects.set(file.key, noiseWav(20));
    const job: Job = { session_id, job_id: newJobId(), file_id: file.file_id, chain, output_formats: ['wav'], status: 'queued', created_at: now, updated_at: now, attempts: 0 };
    await deps.repos.create({ session_id, name: 's', created_at: now, token_hash: 'x' });
    await deps.repos.create(file);
    await deps.repos.create(job);
    const r = await runJob(deps, { session_id, job_id: job.job_id }, { tempDir: dir, leaseMs: 300_000, receiveCount: 1, maxReceiveCount: 3 });
    expect(r.outcome).toBe('completed');
    return (await deps.jobs.get(session_id, job.job_id))!.timings_ms!;
  }

  it('splits it into download, decode, DSP, analysis, encode and upload, which add up to the total', async () => {
    const gain = await timings([{ effect: 'gain', parameters: { gainDb: -1 } }]);
    const reverb = await timings([{ effect: 'reverb', parameters: {} }, { effect: 'chorus', parameters: {} }]);
    for (const t of [gain, reverb]) {
      expect(Object.keys(t).sort()).toEqual(['analysis', 'decode', 'download', 'dsp', 'encode', 'total', 'upload']);
      for (const v of Object.values(t)) expect(Number.isInteger(v) && v >= 0).toBe(true);
      const parts = t.download + t.decode + t.dsp + t.analysis + t.encode + t.upload;
      // The parts cover the run (rounding, and the little between the steps: the parent lookup, progress calls).
      expect(parts, JSON.stringify(t)).toBeLessThanOrEqual(t.total + 6);
      expect(parts, JSON.stringify(t)).toBeGreaterThanOrEqual(0.9 * t.total - 10);
    }
    // The DSP share is the chain's: reverb and chorus on 20 s of stereo cost far more than a gain, and the
    // decoding and the drawing of the pictures do not move with the chain.
    expect(reverb.dsp, `${JSON.stringify(gain)} ${JSON.stringify(reverb)}`).toBeGreaterThan(4 * gain.dsp + 20);
    expect(reverb.dsp).toBeGreaterThan(reverb.decode + reverb.encode);
  }, 60_000);
});
