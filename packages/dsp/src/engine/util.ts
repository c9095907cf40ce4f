/** Small shared conversions for effects. */
export const dbToGain = (db: number): number => Math.pow(10, db / 20);
export const msToFrames = (ms: number, sampleRate: number): number => Math.round((ms / 1000) * sampleRate);
/** One-pole smoothing coefficient for a time constant (the envelope moves 1 − 1/e of the way in `ms`). */
/** The modified Bessel function of the first kind, order 0 (power series), for Kaiser windows. */
function besselI0(x: number): number {
  let s = 1, t = 1;
  for (let k = 1; k < 60; k++) {
    t *= (x / (2 * k)) ** 2;
    s += t;
    if (t < s * 1e-17) break;
  }
  return s;
}

/**
 * A Kaiser-windowed sinc lowpass as a function of the distance d (in samples) from the interpolation point: cutoff
 * relative to Nyquist (the DC gain is `cutoff`), zero from `halfWidth` on. The resampler's kernel and the true-peak
 * interpolator's phases both come from it.
 */
export function kaiserSinc(cutoff: number, halfWidth: number, beta: number): (d: number) => number {
  const norm = besselI0(beta);
  return (d) => {
    const u = d / halfWidth;
    if (u <= -1 || u >= 1) return 0;
    const x = cutoff * d;
    const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
    return cutoff * sinc * (besselI0(beta * Math.sqrt(1 - u * u)) / norm);
  };
}

export const timeCoef = (ms: number, sampleRate: number): number => (ms <= 0 ? 0 : Math.exp(-1 / ((ms / 1000) * sampleRate)));

/**
 * 10^(db/20) without a library call, for per-sample gain in dynamics processors: 2^x split into an integer part
 * (a table of powers of two) and a fraction in [−0.5, 0.5] (degree-7 Taylor series of e^(f·ln 2), relative error
 * below 1e-8, i.e. under 1e-7 dB). Outside ±380 dB it falls back to Math.pow.
 */
const POW2 = Float64Array.from({ length: 129 }, (_, i) => Math.pow(2, i - 64));
export const DB_TO_LOG2 = 1 / (20 * Math.log10(2));
export function dbToGainFast(db: number): number {
  const x = db * DB_TO_LOG2;
  if (!(x > -63 && x < 63)) return Math.pow(10, db / 20);
  const k = Math.round(x);
  const t = (x - k) * Math.LN2;
  // Estrin's scheme: the same terms as Horner's, in a shorter chain of dependent operations.
  const t2 = t * t;
  const t4 = t2 * t2;
  const e = 1 + t + t2 * (1 / 2 + t * (1 / 6)) + t4 * (1 / 24 + t * (1 / 120) + t2 * (1 / 720 + t * (1 / 5040)));
  return e * POW2[k + 64];
}

const LN_C3 = 1 / 3, LN_C5 = 1 / 5, LN_C7 = 1 / 7, LN_C9 = 1 / 9, LN_C11 = 1 / 11, LN_C13 = 1 / 13;
/** lnFast's constants in the order the WebAssembly compressor reads them (engine/wasm/kernels.wat, its pass 2). */
export const LN_FAST_CONSTANTS = [LN_C3, LN_C5, LN_C7, LN_C9, LN_C11, LN_C13, Math.LN2, Math.SQRT2] as const;
const BITS = new Float64Array(1);
const BITS_HI = new Uint32Array(BITS.buffer, 4, 1); // the high word (sign, exponent, top of the mantissa): little-endian

/**
 * ln x for a positive finite normal x without a library call, for per-sample levels in dynamics processors, and the
 * same arithmetic as the WebAssembly kernels' (so both give the same bits): x = 2^e·m with m in [√½, √2),
 * s = (m − 1)/(m + 1), ln m = 2s(1 + s²/3 + … + s¹²/13) (|s| ≤ 0.172): error below 2e-12 relative, 1e-15 absolute
 * near x = 1.
 */
export function lnFast(x: number): number {
  BITS[0] = x;
  const hi = BITS_HI[0];
  let e = (hi >>> 20) - 1023;
  BITS_HI[0] = (hi & 0xfffff) | 0x3ff00000;
  let m = BITS[0];
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const s = (m - 1) / (m + 1);
  const z = s * s;
  return e * Math.LN2 + 2 * s * (1 + z * (LN_C3 + z * (LN_C5 + z * (LN_C7 + z * (LN_C9 + z * (LN_C11 + z * LN_C13))))));
}

/** max |x| over the channels of frame i; x0 and x1 are the block's first two channels (x1 = x0 for mono). */
export function framePeak(block: Float32Array[], x0: Float32Array, x1: Float32Array, i: number): number {
  let level = Math.max(Math.abs(x0[i]), Math.abs(x1[i]));
  for (let c = 2; c < block.length; c++) level = Math.max(level, Math.abs(block[c][i]));
  return level;
}

/** Multiply frame i by g on every channel (x0, x1 as in framePeak). */
export function scaleFrame(block: Float32Array[], x0: Float32Array, x1: Float32Array, i: number, g: number): void {
  x0[i] *= g;
  if (x1 !== x0) x1[i] *= g;
  for (let c = 2; c < block.length; c++) block[c][i] *= g;
}

/** A filter state that has decayed below 1e-30 becomes 0, so silence after loud input does not run on denormals. */
export const flushDenormal = (v: number): number => (Math.abs(v) < 1e-30 ? 0 : v);

/** A block of `frames` frames of silence. */
export const silentBlock = (channels: number, frames: number): Float32Array[] =>
  Array.from({ length: channels }, () => new Float32Array(frames));

/**
 * The tail an effect rings on with after its input ends (echoes, reverberation): `run` over silent chunks of
 * `chunk` frames until `quiet()` says nothing audible is left or `budget` frames were made; one block, or [].
 */
export function renderTail(run: (block: Float32Array[]) => Float32Array[], channels: number, chunk: number, budget: number, quiet: () => boolean): Float32Array[] {
  const parts: Float32Array[][] = [];
  let frames = 0;
  while (frames < budget && !quiet()) {
    const k = Math.min(chunk, budget - frames);
    parts.push(run(silentBlock(channels, k)));
    frames += k;
  }
  if (frames === 0) return [];
  const out = silentBlock(channels, frames);
  let o = 0;
  for (const part of parts) {
    for (let c = 0; c < channels; c++) out[c].set(part[c], o);
    o += part[0].length;
  }
  return out;
}

/** Sine lookup with linear interpolation, shared read-only by all LFOs (phase in cycles, any real value). */
export const TABLE_SIZE = 4096;
// Two entries past the period: p − floor(p) can round up to exactly 1 for p just below an integer, so the
// index can be TABLE_SIZE and the interpolation reads one more.
export const SINE = (() => {
  const t = new Float64Array(TABLE_SIZE + 2);
  for (let i = 0; i <= TABLE_SIZE + 1; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();
export function fastSin(phaseCycles: number): number {
  const p = (phaseCycles - Math.floor(phaseCycles)) * TABLE_SIZE;
  const i = p | 0;
  const f = p - i;
  return SINE[i] + (SINE[i + 1] - SINE[i]) * f;
}
