import { describe, expect, it } from 'vitest';
import { renderChain } from '../src/engine/chain.ts';
import { maxAbsDiff } from './measure.ts';

/** Noise reduction: SNR of a sine in white noise (with a noise-only lead-in) improves by at least 6 dB. */
const SR = 44_100;
/** A seeded linear congruential generator: uniform in [−1, 1), the same sequence for the same seed. */
const lcg = (seed: number) => {
  let s = seed;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
};
function signal(noiseAmp: number, seed = 5) {
  const n = SR * 3;
  const clean = new Float32Array(n), noisy = new Float32Array(n);
  const rnd = lcg(seed);
  for (let i = 0; i < n; i++) {
    clean[i] = i < SR ? 0 : 0.3 * Math.sin((2 * Math.PI * 1000 * i) / SR) * (0.7 + 0.3 * Math.sin((2 * Math.PI * 1.5 * i) / SR));
    noisy[i] = clean[i] + noiseAmp * rnd();
  }
  return { clean, noisy };
}
const snrDb = (clean: Float32Array, x: Float32Array, from: number) => {
  let sig = 0, err = 0;
  for (let i = from; i < clean.length; i++) {
    sig += clean[i] * clean[i];
    err += (x[i] - clean[i]) ** 2;
  }
  return 10 * Math.log10(sig / err);
};

describe('noise_reduction', () => {
  it('improves the SNR of a tone in white noise by ≥ 6 dB, learning the profile from the quiet lead-in', async () => {
    const { clean, noisy } = signal(0.05);
    const [out] = (await renderChain([noisy], [{ effect: 'noise_reduction', parameters: { reductionDb: 24 } }], { sampleRate: SR, channels: 1 }, { blockSize: 5000 })).audio;
    expect(out.length).toBe(noisy.length);
    const before = snrDb(clean, noisy, SR);
    const after = snrDb(clean, out, SR);
    expect(after - before).toBeGreaterThanOrEqual(6);
    // The noise-only lead-in drops by most of the reduction.
    let eIn = 0, eOut = 0;
    for (let i = 4096; i < SR - 4096; i++) (eIn += noisy[i] ** 2), (eOut += out[i] ** 2);
    expect(10 * Math.log10(eOut / eIn)).toBeLessThan(-15);
  });

  it('works on stereo with a given profile span', async () => {
    const a = signal(0.05, 1), b = signal(0.05, 2);
    const out = (await renderChain([a.noisy, b.noisy], [{ effect: 'noise_reduction', parameters: { profileStartMs: 100, profileMs: 600 } }], { sampleRate: SR, channels: 2 })).audio;
    expect(snrDb(a.clean, out[0], SR) - snrDb(a.clean, a.noisy, SR)).toBeGreaterThanOrEqual(6);
    expect(snrDb(b.clean, out[1], SR) - snrDb(b.clean, b.noisy, SR)).toBeGreaterThanOrEqual(6);
  });

  it('leaves a clean signal (digital-silence profile) practically unchanged', async () => {
    const { clean } = signal(0);
    const [out] = (await renderChain([clean], [{ effect: 'noise_reduction' }], { sampleRate: SR, channels: 1 })).audio;
    let m = 0;
    for (let i = 0; i < clean.length; i++) m = Math.max(m, Math.abs(out[i] - clean[i]));
    expect(m).toBeLessThan(1e-4);
  });
});

describe('noise_reduction on a file with no quiet passage', () => {
  it('keeps a steady tone (its profile is tone plus noise) and still takes out the noise around it', async () => {
    // One second of a 1 kHz tone in white noise 40 dB under it, from start to end: the quietest span holds the tone.
    const rnd = lcg(7);
    const tone = Float32Array.from({ length: 2 * SR }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 1000 * i) / SR));
    const noisy = tone.map((v) => v + 0.003 * Math.sqrt(3) * rnd());
    const [out] = (await renderChain([noisy], [{ effect: 'noise_reduction' }], { sampleRate: SR, channels: 1 }, { blockSize: 4096 })).audio;
    const from = SR / 2, to = SR + SR / 2;
    // The tone's amplitude (one DFT bin over whole periods) and what is left beside it.
    let re = 0, im = 0;
    for (let i = from; i < to; i++) (re += out[i] * Math.cos((2 * Math.PI * 1000 * i) / SR)), (im += out[i] * Math.sin((2 * Math.PI * 1000 * i) / SR));
    const amp = (2 * Math.hypot(re, im)) / (to - from);
    expect(Math.abs(20 * Math.log10(amp / 0.3))).toBeLessThan(0.5); // before: −7 dB
    let residualOut = 0, residualIn = 0;
    for (let i = from; i < to; i++) {
      const fitted = (2 / (to - from)) * (re * Math.cos((2 * Math.PI * 1000 * i) / SR) + im * Math.sin((2 * Math.PI * 1000 * i) / SR));
      residualOut += (out[i] - fitted) ** 2;
      residualIn += (noisy[i] - tone[i]) ** 2;
    }
    expect(10 * Math.log10(residualOut / residualIn)).toBeLessThan(-6); // the noise is still reduced
  });
});

