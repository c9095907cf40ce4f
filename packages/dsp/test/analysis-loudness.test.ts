import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.ts';
import { LoudnessMeter } from '../src/analysis/loudness.ts';
import { SPECTROGRAM_MARGINS, spectrogramPng, waveformPeaks } from '../src/analysis/waveform.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { blocksOf } from '../src/engine/chain.ts';
import type { AudioBlock } from '../src/types.ts';
import { ffmpegEbur128 as ffmpegReference } from './references.ts';

const dir = mkdtempSync(join(tmpdir(), 'david-analysis-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Concatenated stereo 1 kHz sine segments: [dBFS peak per channel, seconds][] (EBU Tech 3341/3342 signals). */
function segments(sr: number, segs: [number, number][]): AudioBlock {
  const total = segs.reduce((s, [, sec]) => s + Math.round(sec * sr), 0);
  const x = new Float32Array(total);
  let o = 0;
  for (const [dbfs, sec] of segs) {
    const a = Math.pow(10, dbfs / 20);
    const n = Math.round(sec * sr);
    for (let i = 0; i < n; i++) x[o + i] = a * Math.sin((2 * Math.PI * 1000 * i) / sr);
    o += n;
  }
  return [x, x.slice()];
}

function measure(audio: AudioBlock, sr: number) {
  const m = new LoudnessMeter({ sampleRate: sr, channels: audio.length }, { truePeak: false });
  for (let o = 0; o < audio[0].length; o += 4800) m.push(audio.map((c) => c.subarray(o, o + 4800)));
  return m.summary();
}

describe('EBU Tech 3341 (integrated, momentary, short-term) — tolerance ±0.1 LU as in the spec', () => {
  const cases: [string, [number, number][], number][] = [
    ['case 1: −23 dBFS, 20 s', [[-23, 20]], -23],
    ['case 2: −33 dBFS, 20 s', [[-33, 20]], -33],
    ['case 3: −36/−23/−36 dBFS (relative gate)', [[-36, 10], [-23, 60], [-36, 10]], -23],
    ['case 4: −72/−36/−23/−36/−72 dBFS (absolute gate)', [[-72, 10], [-36, 10], [-23, 60], [-36, 10], [-72, 10]], -23],
    ['case 5: −26/−20/−26 dBFS', [[-26, 20], [-20, 20.1], [-26, 20]], -23],
  ];
  for (const sr of [48_000, 44_100]) {
    for (const [name, segs, expected] of cases) {
      it(`${name} at ${sr} Hz`, () => {
        const s = measure(segments(sr, segs), sr);
        expect(Math.abs(s.integrated_lufs - expected)).toBeLessThanOrEqual(0.1);
      });
    }
  }
  it('case 1 momentary and short-term maxima are −23 LUFS', () => {
    const s = measure(segments(48_000, [[-23, 20]]), 48_000);
    expect(Math.abs(s.max_momentary_lufs + 23)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(s.max_short_term_lufs + 23)).toBeLessThanOrEqual(0.1);
  });
});

describe('EBU Tech 3342 (loudness range) — tolerance ±1 LU as in the spec', () => {
  const cases: [string, [number, number][], number][] = [
    ['case 1: −20/−30 dBFS', [[-20, 20], [-30, 20]], 10],
    ['case 2: −20/−15 dBFS', [[-20, 20], [-15, 20]], 5],
    ['case 3: −40/−20 dBFS', [[-40, 20], [-20, 20]], 20],
    ['case 4: −50/−35/−20/−35/−50 dBFS', [[-50, 20], [-35, 20], [-20, 20], [-35, 20], [-50, 20]], 15],
  ];
  for (const [name, segs, expected] of cases) {
    it(name, () => {
      expect(Math.abs(measure(segments(48_000, segs), 48_000).loudness_range_lu - expected)).toBeLessThanOrEqual(1);
    });
  }
});

const ffmpegEbur128 = (path: string) => ffmpegReference(path, dir);

/** Music-like material: detuned harmonic tones with envelopes, a bass line, noise percussion, a quiet bridge. */
function musicLike(sr: number, seconds: number, seed: number): AudioBlock {
  const n = Math.round(sr * seconds);
  const l = new Float32Array(n), r = new Float32Array(n);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  let lp = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const bar = Math.floor(t / 2);
    const root = [110, 146.8, 123.5, 164.8][bar % 4];
    const section = t > seconds * 0.4 && t < seconds * 0.6 ? 0.12 : 1; // a quiet bridge widens the range
    const env = section * (0.6 + 0.4 * Math.sin(2 * Math.PI * 0.21 * t) ** 2);
    let tone = 0;
    for (let h = 1; h <= 5; h++) tone += Math.sin(2 * Math.PI * root * 2 * h * t * (1 + 0.002 * h)) / h;
    const bass = Math.sin(2 * Math.PI * root * 0.5 * t) * Math.exp(-((t * 2) % 1) * 3);
    lp += 0.3 * (rnd() - lp);
    const hat = rnd() * Math.exp(-((t * 4) % 1) * 30);
    const kick = Math.sin(2 * Math.PI * 50 * ((t * 2) % 1)) * Math.exp(-((t * 2) % 1) * 20);
    const v = env * (0.18 * tone + 0.25 * bass) + 0.35 * kick + 0.08 * hat + 0.02 * lp;
    l[i] = v * (0.9 + 0.1 * Math.sin(2 * Math.PI * 0.1 * t));
    r[i] = v * (0.9 - 0.1 * Math.sin(2 * Math.PI * 0.1 * t)) + 0.03 * Math.sin(2 * Math.PI * 2637 * t) * env;
  }
  return [l, r];
}

/** Speech-like material: syllables of filtered noise and voiced buzz with pauses. */
function speechLike(sr: number, seconds: number): AudioBlock {
  const n = Math.round(sr * seconds);
  const x = new Float32Array(n);
  let s = 99;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  let b1 = 0, b2 = 0;
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const syll = (t * 4.3) % 1;
    const word = Math.sin(2 * Math.PI * 0.35 * t) > -0.6 ? 1 : 0; // pauses between phrases
    const env = word * Math.sin(Math.PI * Math.min(1, syll / 0.7)) ** 2 * (syll < 0.7 ? 1 : 0);
    const f0 = 120 + 30 * Math.sin(2 * Math.PI * 0.5 * t);
    const buzz = ((t * f0) % 1) * 2 - 1;
    const src = syll < 0.15 ? rnd() * 0.5 : buzz;
    // A resonator around 700 Hz (a formant).
    const w = (2 * Math.PI * 700) / sr, rr = 0.97;
    const y = src + 2 * rr * Math.cos(w) * b1 - rr * rr * b2;
    b2 = b1;
    b1 = y;
    x[i] = 0.04 * env * y;
  }
  return [x];
}

