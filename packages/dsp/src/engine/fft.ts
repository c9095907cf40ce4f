/**
 * In-place iterative radix-2 complex FFT with the twiddles and bit-reversal table computed once per size
 * (a plan). Float64 throughout.
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

/** Periodic Hann window. */
export function hann(size: number): Float64Array {
  return Float64Array.from({ length: size }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / size));
}
