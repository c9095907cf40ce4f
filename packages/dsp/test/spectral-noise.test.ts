import { describe, expect, it } from 'vitest';
import { renderChain } from '../src/engine/chain.ts';

/** Noise reduction: SNR of a sine in white noise (with a noise-only lead-in) improves by at least 6 dB. */
const SR = 44_100;
function signal(noiseAmp: number, seed = 5) {
  const n = SR * 3;
  const clean = new Float32Array(n), noisy = new Float32Array(n);
  let s = seed;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
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
    let s = 7;
    const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
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
