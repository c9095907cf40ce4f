import { describe, expect, it } from 'vitest';
import { dbToGain, dbToGainFast, lnFast } from '../src/engine/util.ts';

describe('dbToGainFast', () => {
  it('matches 10^(dB/20) within 1e-6 dB from −380 to +380 dB, and falls back beyond', () => {
    let worst = 0;
    for (let db = -380; db <= 380; db += 0.0137) {
      const err = Math.abs(20 * Math.log10(dbToGainFast(db) / dbToGain(db)));
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThan(1e-6);
    expect(dbToGainFast(0)).toBe(1);
    expect(dbToGainFast(-1000)).toBe(dbToGain(-1000));
    expect(dbToGainFast(1000)).toBe(dbToGain(1000));
    expect(dbToGainFast(Number.NaN)).toBeNaN();
    expect(dbToGainFast(Number.NEGATIVE_INFINITY)).toBe(0);
  });
});

describe('lnFast', () => {
  it('matches Math.log within 2e-12 (relative, or 1e-15 absolute near 1) over normal numbers, across each octave’s √2 split', () => {
    let worst = 0;
    const check = (x: number) => {
      const ref = Math.log(x);
      worst = Math.max(worst, Math.abs(lnFast(x) - ref) / Math.max(Math.abs(ref), 5e-4));
    };
    for (let e = -1020; e <= 1020; e += 7) for (let m = 1; m < 2; m += 0.00731) check(m * 2 ** e);
    for (const x of [Math.SQRT2, Math.SQRT2 * (1 + 2 ** -52), Math.SQRT2 * (1 - 2 ** -52), 1, 1 + 2 ** -52, 1 - 2 ** -53, 0.5, 2, 2 ** -1022, Number.MAX_VALUE]) check(x);
    expect(worst).toBeLessThan(2e-12);
    // Exact where the reduction leaves nothing to approximate: powers of two are e·ln 2.
    expect(lnFast(1)).toBe(0);
    expect(lnFast(8)).toBe(3 * Math.LN2);
    expect(lnFast(0.25)).toBe(-2 * Math.LN2);
  });
});

describe('createFft', () => {
  it('refuses a size that is not a power of two of at least 2', async () => {
    const { createFft } = await import('../src/engine/fft.ts');
    for (const size of [0, 1, 3, 6, 1000, 2049]) expect(() => createFft(size), `size ${size}`).toThrow(RangeError);
    for (const size of [2, 4, 1024]) expect(() => createFft(size)).not.toThrow();
  });
});

describe('createRealFft', () => {
  it('equals the complex FFT of the same real signal (bins 0..N/2) within 1e-12 of its scale', async () => {
    const { createFft, createRealFft } = await import('../src/engine/fft.ts');
    for (const N of [4, 8, 256, 2048]) {
      const x = Float64Array.from({ length: N }, (_, i) => Math.sin(i * 0.7) + ((i * 7919) % 13) / 13 - 0.5);
      const re = Float64Array.from(x), im = new Float64Array(N);
      createFft(N).forward(re, im);
      const rr = new Float64Array(N / 2 + 1), ri = new Float64Array(N / 2 + 1);
      createRealFft(N).forward(x, rr, ri);
      let err = 0;
      for (let k = 0; k <= N / 2; k++) err = Math.max(err, Math.abs(rr[k] - re[k]), Math.abs(ri[k] - im[k]));
      expect(err, `N = ${N}`).toBeLessThan(1e-12 * N);
    }
  });
});

describe('fastSin', () => {
  it('is within 1e-6 of Math.sin for any phase, including just below an integer (where p − floor(p) rounds to 1)', async () => {
    const { fastSin } = await import('../src/engine/util.ts');
    for (const p of [0, 0.25, 0.5, -0.25, 3.75, -1.3552527156068805e-20, 1 - 1e-17, -1e-300, 7 - 2 ** -60]) {
      expect(Math.abs(fastSin(p) - Math.sin(2 * Math.PI * p)), String(p)).toBeLessThan(1e-6);
    }
    let worst = 0;
    for (let p = -3; p < 3; p += 0.000731) worst = Math.max(worst, Math.abs(fastSin(p) - Math.sin(2 * Math.PI * p)));
    expect(worst).toBeLessThan(1e-6);
  });
});
