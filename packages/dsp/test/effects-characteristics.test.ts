import { describe, expect, it } from 'vitest';
import { staticCurveDb } from '../src/effects/dynamics/compressor.ts';
import { renderChain } from '../src/engine/chain.ts';
import type { AudioBlock, ChainStep } from '../src/types.ts';

/**
 * Each effect's characteristic change, measured on its output against a formula written here (never one taken
 * from the code under test), with a tolerance that an identity, or the effect with the parameter ignored, cannot
 * meet. The parameters named in each test are the ones an earlier suite could not see ignored.
 */
const SR = 44_100;
const sine = (hz: number, seconds: number, amp: number) => Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
const rms = (x: Float32Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
};
const db = (g: number) => 20 * Math.log10(g);
const render = async (audio: AudioBlock, steps: ChainStep[], blockSize = 1024) => (await renderChain(audio, steps, { sampleRate: SR, channels: audio.length }, { blockSize })).audio;

/** Amplitude of the component at `hz` (a single DFT bin over whole periods of a one-second window). */
function amplitudeAt(x: Float32Array, hz: number, from: number): number {
  let re = 0, im = 0;
  for (let i = 0; i < SR; i++) {
    const ph = (2 * Math.PI * hz * i) / SR;
    re += x[from + i] * Math.cos(ph);
    im += x[from + i] * Math.sin(ph);
  }
  return (2 * Math.hypot(re, im)) / SR;
}

/** Gain in dB of the output over the input in 1 ms windows from `from`, until it crosses `level` dB; ms taken. */
function msUntil(out: Float32Array, input: Float32Array, from: number, past: (gainDb: number) => boolean): number {
  const w = 44;
  for (let k = 0; from + k + w <= out.length; k += 4) {
    if (past(db(rms(out, from + k, from + k + w) / rms(input, from + k, from + k + w)))) return ((k + w / 2) / SR) * 1000;
  }
  return Number.POSITIVE_INFINITY;
}

describe('gain', () => {
  it('multiplies every sample by 10^(gainDb/20)', async () => {
    const x = sine(500, 0.1, 0.4);
    for (const gainDb of [-6, 3.5]) {
      const [out] = await render([x], [{ effect: 'gain', parameters: { gainDb } }]);
      for (const i of [7, 100, 3000]) expect(out[i]).toBeCloseTo(x[i] * 10 ** (gainDb / 20), 6);
    }
  });
});

