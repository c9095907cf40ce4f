import { scaleInPlace } from '../engine/wasm/index.ts';
import { defineEffect, type AudioBlock } from '../types.ts';

export const gain = defineEffect({
  id: 'gain',
  description: 'Change the level by a fixed number of decibels',
  parameters: {
    gainDb: { kind: 'number', min: -96, max: 48, default: 0, unit: 'dB', doc: 'Gain applied to every sample' },
  },
  create(params, { format }) {
    const factor = Math.pow(10, params.gainDb / 20);
    return {
      outputChannels: format.channels,
      process(block: AudioBlock): AudioBlock {
        for (let c = 0; c < block.length; c++) scale(block[c], factor, scaleInPlace(block[c], factor));
        return block;
      },
      flush: () => [],
    };
  },
});

/** The samples from `from` on (the SIMD kernel did those before it), in a function of its own so it is optimized as one. */
function scale(ch: Float32Array, factor: number, from: number): void {
  const n = ch.length;
  for (let i = from; i < n; i++) ch[i] *= factor;
}
