import { describe, expect, it } from 'vitest';
import { OVERSAMPLE, Oversampler, OVERSAMPLER_LATENCY } from '../src/engine/oversampler.ts';

/**
 * The 8× oversampler under the nonlinear effects, against analytic expectations: what goes in comes out delayed by
 * its stated latency (passband), the 8× signal holds no images of the input, and what the shaper puts above the
 * base rate's Nyquist does not fold back. Levels are read with a Hann-windowed DFT probe (its sidelobes stay out of
 * the way of the −70…−80 dB figures checked).
 */
const FS = 44_100;
const N = 16_384;
const SKIP = 2_000; // past the filters' start-up

/** Amplitude of the component at `f` Hz in y[from …] sampled at `rate`. */
function level(y: Float64Array, from: number, f: number, rate: number): number {
  let a = 0, b = 0, ws = 0;
  const m = y.length - from;
  for (let i = from; i < y.length; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - from)) / m);
    ws += w;
    a += w * y[i] * Math.cos((2 * Math.PI * f * i) / rate);
    b += w * y[i] * Math.sin((2 * Math.PI * f * i) / rate);
  }
  return (2 * Math.hypot(a, b)) / ws;
}
const db = (x: number) => 20 * Math.log10(x);
const tone = (f: number, amp = 0.5, n = N) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * f * i) / FS));

describe('Oversampler (8×)', () => {
  it('states its factor and a whole-sample latency', () => {
    expect(OVERSAMPLE).toBe(8);
    expect(Number.isInteger(OVERSAMPLER_LATENCY)).toBe(true);
  });

  it('passes what it is given, delayed by exactly OVERSAMPLER_LATENCY: error ≤ −60 dB from 100 Hz to 19 kHz', () => {
    for (const f of [100, 1_000, 10_000, 19_000]) {
      const x = tone(f);
      const out = new Float64Array(N);
      new Oversampler().run(x, () => undefined, out);
      let err = 0, ref = 0;
      for (let i = SKIP; i < N; i++) {
        err += (out[i] - x[i - OVERSAMPLER_LATENCY]) ** 2;
        ref += x[i - OVERSAMPLER_LATENCY] ** 2;
      }
      // the 80 dB design's passband ripple is 0.03 dB at most here (−62 dB as an error)
      expect(10 * Math.log10(err / ref), `${f} Hz`).toBeLessThan(-60);
      // one sample off would be an error of about −14 dB at 1 kHz
      let off = 0;
      for (let i = SKIP; i < N; i++) off += (out[i] - x[i - OVERSAMPLER_LATENCY - 1]) ** 2;
      if (f === 1_000) expect(10 * Math.log10(off / ref)).toBeGreaterThan(-20);
    }
  });

  it('shows the shaper the input at 8 fs with its images at least 70 dB down', () => {
    const f = 19_000;
    let at8: Float64Array | null = null;
    new Oversampler().run(tone(f), (y, m) => void (at8 = Float64Array.from(y.subarray(0, m))), new Float64Array(N));
    expect(at8!.length).toBe(8 * N);
    const main = level(at8!, 8 * SKIP, f, 8 * FS);
    expect(Math.abs(db(main / 0.5))).toBeLessThan(0.03);
    for (const image of [FS - f, FS + f, 2 * FS - f, 2 * FS + f, 3 * FS - f, 4 * FS - f]) {
      expect(db(level(at8!, 8 * SKIP, image, 8 * FS) / main), `image at ${image} Hz`).toBeLessThan(-70);
    }
  });

  it('brings the shaper’s output down without folding: a tone above fs/2 at 8 fs is gone by ≥ 78 dB, one below passes at 0 dB', () => {
    const shaped = (F: number) => {
      const out = new Float64Array(N);
      new Oversampler().run(new Float32Array(N), (y, m) => {
        for (let i = 0; i < m; i++) y[i] = 0.5 * Math.sin((2 * Math.PI * F * i) / (8 * FS));
      }, out);
      return out;
    };
    for (const F of [25_000, 30_000, 60_000, 100_000, 170_000]) {
      const alias = Math.abs(((F + FS / 2) % FS) - FS / 2);
      expect(db(level(shaped(F), SKIP, alias, FS) / 0.5), `${F} Hz would fold to ${alias} Hz`).toBeLessThan(-78);
    }
    expect(Math.abs(db(level(shaped(10_000), SKIP, 10_000, FS) / 0.5))).toBeLessThan(0.03);
  });

  it('gives the same samples in any block size (its stages keep their history across blocks)', () => {
    const x = Float32Array.from({ length: 5_000 }, (_, i) => 0.4 * Math.sin(i * 0.37) + 0.2 * Math.sin(i * 2.1));
    const runIn = (sizes: number[]) => {
      const os = new Oversampler();
      const all: number[] = [];
      for (let at = 0, k = 0; at < x.length; k++) {
        const blk = x.subarray(at, Math.min(x.length, at + sizes[k % sizes.length]));
        const out = new Float64Array(blk.length);
        os.run(blk, (y, m) => {
          for (let i = 0; i < m; i++) y[i] = Math.tanh(3 * y[i]); // a nonlinear shaper, as distortion has
        }, out);
        all.push(...out);
        at += blk.length;
      }
      return all;
    };
    const whole = runIn([x.length]);
    expect(whole.some((v) => Math.abs(v) > 0.1)).toBe(true);
    for (const sizes of [[1], [7, 300, 1], [4096]]) expect(runIn(sizes), `blocks ${sizes}`).toEqual(whole);
  });
});