describe('compressor: time constants as declared, makeup applied', () => {
  // −6 dBFS peaks against a −20 dB threshold at ratio 4, hard knee: 14 dB over → 10.5 dB of reduction.
  const params = { thresholdDb: -20, ratio: 4, kneeDb: 0, detector: 'peak' };
  const steady = -(14 - 14 / 4);

  it('recovers 63 % of its reduction in releaseMs (±5 %), for several release times', async () => {
    for (const releaseMs of [40, 100, 250]) {
      const x = Float32Array.from({ length: 2 * SR }, (_, i) => (i < SR ? 0.5 : 0.005) * Math.sin((2 * Math.PI * 1000 * i) / SR));
      const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, attackMs: 2, releaseMs } }]);
      const reduced = db(rms(out, SR - 4410, SR) / rms(x, SR - 4410, SR));
      expect(reduced).toBeCloseTo(steady, 0);
      const t = msUntil(out, x, SR, (g) => g > reduced * Math.exp(-1));
      expect(Math.abs(t / releaseMs - 1), `release ${releaseMs} ms took ${t.toFixed(1)} ms`).toBeLessThanOrEqual(0.05);
    }
  });

  it('reaches 63 % of its reduction in attackMs (±10 %)', async () => {
    for (const attackMs of [5, 20]) {
      const x = Float32Array.from({ length: SR }, (_, i) => (i < SR / 2 ? 0.005 : 0.5) * Math.sin((2 * Math.PI * 1000 * i) / SR));
      const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, attackMs, releaseMs: 200 } }]);
      const t = msUntil(out, x, SR / 2, (g) => g < steady * (1 - Math.exp(-1)));
      expect(Math.abs(t / attackMs - 1), `attack ${attackMs} ms took ${t.toFixed(1)} ms`).toBeLessThanOrEqual(0.1);
    }
  });

  it('has a soft knee that joins the two straight lines, and straight lines beyond it', () => {
    // Threshold −20, ratio 4, knee 6 dB: unchanged below −23, 1/4 of the excess above −17, a parabola between.
    expect(staticCurveDb(-40, -20, 4, 6)).toBeCloseTo(-40, 9);
    expect(staticCurveDb(-10, -20, 4, 6)).toBeCloseTo(-20 + 10 / 4, 9);
    expect(staticCurveDb(0, -20, 4, 6)).toBeCloseTo(-15, 9);
    // At the threshold, half way into the knee: (1/4 − 1)·3² / (2·6) below the input.
    expect(staticCurveDb(-20, -20, 4, 6)).toBeCloseTo(-20 - (0.75 * 9) / 12, 9);
  });

  it('with the RMS detector, compresses a steady sine by its RMS level, not its peak', async () => {
    // A sine at −6 dBFS peak has an RMS of −9.01 dBFS: 11 dB over −20 at ratio 4 → 8.26 dB of reduction (peak: 10.5).
    const x = sine(1000, 1, 0.5);
    const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, detector: 'rms', attackMs: 5, releaseMs: 100 } }]);
    const over = 20 * Math.log10(0.5 / Math.SQRT2) + 20;
    // Within 0.2 dB: the 5 ms RMS window ripples at twice the tone's frequency.
    expect(Math.abs(db(rms(out, SR / 2) / rms(x, SR / 2)) + (over - over / 4))).toBeLessThan(0.2);
  });

  it('with the RMS detector, averages over attackMs: a 50 Hz tone’s level does not ripple', async () => {
    // The mean square of a 50 Hz sine ripples at 100 Hz: a one-pole average over 50 ms (attackMs) passes 1/31 of
    // that ripple, one over 5 ms 1/3.3. With a 1 ms release the gain follows the level closely, so the ripple shows as
    // distortion: measured −64 dB THD+N with the 50 ms average and −45 dB with 5 ms.
    const x = sine(50, 2.5, 0.5);
    const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, detector: 'rms', attackMs: 50, releaseMs: 1 } }]);
    const from = Math.round(1.2 * SR);
    const fundamental = amplitudeAt(out, 50, from) ** 2 / 2;
    const thdN = 10 * Math.log10(1 - fundamental / rms(out, from, from + SR) ** 2);
    expect(thdN).toBeLessThan(-55);
  });

  it('with lookahead, compresses the delayed audio by the same amount and applies makeup', async () => {
    const x = sine(1000, 1, 0.5);
    const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, lookaheadMs: 5, attackMs: 2, releaseMs: 100, makeupDb: 4 } }], 500);
    expect(out.length).toBe(x.length);
    expect(db(rms(out, SR / 2) / rms(x, SR / 2))).toBeCloseTo(steady + 4, 1);
  });

  it('links its channels: the loudest one sets one gain for all (stereo either way round, and a third channel)', async () => {
    // One channel at −6 dBFS peak drives 10.5 dB of reduction; a quiet one (−40 dBFS, below the threshold, another
    // tone) alone would get none, and linked gets the same 10.5 dB.
    const loud = sine(1000, 1, 0.5), quiet = sine(700, 1, 0.01);
    for (const [order, loudAt] of [[[loud, quiet], 0], [[quiet, loud], 1], [[quiet, quiet.slice(), loud], 2]] as const) {
      const out = await render(order.map((x) => x.slice()), [{ effect: 'compressor', parameters: { ...params, attackMs: 2, releaseMs: 100 } }]);
      for (const [c, x] of order.entries()) {
        const label = `channel ${c} of ${order.length}, the loud one ${loudAt}`;
        expect(db(rms(out[c], SR / 2) / rms(x, SR / 2)), label).toBeCloseTo(steady, 1);
      }
    }
  });

  it('applies makeupDb to everything, compressed or not', async () => {
    const x = sine(1000, 0.5, 0.01); // −40 dBFS: below the threshold
    const [out] = await render([x], [{ effect: 'compressor', parameters: { ...params, makeupDb: 7.5 } }]);
    expect(db(rms(out, SR / 4) / rms(x, SR / 4))).toBeCloseTo(7.5, 2);
  });
});

describe('limiter: the gain comes back in releaseMs', () => {
  it('recovers 63 % of its reduction (in linear gain) in releaseMs, within its lookahead, for several release times', async () => {
    const lookaheadMs = 5;
    for (const releaseMs of [40, 100, 250]) {
      // A 0 dBFS tone against a −6 dBTP ceiling (held at about half its level), then 2 s at −20 dBFS (needs no limiting).
      const x = Float32Array.from({ length: 3 * SR }, (_, i) => (i < SR ? 1 : 0.1) * Math.sin((2 * Math.PI * 1000 * i) / SR));
      const [out] = await render([x], [{ effect: 'limiter', parameters: { ceilingDb: -6, lookaheadMs, releaseMs } }]);
      const held = rms(out, SR - 4410, SR) / rms(x, SR - 4410, SR);
      expect(db(held)).toBeCloseTo(-6, 0);
      expect(db(rms(out, 3 * SR - 4410) / rms(x, 3 * SR - 4410)), 'recovered fully').toBeCloseTo(0, 2);
      const t = msUntil(out, x, SR, (g) => 10 ** (g / 20) > 1 - (1 - held) * Math.exp(-1));
      expect(Math.abs(t - releaseMs), `release ${releaseMs} ms took ${t.toFixed(1)} ms`).toBeLessThanOrEqual(lookaheadMs);
    }
  });
});

