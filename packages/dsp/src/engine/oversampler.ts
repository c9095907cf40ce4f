import { kaiserSinc } from './util.ts';

/**
 * 8× oversampling for nonlinear effects, one channel: three 2× stages up and three down, each a linear-phase
 * Kaiser-windowed sinc designed for 80 dB where it matters (band edges in units of the base rate fs):
 *
 * - up 1 (→ 2 fs): passes 0.4535 fs (20 kHz at 44.1 kHz) and stops the images from 0.5465 fs; up 2 and up 3 see
 *   nothing above 0.5465 fs, so they stop from 1.4535 fs and 3.4535 fs with a handful of taps;
 * - down 3 (8 fs → 4 fs) and down 2 (→ 2 fs) stop only what would fold into [0, 0.5 fs] (from 3.5 fs and 1.5 fs);
 *   down 1 (→ fs) passes 0.4535 fs and stops from 0.5 fs, so nothing folds anywhere below Nyquist.
 *
 * Every stage delays by a whole number of base samples (its taps are chosen so), `latency` in all; the stream
 * is processed in blocks of any size with the same result. Half-band stages skip their zero taps.
 */
export const OVERSAMPLE = 8;

interface Stage {
  /** Coefficients per output phase with their input offsets (zero taps dropped). */
  readonly phases: readonly { readonly coef: Float64Array; readonly at: Int32Array }[];
  /** Input samples of history a stage keeps (the longest reach back). */
  readonly reach: number;
}

const ATTENUATION_DB = 80;
const BETA = 0.1102 * (ATTENUATION_DB - 8.7);

/** Taps of a lowpass at the stage's high rate: −6 dB at `cutoff` (relative to that rate's Nyquist), `taps` long. */
function lowpass(cutoff: number, taps: number, gain: number): Float64Array {
  const half = (taps - 1) / 2;
  const at = kaiserSinc(cutoff, half + 1, BETA);
  // A half-band filter's every other tap is sin(kπ) = 0 up to rounding: made exactly 0, so it is skipped.
  return Float64Array.from({ length: taps }, (_, k) => (Math.abs(at(k - half)) < 1e-12 ? 0 : gain * at(k - half)));
}

/**
 * y[t] = 2 Σ h[k] u[t − k] over the zero-stuffed input u (u[2i] = x[i]): output 2i + p takes the taps k ≡ p (mod 2)
 * on x[i − (k − p) / 2].
 */
function upStage(h: Float64Array): Stage {
  const phases = [0, 1].map((p) => {
    const coef: number[] = [], at: number[] = [];
    for (let k = p; k < h.length; k += 2) if (h[k] !== 0) (coef.push(h[k]), at.push((k - p) / 2));
    return { coef: Float64Array.from(coef), at: Int32Array.from(at) };
  });
  return { phases, reach: Math.ceil(h.length / 2) };
}

/** y[i] = Σ h[k] v[2i − k]: one phase, every other output of the filter (input 2i is output i's instant). */
function downStage(h: Float64Array): Stage {
  const coef: number[] = [], at: number[] = [];
  for (let k = 0; k < h.length; k++) if (h[k] !== 0) (coef.push(h[k]), at.push(k));
  return { phases: [{ coef: Float64Array.from(coef), at: Int32Array.from(at) }], reach: h.length };
}

// Tap counts 2^(k+1)·m + 1 at stage k's high rate delay by m base samples: up 27 + 3 + 1, down 1 + 3 + 54.
/** The stages, designed on first use (not at every start of the CLI). */
let stages: { up: ReturnType<typeof upStage>[]; down: ReturnType<typeof downStage>[] } | undefined;
const designed = () =>
  (stages ??= {
    up: [upStage(lowpass(0.5, 109, 2)), upStage(lowpass(0.5, 25, 2)), upStage(lowpass(0.5, 17, 2))],
    down: [downStage(lowpass(0.5, 17, 1)), downStage(lowpass(0.5, 25, 1)), downStage(lowpass((0.4535 + 0.5) / 2, 217, 1))],
  });
export const OVERSAMPLER_LATENCY = 27 + 3 + 1 + 1 + 3 + 54;

/** One stage's streaming state: its input history in front of each block. */
class Runner {
  private buf = new Float64Array(0);
  private readonly hist: Float64Array;
  constructor(private readonly stage: Stage) {
    this.hist = new Float64Array(stage.reach);
  }

  /** Lay the history and `n` new inputs side by side; returns the buffer (history first). */
  private load(input: Float64Array, n: number): Float64Array {
    const r = this.stage.reach;
    if (this.buf.length < r + n) this.buf = new Float64Array(2 * (r + n));
    const b = this.buf;
    b.set(this.hist, 0);
    b.set(input.subarray(0, n), r);
    this.hist.set(b.subarray(n, n + r));
    return b;
  }

  up(input: Float64Array, n: number, out: Float64Array): void {
    const b = this.load(input, n);
    const r = this.stage.reach;
    const [p0, p1] = this.stage.phases;
    for (let i = 0; i < n; i++) {
      const base = r + i;
      let s0 = 0, s1 = 0;
      for (let j = 0; j < p0.coef.length; j++) s0 += p0.coef[j] * b[base - p0.at[j]];
      for (let j = 0; j < p1.coef.length; j++) s1 += p1.coef[j] * b[base - p1.at[j]];
      out[2 * i] = s0;
      out[2 * i + 1] = s1;
    }
  }

  /** `n` outputs from 2n inputs. */
  down(input: Float64Array, n: number, out: Float64Array): void {
    const b = this.load(input, 2 * n);
    const r = this.stage.reach;
    const { coef, at } = this.stage.phases[0];
    for (let i = 0; i < n; i++) {
      const base = r + 2 * i;
      let s = 0;
      for (let j = 0; j < coef.length; j++) s += coef[j] * b[base - at[j]];
      out[i] = s;
    }
  }
}

/** A per-channel 8× oversampler: `run` upsamples a block, lets `shape` work on it at 8 fs, and brings it back. */
export class Oversampler {
  private readonly ups = designed().up.map((s) => new Runner(s));
  private readonly downs = designed().down.map((s) => new Runner(s));
  private work: Float64Array[] = [];

  /** `x` (n frames) → 8 n frames → shape in place → n frames into `out`, delayed by OVERSAMPLER_LATENCY. */
  run(x: Float32Array, shape: (y: Float64Array, n: number) => void, out: Float64Array): void {
    const n = x.length;
    if ((this.work[0]?.length ?? 0) < 8 * n) this.work = [1, 2, 4, 8].map((f) => new Float64Array(f * n));
    const [w1, w2, w4, w8] = this.work;
    w1.set(x);
    this.ups[0].up(w1, n, w2);
    this.ups[1].up(w2, 2 * n, w4);
    this.ups[2].up(w4, 4 * n, w8);
    shape(w8, 8 * n);
    this.downs[0].down(w8, 4 * n, w4);
    this.downs[1].down(w4, 2 * n, w2);
    this.downs[2].down(w2, n, out);
  }
}
