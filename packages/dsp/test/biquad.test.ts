import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BIQUAD_TYPES, BiquadCascade, biquadMagnitude, designBiquad, type BiquadType } from '../src/engine/biquad.ts';
import { renderChain } from '../src/engine/chain.ts';

const SR = 48_000;
const db = (x: number) => 20 * Math.log10(x);

/** Steady-state gain of the processor for a sine, measured after the transient has died away. */
function measuredGainDb(cascade: BiquadCascade, f: number): number {
  const n = SR; // one second
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin((2 * Math.PI * f * i) / SR);
  const y = cascade.process([x.slice()])[0];
  // Compare RMS over the second half (whole periods do not matter over 24000 samples at these frequencies).
  let sx = 0, sy = 0;
  for (let i = n / 2; i < n; i++) {
    sx += x[i] * x[i];
    sy += y[i] * y[i];
  }
  return 10 * Math.log10(sy / sx);
}

describe('RBJ biquads', () => {
  it('hit the cookbook values at the design points (analytic response)', () => {
    const f0 = 1000;
    // Lowpass/highpass: 0 dB in the passband, 20·log10(Q) at f0.
    const lp = designBiquad({ type: 'lowpass', frequencyHz: f0, q: 2 }, SR);
    expect(db(biquadMagnitude(lp, 0, SR))).toBeCloseTo(0, 6);
    expect(db(biquadMagnitude(lp, f0, SR))).toBeCloseTo(db(2), 6);
    const hp = designBiquad({ type: 'highpass', frequencyHz: f0, q: 0.5 }, SR);
    expect(db(biquadMagnitude(hp, SR / 2, SR))).toBeCloseTo(0, 6);
    expect(db(biquadMagnitude(hp, f0, SR))).toBeCloseTo(db(0.5), 6);
    // Band pass (constant 0 dB peak) peaks at 0 dB at f0; notch is zero there.
    expect(db(biquadMagnitude(designBiquad({ type: 'bandpass', frequencyHz: f0, q: 3 }, SR), f0, SR))).toBeCloseTo(0, 6);
    expect(biquadMagnitude(designBiquad({ type: 'notch', frequencyHz: f0, q: 3 }, SR), f0, SR)).toBeLessThan(1e-9);
    // Peaking: the gain at f0, 0 dB far away.
    const pk = designBiquad({ type: 'peaking', frequencyHz: f0, q: 1, gainDb: 9 }, SR);
    expect(db(biquadMagnitude(pk, f0, SR))).toBeCloseTo(9, 6);
    expect(db(biquadMagnitude(pk, 20, SR))).toBeCloseTo(0, 1);
    // Shelves: the full gain at the shelf end, half of it (in dB) at f0, 0 dB at the other end.
    const ls = designBiquad({ type: 'lowshelf', frequencyHz: f0, q: Math.SQRT1_2, gainDb: -6 }, SR);
    expect(db(biquadMagnitude(ls, 0, SR))).toBeCloseTo(-6, 6);
    expect(db(biquadMagnitude(ls, f0, SR))).toBeCloseTo(-3, 6);
    expect(db(biquadMagnitude(ls, SR / 2, SR))).toBeCloseTo(0, 2);
    const hs = designBiquad({ type: 'highshelf', frequencyHz: f0, q: Math.SQRT1_2, gainDb: 12 }, SR);
    expect(db(biquadMagnitude(hs, SR / 2, SR))).toBeCloseTo(12, 6);
    expect(db(biquadMagnitude(hs, f0, SR))).toBeCloseTo(6, 6);
    // All-pass: unit magnitude everywhere.
    const ap = designBiquad({ type: 'allpass', frequencyHz: f0, q: 1 }, SR);
    for (const f of [10, 500, 1000, 5000, 20000]) expect(biquadMagnitude(ap, f, SR)).toBeCloseTo(1, 9);
  });

  it('process sines with the gain the analytic response predicts, within 0.1 dB', () => {
    for (const type of BIQUAD_TYPES) {
      const c = designBiquad({ type, frequencyHz: 2000, q: 1.2, gainDb: 6 }, SR);
      for (const f of [100, 700, 2000, 5000, 12000]) {
        const expected = db(biquadMagnitude(c, f, SR));
        if (expected < -60) continue; // deep in a notch the measurement is noise
        const measured = measuredGainDb(new BiquadCascade([c], 1), f);
        expect(Math.abs(measured - expected), `${type} at ${f} Hz`).toBeLessThan(0.1);
      }
    }
  });

  it('cascade several bands as the product of their responses (equalizer effect)', async () => {
    const bands = [
      { type: 'highpass', frequencyHz: 80, q: 0.707 },
      { type: 'peaking', frequencyHz: 3000, gainDb: -4, q: 2 },
      { type: 'highshelf', frequencyHz: 8000, gainDb: 3, q: 0.707 },
    ];
    const sections = bands.map((b) => designBiquad(b as never, SR));
    for (const f of [50, 440, 3000, 10000]) {
      const expected = sections.reduce((g, c) => g + db(biquadMagnitude(c, f, SR)), 0);
      const n = SR;
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * f * i) / SR);
      const { audio } = await renderChain([x], [{ effect: 'equalizer', parameters: { bands } }], { sampleRate: SR, channels: 1 }, { blockSize: 1000 });
      let sx = 0, sy = 0;
      for (let i = n / 2; i < n; i++) {
        sx += x[i] * x[i];
        sy += audio[0][i] * audio[0][i];
      }
      expect(Math.abs(10 * Math.log10(sy / sx) - expected), `${f} Hz`).toBeLessThan(0.1);
    }
  });
});

