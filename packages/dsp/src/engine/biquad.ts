import { flushDenormal } from './util.ts';
import { biquadStereo } from './wasm/index.ts';

/**
 * RBJ Audio-EQ-Cookbook biquads and a multi-channel cascade runner (transposed direct form II, Float64 state).
 */
export const BIQUAD_TYPES = ['lowpass', 'highpass', 'bandpass', 'notch', 'peaking', 'lowshelf', 'highshelf', 'allpass'] as const;
export type BiquadType = (typeof BIQUAD_TYPES)[number];

/** Normalised coefficients: y = b0 x + b1 x1 + b2 x2 - a1 y1 - a2 y2. */
export interface BiquadCoefficients {
  readonly b0: number;
  readonly b1: number;
  readonly b2: number;
  readonly a1: number;
  readonly a2: number;
}

export interface BiquadDesign {
  readonly type: BiquadType;
  readonly frequencyHz: number;
  readonly q: number;
  /** Used by peaking and the shelves. */
  readonly gainDb?: number;
}

/** Design one section. Frequencies at or above Nyquist are clamped just below it. */
export function designBiquad(d: BiquadDesign, sampleRate: number): BiquadCoefficients {
  const f0 = Math.min(Math.max(d.frequencyHz, 1e-3), sampleRate * 0.4999);
  const w0 = (2 * Math.PI * f0) / sampleRate;
  const cos = Math.cos(w0);
  const sin = Math.sin(w0);
  const alpha = sin / (2 * d.q);
  const A = Math.pow(10, (d.gainDb ?? 0) / 40);
  let b0: number, b1: number, b2: number, a0: number, a1: number, a2: number;
  switch (d.type) {
    case 'lowpass':
      b0 = (1 - cos) / 2; b1 = 1 - cos; b2 = (1 - cos) / 2; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'highpass':
      b0 = (1 + cos) / 2; b1 = -(1 + cos); b2 = (1 + cos) / 2; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'bandpass': // constant 0 dB peak gain
      b0 = alpha; b1 = 0; b2 = -alpha; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'notch':
      b0 = 1; b1 = -2 * cos; b2 = 1; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'allpass':
      b0 = 1 - alpha; b1 = -2 * cos; b2 = 1 + alpha; a0 = 1 + alpha; a1 = -2 * cos; a2 = 1 - alpha;
      break;
    case 'peaking':
      b0 = 1 + alpha * A; b1 = -2 * cos; b2 = 1 - alpha * A; a0 = 1 + alpha / A; a1 = -2 * cos; a2 = 1 - alpha / A;
      break;
    case 'lowshelf': {
      const s = 2 * Math.sqrt(A) * alpha;
      b0 = A * (A + 1 - (A - 1) * cos + s);
      b1 = 2 * A * (A - 1 - (A + 1) * cos);
      b2 = A * (A + 1 - (A - 1) * cos - s);
      a0 = A + 1 + (A - 1) * cos + s;
      a1 = -2 * (A - 1 + (A + 1) * cos);
      a2 = A + 1 + (A - 1) * cos - s;
      break;
    }
    case 'highshelf': {
      const s = 2 * Math.sqrt(A) * alpha;
      b0 = A * (A + 1 + (A - 1) * cos + s);
      b1 = -2 * A * (A - 1 + (A + 1) * cos);
      b2 = A * (A + 1 + (A - 1) * cos - s);
      a0 = A + 1 - (A - 1) * cos + s;
      a1 = 2 * (A - 1 - (A + 1) * cos);
      a2 = A + 1 - (A - 1) * cos - s;
      break;
    }
  }
  return { b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0 };
}