describe('against ffmpeg ebur128=peak=true on realistic material (I, LRA within 0.1 LU; true peak within 0.2 dB)', () => {
  const materials: [string, number, () => AudioBlock][] = [
    ['music-like stereo, 44.1 kHz, 40 s', 44_100, () => musicLike(44_100, 40, 3)],
    ['music-like stereo, 48 kHz, 30 s', 48_000, () => musicLike(48_000, 30, 11)],
    ['speech-like mono, 22.05 kHz, 30 s', 22_050, () => speechLike(22_050, 30)],
  ];
  for (const [name, sr, make] of materials) {
    it(name, async () => {
      const audio = make();
      const path = join(dir, `m-${sr}.wav`);
      await writeWavFile(blocksOf(audio, 8192), { sampleRate: sr, channels: audio.length }, path, { bitDepth: 32, float: true });
      const ours = await analyze(blocksOf(audio, 4096), { sampleRate: sr, channels: audio.length });
      const ref = ffmpegEbur128(path);
      expect(Math.abs(ours.integrated_lufs! - ref.I), `I ours ${ours.integrated_lufs} ffmpeg ${ref.I}`).toBeLessThanOrEqual(0.1);
      expect(Math.abs(ours.loudness_range_lu! - ref.LRA), `LRA ours ${ours.loudness_range_lu} ffmpeg ${ref.LRA}`).toBeLessThanOrEqual(0.1);
      expect(Math.abs(ours.true_peak_dbtp! - ref.TP), `TP ours ${ours.true_peak_dbtp} ffmpeg ${ref.TP}`).toBeLessThanOrEqual(0.2);
    }, 60_000);
  }
});

