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
        for (const ch of block) for (let i = 0; i < ch.length; i++) ch[i] *= factor;
        return block;
      },
      flush: () => [],
    };
  },
});
