import { BIQUAD_TYPES, BiquadCascade, designBiquad, type BiquadType } from '../../engine/biquad.ts';
import { defineEffect } from '../../types.ts';

export const equalizer = defineEffect({
  id: 'equalizer',
  description: 'Parametric equalizer: RBJ biquad bands (low/high pass, band pass, notch, peaking, shelves) in series',
  parameters: {
    bands: {
      kind: 'list',
      doc: 'Filter bands applied in order',
      minItems: 1,
      maxItems: 16,
      default: [{ type: 'peaking', frequencyHz: 1000, gainDb: 0, q: 0.707 }],
      item: {
        type: { kind: 'enum', values: BIQUAD_TYPES.filter((t) => t !== 'allpass'), default: 'peaking', doc: 'Filter shape' },
        frequencyHz: { kind: 'number', min: 10, max: 24000, default: 1000, unit: 'Hz', doc: 'Centre or corner frequency (clamped below Nyquist)' },
        gainDb: { kind: 'number', min: -24, max: 24, default: 0, unit: 'dB', doc: 'Gain for peaking and shelf bands' },
        q: { kind: 'number', min: 0.1, max: 18, default: 0.707, unit: 'Q', doc: 'Quality factor (bandwidth; shelf slope)' },
      },
    },
  },
  create(params, { format }) {
    const sections = params.bands.map((b) =>
      designBiquad({ type: b.type as BiquadType, frequencyHz: b.frequencyHz as number, gainDb: b.gainDb as number, q: b.q as number }, format.sampleRate),
    );
    const cascade = new BiquadCascade(sections, format.channels);
    return { outputChannels: format.channels, process: (block) => cascade.process(block), flush: () => [] };
  },
});
