import { dbToGain } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/** Soft clip (a rational tanh approximation, exact ±1 beyond |x| = 3), hard clip or bit crush, then a tone low-pass. */
export const distortion = defineEffect({
  id: 'distortion',
  description: 'Distortion: soft clip, hard clip or bit crush, with drive, tone filter, mix and output level',
  parameters: {
    mode: { kind: 'enum', values: ['soft_clip', 'hard_clip', 'bitcrush'], default: 'soft_clip', doc: 'Shaping curve' },
    driveDb: { kind: 'number', min: 0, max: 48, default: 12, unit: 'dB', doc: 'Gain before the shaper' },
    toneHz: { kind: 'number', min: 500, max: 20000, default: 8000, unit: 'Hz', doc: 'Corner of the one-pole low-pass after the shaper' },
    mix: { kind: 'number', min: 0, max: 1, default: 1, unit: 'ratio', doc: 'Share of the distorted signal (0 = dry)' },
    bitDepth: { kind: 'number', min: 1, max: 16, default: 8, unit: 'bits', integer: true, doc: 'Bit crush resolution' },
    downsample: { kind: 'number', min: 1, max: 32, default: 1, unit: 'factor', integer: true, doc: 'Bit crush sample-and-hold factor' },
    outputDb: { kind: 'number', min: -48, max: 12, default: -6, unit: 'dB', doc: 'Output level' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const drive = dbToGain(p.driveDb);
    const out = dbToGain(p.outputDb);
    const wet = p.mix * out;
    const dry = (1 - p.mix) * out;
    const fc = Math.min(p.toneHz, 0.45 * format.sampleRate);
    const a = 1 - Math.exp((-2 * Math.PI * fc) / format.sampleRate);
    const mode = p.mode === 'soft_clip' ? 0 : p.mode === 'hard_clip' ? 1 : 2;
    const q = Math.pow(2, p.bitDepth - 1);
    const hold = p.downsample;
    const lp = new Float64Array(channels);
    const held = new Float64Array(channels);
    const counter = new Int32Array(channels);
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        for (let c = 0; c < channels; c++) {
          const ch = block[c];
          let s = lp[c];
          let h = held[c];
          let k = counter[c];
          for (let i = 0; i < ch.length; i++) {
            const x = ch[i];
            let y = x * drive;
            if (mode === 0) {
              y = y > 3 ? 1 : y < -3 ? -1 : (y * (27 + y * y)) / (27 + 9 * y * y);
            } else if (mode === 1) {
              y = y > 1 ? 1 : y < -1 ? -1 : y;
            } else {
              if (k === 0) h = Math.round((y > 1 ? 1 : y < -1 ? -1 : y) * q) / q;
              if (++k === hold) k = 0;
              y = h;
            }
            s += a * (y - s);
            ch[i] = s * wet + x * dry;
          }
          lp[c] = s;
          held[c] = h;
          counter[c] = k;
        }
        return block;
      },
      flush: () => [],
    };
  },
});
