import { expect } from 'vitest';
import type { AudioBlock } from '../src/types.ts';

/** The largest sample difference between two blocks, after demanding that every channel has the same length. */
export function maxAbsDiff(a: AudioBlock, b: AudioBlock): number {
  expect(b.length).toBe(a.length);
  let m = 0;
  for (let c = 0; c < a.length; c++) {
    expect(b[c].length).toBe(a[c].length);
    for (let i = 0; i < a[c].length; i++) m = Math.max(m, Math.abs(a[c][i] - b[c][i]));
  }
  return m;
}

/** A tone's frequency from its interpolated positive-going zero crossings over the steady middle 80 %. */
export function zeroCrossingHz(x: Float32Array, sampleRate: number): number {
  let first = -1, last = -1, count = 0;
  for (let i = Math.floor(x.length * 0.1) + 1; i < Math.floor(x.length * 0.9); i++) {
    if (x[i - 1] < 0 && x[i] >= 0) {
      const t = i - 1 + x[i - 1] / (x[i - 1] - x[i]);
      if (first < 0) first = t;
      last = t;
      count++;
    }
  }
  return ((count - 1) * sampleRate) / (last - first);
}
