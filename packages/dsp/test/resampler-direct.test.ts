import { describe, expect, it } from 'vitest';
import { createResampler, RESAMPLER_DESIGNS } from '../src/engine/resampler.ts';
import { useSimd } from '../src/engine/wasm/index.ts';

/**
 * The streaming resampler against the formula it implements, evaluated directly here: output m is
 * Σ_k x[k] · h(m · in/out − k), with silence before the stream and after its end, h the Kaiser-windowed sinc of the
 * design (Kaiser's formulas, written out below), and round(n · out/in) outputs. Whatever path the resampler takes
 * (a polyphase bank for 48 ↔ 44.1 kHz, weights interpolated between 4,096 or 512 phases for other ratios, the
 * stereo loop, the kernels on or off), blocks of any size, each channel on its own. The filter's response itself is
 * measured against analytic tones in spectral-pitch-time.test.ts; this checks the bookkeeping around it: which input
 * frames meet which weights.
 */

/** Modified Bessel function of the first kind, order 0 (its power series). */
const i0 = (x: number) => {
  let sum = 1, term = 1;
  for (let k = 1; k < 60; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
};

/** The impulse response of a design for a given ratio, in input samples (Kaiser 1974; Oppenheim & Schafer 7.6). */
function response(inRate: number, outRate: number, quality: 'high' | 'fast') {
  const { passband, attenuationDb: a } = RESAMPLER_DESIGNS[quality];
  const scale = Math.min(1, outRate / inRate); // downsampling cuts at the output's Nyquist
  const cutoff = (scale * (1 + passband)) / 2; // the middle of the transition band, in units of the input's Nyquist
  const halfWidth = (a - 8) / (2.285 * Math.PI * scale * (1 - passband)) / 2;
  const beta = 0.1102 * (a - 8.7);
  const norm = i0(beta);
  const h = (d: number) => {
    const u = d / halfWidth;
    if (Math.abs(u) >= 1) return 0;
    const sinc = d === 0 ? 1 : Math.sin(Math.PI * cutoff * d) / (Math.PI * cutoff * d);
    return cutoff * sinc * (i0(beta * Math.sqrt(1 - u * u)) / norm);
  };
  return { h, halfWidth };
}

function direct(x: Float32Array, inRate: number, outRate: number, quality: 'high' | 'fast'): Float64Array {
  const { h, halfWidth } = response(inRate, outRate, quality);
  const y = new Float64Array(Math.round((x.length * outRate) / inRate));
  for (let m = 0; m < y.length; m++) {
    const t = (m * inRate) / outRate;
    let s = 0;
    for (let k = Math.max(0, Math.ceil(t - halfWidth)); k <= Math.min(x.length - 1, Math.floor(t + halfWidth)); k++) s += x[k] * h(t - k);
    y[m] = s;
  }
  return y;
}

let seed = 1;
const noise = (n: number) => Float32Array.from({ length: n }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 1.6 - 0.8);

/** Run `channels` signals through the resampler in blocks of the given sizes (cycled), then flush. */
function streamed(xs: Float32Array[], inRate: number, outRate: number, quality: 'high' | 'fast', sizes: readonly number[]): Float32Array[] {
  const r = createResampler(inRate, outRate, xs.length, quality);
  const parts: Float32Array[][] = [];
  for (let at = 0, i = 0; at < xs[0].length; i++) {
    const n = Math.min(sizes[i % sizes.length], xs[0].length - at);
    parts.push(r.process(xs.map((x) => x.slice(at, at + n))));
    at += n;
  }
  parts.push(r.flush());
  expect(r.outputChannels).toBe(xs.length);
  return xs.map((_, c) => {
    const out = new Float32Array(parts.reduce((s, p) => s + p[c].length, 0));
    let o = 0;
    for (const p of parts) (out.set(p[c], o), (o += p[c].length));
    return out;
  });
}

const maxError = (y: Float32Array, ref: Float64Array) => {
  let e = 0;
  for (let i = 0; i < ref.length; i++) e = Math.max(e, Math.abs(y[i] - ref[i]));
  return e;
};

describe('resampler against its formula evaluated directly (every path, 1–3 channels, any blocks)', () => {
  // Polyphase banks (147 and 160 phases; 2:1 down; 3:1 up), and ratios with too many phases for a bank (44,101 Hz:
  // 44,101 phases) or none at all (a pitch shift's non-integer rate).
  const ratios: [number, number, 'bank' | 'phases'][] = [
    [48_000, 44_100, 'bank'], [44_100, 48_000, 'bank'], [44_100, 22_050, 'bank'], [16_000, 48_000, 'bank'],
    [44_100, 44_101, 'phases'], [44_100, 44_100 / 2 ** (3 / 12), 'phases'],
  ];
  // Measured: the banks within 9e-8 (f32 weights, f64 sums), interpolated phases within 3.7e-7 (high) and 3.7e-5
  // (fast: 512 phases); a frame or a phase off by one is ~1e-2.
  const tolerance = { bank: { high: 3e-7, fast: 3e-7 }, phases: { high: 1e-6, fast: 1e-4 } };
  for (const quality of ['high', 'fast'] as const) {
    for (const [from, to, path] of ratios) {
      it(`${quality}: ${from} → ${+to.toFixed(2)} Hz (${path === 'bank' ? 'polyphase bank' : 'interpolated phases'})`, () => {
        for (const channels of [1, 2, 3]) {
          const xs = Array.from({ length: channels }, () => noise(3001));
          const ref = xs.map((x) => direct(x, from, to, quality));
          for (const [kernels, sizes] of [[true, [4096]], [true, [1, 7, 500, 3]], [false, [333]]] as const) {
            useSimd(kernels);
            try {
              const ys = streamed(xs, from, to, quality, sizes);
              for (let c = 0; c < channels; c++) {
                const what = `${channels} ch, channel ${c}, blocks ${sizes.join('/')}, kernels ${kernels ? 'on' : 'off'}`;
                expect(ys[c].length, what).toBe(ref[c].length);
                expect(maxError(ys[c], ref[c]), what).toBeLessThan(tolerance[path][quality]);
              }
            } finally {
              useSimd(true);
            }
          }
        }
      });
    }
  }
});
