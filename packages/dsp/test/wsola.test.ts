import { afterEach, describe, expect, it } from 'vitest';
import { Wsola } from '../src/engine/wsola.ts';
import { useSimd } from '../src/engine/wasm/index.ts';
import type { AudioBlock } from '../src/types.ts';
import { maxAbsDiff, zeroCrossingHz } from './measure.ts';

/**
 * The WSOLA stretcher on its own, with inputs longer than its buffers start out (a FIFO of 16,384 frames, an output
 * buffer of 32,768): whole-input blocks make both grow, small blocks make the FIFO drop what it no longer needs.
 * The suites through the chain use a quarter of a second, which reaches neither.
 */
const SR = 48_000;

afterEach(() => useSimd(true));

/** Noise with a sine under it, a different seed per channel (deterministic). */
function signal(seconds: number, channels: number): AudioBlock {
  const n = Math.round(seconds * SR);
  return Array.from({ length: channels }, (_, c) => {
    let s = 0x9e3779b9 ^ (c * 7919 + 1);
    return Float32Array.from({ length: n }, (_, i) => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return 0.25 * ((s >>> 0) / 2 ** 32 - 0.5) + 0.4 * Math.sin((2 * Math.PI * (330 + 110 * c) * i) / SR);
    });
  });
}

/**
 * Feed `input` in blocks of `sizes` frames (taken in turn); gather everything `process` and `flush` give (copies: the
 * buffers are reused).
 */
function stretch(input: AudioBlock, ratio: number, sizes: number | number[], w = new Wsola(ratio, input.length, SR)): AudioBlock {
  const parts: AudioBlock[] = [];
  const n = input[0].length;
  const turn = typeof sizes === 'number' ? [sizes] : sizes;
  for (let at = 0, k = 0; at < n; at += turn[k++ % turn.length]) {
    const size = turn[k % turn.length];
    parts.push(w.process(input.map((c) => c.subarray(at, Math.min(n, at + size)))).map((c) => c.slice()));
  }
  parts.push(w.flush());
  const total = parts.reduce((s, p) => s + p[0].length, 0);
  return input.map((_, c) => {
    const out = new Float32Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p[c], o);
      o += p[c].length;
    }
    return out;
  });
}

describe('WSOLA beyond its starting buffers', () => {
  for (const ratio of [0.25, 0.5, 1.25, 2.5, 4]) {
    it(`ratio ${ratio}: 3 s of stereo in one block, in blocks of 1,000, of 20,000 and of 1,000 then 50,000 give the same samples, round(n · ratio) of them`, () => {
      const input = signal(3, 2);
      const whole = stretch(input, ratio, input[0].length);
      expect(whole[0].length).toBe(Math.round(input[0].length * ratio));
      // The last: a large block after a small one grows the FIFO while it holds samples still to be read.
      for (const sizes of [1000, 20_000, [1000, 50_000]]) expect(maxAbsDiff(whole, stretch(input, ratio, sizes)), `blocks of ${sizes}`).toBe(0);
      // Not silence where the buffers grew: every 10 ms window after the first frame carries the signal, up to the
      // frames that reach past the input's end into the padding (the last 40 ms of input, stretched by the ratio).
      const end = Math.ceil(ratio * 1920) + 960;
      for (const ch of whole) {
        for (let at = 2 * 960; at + 480 <= ch.length - end; at += 480) {
          let e = 0;
          for (let i = at; i < at + 480; i++) e += ch[i] * ch[i];
          expect(Math.sqrt(e / 480), `window at ${at}`).toBeGreaterThan(0.2);
        }
      }
    });
  }

  it('a 440 Hz sine of 4 s in one block, stretched 2.5×: 440 Hz within 1 cent, exact length, level kept', () => {
    const x = Float32Array.from({ length: 4 * SR }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / SR));
    const [y] = stretch([x], 2.5, x.length);
    expect(y.length).toBe(10 * SR);
    expect(Math.abs(1200 * Math.log2(zeroCrossingHz(y, SR) / 440))).toBeLessThan(1);
    let peak = 0;
    for (let i = SR; i < y.length - SR; i++) peak = Math.max(peak, Math.abs(y[i]));
    expect(peak).toBeGreaterThan(0.5 * 0.97);
    expect(peak).toBeLessThan(0.5 * 1.03);
  });

  it('the kernels and the JavaScript give the same output (the search and the fractional reads)', () => {
    const input = signal(2, 2);
    for (const ratio of [0.8, 1.6]) {
      useSimd(true);
      const on = stretch(input, ratio, 3000);
      useSimd(false);
      const off = stretch(input, ratio, 3000);
      expect(maxAbsDiff(on, off), `ratio ${ratio}`).toBeLessThan(1e-6);
    }
  });

  it('keeps its memory bounded: 60 s streamed in blocks of 4,096 never grow the FIFO past its first 16,384 frames', () => {
    for (const ratio of [0.5, 2]) {
      const w = new Wsola(ratio, 1, SR);
      const fifo = () => (w as unknown as { mono: Float32Array }).mono.length;
      const [x] = signal(60, 1);
      let out = 0;
      for (let at = 0; at < x.length; at += 4096) {
        out += w.process([x.subarray(at, at + 4096)])[0].length;
        expect(fifo(), `at ${at}`).toBe(1 << 14);
      }
      out += w.flush()[0].length;
      expect(out).toBe(Math.round(x.length * ratio));
    }
  });

  it('three channels: each channel is the same stretch (one search on the mix, the same frames for all)', () => {
    const [a] = signal(1.5, 1);
    const three = stretch([a, a.map((v) => -v), a.map((v) => 0.5 * v)], 1.5, 7000);
    expect(three[1].every((v, i) => v === -three[0][i])).toBe(true);
    for (let i = 0; i < three[0].length; i++) expect(Math.abs(three[2][i] - 0.5 * three[0][i])).toBeLessThan(1e-6);
  });
});
