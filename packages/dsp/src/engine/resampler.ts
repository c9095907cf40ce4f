import type { AudioBlock } from '../types.ts';
import { kaiserSinc } from './util.ts';
import { resampleFine } from './wasm/index.ts';

/**
 * Streaming band-limited resampler for any ratio: each output sample is a Kaiser-windowed sinc interpolation of
 * the input at t = m · (inRate / outRate), with the cutoff lowered to the output's Nyquist when downsampling.
 * Zero latency (the kernel is centred on t), exact total length round(n · outRate / inRate) after flush, and
 * the same output for any block size. Memory: a FIFO of about 2 × halfWidth input frames per channel.
 */
export interface Resampler {
  readonly outputChannels: number;
  process(block: AudioBlock): AudioBlock;
  flush(): AudioBlock;
}

/**
 * The two designs, as band edges relative to the lower of the two Nyquist frequencies and a stopband attenuation.
 * `high` keeps everything to 20 kHz at 44.1 kHz (0.907 of Nyquist) flat and is fully stopped at Nyquist, so nothing
 * aliases or images anywhere: designed for 110 dB (−100 dB and ±0.01 dB hold with margin). `fast` passes 80 % of
 * Nyquist and stops 66 dB (≤ −60 dB), with a quarter of the taps.
 */
export const RESAMPLER_DESIGNS = {
  high: { passband: 20_000 / 22_050, attenuationDb: 110 },
  fast: { passband: 0.8, attenuationDb: 66 },
} as const;

/**
 * The kernel of a design, in input samples (Kaiser's formulas: β = 0.1102 (A − 8.7), length (A − 8) / (2.285 Δω)).
 * Band edges are scaled by min(1, out/in), so downsampling cuts at the output's Nyquist and upsampling at the
 * input's, where the images start.
 */
function designKernel(step: number, quality: 'fast' | 'high') {
  const { passband, attenuationDb: a } = RESAMPLER_DESIGNS[quality];
  const scale = Math.min(1, 1 / step);
  const cutoff = (scale * (1 + passband)) / 2; // −6 dB point, relative to the input's Nyquist
  const transition = Math.PI * scale * (1 - passband); // rad per input sample
  const halfWidth = (a - 8) / (2.285 * transition) / 2;
  return { at: kaiserSinc(cutoff, halfWidth, 0.1102 * (a - 8.7)), halfWidth };
}