describe('noise_gate: opens in attackMs and closes in releaseMs, straight in dB', () => {
  it('closes to its range in releaseMs after the hold, half way (in dB) at half the release', async () => {
    const p = { thresholdDb: -30, rangeDb: -60, hysteresisDb: 0, attackMs: 1, holdMs: 20, releaseMs: 100 };
    // Loud, then a tone 10 dB under the threshold: the gate closes over it.
    const x = Float32Array.from({ length: SR }, (_, i) => (i < SR / 2 ? 0.3 : 0.01) * Math.sin((2 * Math.PI * 2000 * i) / SR));
    const [out] = await render([x], [{ effect: 'noise_gate', parameters: p }]);
    const start = SR / 2;
    // The detector falls below the threshold ~10 ms after the drop (its 10 ms decay), then the hold, then the ramp.
    const half = msUntil(out, x, start, (g) => g < -30);
    const closed = msUntil(out, x, start, (g) => g < -59);
    expect(closed - half, `half at ${half.toFixed(1)} ms, closed at ${closed.toFixed(1)} ms`).toBeGreaterThan(45);
    expect(closed - half).toBeLessThan(55);
    expect(db(rms(out, SR - 4410) / rms(x, SR - 4410))).toBeCloseTo(-60, 1);
  });

  it('holds open for holdMs, and closes only below threshold − hysteresis', async () => {
    // The level drops from well over the threshold (−30) to −33 dB: above −30 − 6 the gate stays open for good.
    const at = (amp: number, hysteresisDb: number, holdMs: number) =>
      render([Float32Array.from({ length: SR }, (_, i) => (i < SR / 2 ? 0.3 : amp) * Math.sin((2 * Math.PI * 2000 * i) / SR))], [
        { effect: 'noise_gate', parameters: { thresholdDb: -30, rangeDb: -60, hysteresisDb, attackMs: 1, holdMs, releaseMs: 20 } },
      ]);
    const level = (out: Float32Array, from: number, to: number, amp: number) => db(rms(out, from, to) / (amp / Math.SQRT2));
    const inside = 10 ** (-33 / 20); // between the threshold and threshold − hysteresis
    expect(level((await at(inside, 6, 0))[0], SR - 4410, SR, inside)).toBeCloseTo(0, 1);
    expect(level((await at(inside, 0, 0))[0], SR - 4410, SR, inside)).toBeCloseTo(-60, 0);
    // Hold 200 ms: still open 150 ms after the drop (the detector takes ~10 ms to fall), closed by 300 ms.
    const quiet = 10 ** (-45 / 20);
    const [held] = await at(quiet, 0, 200);
    expect(level(held, SR / 2 + 0.12 * SR, SR / 2 + 0.15 * SR, quiet)).toBeCloseTo(0, 1);
    expect(level(held, SR / 2 + 0.3 * SR, SR / 2 + 0.35 * SR, quiet)).toBeCloseTo(-60, 0);
  });

  it('starts closed: a quiet signal from the first sample is at the range', async () => {
    const x = sine(2000, 0.2, 0.001);
    const [out] = await render([x], [{ effect: 'noise_gate', parameters: { thresholdDb: -30, rangeDb: -40 } }]);
    expect(db(rms(out, 0, 441) / rms(x, 0, 441))).toBeCloseTo(-40, 1);
  });

  it('opens fully in attackMs', async () => {
    const p = { thresholdDb: -30, rangeDb: -40, hysteresisDb: 0, attackMs: 20, holdMs: 0, releaseMs: 50 };
    const x = Float32Array.from({ length: SR }, (_, i) => (i < SR / 2 ? 0.001 : 0.3) * Math.sin((2 * Math.PI * 2000 * i) / SR));
    const [out] = await render([x], [{ effect: 'noise_gate', parameters: p }]);
    const half = msUntil(out, x, SR / 2, (g) => g > -20);
    const open = msUntil(out, x, SR / 2, (g) => g > -0.5);
    expect(half).toBeGreaterThan(8);
    expect(half).toBeLessThan(12);
    expect(open).toBeGreaterThan(18);
    expect(open).toBeLessThan(22);
  });
});

