import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWavFile } from '../src/codecs/wav.ts';
import { createRealFft } from '../src/engine/fft.ts';
import { createResampler } from '../src/engine/resampler.ts';
import { blocksOf, renderChain } from '../src/engine/chain.ts';
import type { ChainStep } from '../src/types.ts';
import { zeroCrossingHz } from './measure.ts';
import { ffmpegDecode } from './references.ts';

/** Pitch and time: frequencies measured by interpolated positive-going zero crossings over the steady middle. */
const SR = 44_100;
const sine = (hz: number, seconds: number, sr = SR) => Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => 0.5 * Math.sin((2 * Math.PI * hz * i) / sr));

const frequency = (x: Float32Array, sr = SR) => zeroCrossingHz(x, sr);
const cents = (f: number, ref: number) => 1200 * Math.log2(f / ref);

describe('pitch_shift', () => {
  for (const [semitones, expected] of [[12, 880], [-7, 440 * Math.pow(2, -7 / 12)], [5, 440 * Math.pow(2, 5 / 12)]] as const) {
    it(`${semitones > 0 ? '+' : ''}${semitones} semitones turns 440 Hz into ${expected.toFixed(1)} Hz within 1 cent, duration within 0.5 %`, async () => {
      const x = sine(440, 2);
      const [out] = (await renderChain([x], [{ effect: 'pitch_shift', parameters: { semitones } }], { sampleRate: SR, channels: 1 }, { blockSize: 3000 })).audio;
      expect(Math.abs(out.length - x.length) / x.length).toBeLessThan(0.005);
      expect(Math.abs(cents(frequency(out), expected))).toBeLessThan(1);
    });
  }
});

describe('time_stretch', () => {
  for (const ratio of [0.5, 1.5, 2, 0.8]) {
    it(`durationRatio ${ratio}: duration within 0.5 %, 440 Hz unchanged within 1 cent`, async () => {
      const x = sine(440, 2);
      const [out] = (await renderChain([x], [{ effect: 'time_stretch', parameters: { durationRatio: ratio } }], { sampleRate: SR, channels: 1 }, { blockSize: 2048 })).audio;
      expect(Math.abs(out.length - x.length * ratio) / (x.length * ratio)).toBeLessThan(0.005);
      expect(Math.abs(cents(frequency(out), 440))).toBeLessThan(1);
    });
  }
});

describe('pitch_shift’s cents and the identities', () => {
  for (const [semitones, cents_, hz] of [[0, 50, 440 * 2 ** (50 / 1200)], [1, -50, 440 * 2 ** (50 / 1200)], [-2, -30, 440 * 2 ** (-230 / 1200)]] as const) {
    it(`semitones ${semitones} and cents ${cents_} turn 440 Hz into ${hz.toFixed(2)} Hz within 1 cent`, async () => {
      const [out] = (await renderChain([sine(440, 1.5)], [{ effect: 'pitch_shift', parameters: { semitones, cents: cents_ } }], { sampleRate: SR, channels: 1 }, { blockSize: 4096 })).audio;
      expect(Math.abs(cents(frequency(out), hz))).toBeLessThan(1);
    });
  }

  it('time_stretch at 1 and pitch_shift at 0 pass the audio through bit for bit (no frames re-cut)', async () => {
    const x = sine(440, 0.5).map((v, i) => v + 0.1 * Math.sin(i * 0.37));
    for (const step of [{ effect: 'time_stretch', parameters: { durationRatio: 1 } }, { effect: 'pitch_shift', parameters: { semitones: 0, cents: 0 } }]) {
      const [out] = (await renderChain([x.slice()], [step], { sampleRate: SR, channels: 1 }, { blockSize: 1000 })).audio;
      expect(out.length).toBe(x.length);
      expect(out.every((v, i) => v === x[i]), step.effect).toBe(true);
    }
  });
});

describe('pitch_shift and time_stretch from the first frame to the last', () => {
  // A steady sine stays steady everywhere but the first and last 20 ms (the first frame fades in over its rising
  // half; the last ones overlap the silence the end is padded with): each 10 ms of the output within 0.5 dB of the
  // sine's level. The middle alone is what the THD+N tests see; the first frame and the flushed tail are not there.
  const steps = [
    { effect: 'time_stretch', parameters: { durationRatio: 1.3 } },
    { effect: 'time_stretch', parameters: { durationRatio: 0.6 } },
    { effect: 'pitch_shift', parameters: { semitones: 4 } },
  ];
  for (const step of steps) {
    it(`${step.effect} ${JSON.stringify(step.parameters)}: every 10 ms at the sine’s level`, async () => {
      const x = sine(440, 1.5);
      const [out] = (await renderChain([x], [step], { sampleRate: SR, channels: 1 }, { blockSize: 1000 })).audio;
      const w = SR / 100;
      const db = (a: number) => {
        let e = 0;
        for (let i = a; i < a + w; i++) e += out[i] * out[i];
        return 10 * Math.log10(e / w / 0.125); // re. the input's mean square (amplitude 0.5)
      };
      for (let a = 2 * w; a + 3 * w <= out.length; a += w) expect(Math.abs(db(a)), `${(a / SR).toFixed(2)} s of ${(out.length / SR).toFixed(2)} s`).toBeLessThan(0.5);
    });
  }
});

