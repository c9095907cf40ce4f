import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../helpers/stack.ts';
import { decodeWithFfmpeg, rmsDb, sineWav } from '../helpers/audio.ts';
import { ffmpegEbur128 } from '../../packages/dsp/test/references.ts';

const BIN = join(import.meta.dirname, '..', '..', 'packages', 'dsp', 'bin', 'david.mjs');
const ctx = useLocalStack('remote');

async function david(...args: string[]) {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, DAVID_FROM_SOURCE: '1' }, timeout: 120_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('david remote process', () => {
  it('uploads a folder, runs the jobs, downloads every output under its input name, names failures, and resumes', async () => {
    const input = join(ctx.dir, 'in');
    await mkdir(join(input, 'sub'), { recursive: true });
    for (let i = 0; i < 12; i++) await writeFile(join(input, i < 10 ? `t${i}.wav` : `sub/t${i}.wav`), sineWav({ seconds: 0.3, peakDbfs: -12, freqHz: 300 + i * 10 }));
    await writeFile(join(input, 'broken.wav'), 'this is not audio'.repeat(40));
    await writeFile(join(input, 'notes.txt'), 'ignored: not an audio file name');
    const out = join(ctx.dir, 'out');
    const args = ['remote', 'process', input, '--api', ctx.stack.apiUrl, '--effect', 'gain', '--param', 'gainDb=-6', '--out', out, '--format', 'flac', '--concurrency', '4', '--json'];

    const first = await david(...args);
    expect(first.code, first.stderr).toBe(4);
    const summary = JSON.parse(first.stdout);
    expect(summary).toMatchObject({ total: 13, done: 12, resumed: 0 });
    expect(summary.failed).toEqual([{ file: join(input, 'broken.wav'), error: expect.stringMatching(/^Media::UnknownFormat: /) }]);
    expect((await readdir(out)).filter((f) => f.endsWith('.flac')).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}.flac`).sort());
    expect((await readdir(join(out, 'sub'))).sort()).toEqual(['t10.flac', 't11.flac']);
    const a = await decodeWithFfmpeg(join(input, 't3.wav'));
    const b = await decodeWithFfmpeg(join(out, 't3.flac'));
    expect(rmsDb(b.channels[0]) - rmsDb(a.channels[0])).toBeCloseTo(-6, 1);
    const state = await stat(join(out, '.david-remote.json'));
    expect(state.mode & 0o077).toBe(0); // it holds the session token

    // A rerun redoes nothing that finished (the outputs keep their times) and still names the failure.
    const before = (await stat(join(out, 't3.flac'))).mtimeMs;
    const again = await david(...args);
    expect(again.code).toBe(4);
    expect(JSON.parse(again.stdout)).toMatchObject({ total: 13, done: 0, resumed: 12 });
    expect((await stat(join(out, 't3.flac'))).mtimeMs).toBe(before);

    // A removed output is made again; the rest stays.
    await rm(join(out, 't5.flac'));
    const third = JSON.parse((await david(...args)).stdout);
    expect(third).toMatchObject({ done: 1, resumed: 11 });
    expect((await readFile(join(out, 't5.flac'))).subarray(0, 4).toString()).toBe('fLaC');
  });

  it('runs the API’s preset, which the jobs record, and downloads outputs at its loudness', async () => {
    const input = join(ctx.dir, 'preset-in');
    await mkdir(input, { recursive: true });
    await writeFile(join(input, 'a.wav'), sineWav({ seconds: 1.5, peakDbfs: -20, freqHz: 500 }));
    const out = join(ctx.dir, 'preset-out');
    const r = await david('remote', 'process', input, '--api', ctx.stack.apiUrl, '--preset', 'ebu_r128', '--out', out, '--format', 'wav', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ total: 1, done: 1 });
    expect(Math.abs(ffmpegEbur128(join(out, 'a.wav'), ctx.dir).I + 23)).toBeLessThanOrEqual(0.3);
    const state = JSON.parse(await readFile(join(out, '.david-remote.json'), 'utf8'));
    const job = await fetch(`${ctx.stack.apiUrl}/api/audio/${state.session_id}/jobs/${(Object.values(state.files)[0] as { job_id: string }).job_id}`, { headers: { authorization: `Bearer ${state.token}` } });
    expect(await job.json()).toMatchObject({ preset: 'ebu_r128', reports: [{ target: -23, met: true }] });
  });

  it('refuses bad usage before sending anything', async () => {
    const api = ['--api', ctx.stack.apiUrl];
    const file = join(ctx.dir, 'one.wav');
    await writeFile(file, sineWav({ seconds: 0.2 }));
    const cases: [string[], RegExp][] = [
      [['remote', 'process', file, ...api, '--effect', 'gain'], /--out <dir> is required/],
      [['remote', 'process', file, '--out', ctx.dir, '--effect', 'gain'], /--api <url> is required/],
      [['remote', 'process', file, ...api, '--out', join(ctx.dir, 'o'), '--effect', 'gian'], /did you mean 'gain'/],
      [['remote', 'process', file, ...api, '--out', join(ctx.dir, 'o'), '--effect', 'gain', '--format', 'exe'], /--format must be one of/],
      [['remote', 'process', file, ...api, '--out', join(ctx.dir, 'o'), '--effect', 'gain', '--concurency', '2'], /did you mean --concurrency/],
      [['remote', 'process', file, ...api, '--out', ctx.dir, '--effect', 'gain'], /would replace it/],
      [['remote', 'process', join(ctx.dir, 'missing.wav'), ...api, '--out', join(ctx.dir, 'o'), '--effect', 'gain'], /no such file/],
      [['remote', 'process', file, ...api, '--out', join(ctx.dir, 'o'), '--preset', 'podcst'], /no preset 'podcst'.*did you mean 'podcast'/],
      [['remote', 'process', file, ...api, '--out', join(ctx.dir, 'o'), '--preset', 'podcast', '--effect', 'gain'], /give one of --effect/],
    ];
    for (const [args, message] of cases) {
      const r = await david(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });
});
