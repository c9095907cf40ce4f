import { describe, expect, it } from 'vitest';
import type { Job } from '../src/domain/types.ts';
import { keepVersion, pruneVersions } from '../src/use-cases/versions.ts';
import { memoryDeps, memoryStore } from './memory-adapters.ts';

const job = (n: number, extra: Partial<Job> = {}): Job => ({
  session_id: 'ses_1',
  job_id: `job_${n}`,
  file_id: 'fil_1',
  chain: [{ effect: 'gain', parameters: { gainDb: -1 } }],
  output_formats: ['wav'],
  status: 'completed',
  created_at: `2026-01-01T00:00:0${n}Z`,
  updated_at: `2026-01-01T00:00:0${n}Z`,
  attempts: 1,
  outputs: [{ key: `processed/ses_1/job_${n}.wav`, format: 'wav', duration_s: 1, size: 10, sample_rate: 44100, channels: 2 }],
  ...extra,
});

describe('the version limit', () => {
  it('expires the oldest completed versions beyond the limit, spares one a running job reads, and finishes after a crash', async () => {
    const deleted: string[] = [];
    let failDeletes = 1;
    const store = {
      ...memoryStore(new Map()),
      async deleteOutput(key: string) {
        if (failDeletes-- > 0) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
        deleted.push(key);
      },
    };
    const deps = { ...memoryDeps(store, () => new Date('2026-01-02T00:00:00Z')), maxVersions: 2 };
    // Four completed, limit two: the two oldest go, but job_1 is read by a queued job (job_5 on its output), so
    // job_2 and job_3 go instead.
    for (const j of [job(1), job(2), job(3), job(4), job(5, { status: 'queued', parent_job_id: 'job_1', outputs: undefined })]) await deps.jobs.create(j);

    // The first try dies deleting the first output: the job is marked expired, its output still recorded.
    await expect(pruneVersions(deps, 'ses_1', 'fil_1')).rejects.toThrow(/ECONNREFUSED/);
    expect((await deps.jobs.get('ses_1', 'job_2'))?.status).toBe('expired');
    expect((await deps.jobs.get('ses_1', 'job_2'))?.outputs).toHaveLength(1);
    // The next call finishes it and the one it had not reached, once each.
    expect((await pruneVersions(deps, 'ses_1', 'fil_1')).sort()).toEqual(['job_2', 'job_3']);
    const picturesOf = (job: string) => ['spectrogram.png', 'waveform.dat', 'waveform.json'].map((n) => `visuals/ses_1/${job}/${n}`);
    expect(deleted.sort()).toEqual(['processed/ses_1/job_2.wav', 'processed/ses_1/job_3.wav', ...picturesOf('job_2'), ...picturesOf('job_3')]);
    const states = await Promise.all(['job_1', 'job_2', 'job_3', 'job_4'].map(async (id) => (await deps.jobs.get('ses_1', id))!));
    expect(states.map((j) => [j.job_id, j.status, j.outputs === undefined])).toEqual([
      ['job_1', 'completed', false],
      ['job_2', 'expired', true],
      ['job_3', 'expired', true],
      ['job_4', 'completed', false],
    ]);
    // At the limit now: nothing more goes, nothing is deleted twice.
    expect(await pruneVersions(deps, 'ses_1', 'fil_1')).toEqual([]);
    expect(deleted).toHaveLength(8);
    expect(deps.queueLog.changes).toContainEqual({ op: 'remove', file_id: 'job_2' });
  });

  it('counts completions on the file, lists the session only past the limit, and counts a redelivery once', async () => {
    const deleted: string[] = [];
    const store = { ...memoryStore(new Map()), deleteOutput: async (key: string) => void deleted.push(key) };
    const deps = { ...memoryDeps(store, () => new Date('2026-01-02T00:00:00Z')), maxVersions: 2 };
    await deps.files.create({ session_id: 'ses_1', file_id: 'fil_1', filename: 'a.wav', key: 'uploads/ses_1/fil_1/a.wav', status: 'ready', content_type: 'audio/wav', declared_size: 10, created_at: '2026-01-01T00:00:00Z' });
    let listed = 0;
    const list = deps.jobs.list.bind(deps.jobs);
    deps.jobs.list = async (sid: string) => (listed++, list(sid));
    for (const n of [1, 2]) {
      await deps.jobs.create(job(n));
      expect(await keepVersion(deps, job(n))).toEqual([]);
    }
    // A redelivery of a completion counts nothing new.
    expect(await keepVersion(deps, job(2))).toEqual([]);
    expect(listed).toBe(0);
    expect((await deps.files.get('ses_1', 'fil_1'))?.version_ids).toEqual(['job_1', 'job_2']);
    // The third goes past the limit: the oldest expires and leaves the count.
    await deps.jobs.create(job(3));
    expect(await keepVersion(deps, job(3))).toEqual(['job_1']);
    expect(listed).toBe(1);
    expect((await deps.files.get('ses_1', 'fil_1'))?.version_ids).toEqual(['job_2', 'job_3']);
    expect((await deps.jobs.get('ses_1', 'job_1'))?.status).toBe('expired');
    expect(deleted.sort()).toEqual(['processed/ses_1/job_1.wav', 'visuals/ses_1/job_1/spectrogram.png', 'visuals/ses_1/job_1/waveform.dat', 'visuals/ses_1/job_1/waveform.json']);
  });
});
