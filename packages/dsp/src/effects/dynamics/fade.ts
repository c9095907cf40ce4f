import { msToFrames } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

export const FADE_CURVES = ['linear', 'exponential', 'logarithmic', 'sine', 'scurve'] as const;

/** Gain of a fade-in at progress t ∈ [0, 1] (a fade-out uses 1 − t). */
export function fadeGain(curve: (typeof FADE_CURVES)[number], t: number): number {
  if (t <= 0) return 0;
  if (t >= 1) return 1;
  switch (curve) {
    case 'linear':
      return t;
    case 'exponential': // −60 dB at the start, straight in dB
      return Math.pow(10, (-60 * (1 - t)) / 20);
    case 'logarithmic':
      return Math.log10(1 + 9 * t);
    case 'sine': // equal power
      return Math.sin((t * Math.PI) / 2);
    case 'scurve':
      return t * t * (3 - 2 * t);
  }
}

/**
 * Fade in at the start and out at the end. The end is only known at flush, so the last `fadeOutMs` of audio is
 * held back in a ring buffer: memory is bounded by the fade-out length (at most 60 s), not the file.
 */
export const fade = defineEffect({
  id: 'fade',
  description: 'Fade in at the start and fade out at the end, with a choice of curve',
  parameters: {
    fadeInMs: { kind: 'number', min: 0, max: 60000, default: 10, unit: 'ms', doc: 'Length of the fade-in' },
    fadeOutMs: { kind: 'number', min: 0, max: 60000, default: 10, unit: 'ms', doc: 'Length of the fade-out (held back in a ring buffer)' },
    curve: { kind: 'enum', values: FADE_CURVES, default: 'sine', doc: 'Shape of both fades' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const inLen = msToFrames(p.fadeInMs, format.sampleRate);
    const outLen = msToFrames(p.fadeOutMs, format.sampleRate);
    const curve = p.curve as (typeof FADE_CURVES)[number];
    const ring = Array.from({ length: channels }, () => new Float32Array(outLen));
    let filled = 0; // frames held in the ring
    let head = 0; // oldest frame
    let seen = 0; // input frames so far
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        const n = block[0]?.length ?? 0;
        if (inLen > 0 && seen < inLen) {
          for (let i = 0; i < n && seen + i < inLen; i++) {
            const g = fadeGain(curve, (seen + i) / inLen);
            for (let c = 0; c < channels; c++) block[c][i] *= g;
          }
        }
        seen += n;
        if (outLen === 0) return block;
        // Push the block through the ring: what falls out of it is output.
        const emit = Math.max(0, filled + n - outLen);
        const out = Array.from({ length: channels }, () => new Float32Array(emit));
        for (let i = 0; i < n; i++) {
          if (filled === outLen) {
            const o = i - (n - emit);
            for (let c = 0; c < channels; c++) out[c][o] = ring[c][head];
            for (let c = 0; c < channels; c++) ring[c][head] = block[c][i];
            if (++head === outLen) head = 0;
          } else {
            const w = (head + filled) % outLen;
            for (let c = 0; c < channels; c++) ring[c][w] = block[c][i];
            filled++;
          }
        }
        return out;
      },
      flush(): AudioBlock {
        if (outLen === 0 || filled === 0) return [];
        const out = Array.from({ length: channels }, () => new Float32Array(filled));
        for (let i = 0; i < filled; i++) {
          const g = fadeGain(curve, (filled - i) / outLen);
          const r = (head + i) % outLen;
          for (let c = 0; c < channels; c++) out[c][i] = ring[c][r] * g;
        }
        return out;
      },
    };
  },
});