describe('distortion: each mode shapes as it should', () => {
  const drive = (mode: string, extra: Record<string, unknown> = {}) => ({ effect: 'distortion', parameters: { mode, mix: 1, outputDb: 0, toneHz: 20000, ...extra } });

  it('soft_clip adds odd harmonics, not even ones, growing with drive', async () => {
    const x = sine(200, 2, 0.5);
    const third = async (driveDb: number) => {
      const [out] = await render([x], [drive('soft_clip', { driveDb })]);
      const f1 = amplitudeAt(out, 200, SR / 2);
      return { h3: db(amplitudeAt(out, 600, SR / 2) / f1), h2: db(amplitudeAt(out, 400, SR / 2) / f1) };
    };
    const mild = await third(0);
    const hot = await third(24);
    expect(hot.h3).toBeGreaterThan(-15); // a square-ish wave: the third is ~1/3 of the fundamental (−9.5 dB)
    expect(hot.h3).toBeGreaterThan(mild.h3 + 10);
    expect(hot.h2).toBeLessThan(-80); // symmetric curve: no even harmonics
  });

  it('hard_clip flattens the top at the output level', async () => {
    const [out] = await render([sine(100, 1, 0.5)], [drive('hard_clip', { driveDb: 12, outputDb: -6 })]);
    const ceiling = 10 ** (-6 / 20);
    let atTop = 0, peak = 0;
    for (let i = SR / 2; i < SR; i++) {
      peak = Math.max(peak, Math.abs(out[i]));
      if (Math.abs(out[i]) > 0.97 * ceiling) atTop++;
    }
    expect(peak).toBeLessThan(ceiling * 1.06); // the anti-aliasing filters ring a little at the corners
    expect(atTop / (SR / 2)).toBeGreaterThan(0.5); // 2× over the clip level: two thirds of each cycle is flat
  });

  it('bitcrush adds quantisation distortion that grows as the bits fall', async () => {
    const x = sine(1000, 2, 0.8);
    const distortionDb = async (bitDepth: number) => {
      const [out] = await render([x], [drive('bitcrush', { driveDb: 0, bitDepth })]);
      const f1 = amplitudeAt(out, 1000, SR / 2);
      return db(Math.sqrt(Math.max(1e-20, rms(out, SR / 2, SR + SR / 2) ** 2 - (f1 * f1) / 2)) / (f1 / Math.SQRT2));
    };
    const coarse = await distortionDb(3);
    const fine = await distortionDb(12);
    expect(coarse).toBeGreaterThan(-25); // 3 bits: about −6 dB per bit below the signal
    expect(coarse).toBeGreaterThan(fine + 40);
  });

  it('clips at full drive without aliasing: a 4.1 kHz sine keeps its inharmonic energy at or below −60 dB', async () => {
    // 4100 Hz over one second: its harmonics sit on exact DFT bins, so everything else is aliasing (or noise).
    const x = sine(4100, 2, 0.5);
    for (const mode of ['hard_clip', 'soft_clip']) {
      for (const toneHz of [8000, 20000]) {
        const [out] = await render([x], [drive(mode, { driveDb: 48, toneHz })], 1000);
        let total = 0;
        for (let i = SR / 2; i < SR + SR / 2; i++) total += out[i] * out[i];
        total /= SR;
        let harmonic = 0;
        for (let h = 1; h * 4100 < SR / 2; h++) harmonic += amplitudeAt(out, h * 4100, SR / 2) ** 2 / 2;
        const inharmonicDb = 10 * Math.log10((total - harmonic) / total);
        expect(inharmonicDb, `${mode} tone ${toneHz} Hz`).toBeLessThanOrEqual(-60);
      }
    }
  });

  it('the oversampled path lines up with the dry one: a quiet sine through a gentle drive mixes back into itself', async () => {
    const x = sine(1000, 0.5, 0.01);
    const [out] = await render([x], [drive('soft_clip', { driveDb: 0, mix: 0.5 })], 777);
    expect(out.length).toBe(x.length);
    const err = Float32Array.from(out, (v, i) => v - x[i]);
    // Aligned, the filters leave about −41 dB; a wet path a sample early or late would leave about −17 dB.
    expect(db(rms(err, 4410) / rms(x, 4410))).toBeLessThan(-35);
  });

  it('mix 0 is the dry signal at the output level', async () => {
    const x = sine(300, 0.2, 0.5);
    const [out] = await render([x], [drive('hard_clip', { driveDb: 30, mix: 0, outputDb: -6 })]);
    for (const i of [100, 1000, 5000]) expect(out[i]).toBeCloseTo(x[i] * 10 ** (-6 / 20), 4);
  });
});