describe('analysis features', () => {
  const SR = 44_100;
  it('reports what cannot be measured as null with its reason, never as a sentinel number', async () => {
    const tone = (seconds: number, amp: number) => Float32Array.from({ length: Math.round(SR * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * 1000 * i) / SR));
    const fmt = { sampleRate: SR, channels: 1 };
    // 0.3 s: peaks are there, but no 400 ms gating block and no 3 s window.
    const short = await analyze(blocksOf([tone(0.3, 0.5)], 1000), fmt);
    expect(short.peak_dbfs).toBeCloseTo(20 * Math.log10(0.5), 1);
    expect(short.integrated_lufs).toBeNull();
    expect(short.max_momentary_lufs).toBeNull();
    expect(short.max_short_term_lufs).toBeNull();
    expect(short.loudness_range_lu).toBeNull();
    expect(short.not_measurable).toEqual({
      integrated_lufs: 'shorter than one 400 ms gating block',
      max_momentary_lufs: 'shorter than one 400 ms gating block',
      max_short_term_lufs: 'shorter than one 3 s short-term window',
      loudness_range_lu: 'shorter than one 3 s short-term window',
    });
    // 1 s: integrated and momentary exist, the 3 s values do not.
    const second = await analyze(blocksOf([tone(1, 0.5)], 1000), fmt);
    // A mono 1 kHz sine reads 3 dB below its peak level (EBU Tech 3341 case 1: −23 dBFS in both channels is −23 LUFS).
    expect(Math.abs(second.integrated_lufs! - (20 * Math.log10(0.5) - 3.01))).toBeLessThan(0.1);
    expect(Object.keys(second.not_measurable).sort()).toEqual(['loudness_range_lu', 'max_short_term_lufs']);
    // 5 s of digital silence: nothing to measure, and it says so.
    const silent = await analyze(blocksOf([new Float32Array(SR * 5)], 1000), fmt);
    for (const k of ['peak_dbfs', 'true_peak_dbtp', 'rms_dbfs'] as const) {
      expect(silent[k]).toBeNull();
      expect(silent.not_measurable[k]).toBe('digital silence');
    }
    expect(silent.integrated_lufs).toBeNull();
    expect(silent.not_measurable.integrated_lufs).toBe('all of it below the −70 LUFS absolute gate');
    // −80 dBFS: peaks measured, loudness gated away.
    const quiet = await analyze(blocksOf([tone(5, 1e-4)], 1000), fmt);
    expect(quiet.peak_dbfs).toBeCloseTo(-80, 1);
    expect(quiet.integrated_lufs).toBeNull();
    expect(quiet.loudness_range_lu).toBeNull();
    // A normal signal: everything measured.
    expect((await analyze(blocksOf([tone(4, 0.5)], 1000), fmt)).not_measurable).toEqual({});
  });

  it('measures a sine: peak, RMS, zero crossings, centroid, DC, no clipping; finds silent spans', async () => {
    const n = SR * 3;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = i >= SR && i < 2 * SR ? 0 : 0.5 * Math.sin((2 * Math.PI * 1000 * i) / SR) + 0.01;
    const a = await analyze(blocksOf([x], 1000), { sampleRate: SR, channels: 1 });
    expect(a.duration_s).toBeCloseTo(3, 6);
    expect(a.peak_dbfs).toBeCloseTo(20 * Math.log10(0.51), 1);
    expect(a.dc_offset[0]).toBeCloseTo(0.01 * (2 / 3), 4);
    expect(a.clipped_samples).toBe(0);
    expect(a.zero_crossing_rate).toBeGreaterThan(1300); // 2000/s over the 2 s of tone, 3 s in all
    expect(a.zero_crossing_rate).toBeLessThan(1400);
    expect(Math.abs(a.spectral_centroid_hz - 1000)).toBeLessThan(60);
    expect(a.silent_spans).toHaveLength(1);
    expect(a.silent_spans[0].start_s).toBeCloseTo(1, 1);
    expect(a.silent_spans[0].end_s).toBeCloseTo(2, 1);
    expect(a.spectral_flatness).toBeLessThan(0.1); // tonal
  });

  it('stereo fast paths agree with the general multichannel ones; clipped samples are counted exactly', async () => {
    const n = SR * 4;
    let seed = 9;
    const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
    const l = Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin((2 * Math.PI * 220 * i) / SR) + 0.3 * rnd());
    const r = Float32Array.from({ length: n }, (_, i) => 0.35 * Math.sin((2 * Math.PI * 331 * i) / SR) + 0.2 * rnd());
    for (let k = 0; k < 37; k++) l[1000 + k * 4001] = k % 2 ? -1 : 1;
    for (let k = 0; k < 5; k++) r[777 + k * 9000] = 1;
    const meter = (audio: AudioBlock) => {
      const m = new LoudnessMeter({ sampleRate: SR, channels: audio.length });
      for (let o = 0; o < n; o += 3000) m.push(audio.map((c) => c.subarray(o, o + 3000)));
      return m.summary();
    };
    const stereo = meter([l, r]);
    const general = meter([l, r, new Float32Array(n)]); // L, R, C: a silent centre adds no energy
    expect(stereo.integrated_lufs).toBeCloseTo(general.integrated_lufs, 9);
    expect(stereo.loudness_range_lu).toBeCloseTo(general.loudness_range_lu, 9);
    expect(stereo.true_peak_dbtp).toBeCloseTo(general.true_peak_dbtp, 9);
    expect(stereo.sample_peak_dbfs).toBe(0);
    expect(stereo.true_peak_dbtp).toBeGreaterThan(0);
    const a = await analyze(blocksOf([l, r], 1001), { sampleRate: SR, channels: 2 });
    expect(a.clipped_samples).toBe(42);
    expect(a.peak_dbfs).toBe(0);
  });

  it('estimates the tempo of a click track within 2 BPM', async () => {
    for (const bpm of [90, 128]) {
      const n = SR * 20;
      const x = new Float32Array(n);
      const period = (60 / bpm) * SR;
      for (let k = 0; k * period < n; k++) for (let i = 0; i < 400 && k * period + i < n; i++) x[Math.round(k * period) + i] = 0.8 * Math.exp(-i / 60) * Math.sin(i * 0.9);
      const a = await analyze(blocksOf([x], 4096), { sampleRate: SR, channels: 1 });
      expect(Math.abs((a.tempo_bpm ?? 0) - bpm), `tempo ${a.tempo_bpm}`).toBeLessThan(2);
    }
  });

  it('waveform peaks follow the audiowaveform v2 layout', async () => {
    const l = Float32Array.from({ length: 1000 }, (_, i) => (i < 500 ? 0.5 : -1));
    const w = await waveformPeaks(blocksOf([l, l.map((v) => v / 2)], 333), { sampleRate: SR, channels: 2 }, { samplesPerPixel: 250, bits: 8 });
    expect(w).toMatchObject({ version: 2, channels: 2, samples_per_pixel: 250, bits: 8, length: 4 });
    expect(w.data.slice(0, 4)).toEqual([64, 64, 32, 32]);
    expect(w.data.slice(-4)).toEqual([-128, -128, -64, -64]);
  });

  it('renders a spectrogram PNG whose brightest row sits at the tone frequency, with frequency and time axes and a dB scale', async () => {
    const n = SR * 2;
    const x = Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 5512.5 * i) / SR));
    const png = await spectrogramPng(blocksOf([x], 4096), { sampleRate: SR, channels: 1 }, { width: 64, height: 128 });
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const v = new DataView(png.buffer, png.byteOffset);
    const M = SPECTROGRAM_MARGINS;
    const W = 64 + M.left + M.right;
    expect([v.getUint32(16), v.getUint32(20)]).toEqual([W, 128 + M.top + M.bottom]);
    const { inflateSync } = await import('node:zlib');
    const raw = inflateSync(png.subarray(41, 41 + v.getUint32(33)));
    const px = (x: number, y: number) => Array.from(raw.subarray(y * (W * 3 + 1) + 1 + x * 3, y * (W * 3 + 1) + 4 + x * 3));
    const rowSum = (y: number) => {
      let s = 0;
      for (let x = M.left; x < M.left + 64; x++) s += px(x, M.top + y).reduce((a, b) => a + b, 0);
      return s;
    };
    let best = 0;
    for (let y = 1; y < 128; y++) if (rowSum(y) > rowSum(best)) best = y;
    // 5512.5 Hz is 1/4 of Nyquist: row 128 − 32 − 1 of the plot.
    expect(Math.abs(best - (128 - 32 - 1))).toBeLessThanOrEqual(1);
    // The frequency axis agrees with the data: its 5 kHz tick (ticks every 5 kHz at this height) is 3 rows under the tone.
    const ink = (x: number, y: number) => px(x, y).every((c) => c > 200);
    const ticks = Array.from({ length: 128 }, (_, y) => y).filter((y) => ink(M.left - 2, M.top + y));
    expect(ticks).toHaveLength(5); // 0, 5, 10, 15, 20 kHz
    const fiveKhzTick = ticks[3]; // top to bottom: 20, 15, 10, 5, 0 kHz
    expect(fiveKhzTick - best).toBeGreaterThanOrEqual(2); // 512.5 Hz above 5 kHz is 2.95 rows at 173.6 Hz a row
    expect(fiveKhzTick - best).toBeLessThanOrEqual(4);
    // Labels left of the plot and under it; time ticks under it; the scale right of it, white at 0 dB, black at −100.
    let labelInk = 0, timeInk = 0;
    for (let y = M.top; y < M.top + 128; y++) for (let x = 0; x < M.left - 6; x++) if (ink(x, y)) labelInk++;
    for (let y = M.top + 128 + 6; y < M.top + 128 + M.bottom; y++) for (let x = M.left; x < M.left + 64; x++) if (ink(x, y)) timeInk++;
    expect(labelInk).toBeGreaterThan(50);
    expect(timeInk).toBeGreaterThan(20);
    expect(px(M.left + 64 + 12, M.top)).toEqual([255, 255, 255]);
    expect(px(M.left + 64 + 12, M.top + 127)).toEqual([0, 0, 0]);
  });
});

