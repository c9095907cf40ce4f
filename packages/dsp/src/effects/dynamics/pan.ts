import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * Constant-power pan. Mono in → stereo out with gains cos θ / sin θ (−3 dB each at centre). Stereo in → balance:
 * gains √2·cos θ and √2·sin θ limited to 1, so the centre leaves the signal untouched. Channels beyond two pass.
 */
export const pan = defineEffect({
  id: 'pan',
  description: 'Constant-power pan (mono sources) or balance (stereo sources)',
  parameters: {
    positionPct: { kind: 'number', min: -100, max: 100, default: 0, unit: '%', doc: 'Position from full left (−100) to full right (100)' },
  },
  create(p, { format }) {
    const theta = ((p.positionPct / 100 + 1) * Math.PI) / 4;
    const mono = format.channels === 1;
    const gl = mono ? Math.cos(theta) : Math.min(1, Math.SQRT2 * Math.cos(theta));
    const gr = mono ? Math.sin(theta) : Math.min(1, Math.SQRT2 * Math.sin(theta));
    return {
      outputChannels: mono ? 2 : format.channels,
      process(block: AudioBlock): AudioBlock {
        if (mono) {
          const x = block[0];
          const l = new Float32Array(x.length);
          const r = new Float32Array(x.length);
          for (let i = 0; i < x.length; i++) {
            l[i] = x[i] * gl;
            r[i] = x[i] * gr;
          }
          return [l, r];
        }
        const [l, r] = block;
        for (let i = 0; i < l.length; i++) {
          l[i] *= gl;
          r[i] *= gr;
        }
        return block;
      },
      flush: () => [],
    };
  },
});

/** Channel operations: mono mix (average of all channels), swap of the first two, or mid/side stereo width. */
export const channelOps = defineEffect({
  id: 'channels',
  description: 'Channel operations: mix down to mono, swap left and right, or change the stereo width',
  parameters: {
    mode: { kind: 'enum', values: ['mono', 'swap', 'width'], default: 'mono', doc: 'Which operation' },
    widthPct: { kind: 'number', min: 0, max: 200, default: 100, unit: '%', doc: 'Stereo width for mode width (0 = mono, 100 = unchanged)' },
  },
  create(p, { format }) {
    const channels = format.channels;
    if (p.mode === 'mono') {
      const k = 1 / channels;
      return {
        outputChannels: 1,
        process(block: AudioBlock): AudioBlock {
          const n = block[0]?.length ?? 0;
          const out = new Float32Array(n);
          for (const ch of block) for (let i = 0; i < n; i++) out[i] += ch[i];
          for (let i = 0; i < n; i++) out[i] *= k;
          return [out];
        },
        flush: () => [],
      };
    }
    const w = p.widthPct / 100;
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        if (channels < 2) return block;
        if (p.mode === 'swap') return [block[1], block[0], ...block.slice(2)];
        const [l, r] = block;
        for (let i = 0; i < l.length; i++) {
          const m = (l[i] + r[i]) * 0.5;
          const s = (l[i] - r[i]) * 0.5 * w;
          l[i] = m + s;
          r[i] = m - s;
        }
        return block;
      },
      flush: () => [],
    };
  },
});