describe('phaser, chorus and delay damping', () => {
  it('phaser: a fixed break frequency puts a notch where the four all-passes turn the phase by 180°', async () => {
    const fb = 1000;
    // Each bilinear first-order all-pass has phase −2·atan(tan(πf/fs) / tan(πfb/fs)); four reach −180° at −45° each.
    const notch = (SR / Math.PI) * Math.atan(Math.tan((Math.PI * fb) / SR) * Math.tan(Math.PI / 8));
    const gain = async (hz: number) => {
      const x = sine(hz, 1, 0.5);
      const [out] = await render([x], [{ effect: 'phaser', parameters: { stages: 4, baseHz: fb, rangeHz: 0, feedback: 0, mix: 0.5 } }]);
      return db(rms(out, SR / 2) / rms(x, SR / 2));
    };
    expect(await gain(Math.round(notch))).toBeLessThan(-25);
    expect(Math.abs(await gain(fb))).toBeLessThan(0.5); // −360°: back in phase
  });

  it('chorus: without modulation each voice is the input delayed by delayMs, mixed by mix', async () => {
    const x = new Float32Array(SR / 10);
    x[0] = 1;
    const [out] = await render([x], [{ effect: 'chorus', parameters: { voices: 2, delayMs: 20, depthMs: 0, mix: 0.4 } }]);
    const d = Math.round(0.02 * SR);
    expect(out[0]).toBeCloseTo(0.6, 6);
    expect(out[d]).toBeCloseTo(0.4, 6);
    expect(Math.abs(out[d - 1]) + Math.abs(out[d + 1])).toBeLessThan(1e-6);
  });

  it('chorus: modulation moves the pitch of the delayed copy (a sine gains sidebands)', async () => {
    const x = sine(1000, 2, 0.5);
    const [out] = await render([x], [{ effect: 'chorus', parameters: { voices: 1, delayMs: 20, depthMs: 5, rateHz: 3, mix: 1 } }]);
    const carrier = amplitudeAt(out, 1000, SR / 2);
    // A delay swinging ±5 ms at 3 Hz shifts 1 kHz by up to ±94 Hz: most of the energy leaves the carrier.
    expect(db(carrier / 0.5)).toBeLessThan(-6);
    expect(db(rms(out, SR / 2, SR + SR / 2) / rms(x, SR / 2, SR + SR / 2))).toBeGreaterThan(-1);
  });

  it('delay: damping takes the highs out of each echo fed back, and leaves the lows', async () => {
    const echo2 = async (hz: number, dampingHz: number) => {
      const x = Float32Array.from({ length: SR }, (_, i) => (i < 0.05 * SR ? 0.5 * Math.sin((2 * Math.PI * hz * i) / SR) : 0));
      const [out] = await render([x], [{ effect: 'delay', parameters: { timeMs: 100, feedback: 0.5, mix: 1, dampingHz } }]);
      return rms(out, 0.2 * SR + 200, 0.25 * SR); // the second echo: fed back once
    };
    // A one-pole low-pass at 1 kHz: about −14 dB at 5 kHz, −0.2 dB at 200 Hz.
    expect(db((await echo2(5000, 1000)) / (await echo2(5000, 22000)))).toBeLessThan(-10);
    expect(Math.abs(db((await echo2(200, 1000)) / (await echo2(200, 22000))))).toBeLessThan(0.5);
  });
});

describe('pan balance, stereo width and fade curves', () => {
  it('pan on a stereo source is a balance: the far side keeps √2·sin or √2·cos of the angle, the near side stays', async () => {
    for (const positionPct of [-50, 60]) {
      const [l, r] = await render([new Float32Array(64).fill(0.5), new Float32Array(64).fill(0.5)], [{ effect: 'pan', parameters: { positionPct } }]);
      const theta = ((positionPct / 100 + 1) * Math.PI) / 4;
      expect(l[10]).toBeCloseTo(0.5 * Math.min(1, Math.SQRT2 * Math.cos(theta)), 6);
      expect(r[10]).toBeCloseTo(0.5 * Math.min(1, Math.SQRT2 * Math.sin(theta)), 6);
    }
  });

  it('width scales the side signal and keeps the mid', async () => {
    const L = 0.6, R = 0.2;
    for (const widthPct of [0, 50, 200]) {
      const [l, r] = await render([new Float32Array(16).fill(L), new Float32Array(16).fill(R)], [{ effect: 'channels', parameters: { mode: 'width', widthPct } }]);
      const mid = (L + R) / 2, side = ((L - R) / 2) * (widthPct / 100);
      expect(l[3]).toBeCloseTo(mid + side, 6);
      expect(r[3]).toBeCloseTo(mid - side, 6);
    }
  });

  it('each fade curve has its shape at a quarter and three quarters of the fade-in', async () => {
    const shapes: Record<string, (t: number) => number> = {
      linear: (t) => t,
      exponential: (t) => 10 ** ((-60 * (1 - t)) / 20),
      logarithmic: (t) => Math.log10(1 + 9 * t),
      sine: (t) => Math.sin((Math.PI * t) / 2),
      scurve: (t) => 3 * t * t - 2 * t * t * t,
    };
    for (const [curve, shape] of Object.entries(shapes)) {
      const [out] = await render([new Float32Array(SR / 2).fill(1)], [{ effect: 'fade', parameters: { fadeInMs: 100, fadeOutMs: 100, curve } }], 700);
      const n = 4410;
      for (const i of [1103, 3308]) expect(out[i], `${curve} at ${i} of ${n}`).toBeCloseTo(shape(i / n), 4);
      // The fade-out mirrors it: a quarter of the fade from the end, the gain of a quarter of the fade (±1 frame).
      expect(out[out.length - 1103], `${curve} out`).toBeCloseTo(shape(1103 / n), 2);
    }
  });
});

/**
 * Reverb against Freeverb's published design (Jezar, 2000), written out here: 8 feedback combs of 1116 … 1617
 * samples at 44.1 kHz in parallel, then 4 all-passes of 556, 441, 341, 225 in series (buffer = x + ½·b, output
 * b − x), the right side 23 samples longer; input × 0.015 per channel summed (a mono input counts twice); feedback
 * 0.7 + 0.28 · roomSize; damping × 0.4 as a one-pole low-pass inside each comb; wet × 3, dry 1 − mix; width mixes
 * the sides (wet1 = wet · (width/2 + ½), wet2 = wet · (1 − width)/2). Lengths scale with the rate.
 */
