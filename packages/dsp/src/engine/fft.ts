/**
 * In-place iterative radix-2 complex FFT with the twiddles and bit-reversal table computed once per size
 * (a plan), and a real-input FFT built on it. Float64 throughout.
 */
export interface Fft {
  readonly size: number;
  forward(re: Float64Array, im: Float64Array): void;
  inverse(re: Float64Array, im: Float64Array): void;
}

export function createFft(size: number): Fft {
  if (size < 2 || (size & (size - 1)) !== 0) throw new RangeError(`FFT size must be a power of two, got ${size}`);
  const bits = Math.log2(size);
  const rev = new Uint32Array(size);
  for (let i = 0; i < size; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  // Twiddles laid out per stage (stage with half-length h at offset h), for both directions: the butterfly loop
  // reads them contiguously and never multiplies by a sign.
  const twr = new Float64Array(size);
  const twiFwd = new Float64Array(size);
  const twiInv = new Float64Array(size);
  for (let h = 1; h < size; h <<= 1) {
    for (let k = 0; k < h; k++) {
      twr[h + k] = Math.cos((Math.PI * k) / h);
      twiInv[h + k] = Math.sin((Math.PI * k) / h);
      twiFwd[h + k] = -twiInv[h + k];
    }
  }
  const run = (re: Float64Array, im: Float64Array, twi: Float64Array) => {
    for (let i = 0; i < size; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    // First stage: twiddle 1.
    for (let a = 0; a < size; a += 2) {
      const xr = re[a + 1];
      const xi = im[a + 1];
      re[a + 1] = re[a] - xr;
      im[a + 1] = im[a] - xi;
      re[a] += xr;
      im[a] += xi;
    }
    for (let half = 2; half < size; half <<= 1) {
      const len = half << 1;
      for (let start = 0; start < size; start += len) {
        for (let k = 0; k < half; k++) {
          const wr = twr[half + k];
          const wi = twi[half + k];
          const a = start + k;
          const b = a + half;
          const br = re[b];
          const bi = im[b];
          const xr = br * wr - bi * wi;
          const xi = br * wi + bi * wr;
          re[b] = re[a] - xr;
          im[b] = im[a] - xi;
          re[a] += xr;
          im[a] += xi;
        }
      }
    }
  };
  return {
    size,
    forward: (re, im) => run(re, im, twiFwd),
    inverse(re, im) {
      run(re, im, twiInv);
      for (let i = 0; i < size; i++) {
        re[i] /= size;
        im[i] /= size;
      }
    },
  };
}

/** Spectrum of a real signal: bins 0..size/2 of its DFT. */
export interface RealFft {
  readonly size: number;
  /** `x` (length size) → re/im (length ≥ size/2 + 1), bins 0..size/2. `x` is left untouched. */
  forward(x: Float64Array, re: Float64Array, im: Float64Array): void;
}

/**
 * A real FFT from a complex one of half the size: the even samples as real parts, the odd as imaginary, then
 * the standard split — about half the work of a complex FFT of the full size.
 */
export function createRealFft(size: number): RealFft {
  if (size < 4 || (size & (size - 1)) !== 0) throw new RangeError(`real FFT size must be a power of two ≥ 4, got ${size}`);
  const half = size / 2;
  const fft = createFft(half);
  const zr = new Float64Array(half);
  const zi = new Float64Array(half);
  const wr = new Float64Array(half + 1);
  const wi = new Float64Array(half + 1);
  for (let k = 0; k <= half; k++) {
    wr[k] = Math.cos((2 * Math.PI * k) / size);
    wi[k] = -Math.sin((2 * Math.PI * k) / size);
  }
  return {
    size,
    forward(x, re, im) {
      for (let n = 0; n < half; n++) {
        zr[n] = x[2 * n];
        zi[n] = x[2 * n + 1];
      }
      fft.forward(zr, zi);
      for (let k = 0; k <= half; k++) {
        const a = k === half ? 0 : k;
        const m = k === 0 ? 0 : half - k;
        const ar = zr[a], ai = zi[a];
        const br = zr[m], bi = -zi[m];
        const er = (ar + br) / 2, ei = (ai + bi) / 2; // spectrum of the even samples
        const or = (ai - bi) / 2, oi = -(ar - br) / 2; // of the odd ones
        re[k] = er + wr[k] * or - wi[k] * oi;
        im[k] = ei + wr[k] * oi + wi[k] * or;
      }
    },
  };
}

/** Periodic Hann window. */
export function hann(size: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
}
