import { describe, expect, it } from 'vitest';
import { staticCurveDb } from '../src/effects/dynamics/compressor.ts';
import { fadeGain } from '../src/effects/dynamics/fade.ts';
import { renderChain } from '../src/engine/chain.ts';
import type { AudioBlock, ChainStep } from '../src/types.ts';

/** Per-effect reference checks; tolerances are stated next to each assertion. */
const SR = 44_100;
const sine = (hz: number, seconds: number, amp: number, sr = SR) =>
  Float32Array.from({ length: Math.round(seconds * sr) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / sr));
const rms = (x: Float32Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
};
const db = (g: number) => 20 * Math.log10(g);
const render = async (audio: AudioBlock, steps: ChainStep[], blockSize = 1024) =>
  (await renderChain(audio, steps, { sampleRate: SR, channels: audio.length }, { blockSize })).audio;

describe('compressor', () => {
  it('follows its static curve for steady sines (within 0.5 dB)', async () => {
    const params = { thresholdDb: -20, ratio: 4, kneeDb: 6, attackMs: 5, releaseMs: 50 };
    for (const levelDb of [-40, -22, -20, -18, -10, -3]) {
      // A sine's peak detector sees the peak level; the reduction is set by the peak, applied to all samples.
      const amp = Math.pow(10, levelDb / 20);
      const [out] = await render([sine(1000, 1, amp)], [{ effect: 'compressor', parameters: params }]);
      const gainDb = db(rms(out, SR / 2) / rms(sine(1000, 1, amp), SR / 2));
      const expected = staticCurveDb(levelDb, -20, 4, 6) - levelDb;
      expect(Math.abs(gainDb - expected), `input ${levelDb} dB`).toBeLessThan(0.5);
    }
  });

  it('the static curve has the textbook shape', () => {
    expect(staticCurveDb(-40, -20, 4, 0)).toBe(-40);
    expect(staticCurveDb(0, -20, 4, 0)).toBe(-15);
    // Soft knee is continuous at its edges.
    expect(staticCurveDb(-23, -20, 4, 6)).toBeCloseTo(-23, 9);
    expect(staticCurveDb(-17, -20, 4, 6)).toBeCloseTo(-20 + 3 / 4, 9);
  });

  it('with lookahead, output stays aligned with the input and the same length', async () => {
    const x = sine(440, 0.5, 0.01);
    const [out] = await render([x], [{ effect: 'compressor', parameters: { lookaheadMs: 5, thresholdDb: -10 } }], 333);
    expect(out.length).toBe(x.length);
    let maxDiff = 0;
    for (let i = 0; i < x.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - x[i]));
    expect(maxDiff).toBeLessThan(1e-6); // below threshold: unchanged, not shifted
  });
});

describe('noise_gate', () => {
  it('attenuates a signal below the threshold by the range and passes one above it', async () => {
    const p = { thresholdDb: -40, rangeDb: -60 };
    const [quiet] = await render([sine(500, 1, 0.001)], [{ effect: 'noise_gate', parameters: p }]);
    expect(db(rms(quiet, SR / 2) / rms(sine(500, 1, 0.001), SR / 2))).toBeCloseTo(-60, 0);
    const [loud] = await render([sine(500, 1, 0.1)], [{ effect: 'noise_gate', parameters: p }]);
    expect(Math.abs(db(rms(loud, SR / 2) / rms(sine(500, 1, 0.1), SR / 2)))).toBeLessThan(0.01);
  });
});

describe('delay', () => {
  it('turns an impulse into echoes at multiples of the delay time with amplitudes mix·feedback^k', async () => {
    const x = new Float32Array(SR);
    x[0] = 1;
    const [out] = await render([x], [{ effect: 'delay', parameters: { timeMs: 100, feedback: 0.5, mix: 0.4 } }], 777);
    const T = 4410;
    expect(out[0]).toBeCloseTo(0.6, 6); // dry
    for (let k = 1; k <= 5; k++) expect(out[k * T], `echo ${k}`).toBeCloseTo(0.4 * 0.5 ** (k - 1), 6);
    expect(Math.abs(out[T + 1])).toBeLessThan(1e-9);
  });

  it('ping-pong alternates echoes between the channels', async () => {
    const l = new Float32Array(SR);
    l[0] = 1;
    const [outL, outR] = await render([l, new Float32Array(SR)], [{ effect: 'delay', parameters: { timeMs: 50, feedback: 0.5, mix: 1, pingPong: true } }]);
    const T = 2205;
    expect(outL[T]).toBeCloseTo(1, 6);
    expect(outR[2 * T]).toBeCloseTo(0.5, 6);
    expect(outL[3 * T]).toBeCloseTo(0.25, 6);
    expect(Math.abs(outR[T]) + Math.abs(outL[2 * T])).toBeLessThan(1e-9);
  });
});

/** RT60 from the impulse response by Schroeder backward integration, fitted between −5 and −35 dB. */
function rt60(ir: Float32Array): number {
  const energy = new Float64Array(ir.length);
  let acc = 0;
  for (let i = ir.length - 1; i >= 0; i--) energy[i] = acc += ir[i] * ir[i];
  const edc = (i: number) => 10 * Math.log10(energy[i] / energy[0]);
  const t5 = energy.findIndex((_, i) => edc(i) <= -5);
  const t35 = energy.findIndex((_, i) => edc(i) <= -35);
  return ((t35 - t5) / SR) * 2; // 30 dB of decay, doubled to 60
}

