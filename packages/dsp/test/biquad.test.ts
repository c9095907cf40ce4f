import { describe, expect, it } from 'vitest';
import { BIQUAD_TYPES, BiquadCascade, biquadMagnitude, designBiquad } from '../src/engine/biquad.ts';
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