describe('pitch_shift and time_stretch on more than one channel', () => {
  // Every channel is cut at the positions the search finds on the channels' mean: channels that are all the same
  // signal (their mean is that signal exactly, for 2 and 4 channels) must give the mono result, sample for sample.
  // A search on anything else (the difference of the channels: silence here) places the frames elsewhere.
  const chord = Float32Array.from({ length: SR * 2 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / SR) + 0.2 * Math.sin((2 * Math.PI * 331 * i) / SR + 1));
  for (const step of [{ effect: 'time_stretch', parameters: { durationRatio: 1.3 } }, { effect: 'pitch_shift', parameters: { semitones: -4 } }]) {
    it(`${step.effect}: 2 and 4 identical channels give the mono result`, async () => {
      const [mono] = (await renderChain([chord], [step], { sampleRate: SR, channels: 1 }, { blockSize: 4096 })).audio;
      for (const channels of [2, 4]) {
        const out = (await renderChain(Array.from({ length: channels }, () => chord.slice()), [step], { sampleRate: SR, channels }, { blockSize: 4096 })).audio;
        for (const c of out) expect(Buffer.from(c.buffer, c.byteOffset, c.byteLength).equals(Buffer.from(mono.buffer, mono.byteOffset, mono.byteLength)), `${channels} channels`).toBe(true);
      }
    });
  }
});

describe('resampler', () => {
  it('keeps a sine’s frequency, gives the exact length, rejects what would alias, for any block size', async () => {
    for (const [from, to] of [[44_100, 48_000], [48_000, 44_100], [44_100, 22_050]] as const) {
      const x = sine(1000, 1, from);
      const run = (bs: number) => {
        const r = createResampler(from, to, 1);
        const parts: Float32Array[] = [];
        for (let o = 0; o < x.length; o += bs) parts.push(r.process([x.slice(o, o + bs)])[0]);
        parts.push(r.flush()[0] ?? new Float32Array());
        const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
        let o = 0;
        for (const p of parts) (out.set(p, o), (o += p.length));
        return out;
      };
      const a = run(4096);
      expect(a.length).toBe(Math.round((x.length * to) / from));
      expect(Math.abs(cents(frequency(a, to), 1000))).toBeLessThan(0.1);
      const b = run(333);
      let diff = 0;
      for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
      expect(diff).toBeLessThan(1e-6);
    }
    // 15 kHz cannot exist at 22.05 kHz: after resampling it must be ≥ 60 dB down (the default design).
    const hi = sine(15_000, 1);
    const r = createResampler(SR, 22_050, 1);
    const out = [...r.process([hi])[0], ...(r.flush()[0] ?? [])];
    const mid = out.slice(2000, out.length - 2000);
    const rms = Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length);
    expect(20 * Math.log10(rms / (0.5 / Math.SQRT2))).toBeLessThan(-60);
  });
});