describe('reverb', () => {
  it('decays more slowly (RT60 rises) as the room grows, and damping shortens it', async () => {
    const impulse = () => {
      const x = new Float32Array(SR / 10);
      x[0] = 1;
      return x;
    };
    const times: number[] = [];
    for (const roomSize of [0.2, 0.5, 0.8]) {
      const [ir] = await render([impulse()], [{ effect: 'reverb', parameters: { roomSize, mix: 1, damping: 0.2 } }]);
      times.push(rt60(ir));
    }
    expect(times[0]).toBeGreaterThan(0.2);
    expect(times[1]).toBeGreaterThan(times[0] * 1.2);
    expect(times[2]).toBeGreaterThan(times[1] * 1.2);
    const [damped] = await render([impulse()], [{ effect: 'reverb', parameters: { roomSize: 0.8, mix: 1, damping: 1 } }]);
    expect(rt60(damped)).toBeLessThan(times[2]);
  });
});

describe('chorus and flanger', () => {
  it('flanger with a fixed delay and feedback has comb peaks at multiples of 1/delay', async () => {
    // depth 0: a static comb y = (1−m)x + m·d, d = x[n−D] + fb·d[n−D]. Peaks where the feedback adds in phase.
    const D = 2; // ms
    const gainAt = async (hz: number) => {
      const [out] = await render([sine(hz, 0.5, 0.1)], [{ effect: 'flanger', parameters: { delayMs: D, depthMs: 0, feedback: 0.7, mix: 0.5 } }]);
      return rms(out, SR / 4) / rms(sine(hz, 0.5, 0.1), SR / 4);
    };
    expect(await gainAt(1000)).toBeGreaterThan(1.5 * (await gainAt(750))); // 1/2 ms = 500 Hz spacing: 1000 Hz a peak, 750 Hz a trough
  });

  it('chorus keeps the level of a steady sine within a few dB', async () => {
    const [out] = await render([sine(440, 1, 0.5)], [{ effect: 'chorus' }]);
    expect(Math.abs(db(rms(out) / rms(sine(440, 1, 0.5))))).toBeLessThan(6);
  });
});

describe('fade, pan and channels', () => {
  it('fades follow their curves at a few points', async () => {
    const x = new Float32Array(SR).fill(0.5);
    const [out] = await render([x], [{ effect: 'fade', parameters: { fadeInMs: 100, fadeOutMs: 200, curve: 'linear' } }], 500);
    expect(out.length).toBe(SR);
    expect(out[0]).toBe(0);
    expect(out[2205]).toBeCloseTo(0.25, 4); // halfway through the fade-in
    expect(out[SR / 2]).toBeCloseTo(0.5, 6);
    expect(out[SR - 4410]).toBeCloseTo(0.25, 3); // halfway through the fade-out
    expect(fadeGain('sine', 0.5)).toBeCloseTo(Math.SQRT1_2, 9);
    expect(fadeGain('exponential', 0)).toBe(0);
  });

  it('pans with constant power and mixes to mono at the average', async () => {
    for (const positionPct of [-100, -50, 0, 30, 100]) {
      const [l, r] = await render([new Float32Array(100).fill(1)], [{ effect: 'pan', parameters: { positionPct } }]);
      expect(l[50] ** 2 + r[50] ** 2).toBeCloseTo(1, 6);
    }
    const out = await render([new Float32Array(10).fill(0.2), new Float32Array(10).fill(0.6)], [{ effect: 'channels', parameters: { mode: 'mono' } }]);
    expect(out).toHaveLength(1);
    expect(out[0][5]).toBeCloseTo(0.4, 6);
    const [sl, sr] = await render([new Float32Array(10).fill(0.2), new Float32Array(10).fill(0.6)], [{ effect: 'channels', parameters: { mode: 'swap' } }]);
    expect([sl[0], sr[0]]).toEqual([Math.fround(0.6), Math.fround(0.2)]);
  });
});

describe('edit effects', () => {
  it('trim keeps exactly the span; reverse mirrors the stream', async () => {
    const x = Float32Array.from({ length: SR }, (_, i) => i / SR);
    const [t] = await render([x], [{ effect: 'trim', parameters: { startMs: 100, durationMs: 250 } }], 999);
    expect(t.length).toBe(11025);
    expect(t[0]).toBeCloseTo(4410 / SR, 6);
    const [r] = await render([x], [{ effect: 'reverse' }], 999);
    expect(r.length).toBe(SR);
    expect(r[0]).toBe(x[SR - 1]);
    expect(r[SR - 1]).toBe(x[0]);
  });

  it('silence_removal shortens leading, trailing and (mode all) long internal silences to the pad', async () => {
    const seg = (s: number, amp: number) => Array.from(sine(300, s, amp));
    const x = Float32Array.from([...seg(1, 0), ...seg(0.5, 0.5), ...seg(2, 0), ...seg(0.5, 0.5), ...seg(0.2, 0), ...seg(0.5, 0.5), ...seg(1, 0)]);
    const len = async (mode: string) => (await render([x], [{ effect: 'silence_removal', parameters: { mode, padMs: 100, minSilenceMs: 500 } }], 4096))[0].length / SR;
    // Sine zero crossings are brief "silences" far shorter than 500 ms; they are kept.
    expect(await len('both')).toBeCloseTo(0.1 + 0.5 + 2 + 0.5 + 0.2 + 0.5 + 0.1, 2);
    expect(await len('leading')).toBeCloseTo(0.1 + 0.5 + 2 + 0.5 + 0.2 + 0.5 + 1, 2);
    expect(await len('all')).toBeCloseTo(0.1 + 0.5 + 0.1 + 0.5 + 0.2 + 0.5 + 0.1, 2);
  });
});