describe('reverb: Freeverb’s structure, timing and gains', () => {
  const COMBS = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
  const ALLPASSES = [556, 441, 341, 225];
  const SPREAD = 23;
  const impulse = (n: number, at = 0) => {
    const x = new Float32Array(n);
    x[at] = 1;
    return x;
  };
  const rv = (p: Record<string, number>) => [{ effect: 'reverb', parameters: { roomSize: 0.5, damping: 0, mix: 1, widthPct: 100, preDelayMs: 0, ...p } }];
  /** The samples of `y` in [from, to) that are not zero, as [index, value]. */
  const nonZero = (y: Float32Array, from: number, to: number) => {
    const out: [number, number][] = [];
    for (let i = from; i < to; i++) if (y[i] !== 0) out.push([i, y[i]]);
    return out;
  };

  it('an impulse first comes back after each comb, through four sign-flipping all-passes, at Freeverb’s gains', async () => {
    // Mono, mix 1: each comb's first echo is 2 · 0.015 at its delay; the four all-passes pass it at once with
    // (−1)^4; the two sides are averaged and scaled by wet = 3: 0.03 · 3 / 2 = 0.045. Before the first all-pass
    // echo (1116 + 225 = 1341) the only arrivals are the first echoes of the combs shorter than that.
    const [y] = await render([impulse(4000)], rv({}));
    const firstEchoes = [...COMBS, ...COMBS.map((n) => n + SPREAD)].filter((n) => n < 1116 + 225).sort((a, b) => a - b);
    expect(firstEchoes).toEqual([1116, 1139, 1188, 1211, 1277, 1300]);
    const found = nonZero(y, 0, 1341);
    expect(found.map(([i]) => i)).toEqual(firstEchoes);
    for (const [, v] of found) expect(v).toBeCloseTo(0.045, 6);
    // The last all-pass (225) answers the shortest comb's echo with +1 a pass later, after the other three passed
    // it with −1 each: −0.045 (left side only: the right one is 248 long).
    expect(y[1116 + 225]).toBeCloseTo(-0.045, 6);
  });

  it('a DC input settles at 3 · 8 · 0.03 · x / (1 − feedback): feedback 0.7 + 0.28 · roomSize, unity DC through the damping and the all-passes', async () => {
    for (const [roomSize, damping] of [[0.5, 0], [0.2, 0.5], [0.8, 1]] as const) {
      const feedback = 0.7 + 0.28 * roomSize;
      const x = new Float32Array(SR * 4).fill(0.25);
      const [y] = await render([x], rv({ roomSize, damping }));
      // Each comb at DC: 0.03 · x / (1 − feedback); 8 combs per side, sides averaged; all-passes: DC gain 1.
      const expected = (3 * 8 * 0.03 * 0.25) / (1 - feedback);
      const settled = y.subarray(SR * 3.5, SR * 4).reduce((s, v) => s + v, 0) / (SR * 0.5);
      expect(settled / expected, `roomSize ${roomSize}, damping ${damping}`).toBeCloseTo(1, 2);
    }
  });

  it('decays at the rate the feedback of its longest comb sets', async () => {
    // Late in the tail the slowest mode is the longest comb's (1617 + 23 samples): per pass × feedback.
    for (const roomSize of [0.2, 0.8]) {
      const feedback = 0.7 + 0.28 * roomSize;
      const [y] = await render([impulse(SR * 3)], rv({ roomSize }));
      const expectedDbPerS = (db(feedback) * SR) / (COMBS[7] + SPREAD);
      const a = rms(y, Math.round(SR * 0.6), Math.round(SR * 0.8)), b = rms(y, Math.round(SR * 1.1), Math.round(SR * 1.3));
      const measured = db(b / a) / 0.5;
      expect(measured / expectedDbPerS, `roomSize ${roomSize}: ${measured.toFixed(1)} dB/s, expected ${expectedDbPerS.toFixed(1)}`).toBeGreaterThan(0.85);
      expect(measured / expectedDbPerS).toBeLessThan(1.25);
    }
  });

  it('stereo: each side has its own tank, width mixes them, the input is the sum of both channels', async () => {
    const n = 1400;
    const wetAt = async (widthPct: number) => render([impulse(n), impulse(n)], rv({ widthPct }));
    // Left tank's first echo at 1116, the right's at 1139: (1 + 1) · 0.015 = 0.03, times wet1 on its own side and
    // wet2 on the other.
    for (const widthPct of [100, 50, 0]) {
      const [l, r] = await wetAt(widthPct);
      const w = widthPct / 100;
      const wet1 = 3 * (w / 2 + 0.5), wet2 = (3 * (1 - w)) / 2;
      expect(l[1116], `width ${widthPct}`).toBeCloseTo(0.03 * wet1, 6);
      expect(r[1116]).toBeCloseTo(0.03 * wet2, 6);
      expect(r[1139]).toBeCloseTo(0.03 * wet1, 6);
      expect(l[1139]).toBeCloseTo(0.03 * wet2, 6);
    }
    const [l0, r0] = await wetAt(0);
    expect(Math.max(...l0.map((v, i) => Math.abs(v - r0[i])))).toBeLessThan(1e-9);
  });

  it('pre-delay shifts every echo and mix keeps 1 − mix of the dry signal', async () => {
    const [y] = await render([impulse(2000)], rv({ preDelayMs: 10, mix: 0.3 }));
    expect(y[0]).toBeCloseTo(0.7, 6);
    // 10 ms = 441 samples: the first echo at 1116 + 441, 0.03 · (3 · 0.3) / 2.
    expect(nonZero(y, 1, 1116 + 441 + 1)).toEqual([[1557, expect.closeTo(0.03 * 0.9 * 0.5, 6)]]);
  });

  it('scales its delays with the sample rate', async () => {
    const rate = 48_000;
    const [y] = (await renderChain([impulse(1400)], rv({}), { sampleRate: rate, channels: 1 }, { blockSize: 1024 })).audio;
    const first = nonZero(y, 0, 1400).map(([i]) => i);
    // Every comb's first echo below 1400 samples at 48 kHz (the first all-pass echo comes at 1215 + 245 = 1460).
    const expected = [...COMBS, ...COMBS.map((n) => n + SPREAD)].map((n) => Math.round((n * rate) / 44_100)).filter((n) => n < 1400).sort((a, b) => a - b);
    expect(expected).toEqual([1215, 1240, 1293, 1318, 1390]);
    expect(first).toEqual(expected);
    expect(Math.round((ALLPASSES[3] * rate) / 44_100) + 1215).toBeGreaterThan(1400);
  });
});

