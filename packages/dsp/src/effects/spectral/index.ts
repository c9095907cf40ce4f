import { createResampler } from '../../engine/resampler.ts';
import { Wsola } from '../../engine/wsola.ts';
import { defineEffect, type AudioBlock, type EffectDeclaration } from '../../types.ts';
import { noiseReduction } from './noise-reduction.ts';
import { speechDenoise } from './speech-denoise.ts';
export { RNNOISE_FILES } from './speech-denoise.ts';

export const timeStretch = defineEffect({
  id: 'time_stretch',
  description: 'Change the duration without changing the pitch (WSOLA)',
  changesLength: true,
  parameters: {
    durationRatio: { kind: 'number', min: 0.25, max: 4, default: 1, unit: 'ratio', doc: 'Output duration ÷ input duration (2 = twice as long, half the tempo)' },
  },
  create(p, { format }) {
    if (p.durationRatio === 1) return { outputChannels: format.channels, process: (b: AudioBlock) => b, flush: () => [] };
    const w = new Wsola(p.durationRatio, format.channels, format.sampleRate);
    return { outputChannels: format.channels, process: (b: AudioBlock) => w.process(b), flush: () => w.flush() };
  },
});

/**
 * Pitch shift with the duration kept: resample by 2^(−s/12) (which scales pitch and duration together), then
 * WSOLA-stretch the duration back. Lengths are exact: the stretch ratio is the inverse of the resampler's
 * realised length ratio.
 */
export const pitchShift = defineEffect({
  id: 'pitch_shift',
  description: 'Change the pitch without changing the duration',
  parameters: {
    semitones: { kind: 'number', min: -24, max: 24, default: 0, unit: 'semitones', doc: 'Pitch change in semitones' },
    cents: { kind: 'number', min: -100, max: 100, default: 0, unit: 'cents', doc: 'Fine tuning added to the semitones' },
  },
  create(p, { format }) {
    const factor = Math.pow(2, (p.semitones + p.cents / 100) / 12);
    const channels = format.channels;
    if (factor === 1) return { outputChannels: channels, process: (b: AudioBlock) => b, flush: () => [] };
    // Resampling from rate·factor to rate plays the audio `factor` times faster: pitch × factor, duration ÷ factor.
    const rs = createResampler(Math.round(format.sampleRate * factor * 1000), format.sampleRate * 1000, channels, 'fast');
    const w = new Wsola(factor, channels, format.sampleRate);
    let inTotal = 0;
    let outTotal = 0;
    return {
      outputChannels: channels,
      process(b: AudioBlock): AudioBlock {
        inTotal += b[0]?.length ?? 0;
        const out = w.process(rs.process(b));
        outTotal += out[0]?.length ?? 0;
        return out;
      },
      flush(): AudioBlock {
        const tail = w.process(rs.flush()).map((c) => c.slice()); // w.flush() reuses the buffer it is a view of
        const rest = w.flush();
        // Trim or pad to exactly the input length (the two stages round separately).
        const parts = [tail, rest];
        const want = Math.max(0, inTotal - outTotal);
        const out = Array.from({ length: channels }, () => new Float32Array(want));
        let o = 0;
        for (const part of parts) {
          const n = Math.min(part[0]?.length ?? 0, want - o);
          for (let c = 0; c < channels; c++) out[c].set(part[c].subarray(0, n), o);
          o += n;
        }
        return out;
      },
    };
  },
});

/** Sample-rate conversion (the streaming windowed-sinc resampler); 44.1 kHz by default, as the original service delivered. */
export const resample = defineEffect({
  id: 'resample',
  description: 'Convert the sample rate (Kaiser-windowed sinc, polyphase for common ratios)',
  changesLength: true,
  parameters: {
    sampleRate: { kind: 'number', min: 8000, max: 192_000, default: 44_100, unit: 'Hz', integer: true, doc: 'Output sample rate' },
    quality: { kind: 'enum', values: ['high', 'fast'], default: 'high', doc: 'high: flat (±0.01 dB) to 20 kHz at 44.1 kHz, aliases and images ≤ −100 dB; fast: flat to 80 % of Nyquist, ≤ −60 dB, a quarter of the taps' },
  },
  create(p, { format }) {
    const channels = format.channels;
    if (p.sampleRate === format.sampleRate) return { outputChannels: channels, process: (b: AudioBlock) => b, flush: () => [] };
    const rs = createResampler(format.sampleRate, p.sampleRate, channels, p.quality === 'fast' ? 'fast' : 'high');
    return { outputChannels: channels, outputSampleRate: p.sampleRate, process: (b: AudioBlock) => rs.process(b), flush: () => rs.flush() };
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [timeStretch, pitchShift, resample, noiseReduction, speechDenoise];