/** |H(e^{jw})| of a section at a frequency, evaluated exactly from its coefficients. */
export function biquadMagnitude(c: BiquadCoefficients, frequencyHz: number, sampleRate: number): number {
  const w = (2 * Math.PI * frequencyHz) / sampleRate;
  const c1 = Math.cos(w), s1 = Math.sin(w), c2 = Math.cos(2 * w), s2 = Math.sin(2 * w);
  const nr = c.b0 + c.b1 * c1 + c.b2 * c2, ni = -(c.b1 * s1 + c.b2 * s2);
  const dr = 1 + c.a1 * c1 + c.a2 * c2, di = -(c.a1 * s1 + c.a2 * s2);
  return Math.sqrt((nr * nr + ni * ni) / (dr * dr + di * di));
}

/**
 * A cascade of sections over several channels, state per stream. Processes blocks in place, section by section
 * (each pass is a tight loop with the coefficients in locals).
 */
export class BiquadCascade {
  private readonly coeffs: Float64Array;
  /** [channel][section][z1, z2] flattened. */
  private readonly state: Float64Array;

  constructor(
    sections: readonly BiquadCoefficients[],
    private readonly channels: number,
  ) {
    this.coeffs = new Float64Array(sections.length * 5);
    sections.forEach((s, i) => this.coeffs.set([s.b0, s.b1, s.b2, s.a1, s.a2], i * 5));
    this.state = new Float64Array(channels * sections.length * 2);
  }

  process(block: Float32Array[]): Float32Array[] {
    if (this.channels === 2) return this.processStereo(block);
    const nSec = this.coeffs.length / 5;
    const coeffs = this.coeffs;
    const state = this.state;
    for (let ch = 0; ch < this.channels; ch++) {
      const x = block[ch];
      const n = x.length;
      for (let s = 0; s < nSec; s++) {
        const k = s * 5;
        const b0 = coeffs[k], b1 = coeffs[k + 1], b2 = coeffs[k + 2], a1 = coeffs[k + 3], a2 = coeffs[k + 4];
        const si = (ch * nSec + s) * 2;
        let z1 = state[si], z2 = state[si + 1];
        for (let i = 0; i < n; i++) {
          const xi = x[i];
          const y = b0 * xi + z1;
          z1 = b1 * xi - a1 * y + z2;
          z2 = b2 * xi - a2 * y;
          x[i] = y;
        }
        state[si] = flushDenormal(z1);
        state[si + 1] = flushDenormal(z2);
      }
    }
    return block;
  }

  /**
   * Stereo: both channels of a section in one loop. A biquad's speed is bounded by the latency of its own
   * recursion, so two independent ones side by side cost little more than one. Same arithmetic per channel.
   */
  private processStereo(block: Float32Array[]): Float32Array[] {
    const nSec = this.coeffs.length / 5;
    const coeffs = this.coeffs;
    const state = this.state;
    const l = block[0], r = block[1];
    const n = l.length;
    // The SIMD kernel: the same arithmetic, left and right as a vector's lanes, three sections per pass.
    if (n > 0 && biquadStereo(l, r, coeffs, state)) {
      for (let i = 0; i < state.length; i++) state[i] = flushDenormal(state[i]);
      return block;
    }
    for (let s = 0; s < nSec; s++) {
      const k = s * 5;
      const b0 = coeffs[k], b1 = coeffs[k + 1], b2 = coeffs[k + 2], a1 = coeffs[k + 3], a2 = coeffs[k + 4];
      const sl = s * 2;
      const sr = (nSec + s) * 2;
      let lz1 = state[sl], lz2 = state[sl + 1], rz1 = state[sr], rz2 = state[sr + 1];
      for (let i = 0; i < n; i++) {
        const xl = l[i];
        const xr = r[i];
        const yl = b0 * xl + lz1;
        const yr = b0 * xr + rz1;
        lz1 = b1 * xl - a1 * yl + lz2;
        rz1 = b1 * xr - a1 * yr + rz2;
        lz2 = b2 * xl - a2 * yl;
        rz2 = b2 * xr - a2 * yr;
        l[i] = yl;
        r[i] = yr;
      }
      state[sl] = flushDenormal(lz1), state[sl + 1] = flushDenormal(lz2), state[sr] = flushDenormal(rz1), state[sr + 1] = flushDenormal(rz2);
    }
    return block;
  }
}