describe('resampler stopband and passband (analytic: a pure tone in, one exact DFT bin out)', () => {
  /**
   * Level in dB re. amplitude 1 of the component at integer frequency f in one second of output starting at 0.2 s:
   * with integer-Hz tones a rectangular window over exactly one second is exact (no leakage), so −150 dB is
   * measurable.
   */
  const level = (y: Float32Array, rate: number, f: number) => {
    const off = Math.floor(rate * 0.2);
    let re = 0, im = 0;
    for (let n = 0; n < rate; n++) {
      const ph = (2 * Math.PI * f * n) / rate;
      re += y[off + n] * Math.cos(ph);
      im += y[off + n] * Math.sin(ph);
    }
    return 20 * Math.log10((2 * Math.hypot(re, im)) / rate);
  };
  const tone = (from: number, to: number, f: number, quality: 'high' | 'fast') => {
    const x = Float32Array.from({ length: Math.round(from * 1.5) }, (_, i) => Math.sin((2 * Math.PI * f * i) / from));
    const r = createResampler(from, to, 1, quality);
    const a = r.process([x])[0], b = r.flush()[0];
    const y = new Float32Array(a.length + b.length);
    y.set(a);
    y.set(b, a.length);
    return y;
  };
  // Downsampling: a tone above the output's Nyquist folds to to − f. Upsampling: the first image of f is at
  // from − f, folded at the output's Nyquist when it lies above it. 44 101 Hz is a ratio with no small polyphase bank.
  const cases = [[48_000, 44_100], [44_100, 48_000], [96_000, 44_100], [44_100, 22_050], [44_100, 44_101]] as const;
  const stopband = (from: number, to: number) => {
    const lo = Math.min(from, to) / 2;
    const tones = from > to ? [lo + 50, lo + 450, lo + 950, from / 2 - 100] : [Math.round(lo * 0.8), Math.round(lo * 0.9), lo - 50, lo - 10];
    return tones.map((f) => {
      const other = from > to ? to - f : from - f;
      return { f, at: other < to / 2 ? other : to - other };
    }).filter(({ at }) => at > 0 && at < to / 2);
  };
  for (const [quality, floorDb, edge, flatDb] of [['high', -100, 20_000 / 22_050, 0.01], ['fast', -60, 0.8, 0.01]] as const) {
    it(`${quality}: aliases and images ≤ ${floorDb} dB, passband within ±${flatDb} dB to ${edge.toFixed(3)} of Nyquist`, () => {
      for (const [from, to] of cases) {
        const lo = Math.min(from, to) / 2;
        for (const { f, at } of stopband(from, to)) expect(level(tone(from, to, f, quality), to, at), `${from} → ${to}: ${f} Hz at ${at} Hz`).toBeLessThan(floorDb);
        for (const f of [20, 1000, 10_000, 15_000, 17_600, 19_000, 20_000].filter((f) => f <= Math.round(lo * edge))) {
          expect(Math.abs(level(tone(from, to, f, quality), to, f)), `${from} → ${to}: ${f} Hz`).toBeLessThan(flatDb);
        }
      }
    });
  }
});

describe('resample effect', () => {
  it('changes the rate the chain reports, keeps a 1 kHz sine’s level within 0.02 dB and its frequency within 0.1 cent', async () => {
    for (const [from, to, quality] of [[48_000, 44_100, 'high'], [44_100, 96_000, 'high'], [22_050, 8000, 'fast']] as const) {
      const x = sine(1000, 1, from);
      const { audio, format } = await renderChain([x, x.map((v) => -v)], [{ effect: 'resample', parameters: { sampleRate: to, quality } }], { sampleRate: from, channels: 2 }, { blockSize: 1000 });
      expect(format).toEqual({ sampleRate: to, channels: 2 });
      expect(audio[0].length).toBe(Math.round((x.length * to) / from));
      expect(Math.abs(cents(frequency(audio[0], to), 1000))).toBeLessThan(0.1);
      const mid = audio[0].subarray(Math.floor(to * 0.1), Math.floor(to * 0.9));
      const rms = Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length);
      expect(Math.abs(20 * Math.log10(rms / (0.5 / Math.SQRT2))), `${from} → ${to}`).toBeLessThan(0.02);
      for (let i = 0; i < audio[0].length; i += 97) expect(audio[1][i]).toBeCloseTo(-audio[0][i], 6);
    }
  });

  it('quality picks the filter: a 19.8 kHz tone, 48 → 44.1 kHz, is kept by high (flat to 20 kHz) and cut by fast (flat to 80 % of Nyquist)', async () => {
    const level = async (quality: string) => {
      const x = sine(19_800, 0.5, 48_000);
      const [y] = (await renderChain([x], [{ effect: 'resample', parameters: { sampleRate: 44_100, quality } }], { sampleRate: 48_000, channels: 1 })).audio;
      const mid = y.subarray(4410, y.length - 4410);
      return 20 * Math.log10(Math.sqrt(mid.reduce((s, v) => s + v * v, 0) / mid.length) / (0.5 / Math.SQRT2));
    };
    expect(Math.abs(await level('high'))).toBeLessThan(0.01);
    expect(await level('fast')).toBeLessThan(-1);
  });

  it('defaults to 44.1 kHz', async () => {
    const { format } = await renderChain([sine(440, 0.2, 48_000)], [{ effect: 'resample' }], { sampleRate: 48_000, channels: 1 });
    expect(format.sampleRate).toBe(44_100);
  });
});