describe('normalize and limiter, checked with our meter and with ffmpeg', () => {
  it('normalize hits its LUFS target within 0.1 LU', async () => {
    const { renderChain } = await import('../src/engine/chain.ts');
    const audio = musicLike(44_100, 20, 5).map((c) => c.map((v) => v * 0.3)); // quiet input: gain goes up
    const format = { sampleRate: 44_100, channels: 2 };
    const out = (await renderChain(audio, [{ effect: 'normalize', parameters: { mode: 'lufs', targetDb: -16, truePeakCeilingDb: 0 } }], format, { tempDir: dir })).audio;
    const ours = await analyze(blocksOf(out, 4096), format);
    expect(Math.abs(ours.integrated_lufs! + 16)).toBeLessThanOrEqual(0.1);
    const path = join(dir, 'normalized.wav');
    await writeWavFile(blocksOf(out, 8192), format, path, { bitDepth: 32, float: true });
    expect(Math.abs(ffmpegEbur128(path).I + 16)).toBeLessThanOrEqual(0.1);
  }, 30_000);

  it('normalize with peakControl lower_gain lowers its gain to respect the true-peak ceiling (no limiter)', async () => {
    const { renderChain } = await import('../src/engine/chain.ts');
    const audio = musicLike(44_100, 10, 8);
    const format = { sampleRate: 44_100, channels: 2 };
    const out = (await renderChain(audio, [{ effect: 'normalize', parameters: { targetDb: -5, truePeakCeilingDb: -2, peakControl: 'lower_gain' } }], format, { tempDir: dir })).audio;
    const a = await analyze(blocksOf(out, 4096), format);
    expect(Math.abs(a.true_peak_dbtp! + 2)).toBeLessThanOrEqual(0.01);
    expect(a.integrated_lufs).toBeLessThan(-5);
  });

  it('limiter keeps the true peak at or below its ceiling: +0.01 dB by our meter, +0.2 dB by ffmpeg (the stated TP tolerance between meters)', async () => {
    const { renderChain } = await import('../src/engine/chain.ts');
    // 48 kHz, because ffmpeg's ebur128 resamples anything else to 48 kHz first and measures the resampler's overshoot too.
    const audio = musicLike(48_000, 15, 9).map((c) => c.map((v) => v * 2.5)); // hot: peaks well above 0 dBFS
    const format = { sampleRate: 48_000, channels: 2 };
    const out = (await renderChain(audio, [{ effect: 'limiter', parameters: { ceilingDb: -1, lookaheadMs: 5, releaseMs: 80 } }], format, { blockSize: 1000 })).audio;
    expect(out[0].length).toBe(audio[0].length);
    const a = await analyze(blocksOf(out, 4096), format);
    expect(a.true_peak_dbtp).toBeLessThanOrEqual(-1 + 0.01);
    expect(a.true_peak_dbtp).toBeGreaterThan(-1.5); // limited, not just turned down
    const path = join(dir, 'limited.wav');
    await writeWavFile(blocksOf(out, 8192), format, path, { bitDepth: 32, float: true });
    expect(ffmpegEbur128(path).TP).toBeLessThanOrEqual(-1 + 0.2);
    // Loudness is kept close to the input's where the signal was not over the ceiling: the quiet bridge is untouched.
    const quiet = audio.map((c) => c.map((v) => v * 0.05));
    const q = (await renderChain(quiet, [{ effect: 'limiter' }], format)).audio;
    let maxDiff = 0;
    for (let i = 0; i < q[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(q[0][i] - quiet[0][i]));
    expect(maxDiff).toBeLessThan(1e-6);
  }, 30_000);
});