export function createResampler(inRate: number, outRate: number, channels: number, quality: 'fast' | 'high' = 'high'): Resampler {
  const step = inRate / outRate;
  const kernel = designKernel(step, quality);
  const W = kernel.halfWidth; // half-width in input samples
  const span = Math.ceil(W) + 1;
  let buf = Array.from({ length: channels }, () => new Float32Array(4096));
  let bufStart = -span; // absolute index of buf[0]; the stream is preceded by silence
  let bufLen = span; // that leading silence
  let m = 0; // next output index
  let inTotal = 0;

  const g = gcd(inRate, outRate);
  const p = inRate / g; // step = p / q exactly when both rates are integers
  const q = outRate / g;
  // Rational ratios with few phases (48 k ↔ 44.1 k: 147 or 160) use a precomputed polyphase bank and exact integer
  // positions; any other ratio (pitch shifting) interpolates the kernel table once per output sample and shares the
  // weights across channels.
  const polyphase = Number.isInteger(p) && Number.isInteger(q) && q <= 4096 && p <= 1 << 20;
  /** floor(n · step); in integers for the polyphase path (n · p < 2^53 for streams of up to 2^33 frames). */
  const centre = (n: number) => (polyphase ? (n * p - ((n * p) % q)) / q : Math.floor(n * step));

  const append = (block: AudioBlock) => {
    const n = block[0]?.length ?? 0;
    // Drop what no future output needs.
    const need = centre(m) - span;
    const drop = Math.max(0, Math.min(bufLen, need - bufStart));
    if (drop > 0) {
      for (const ch of buf) ch.copyWithin(0, drop, bufLen);
      bufStart += drop;
      bufLen -= drop;
    }
    if (bufLen + n > buf[0].length) {
      let cap = buf[0].length;
      while (cap < bufLen + n) cap *= 2;
      buf = buf.map((ch) => {
        const b = new Float32Array(cap);
        b.set(ch.subarray(0, bufLen));
        return b;
      });
    }
    for (let c = 0; c < channels; c++) buf[c].set(block[c], bufLen);
    bufLen += n;
  };

  const K = Math.ceil(W); // taps reach K frames either side of floor(t)
  const taps = 2 * K + 1;
  const weightsAt = (frac: number, into: Float32Array, at: number) => {
    // Weight of input frame floor(t) + k for k = −K..K, where frac = t − floor(t).
    for (let k = -K; k <= K; k++) into[at + k + K] = kernel.at(frac - k);
  };
  let bank: Float32Array | null = null;
  if (polyphase) {
    bank = new Float32Array(q * taps);
    for (let r = 0; r < q; r++) weightsAt(r / q, bank, r * taps);
  }
  // Any other ratio: weights interpolated linearly between PHASES precomputed phases (contiguous, no per-tap
  // kernel evaluations; the error is ~(1/PHASES)² / 8 of the kernel's curvature: below −120 dB for `high`, −90 for
  // `fast`).
  // This path runs in single precision (ample: its rounding stays below −120 dB), four taps at a time: each phase's
  // row padded with zero weights to a multiple of 4 (T4), partial sums over taps j ≡ 0, 1, 2, 3 (mod 4).
  const PHASES = quality === 'high' ? 4096 : 512;
  const T4 = (taps + 3) & ~3;
  let fine: Float32Array | null = null;
  if (!polyphase) {
    fine = new Float32Array((PHASES + 1) * T4);
    for (let r = 0; r <= PHASES; r++) weightsAt(r / PHASES, fine, r * T4);
  }
  const scratch = new Float32Array(T4);
  const fr = Math.fround;

  /** Emit every output whose kernel lies inside the buffer, up to `limit` outputs in all. */
  const emit = (limit: number): AudioBlock => {
    const end = bufStart + bufLen; // absolute index past the last buffered frame
    let count = 0;
    while (m + count < limit && centre(m + count) + K < end) count++;
    const out = Array.from({ length: channels }, () => new Float32Array(count));
    // The arbitrary-ratio path as a SIMD kernel (the same arithmetic), when the kernels are on.
    const viaKernel = fine !== null && count > 0 && resampleFine({ buf, bufStart, K, taps, table: fine, phases: PHASES, step }, m, count, out);
    for (let k = viaKernel ? count : 0; k < count; k++) {
      const n = m + k;
      const base = centre(n) - K - bufStart;
      if (!bank) {
        // Weights between the two nearest phases: w = lo + (hi − lo)·f, each operation rounded to f32.
        const t = n * step;
        const x = (t - Math.floor(t)) * PHASES;
        const r = x | 0;
        const f = fr(x - r);
        const lo = r * T4, hi = lo + T4;
        const b = fine!;
        for (let j = 0; j < T4; j++) scratch[j] = b[lo + j] + fr(fr(b[hi + j] - b[lo + j]) * f);
        for (let c = 0; c < channels; c++) {
          const xc = buf[c];
          let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
          let j = 0;
          for (; j + 4 <= taps; j += 4) {
            a0 = fr(a0 + fr(xc[base + j] * scratch[j]));
            a1 = fr(a1 + fr(xc[base + j + 1] * scratch[j + 1]));
            a2 = fr(a2 + fr(xc[base + j + 2] * scratch[j + 2]));
            a3 = fr(a3 + fr(xc[base + j + 3] * scratch[j + 3]));
          }
          if (j < taps) {
            // The padded group: past the last tap the sample counts as 0 (and its weight is 0).
            const v = (i: number) => (j + i < taps ? fr(xc[base + j + i] * scratch[j + i]) : 0);
            a0 = fr(a0 + v(0));
            a1 = fr(a1 + v(1));
            a2 = fr(a2 + v(2));
            a3 = fr(a3 + v(3));
          }
          out[c][k] = fr(a0 + a1) + fr(a2 + a3);
        }
        continue;
      }
      const w = bank;
      const at = ((n * p) % q) * taps;
      if (channels === 2) {
        // Both channels share the weights; four independent sums instead of one long addition chain.
        const xl = buf[0], xr = buf[1];
        let l0 = 0, l1 = 0, r0 = 0, r1 = 0;
        let j = 0;
        for (; j + 1 < taps; j += 2) {
          const w0 = w[at + j], w1 = w[at + j + 1];
          l0 += xl[base + j] * w0;
          r0 += xr[base + j] * w0;
          l1 += xl[base + j + 1] * w1;
          r1 += xr[base + j + 1] * w1;
        }
        if (j < taps) {
          l0 += xl[base + j] * w[at + j];
          r0 += xr[base + j] * w[at + j];
        }
        out[0][k] = l0 + l1;
        out[1][k] = r0 + r1;
        continue;
      }
      for (let c = 0; c < channels; c++) {
        const x = buf[c];
        let s0 = 0, s1 = 0;
        let j = 0;
        for (; j + 1 < taps; j += 2) {
          s0 += x[base + j] * w[at + j];
          s1 += x[base + j + 1] * w[at + j + 1];
        }
        if (j < taps) s0 += x[base + j] * w[at + j];
        out[c][k] = s0 + s1;
      }
    }
    m += count;
    return out;
  };

  return {
    outputChannels: channels,
    process(block: AudioBlock): AudioBlock {
      inTotal += block[0]?.length ?? 0;
      append(block);
      return emit(Infinity);
    },
    flush(): AudioBlock {
      const total = Math.round(inTotal / step);
      append(Array.from({ length: channels }, () => new Float32Array(span + 1)));
      return emit(total);
    },
  };
}

function gcd(a: number, b: number): number {
  if (!Number.isInteger(a) || !Number.isInteger(b)) return 1;
  while (b) [a, b] = [b, a % b];
  return a;
}