/**
 * ffmpeg's filters of the same cookbook designs (libavfilter/af_biquads.c, width given as Q, computed in double):
 * an independent implementation to compare whole impulse responses with, phase included.
 */
const FFMPEG_FILTER: Record<BiquadType, (f: number, q: number, g: number) => string> = {
  lowpass: (f, q) => `lowpass=f=${f}:t=q:w=${q}`,
  highpass: (f, q) => `highpass=f=${f}:t=q:w=${q}`,
  bandpass: (f, q) => `bandpass=f=${f}:t=q:w=${q}:csg=0`, // constant 0 dB peak gain
  notch: (f, q) => `bandreject=f=${f}:t=q:w=${q}`,
  peaking: (f, q, g) => `equalizer=f=${f}:t=q:w=${q}:g=${g}`,
  lowshelf: (f, q, g) => `lowshelf=f=${f}:t=q:w=${q}:g=${g}`,
  highshelf: (f, q, g) => `highshelf=f=${f}:t=q:w=${q}:g=${g}`,
  allpass: (f, q) => `allpass=f=${f}:t=q:w=${q}`,
};

/** The first n samples of ffmpeg's response to an impulse of height ½, in double precision throughout. */
function ffmpegImpulseResponse(filter: string, n: number, sampleRate: number): Float64Array {
  const impulse = new Float64Array(n);
  impulse[0] = 0.5;
  const out = execFileSync(
    'ffmpeg',
    ['-nostdin', '-v', 'error', '-f', 'f64le', '-ar', String(sampleRate), '-ac', '1', '-i', '-', '-af', `${filter}:precision=f64`, '-f', 'f64le', '-'],
    { input: Buffer.from(impulse.buffer), maxBuffer: 1 << 24 },
  );
  return new Float64Array(out.buffer, out.byteOffset, out.byteLength / 8).slice(0, n);
}

describe('a cascade over several channels', () => {
  it('keeps each channel’s state apart: three channels through two sections, in blocks, equal each channel alone', () => {
    const sections = [designBiquad({ type: 'lowpass', frequencyHz: 3000, q: 2 }, SR), designBiquad({ type: 'peaking', frequencyHz: 500, q: 1, gainDb: 8 }, SR)];
    const signal = (c: number) => Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i * (0.01 + 0.07 * c)) * (c + 1) * 0.2);
    const together = new BiquadCascade(sections, 3);
    const out = [0, 1, 2].map(() => new Float32Array(3000));
    for (let at = 0; at < 3000; at += 700) {
      const block = together.process([0, 1, 2].map((c) => signal(c).slice(at, at + 700)));
      block.forEach((b, c) => out[c].set(b, at));
    }
    for (let c = 0; c < 3; c++) expect(Array.from(out[c]), `channel ${c}`).toEqual(Array.from(new BiquadCascade(sections, 1).process([signal(c)])[0]));
  });
});

describe('RBJ biquads against ffmpeg’s', () => {
  it('every type gives ffmpeg’s impulse response (phase included) at low, middle and high frequencies, narrow and wide, cut and boost', () => {
    const n = 2048;
    const designs = [
      { f: 100, q: 0.5, g: -9 },
      { f: 1000, q: Math.SQRT1_2, g: 6 },
      { f: 9000, q: 3, g: -4.5 },
    ];
    for (const type of BIQUAD_TYPES) {
      for (const { f, q, g } of designs) {
        const c = designBiquad({ type, frequencyHz: f, q, gainDb: g }, SR);
        // Our coefficients, run in double precision here (direct form I), against ffmpeg's filter.
        const ours = new Float64Array(n);
        let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
        for (let i = 0; i < n; i++) {
          const x = i === 0 ? 0.5 : 0;
          const y = c.b0 * x + c.b1 * x1 + c.b2 * x2 - c.a1 * y1 - c.a2 * y2;
          (x2 = x1), (x1 = x), (y2 = y1), (y1 = y);
          ours[i] = y;
        }
        const theirs = ffmpegImpulseResponse(FFMPEG_FILTER[type](f, q, g), n, SR);
        expect(theirs.length).toBe(n);
        let worst = 0;
        for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
        expect(worst, `${type} at ${f} Hz, Q ${q.toFixed(3)}, ${g} dB`).toBeLessThan(1e-9);
      }
    }
  });

  it('a design at or above Nyquist is the design just below it (0.4999 of the rate), not a filter folded back', () => {
    for (const type of BIQUAD_TYPES) {
      const clamped = designBiquad({ type, frequencyHz: SR * 0.4999, q: 1, gainDb: 3 }, SR);
      for (const f of [SR / 2, 30_000, 96_000]) expect(designBiquad({ type, frequencyHz: f, q: 1, gainDb: 3 }, SR), `${type} at ${f} Hz`).toEqual(clamped);
      expect(designBiquad({ type, frequencyHz: SR * 0.45, q: 1, gainDb: 3 }, SR)).not.toEqual(clamped);
    }
  });
});