describe('delay: the echo train, ping-pong and the tail', () => {
  const impulse = (n: number) => {
    const x = new Float32Array(n);
    x[0] = 1;
    return x;
  };
  const len = Math.round(0.01 * SR); // timeMs 10

  it('each echo is the one before times feedback, mixed in by mix, the dry signal by 1 − mix', async () => {
    const [y] = await render([impulse(len * 6)], [{ effect: 'delay', parameters: { timeMs: 10, feedback: 0.6, mix: 0.4 } }]);
    expect(y[0]).toBeCloseTo(0.6, 6);
    for (let k = 1; k < 6; k++) expect(y[k * len], `echo ${k}`).toBeCloseTo(0.4 * 0.6 ** (k - 1), 6);
    // Nothing between the echoes.
    for (let i = 1; i < 6 * len; i++) if (i % len !== 0) expect(y[i]).toBe(0);
  });

  it('keeps each channel to itself without ping-pong, and bounces between them with it', async () => {
    const n = len * 5;
    const params = { timeMs: 10, feedback: 0.5, mix: 1 };
    const [l, r] = await render([impulse(n), new Float32Array(n)], [{ effect: 'delay', parameters: params }]);
    expect(r.every((v) => v === 0)).toBe(true);
    expect(l[len]).toBeCloseTo(1, 6);
    expect(l[2 * len]).toBeCloseTo(0.5, 6);
    const [pl, pr] = await render([impulse(n), new Float32Array(n)], [{ effect: 'delay', parameters: { ...params, pingPong: true } }]);
    // The first echo on the side it came in on, then alternately on the other side, each × feedback.
    expect([pl[len], pr[len]].map((v) => +v.toFixed(6))).toEqual([1, 0]);
    expect([pl[2 * len], pr[2 * len]].map((v) => +v.toFixed(6))).toEqual([0, 0.5]);
    expect([pl[3 * len], pr[3 * len]].map((v) => +v.toFixed(6))).toEqual([0.25, 0]);
  });

  it('rings on after the input until the echoes fall below −90 dBFS, and no longer', async () => {
    const x = impulse(len);
    const [y] = await render([x], [{ effect: 'delay', parameters: { timeMs: 10, feedback: 0.5, mix: 1 } }]);
    // Echo k (k ≥ 1) is 0.5^(k−1) at k·len: every one down to 10^(−90/20) ≈ 3.2e-5 (k = 16) is there.
    for (let k = 1; k <= 15; k++) expect(y[k * len], `echo ${k}`).toBeCloseTo(0.5 ** (k - 1), 7);
    // And the tail stops within a few echoes of that (0.5^20 ≈ 1e-6): not the 30 s cap.
    expect(y.length).toBeGreaterThanOrEqual(16 * len);
    expect(y.length).toBeLessThanOrEqual(22 * len);
  });
});

/**
 * Chorus's moving delay, read off a ramp: through a linearly interpolated delay line a ramp x(t) = s·t comes out
 * as s·(t − d(t)), so the delay each voice is read at is d(t) = t − y(t)/s, to a few thousandths of a sample.
 */
