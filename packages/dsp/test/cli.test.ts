import { execFile, spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile } from '../src/codecs/decode.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { blocksOf, collect } from '../src/engine/chain.ts';
import { registry } from '../src/effects/registry.ts';
import { presetIds } from '../src/presets.ts';
import { ffmpegEbur128 } from './references.ts';

const BIN = join(import.meta.dirname, '..', 'bin', 'david.mjs');
const dir = mkdtempSync(join(tmpdir(), 'david-cli-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run the real command as a child process (from the sources, so the test never sees a stale bundle). */
async function david(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return davidEnv({}, ...args);
}

async function davidEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await promisify(execFile)(process.execPath, [BIN, ...args], { env: { ...process.env, DAVID_FROM_SOURCE: '1', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function sineFile(name: string, amp = 0.5): Promise<string> {
  const sr = 44_100;
  const x = Float32Array.from({ length: sr }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * i) / sr));
  const path = join(dir, name);
  await writeWavFile(blocksOf([x, x.slice()], 4096), { sampleRate: sr, channels: 2 }, path, { bitDepth: 16 });
  return path;
}

const peak = async (path: string) => {
  const d = await decodeFile(path);
  const a = await collect(d.stream, d.format.channels);
  return Math.max(...a.map((c) => c.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
};

describe('the david command', () => {
  it('lists every registered effect, from the declarations', async () => {
    const r = await david('effects', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).map((e: { id: string }) => e.id)).toEqual([...registry.keys()]);
    const text = await david('effects');
    expect(text.stdout).toContain('--param gainDb=<-96..48 dB>  default 0.');
  });

  it('lists the presets, runs one with --preset, and says what normalize reached (a note when it missed)', async () => {
    const list = await david('presets', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).map((p: { id: string }) => p.id)).toEqual(presetIds());
    const one = JSON.parse((await david('presets', 'atsc_a85', '--json')).stdout);
    expect(one).toMatchObject({ id: 'atsc_a85', target: { integrated_lufs: -24, true_peak_dbtp: -2 } });
    expect((await david('presets')).stdout).toContain('voice_cleanup — ');

    // A quiet tone with a hot crest: the podcast target needs the limiter.
    const sr = 44_100;
    const x = Float32Array.from({ length: 5 * sr }, (_, i) => 0.05 * Math.sin((2 * Math.PI * 220 * i) / sr) + (i % 11025 < 40 ? 0.6 : 0));
    const input = join(dir, 'crest.wav');
    await writeWavFile(blocksOf([x], 4096), { sampleRate: sr, channels: 1 }, input, { float: true });
    const out = join(dir, 'podcast.wav');
    const r = await david('process', input, out, '--preset', 'podcast', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.preset).toBe('podcast');
    expect(summary.chain).toEqual([{ effect: 'normalize', parameters: { mode: 'lufs', targetDb: -16, truePeakCeilingDb: -1, peakControl: 'limit' } }]);
    expect(summary.reports).toEqual([expect.objectContaining({ step: 0, effect: 'normalize', target: -16, unit: 'LUFS', met: true })]);
    expect(summary.reports[0].measurements.limited_db).toBeGreaterThan(0);
    const measured = ffmpegEbur128(out, dir);
    expect(Math.abs(measured.I + 16)).toBeLessThanOrEqual(0.3);
    expect(measured.TP).toBeLessThanOrEqual(-1 + 0.1);
    expect(r.stderr).not.toContain('note:');

    const text = await david('process', input, join(dir, 'lowered.wav'), '--effect', 'normalize', '--param', 'targetDb=-16', '--param', 'peakControl=lower_gain');
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/note: normalize \(step 1\) missed its target of -16 LUFS: -\d+\.\d+ LUFS; held back by the -1 dBTP true-peak ceiling/);

    const typo = await david('process', input, join(dir, 'x.wav'), '--preset', 'podcst', '--json');
    expect(typo.code).toBe(2);
    expect(JSON.parse(typo.stdout).error).toMatchObject({ code: 'Preset::UnknownPreset', details: { suggestion: 'podcast' } });
    for (const extra of [['--effect', 'gain'], ['--param', 'gainDb=1']]) {
      const both = await david('process', input, join(dir, 'x.wav'), '--preset', 'podcast', ...extra);
      expect(both.code, extra.join(' ')).toBe(2);
      expect(both.stderr).toMatch(/preset/);
    }
    expect(existsSync(join(dir, 'x.wav'))).toBe(false);
  });

  it('keeps a 24-bit input 24-bit and a float input float unless --bits or --float say otherwise', async () => {
    const audio = [Float32Array.from({ length: 4410 }, (_, i) => 0.5 * Math.sin(i / 7))];
    const codec = (path: string) => spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim();
    for (const [name, opts, kept] of [['in24.wav', { bitDepth: 24 }, 'pcm_s24le'], ['inf.wav', { float: true }, 'pcm_f32le'], ['in16.wav', { bitDepth: 16 }, 'pcm_s16le']] as const) {
      const input = join(dir, name);
      await writeWavFile(blocksOf(audio, 1000), { sampleRate: 44_100, channels: 1 }, input, opts);
      const out = join(dir, `kept-${name}`);
      const r = await david('process', input, out, '--effect', 'gain', '--param', 'gainDb=-1', '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(codec(out), name).toBe(kept);
      expect(JSON.parse(r.stdout).sample_format).toBe({ pcm_s24le: 'pcm24', pcm_f32le: 'float32', pcm_s16le: 'pcm16' }[kept]);
    }
    const forced = join(dir, 'forced16.wav');
    expect((await david('process', join(dir, 'in24.wav'), forced, '--effect', 'gain', '--bits', '16')).code).toBe(0);
    expect(codec(forced)).toBe('pcm_s16le');
  });

  it('reports a downmix: 6 channels into MP3 are written as 2, with a note and downmixed_from', async () => {
    const input = join(dir, 'six.wav');
    await writeWavFile(blocksOf(Array.from({ length: 6 }, (_, c) => Float32Array.from({ length: 4410 }, (_, i) => 0.3 * Math.sin(i / (5 + c)))), 1000), { sampleRate: 44_100, channels: 6 }, input);
    const out = join(dir, 'six.mp3');
    const r = await david('process', input, out, '--effect', 'gain', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ channels: 2, downmixed_from: 6 });
    expect(r.stderr).toContain('mp3 holds at most 2 channels: the 6 channels were downmixed');
    expect(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=channels', '-of', 'csv=p=0', out], { encoding: 'utf8' }).stdout.trim()).toBe('2');
  });

  it('processes a file with an effect and reports it as JSON', async () => {
    const input = await sineFile('in.wav');
    const out = join(dir, 'out.wav');
    const r = await david('process', input, out, '--effect', 'gain', '--param', 'gainDb=-6', '--json');
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ format: 'wav', channels: 2, sample_rate: 44100 });
    expect(summary.duration_s).toBeCloseTo(1, 6);
    expect(20 * Math.log10((await peak(out)) / (await peak(input)))).toBeCloseTo(-6, 1);
  });

  it('runs a chain file and writes other formats through ffmpeg', async () => {
    const input = await sineFile('chain-in.wav');
    const chain = join(dir, 'chain.json');
    writeFileSync(chain, JSON.stringify([{ effect: 'equalizer', parameters: { bands: [{ type: 'highpass', frequencyHz: 100, gainDb: 0, q: 0.7 }] } }, { effect: 'gain', parameters: { gainDb: -3 } }]));
    const out = join(dir, 'out.flac');
    const r = await david('process', input, out, '--chain', chain, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).chain.map((s: { effect: string }) => s.effect)).toEqual(['equalizer', 'gain']);
    expect(readFileSync(out).subarray(0, 4).toString()).toBe('fLaC');
  });

  it('analyzes a file', async () => {
    const input = await sineFile('analyze.wav', 0.1);
    const r = await david('analyze', input, '--json');
    expect(r.code, r.stderr).toBe(0);
    const a = JSON.parse(r.stdout);
    expect(a.peak_dbfs).toBeCloseTo(-20, 1);
    expect(a.duration_s).toBeCloseTo(1, 6);
    expect(typeof a.integrated_lufs).toBe('number');
  });

  it('writes waveform JSON and a spectrogram PNG', async () => {
    const input = await sineFile('wave.wav');
    const json = join(dir, 'peaks.json');
    expect((await david('waveform', input, json, '--zoom', '441')).code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ version: 2, channels: 2, samples_per_pixel: 441, length: 100 });
    const png = join(dir, 'spec.png');
    expect((await david('waveform', input, png, '--width', '64', '--height', '32')).code).toBe(0);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
  });

  it('exit codes tell bad usage (2) from bad media (3)', async () => {
    const input = await sineFile('codes.wav');
    const bad = await david('process', input, join(dir, 'x.wav'), '--effect', 'gain', '--param', 'gainDb=100', '--json');
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout).error.code).toBe('Effect::InvalidParameter');
    expect(JSON.parse(bad.stdout).error.message).toContain('-96 to 48');
    expect((await david('process', input, join(dir, 'x.wav'), '--effect', 'nope')).code).toBe(2);
    expect((await david('frobnicate')).code).toBe(2);
    const text = join(dir, 'not-audio.wav');
    writeFileSync(text, '#EXTM3U\nhttp://example.com/a.mp3\n');
    const media = await david('analyze', text, '--json');
    expect(media.code).toBe(3);
    expect(JSON.parse(media.stdout).error.code).toMatch(/^(Media|Wav)::/);
  });

  it('refuses unknown options with a suggestion, instead of ignoring them', async () => {
    const input = await sineFile('strict.wav');
    const out = join(dir, 'strict-out.wav');
    const parm = await david('process', input, out, '--effect', 'gain', '--parm', 'gainDb=-20');
    expect(parm.code).toBe(2);
    expect(parm.stderr).toContain('did you mean --param?');
    expect(existsSync(out)).toBe(false);
    const bitz = await david('process', input, out, '--effect', 'gain', '--bitz', '24');
    expect(bitz.code).toBe(2);
    expect(bitz.stderr).toContain('did you mean --bits?');
    const pps = await david('waveform', input, join(dir, 'w.json'), '--pixels-per-second', '20');
    expect(pps.code).toBe(2);
    expect(pps.stderr).toContain('unknown option --pixels-per-second');
    const foreign = await david('waveform', input, join(dir, 'w.png'), '--zoom', '20');
    expect(foreign.code).toBe(2);
    const cmd = await david('procss', input, out);
    expect(cmd.code).toBe(2);
    expect(cmd.stderr).toContain("did you mean 'process'?");
    expect((await david('process', input, out, '--effect', 'gain', '--json=maybe')).code).toBe(2);
  });

  it('has --help for every command, shows one effect, and reads --json=false as false', async () => {
    for (const cmd of ['effects', 'analyze', 'process', 'waveform', 'ffmpeg', 'remote']) {
      const r = await david(cmd, '--help');
      expect(r.code, cmd).toBe(0);
      expect(r.stdout).toContain(`usage: david ${cmd}`);
    }
    const one = await david('effects', 'reverb');
    expect(one.code).toBe(0);
    expect(one.stdout.split('\n')[0]).toMatch(/^reverb — /);
    expect(one.stdout).not.toContain('gain —');
    const near = await david('effects', 'reverbb');
    expect(near.code).toBe(2);
    expect(near.stderr).toContain("did you mean 'reverb'?");
    const off = await david('effects', 'gain', '--json=false');
    expect(off.code).toBe(0);
    expect(() => JSON.parse(off.stdout)).toThrow();
    expect(JSON.parse((await david('effects', 'gain', '--json=true')).stdout).id).toBe('gain');
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', '..', 'package.json'), 'utf8'));
    expect((await david('--version')).stdout.trim()).toBe(`david ${pkg.version}`);
  }, 60_000); // eleven processes: past the default 5 s on a loaded machine

  it('never destroys its input: the same path, a symlink or a hard link as output is refused', async () => {
    const input = await sineFile('precious.wav');
    const before = readFileSync(input);
    const sym = join(dir, 'precious-link.wav');
    symlinkSync(input, sym);
    const hard = join(dir, 'precious-hard.wav');
    linkSync(input, hard);
    for (const out of [input, sym, hard, join(dir, '.', 'precious.wav')]) {
      const r = await david('process', input, out, '--effect', 'gain', '--param', 'gainDb=-6');
      expect(r.code, out).toBe(2);
      expect(r.stderr).toContain('is the input file');
      expect(readFileSync(input).equals(before)).toBe(true);
    }
    const w = await david('waveform', input, input.replace(/\.wav$/, '.wav'));
    expect(w.code).toBe(2);
  });

  it('writes through a temporary file: a failure leaves no partial output and an existing file untouched', async () => {
    const notAudio = join(dir, 'junk.wav');
    writeFileSync(notAudio, Buffer.alloc(5000, 7));
    const out = join(dir, 'kept.wav');
    writeFileSync(out, 'previous result');
    const r = await david('process', notAudio, out, '--effect', 'gain');
    expect(r.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('previous result');
    expect(readdirSync(dir).filter((f) => f.includes('.part'))).toEqual([]);
    const fresh = join(dir, 'never.wav');
    expect((await david('process', notAudio, fresh, '--effect', 'gain')).code).toBe(3);
    expect(existsSync(fresh)).toBe(false);
  });

  it('says clearly when the input is a directory or unreadable, and when FFMPEG_PATH is unusable', async () => {
    const d = await david('analyze', dir);
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('is a directory');
    expect(d.stderr).not.toContain('    at ');
    const missing = await david('analyze', join(dir, 'nope.wav'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const ff = await davidEnv({ FFMPEG_PATH: '/nonexistent/ffmpeg' }, 'ffmpeg', '--json');
    expect(ff.code).toBe(2);
    expect(JSON.parse(ff.stdout).error).toMatchObject({ code: 'Codec::FfmpegPathUnusable' });
    expect(JSON.parse(ff.stdout).error.message).toContain('/nonexistent/ffmpeg');
  });
});
