import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { presetIds } from '@david/dsp';
import { ApiClient } from '../helpers/client.ts';
import { useLocalStack } from '../helpers/stack.ts';
import { ffmpegEbur128 } from '../../packages/dsp/test/references.ts';

/**
 * Presets through the API: listed from their declarations, named in process and batch requests, recorded on the
 * job, and the job says what its normalize step reached — checked against ffmpeg's measurement of the delivered file.
 */
const ctx = useLocalStack('presets');
let api: ApiClient;
let S: { session_id: string; access_token: string };
let speechId: string;
let secondId: string;

/** Speech (espeak-ng) at 44.1 kHz stereo 16-bit, with peaks that keep gain alone from reaching −16 LUFS. */
function speechWav(name: string, text: string): Buffer {
  const raw = join(ctx.dir, `${name}-raw.wav`);
  const wav = join(ctx.dir, `${name}.wav`);
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '150', '-w', raw, text], { stdio: 'ignore', timeout: 30_000 });
  execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', raw, '-ar', '44100', '-ac', '2', '-c:a', 'pcm_s16le', wav], { stdio: 'ignore' });
  return readFileSync(wav);
}

beforeAll(async () => {
  api = new ApiClient(ctx.stack.apiUrl);
  S = await api.createSession('presets');
  const uploads = await Promise.all([
    api.upload(S, 'speech.wav', 'audio/wav', speechWav('speech', 'Welcome to the show. Today: loudness targets, limiters, and why a number on a meter is not a promise.')),
    api.upload(S, 'second.wav', 'audio/wav', speechWav('second', 'A second take, read a little faster, to run through the same preset in one batch.')),
  ]);
  [speechId, secondId] = uploads.map((u) => u.file_id);
  for (const id of [speechId, secondId]) expect((await api.waitForFile(S, id)).status).toBe('ready');
});

const submit = (body: unknown) => api.call('POST', `/api/audio/${S.session_id}/process`, { token: S.access_token, body });

/** The delivered output, measured by ffmpeg. */
async function measured(job: { job_id: string; output: { url: string } }) {
  const path = join(ctx.dir, `${job.job_id}.wav`);
  writeFileSync(path, Buffer.from(await (await fetch(job.output.url)).arrayBuffer()));
  return ffmpegEbur128(path, ctx.dir);
}

describe('presets through the API', () => {
  it('lists every declared preset with its target and full chain, and one by id; an unknown id is a 404 with the closest', async () => {
    const all = await api.call('GET', '/api/presets');
    expect(all.status).toBe(200);
    expect(Object.keys(all.body.presets)).toEqual(presetIds());
    expect(all.body.total).toBe(presetIds().length);
    expect(all.body.presets.ebu_r128).toMatchObject({ target: { integrated_lufs: -23, true_peak_dbtp: -1 } });
    const one = await api.call('GET', '/api/presets/voice_cleanup');
    expect(one.body.id).toBe('voice_cleanup');
    expect(one.body.chain.map((s: { effect: string }) => s.effect)).toEqual(['equalizer', 'speech_denoise', 'noise_gate', 'compressor', 'normalize']);
    // Every parameter filled in, as a job records it: the compressor's lookahead was not written in the table.
    expect(one.body.chain[3].parameters).toHaveProperty('lookaheadMs', 0);
    const typo = await api.call('GET', '/api/presets/podcst');
    expect(typo.status).toBe(404);
    expect(typo.body.error).toMatchObject({ code: 'Preset::NotFound', details: { suggestion: 'podcast' } });
  });

  it('runs a preset as a job: the chain and the preset recorded, the loudness reached reported and true by ffmpeg', async () => {
    const r = await submit({ file_id: speechId, preset: 'podcast', output_format: 'wav' });
    expect(r.status, JSON.stringify(r.body)).toBe(202);
    const job = await api.waitForJob(S, r.body.job_id);
    expect(job.status, JSON.stringify(job.error)).toBe('completed');
    expect(job.preset).toBe('podcast');
    expect(job.chain).toEqual((await api.call('GET', '/api/presets/podcast')).body.chain);
    expect(job.reports).toHaveLength(1);
    const [report] = job.reports;
    expect(report).toMatchObject({ step: 0, effect: 'normalize', target: -16, unit: 'LUFS', met: true });
    expect(report.measurements.limited_db).toBeGreaterThan(0); // gain alone would have put the peaks over −1 dBTP
    const m = await measured(job);
    expect(Math.abs(m.I + 16)).toBeLessThanOrEqual(0.3);
    expect(m.TP).toBeLessThanOrEqual(-1 + 0.1);
    expect(Math.abs(report.reached - m.I)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(job.output_loudness.integrated_lufs - m.I)).toBeLessThanOrEqual(0.1);
  });

  it('says in the job when normalize missed its target, and why', async () => {
    const r = await submit({ file_id: speechId, effect: 'normalize', parameters: { targetDb: -14, peakControl: 'lower_gain' }, output_format: 'wav' });
    const job = await api.waitForJob(S, r.body.job_id);
    expect(job.status).toBe('completed');
    expect(job.preset).toBeUndefined();
    // The file's versions say which came from a preset and which from a plain chain.
    const versions = (await api.call('GET', `/api/audio/${S.session_id}/files/${speechId}/versions`, { token: S.access_token })).body.versions;
    const byId = new Map(versions.map((v: { job_id: string }) => [v.job_id, v]));
    expect(byId.get(job.job_id)).not.toHaveProperty('preset');
    expect(versions.filter((v: { preset?: string }) => v.preset === 'podcast').length).toBeGreaterThanOrEqual(1);
    const [report] = job.reports;
    expect(report).toMatchObject({ target: -14, met: false });
    expect(report.reason).toMatch(/held back by the -1 dBTP true-peak ceiling/);
    const m = await measured(job);
    expect(m.I).toBeLessThan(-14.5);
    expect(Math.abs(report.reached - m.I)).toBeLessThanOrEqual(0.1);
  });

  it('takes a preset in a batch; refuses a preset beside an effect or a chain, and an unknown one, with the closest', async () => {
    const batch = await api.call('POST', `/api/audio/${S.session_id}/batch`, { token: S.access_token, body: { file_ids: [speechId, secondId], preset: 'ebu_r128', output_format: 'wav' } });
    expect(batch.status, JSON.stringify(batch.body)).toBe(202);
    for (const { job_id } of batch.body.jobs) {
      const job = await api.waitForJob(S, job_id);
      expect(job).toMatchObject({ status: 'completed', preset: 'ebu_r128' });
      expect(job.reports[0]).toMatchObject({ target: -23, met: true });
      expect(Math.abs((await measured(job)).I + 23)).toBeLessThanOrEqual(0.3);
    }
    for (const body of [
      { file_id: speechId, preset: 'podcast', effect: 'gain' },
      { file_id: speechId, preset: 'podcast', chain: [{ effect: 'gain' }] },
      { file_id: speechId, preset: 'podcast', parameters: { gainDb: 1 } },
    ]) {
      const r = await submit(body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('Job::AmbiguousRequest');
    }
    const typo = await submit({ file_id: speechId, preset: 'podcst' });
    expect(typo.status).toBe(400);
    expect(typo.body.error).toMatchObject({ code: 'Preset::UnknownPreset', details: { suggestion: 'podcast' } });
    expect(typo.body.error.message).toContain("did you mean 'podcast'");
  });
});