describe('chorus: each voice is read at delayMs + depthMs · sin(2π (rateHz · t + voice/voices + channel · spread/200))', () => {
  const s = 1e-5;
  const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => s * i);
  const ms = (v: number) => (v / 1000) * SR;
  const lfo = (t: number, rateHz: number, offsetCycles: number) => Math.sin(2 * Math.PI * ((rateHz * t) / SR + offsetCycles));
  const from = Math.round(0.05 * SR), to = Math.round(1.5 * SR);

  it('one voice: the delay follows the sine, from its first sample on', async () => {
    const p = { voices: 1, delayMs: 20, depthMs: 4, rateHz: 2.5, mix: 1, spreadPct: 0 };
    const [y] = await render([ramp(to)], [{ effect: 'chorus', parameters: p }]);
    let worst = 0;
    for (let t = from; t < to; t += 37) worst = Math.max(worst, Math.abs(t - y[t] / s - (ms(20) + ms(4) * lfo(t, 2.5, 0))));
    expect(worst).toBeLessThan(0.02);
  });

  it('voices are spread evenly over the LFO cycle (two voices: their delays sum to twice the centre)', async () => {
    for (const voices of [2, 3]) {
      const p = { voices, delayMs: 15, depthMs: 5, rateHz: 1.7, mix: 1, spreadPct: 0 };
      const [y] = await render([ramp(to)], [{ effect: 'chorus', parameters: p }]);
      // y = (mix / voices) · Σ s (t − d_v): the voices' sines, evenly offset, sum to zero.
      let worst = 0;
      for (let t = from; t < to; t += 37) worst = Math.max(worst, Math.abs(voices * t - (voices * y[t]) / s - voices * ms(15)));
      expect(worst, `${voices} voices`).toBeLessThan(0.05);
    }
  });

  it('spread offsets the right channel’s LFO by spreadPct/200 of a cycle', async () => {
    const p = { voices: 1, delayMs: 20, depthMs: 4, rateHz: 2, mix: 1, spreadPct: 50 };
    const [l, r] = await render([ramp(to), ramp(to)], [{ effect: 'chorus', parameters: p }]);
    let worst = 0;
    for (let t = from; t < to; t += 37) {
      worst = Math.max(worst, Math.abs(t - l[t] / s - (ms(20) + ms(4) * lfo(t, 2, 0))));
      worst = Math.max(worst, Math.abs(t - r[t] / s - (ms(20) + ms(4) * lfo(t, 2, 0.25))));
    }
    expect(worst).toBeLessThan(0.02);
  });
});

describe('phaser: the sweep and the feedback', () => {
  /** Where four bilinear all-passes at break frequency fb turn the phase by 180° (the notch with mix ½). */
  const notchOf = (fb: number) => (SR / Math.PI) * Math.atan(Math.tan((Math.PI * fb) / SR) * Math.tan(Math.PI / 8));

  it('sweeps its break frequency as baseHz + rangeHz · depth · ½ (1 + sin 2π rateHz t): the notch is where that puts it', async () => {
    // rateHz 0.05: a 20 s cycle, so the break frequency is 1000 Hz at t = 0 and 1500 Hz (its top) at t = 5 s.
    const p = { stages: 4, rateHz: 0.05, depth: 1, feedback: 0, baseHz: 500, rangeHz: 1000, mix: 0.5 };
    const gainDb = async (probeHz: number, fromS: number, toS: number) => {
      const x = sine(probeHz, toS + 0.05, 0.5);
      const [out] = await render([x], [{ effect: 'phaser', parameters: p }]);
      const a = Math.round(fromS * SR), b = Math.round(toS * SR);
      return db(rms(out, a, b) / rms(x, a, b));
    };
    expect(await gainDb(notchOf(1000), 0.02, 0.08)).toBeLessThan(-20);
    expect(await gainDb(notchOf(1500), 4.95, 5.05)).toBeLessThan(-20);
    // The notch moved: at 5 s the first probe is only as low as a phase shift short of 180° leaves it (−6.5 dB).
    expect(await gainDb(notchOf(1000), 4.95, 5.05)).toBeGreaterThan(-10);
  }, 30_000);

  it('feeds the cascade back: a DC input comes out × (1 − mix) + mix / (1 − feedback)', async () => {
    // A first-order all-pass passes DC unchanged, so around the loop DC sees only the feedback.
    for (const feedback of [0.5, -0.5]) {
      const x = new Float32Array(SR / 2).fill(0.2);
      const [out] = await render([x], [{ effect: 'phaser', parameters: { stages: 4, rateHz: 1, depth: 0.5, feedback, baseHz: 800, rangeHz: 1000, mix: 0.6 } }]);
      const settled = out.subarray(SR / 4).reduce((s, v) => s + v, 0) / (SR / 4);
      expect(settled / 0.2, `feedback ${feedback}`).toBeCloseTo(0.4 + 0.6 / (1 - feedback), 3);
    }
  });
});

describe('flanger: feedback through the delay line', () => {
  it('with the sweep stopped, an impulse repeats every delayMs, each repeat × feedback (signed)', async () => {
    const D = 441; // delayMs 10 at 44.1 kHz: a whole number of samples, so no interpolation blurs the repeats
    for (const feedback of [0.5, -0.5]) {
      const x = new Float32Array(D * 5);
      x[0] = 1;
      const [y] = await render([x], [{ effect: 'flanger', parameters: { delayMs: 10, depthMs: 0, feedback, mix: 1 } }]);
      for (let k = 1; k <= 4; k++) expect(y[k * D], `feedback ${feedback}, repeat ${k}`).toBeCloseTo(feedback ** (k - 1), 5);
      expect(y[0]).toBe(0);
    }
  });
});