describe('noise_reduction’s parameters, each against what it declares', () => {
  /** White noise whose amplitude follows `amp(t)` (seconds), uniform in ±amp·√3 so that its RMS is `amp`. */
  const shaped = (seconds: number, amp: (t: number) => number, seed: number) => {
    const rnd = lcg(seed);
    return Float32Array.from({ length: Math.round(seconds * SR) }, (_, i) => amp(i / SR) * Math.sqrt(3) * rnd());
  };
  /** Output level over input level in dB, over [from, to) seconds. */
  const gainDb = (x: Float32Array, y: Float32Array, from: number, to: number) => {
    let ex = 0, ey = 0;
    for (let i = Math.round(from * SR); i < Math.round(to * SR); i++) (ex += x[i] ** 2), (ey += y[i] ** 2);
    return 10 * Math.log10(ey / ex);
  };
  const nr = async (audio: Float32Array[], parameters: Record<string, number>) =>
    (await renderChain(audio.map((c) => c.slice()), [{ effect: 'noise_reduction', parameters }], { sampleRate: SR, channels: audio.length }, { blockSize: 3000 })).audio;

  it('reductionDb is the floor: stationary noise, its own profile, the most sensitive setting, comes out reductionDb down', async () => {
    const x = shaped(2, () => 0.05, 3);
    // Within 0.5 dB at 6 and 12 dB. At 24 dB the few bins where the noise's power peaks over four times its mean pass
    // the subtraction and weigh more against the lower floor: never below the floor, at most 3 dB above it.
    for (const [reductionDb, below, above] of [[6, 0.5, 0.5], [12, 0.5, 0.5], [24, 0.2, 3]]) {
      const [y] = await nr([x], { reductionDb, sensitivity: 4 });
      expect(y.length).toBe(x.length);
      const level = gainDb(x, y, 0.2, 1.8);
      expect(level, `reductionDb ${reductionDb}`).toBeGreaterThan(-reductionDb - below);
      expect(level, `reductionDb ${reductionDb}`).toBeLessThan(-reductionDb + above);
    }
  });

  it('sensitivity over-subtracts: on the noise it learned, each step up removes at least 1 dB more', async () => {
    const x = shaped(2, () => 0.05, 4);
    const levels: number[] = [];
    for (const sensitivity of [0.5, 1, 2]) levels.push(gainDb(x, (await nr([x], { reductionDb: 48, sensitivity }))[0], 0.2, 1.8));
    expect(levels[0]).toBeLessThan(-0.5); // half the noise power taken off already
    expect(levels[1]).toBeLessThan(levels[0] - 1);
    expect(levels[2]).toBeLessThan(levels[1] - 1);
  });

  it('learns from the quietest span wherever it lies: noise 20 dB louder around it is kept, the quiet span cut', async () => {
    // 0–1.2 s and 1.8–3 s: noise at 0.1 RMS (the "signal" here); 1.2–1.8 s: the same noise 20 dB down.
    const x = shaped(3, (t) => (t >= 1.2 && t < 1.8 ? 0.01 : 0.1), 5);
    const [y] = await nr([x], {});
    expect(Math.abs(gainDb(x, y, 0.1, 1.0))).toBeLessThan(1);
    expect(Math.abs(gainDb(x, y, 2.0, 2.9))).toBeLessThan(1);
    expect(gainDb(x, y, 1.3, 1.7)).toBeLessThan(-12);
  });

  it('the profile is exactly the quietest profileMs, hop for hop: a quiet span just that long, 30 dB under the rest, leaves the rest untouched', async () => {
    // profileMs 500 at 44.1 kHz is 22 hops of 1,024 frames; hops 60–81 are 30 dB quieter. Their noise alone as the
    // profile takes 2·0.001 of the rest's power off (−0.01 dB); one loud hop in it instead makes the profile about
    // 46 times the quiet noise (each off-by-one slip of the span took 0.27–0.29 dB off the rest).
    const HOP = 1024;
    const x = shaped(3, (t) => (t * SR >= 60 * HOP && t * SR < 82 * HOP ? 0.1 / Math.sqrt(1000) : 0.1), 10);
    const [y] = await nr([x], { profileMs: 500 });
    expect(Math.abs(gainDb(x, y, 0.1, (58 * HOP) / SR))).toBeLessThan(0.1);
    expect(Math.abs(gainDb(x, y, (84 * HOP) / SR, 2.9))).toBeLessThan(0.1);
    expect(gainDb(x, y, (62 * HOP) / SR, (80 * HOP) / SR)).toBeLessThan(-12);
  });

  it('profileStartMs takes the span given (the loud part) and past the end the last profileMs', async () => {
    // 0–2 s loud noise, 2–3 s the same 20 dB down.
    const x = shaped(3, (t) => (t < 2 ? 0.1 : 0.01), 6);
    // Given the loud part as the profile, the loud part is cut to the floor.
    const [given] = await nr([x], { profileStartMs: 500, profileMs: 1000, sensitivity: 4 });
    expect(gainDb(x, given, 0.2, 1.8)).toBeLessThan(-15);
    // A start past the end is the last 500 ms: the quiet tail is the profile; the loud part stays.
    const [late] = await nr([x], { profileStartMs: 86_400_000 });
    expect(Math.abs(gainDb(x, late, 0.2, 1.8))).toBeLessThan(1);
    expect(gainDb(x, late, 2.1, 2.9)).toBeLessThan(-12);
  });

  it('profileStartMs 0 is a span like any other (the start), not "find the quietest"', async () => {
    const x = shaped(3, (t) => (t < 1.5 ? 0.1 : 0.01), 11);
    const [y] = await nr([x], { profileStartMs: 0, sensitivity: 4 });
    expect(gainDb(x, y, 0.2, 1.3)).toBeLessThan(-15);
  });

  it('depends on levels only relative to each other: 48 dB quieter in, 48 dB quieter out, sample for sample', async () => {
    // A tone in noise (the tone detection compares bins with their neighbours) and a quiet span: every decision is
    // a ratio, so scaling by 2^-8 scales the output by exactly that.
    const rnd = lcg(12);
    const x = Float32Array.from({ length: 2 * SR }, (_, i) => (i > SR / 2 ? 0.3 * Math.sin((2 * Math.PI * 1000 * i) / SR) : 0) + 0.01 * rnd());
    const k = 2 ** -8;
    const [loud] = await nr([x], {});
    const [quiet] = await nr([x.map((v) => v * k)], {});
    let m = 0;
    for (let i = 0; i < loud.length; i++) m = Math.max(m, Math.abs(quiet[i] / k - loud[i]));
    expect(m).toBeLessThan(1e-6);
    expect(gainDb(x, loud, 0.1, 0.4)).toBeLessThan(-12); // and it did reduce the noise
  });

  it('a steep noise (−12 dB per octave) is noise, not tones: every octave of it is cut, the lowest too', async () => {
    // Each bin stands far over its higher neighbours in so steep a spectrum; it is a tone only if it also stands over
    // its lower ones. Band levels from a Hann-windowed 4,096-point DFT 1 s in, before and after (the window keeps the
    // strong low end from leaking into the weak high bands).
    let a = 0, b = 0;
    const rnd = lcg(13);
    const x = Float32Array.from({ length: 3 * SR }, () => ((a = 0.99 * a + rnd()), (b = 0.99 * b + 0.0005 * a)));
    const [y] = await nr([x], {});
    const band = (v: Float32Array, lo: number, hi: number) => {
      let e = 0;
      for (let f = lo; f < hi; f += SR / 4096) {
        let re = 0, im = 0;
        for (let i = 0; i < 4096; i++) {
          const w = (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 4096)) * v[SR + i];
          (re += w * Math.cos((2 * Math.PI * f * i) / SR)), (im += w * Math.sin((2 * Math.PI * f * i) / SR));
        }
        e += re * re + im * im;
      }
      return e;
    };
    for (const [lo, hi] of [[100, 200], [200, 400], [400, 800], [2000, 4000]]) {
      const cut = 10 * Math.log10(band(y, lo, hi) / band(x, lo, hi));
      expect(cut, `${lo}–${hi} Hz`).toBeLessThan(-9); // half the 18 dB or more (−17 to −11 dB measured)
    }
  });

  it('three channels: the first two filtered as a pair (one gain), the third on its own, as a stereo and a mono run give them', async () => {
    const a = shaped(1.5, (t) => (t < 0.5 ? 0.01 : 0.05), 7);
    const b = shaped(1.5, (t) => (t < 0.5 ? 0.02 : 0.03), 8);
    const c = shaped(1.5, (t) => (t < 0.5 ? 0.005 : 0.1), 9);
    const parameters = { profileStartMs: 50, profileMs: 400, reductionDb: 30 };
    const three = await nr([a, b, c], parameters);
    const [sa, sb] = await nr([a, b], parameters);
    const [mc] = await nr([c], parameters);
    expect(maxAbsDiff(three, [sa, sb, mc])).toBeLessThan(1e-6);
    // And it did the right thing to each: the lead-in is cut, the louder rest kept (the pair's summed power stands
    // 8 dB over its profile, so −1.5 dB for both of its channels; the third stands 26 dB over its own).
    for (const [ch, x] of [[three[0], a], [three[1], b], [three[2], c]] as const) {
      expect(gainDb(x, ch, 0.1, 0.4)).toBeLessThan(-10);
      expect(gainDb(x, ch, 0.6, 1.4)).toBeGreaterThan(-3);
    }
  });
});
