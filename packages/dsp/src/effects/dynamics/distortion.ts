import { compensateLatency } from '../../engine/latency.ts';
import { Oversampler, OVERSAMPLER_LATENCY } from '../../engine/oversampler.ts';
import { dbToGain } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/** The soft clip: a rational tanh approximation, exactly ±1 beyond |x| = 3. */
const soft = (y: number) => (y > 3 ? 1 : y < -3 ? -1 : (y * (27 + y * y)) / (27 + 9 * y * y));
const hard = (y: number) => (y > 1 ? 1 : y < -1 ? -1 : y);
/** Their antiderivatives (zero at 0, continuous), for antiderivative anti-aliasing. */
const SOFT_AT_3 = 0.5 + (4 / 3) * Math.log(4);
const softF = (y: number) => {
  const a = y < 0 ? -y : y;
  return a > 3 ? a - 3 + SOFT_AT_3 : (a * a) / 18 + (4 / 3) * Math.log((a * a) / 3 + 1);
};
const hardF = (y: number) => {
  const a = y < 0 ? -y : y;
  return a > 1 ? a - 0.5 : (a * a) / 2;
};

/**
 * Soft clip or hard clip at 8× the sample rate (engine/oversampler.ts) with first-order antiderivative
 * anti-aliasing: each oversampled output is the mean of the curve between two inputs, (F(x₁) − F(x₀)) / (x₁ − x₀),
 * which turns the clip's corners into slopes whose harmonics fall off fast enough that the 8× band holds them.
 * A full-drive clip of a 4.1 kHz sine puts its inharmonic energy (aliases) below −60 dB; without both it was −30 dB.
 * Bit crush stays at the base rate: its stair-steps and sample-and-hold are the aliasing it is for. After the shaper,
 * a one-pole tone low-pass, then mix with the dry signal (delayed as the oversampled path is) and the output level.
 */
export const distortion = defineEffect({
  id: 'distortion',
  description: 'Distortion: soft clip, hard clip (both oversampled 8×, anti-aliased) or bit crush, with drive, tone filter, mix and output level',
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
    const lp = new Float64Array(channels);
    if (p.mode === 'bitcrush') {
      const q = Math.pow(2, p.bitDepth - 1);
      const hold = p.downsample;
      const held = new Float64Array(channels);
      const counter = new Int32Array(channels);
      return {
        outputChannels: channels,
        process(block: AudioBlock): AudioBlock {
          for (let c = 0; c < channels; c++) {
            const ch = block[c];
            let s = lp[c], h = held[c], k = counter[c];
            for (let i = 0; i < ch.length; i++) {
              const x = ch[i];
              if (k === 0) h = Math.round(hard(x * drive) * q) / q;
              if (++k === hold) k = 0;
              s += a * (h - s);
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
    }
    const f = p.mode === 'soft_clip' ? soft : hard;
    const F = p.mode === 'soft_clip' ? softF : hardF;
    const L = OVERSAMPLER_LATENCY;
    const over = Array.from({ length: channels }, () => new Oversampler());
    // Per channel: the last oversampled input and its antiderivative; the dry signal delayed by L.
    const prevX = new Float64Array(channels);
    const prevF = new Float64Array(channels);
    const dryLine = Array.from({ length: channels }, () => new Float32Array(L));
    let dryPos = 0;
    let shaped = new Float64Array(0);
    const inner = (block: AudioBlock) => {
      const n = block[0]?.length ?? 0;
      if (shaped.length < n) shaped = new Float64Array(n);
      let endPos = dryPos;
      for (let c = 0; c < channels; c++) {
        let x0 = prevX[c], f0 = prevF[c];
        over[c].run(
          block[c],
          (y, m) => {
            for (let i = 0; i < m; i++) {
              const x1 = y[i] * drive;
              const f1 = F(x1);
              const d = x1 - x0;
              y[i] = d > 1e-6 || d < -1e-6 ? (f1 - f0) / d : f(0.5 * (x0 + x1));
              x0 = x1;
              f0 = f1;
            }
          },
          shaped,
        );
        prevX[c] = x0;
        prevF[c] = f0;
        const ch = block[c], line = dryLine[c];
        let s = lp[c], pos = dryPos;
        for (let i = 0; i < n; i++) {
          s += a * (shaped[i] - s);
          const x = line[pos];
          line[pos] = ch[i];
          if (++pos === L) pos = 0;
          ch[i] = s * wet + x * dry;
        }
        lp[c] = s;
        endPos = pos;
      }
      dryPos = endPos;
    };
    return compensateLatency(inner, L, channels);
  },
});