describe('pitch_shift and time_stretch quality against SoX (THD+N on sines and chords, within 6 dB of sox)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'david-wsola-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const chord = (seconds: number) => Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => [261.63, 329.63, 392].reduce((s, f) => s + 0.2 * Math.sin((2 * Math.PI * f * i) / SR), 0));

  /**
   * Noise and distortion: the power outside ±3 Hz of the `partials` strongest spectral peaks over the total, in dB,
   * from a 4-term Blackman–Harris-windowed 65,536-point spectrum of the middle of the signal.
   */
  function thdN(x: Float32Array, partials: number): number {
    const size = 65536;
    const from = Math.floor((x.length - size) / 2);
    const a = [0.35875, 0.48829, 0.14128, 0.01168];
    const frame = Float64Array.from({ length: size }, (_, i) => {
      const p = (2 * Math.PI * i) / (size - 1);
      return x[from + i] * (a[0] - a[1] * Math.cos(p) + a[2] * Math.cos(2 * p) - a[3] * Math.cos(3 * p));
    });
    const re = new Float64Array(size), im = new Float64Array(size);
    createRealFft(size).forward(frame, re, im);
    const power = Float64Array.from({ length: size / 2 }, (_, k) => re[k] * re[k] + im[k] * im[k]);
    const total = power.reduce((s, v) => s + v, 0);
    const band = Math.round(3 / (SR / size));
    let kept = 0;
    for (let p = 0; p < partials; p++) {
      let k = 0;
      for (let i = 1; i < power.length; i++) if (power[i] > power[k]) k = i;
      for (let i = Math.max(0, k - band); i <= Math.min(power.length - 1, k + band); i++) (kept += power[i]), (power[i] = 0);
    }
    return 10 * Math.log10((total - kept) / total);
  }

  async function sox(x: Float32Array, args: string[]): Promise<Float32Array> {
    const input = join(dir, 'in.wav'), output = join(dir, 'out.wav');
    await writeWavFile(blocksOf([x], 8192), { sampleRate: SR, channels: 1 }, input, { float: true });
    execFileSync('sox', [input, '-e', 'floating-point', output, ...args], { stdio: 'ignore' });
    return ffmpegDecode(output, SR);
  }

  // Besides the bound (within 6 dB of SoX), each case is held to what this implementation measured
  // (2026-12-06; the computation is deterministic): within 3 dB on the sine, 1.5 dB on the chord, so that a slip
  // the SoX bound leaves room for shows. A stale tap of the fractional reader took pitch +3's sine from −82.2 to
  // −75.5 dB; a Hann window turned upside down took the stretched chords from −29.5 to −27.5 and −29.1 to −24.6 dB.
  // (Whole-sample splices, before the fractional placement, gave −37 to −39 dB on the sine.)
  const cases: [string, ChainStep, string[], { sine: number; chord: number }][] = [
    ['pitch +3 semitones', { effect: 'pitch_shift', parameters: { semitones: 3 } }, ['pitch', '300'], { sine: -82.2, chord: -25.9 }],
    ['pitch −5 semitones', { effect: 'pitch_shift', parameters: { semitones: -5 } }, ['pitch', '-500'], { sine: -56.4, chord: -29.5 }],
    ['stretch × 1.25', { effect: 'time_stretch', parameters: { durationRatio: 1.25 } }, ['tempo', String(1 / 1.25)], { sine: -68.3, chord: -29.5 }],
    ['stretch × 0.7', { effect: 'time_stretch', parameters: { durationRatio: 0.7 } }, ['tempo', String(1 / 0.7)], { sine: -52.2, chord: -29.1 }],
  ];
  for (const [name, step, soxArgs, measured] of cases) {
    it(name, async () => {
      for (const [what, x, partials, was, margin] of [['sine 440 Hz', sine(440, 5), 1, measured.sine, 3], ['C major chord', chord(5), 3, measured.chord, 1.5]] as const) {
        const [ours] = (await renderChain([x], [step], { sampleRate: SR, channels: 1 }, { blockSize: 4096 })).audio;
        const theirs = await sox(x, soxArgs);
        const [a, b] = [thdN(ours, partials), thdN(theirs, partials)];
        console.log(`${name}, ${what}: THD+N ours ${a.toFixed(1)} dB, sox ${b.toFixed(1)} dB`);
        expect(a, `${what}: ours ${a.toFixed(1)} dB, sox ${b.toFixed(1)} dB`).toBeLessThanOrEqual(b + 6);
        expect(a, `${what}: ours ${a.toFixed(1)} dB, measured ${was} dB before`).toBeLessThan(was + margin);
      }
    }, 60_000);
  }
});
