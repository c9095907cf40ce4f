import { compensateLatency } from '../../engine/latency.ts';
import { dbToGain, dbToGainFast, framePeak, lnFast, msToFrames, scaleFrame, timeCoef } from '../../engine/util.ts';
import { compressorRun, simdEnabled } from '../../engine/wasm/index.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * Feed-forward compressor (Giannoulis, Massberg & Reiss 2012): a stereo-linked level detector, a static curve with
 * a quadratic soft knee in dB, attack/release smoothing of the gain reduction in dB, makeup gain and an optional
 * lookahead (a fixed ring-buffer delay of the audio, so gain changes lead the transients).
 */
export function staticCurveDb(levelDb: number, thresholdDb: number, ratio: number, kneeDb: number): number {
  const over = levelDb - thresholdDb;
  if (2 * over < -kneeDb) return levelDb;
  if (kneeDb > 0 && 2 * Math.abs(over) <= kneeDb) {
    const x = over + kneeDb / 2;
    return levelDb + ((1 / ratio - 1) * x * x) / (2 * kneeDb);
  }
  return thresholdDb + over / ratio;
}

export const compressor = defineEffect({
  id: 'compressor',
  description: 'Dynamic range compressor with soft knee, attack/release, makeup gain and optional lookahead',
  parameters: {
    thresholdDb: { kind: 'number', min: -60, max: 0, default: -20, unit: 'dB', doc: 'Level above which gain is reduced' },
    ratio: { kind: 'number', min: 1, max: 20, default: 4, unit: 'ratio', doc: 'Input dB above threshold per output dB' },
    kneeDb: { kind: 'number', min: 0, max: 24, default: 6, unit: 'dB', doc: 'Width of the soft knee around the threshold' },
    attackMs: { kind: 'number', min: 0.1, max: 500, default: 10, unit: 'ms', doc: 'Time for the gain to fall' },
    releaseMs: { kind: 'number', min: 1, max: 5000, default: 100, unit: 'ms', doc: 'Time for the gain to recover' },
    makeupDb: { kind: 'number', min: 0, max: 24, default: 0, unit: 'dB', doc: 'Gain applied after compression' },
    lookaheadMs: { kind: 'number', min: 0, max: 50, default: 0, unit: 'ms', doc: 'Delay the audio so the detector sees ahead' },
    detector: { kind: 'enum', values: ['peak', 'rms'], default: 'peak', doc: 'Level detector: sample peak or RMS over ~attack' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const sr = format.sampleRate;
    const att = timeCoef(p.attackMs, sr);
    const rel = timeCoef(p.releaseMs, sr);
    const rmsCoef = timeCoef(Math.max(p.attackMs, 5), sr);
    const makeup = dbToGain(p.makeupDb);
    const { thresholdDb, ratio, kneeDb } = p;
    const rms = p.detector === 'rms';
    const look = msToFrames(p.lookaheadMs, sr);
    const ring = Array.from({ length: channels }, () => new Float32Array(Math.max(1, look)));
    // pos: lookahead ring index; held: the deepest recent reduction, recovering at the release rate; reductionDb:
    // the applied reduction (≤ 0, dB).
    const state = { pos: 0, reductionDb: 0, held: 0, meanSquare: 0 };
    // Below this level the curve is the identity and the log can be skipped.
    const kneeStart = dbToGain(thresholdDb - kneeDb / 2);
    const LN_TO_DB = 20 / Math.LN10;

    /*
     * Smoothing in the gain-reduction domain, branched and decoupled (Giannoulis et al. 2012, §3.3): the curve's
     * reduction for the instantaneous level is held at its deepest and recovers with the release time constant;
     * the applied reduction follows a deeper value with the attack time constant and a recovering one at once. So
     * each time is one time constant as declared (63 % of the way in attackMs / releaseMs), where smoothing both
     * the detector and the gain with the release time took ~1.9 × releaseMs. Between a waveform's peaks the held
     * value recovers only by 1 − e^(−half a period / release), which keeps the gain from rippling.
     */
    const constants = { att, rel, rmsCoef, makeup, thresholdDb, ratio, kneeDb, kneeStart, rms, lnToDb: LN_TO_DB };
    let gains = new Float64Array(0); // the kernel's gains, for the lookahead's ring or past two channels
    let levels = new Float32Array(0); // past two channels: each frame's peak, for the kernel

    /** Frames [from, to) in JavaScript; the WebAssembly kernel (compressorRun) is the same arithmetic. */
    const frames = (block: AudioBlock, x0: Float32Array, x1: Float32Array, from: number, to: number) => {
      // State in locals for the loop: captured doubles that change per sample would be boxed on every write.
      let held = state.held, reductionDb = state.reductionDb, meanSquare = state.meanSquare, pos = state.pos;
      for (let i = from; i < to; i++) {
        let level = framePeak(block, x0, x1, i);
        if (rms) {
          meanSquare = rmsCoef * meanSquare + (1 - rmsCoef) * level * level;
          level = Math.sqrt(meanSquare);
        }
        let target = 0;
        if (level > kneeStart) {
          const ldb = (level < Infinity ? lnFast(level) : Math.log(level)) * LN_TO_DB;
          target = staticCurveDb(ldb, thresholdDb, ratio, kneeDb) - ldb;
        }
        held = target < held ? target : rel * held + (1 - rel) * target;
        reductionDb = held < reductionDb ? att * reductionDb + (1 - att) * held : held;
        const g = reductionDb > -1e-9 ? makeup : dbToGainFast(reductionDb) * makeup;
        if (look > 0) pos = delayFrame(block, i, pos, g);
        else scaleFrame(block, x0, x1, i, g);
      }
      state.held = held;
      state.reductionDb = reductionDb;
      state.meanSquare = meanSquare;
      state.pos = pos;
    };
    /** The lookahead: frame i goes into the ring and the frame `look` before it comes out, times g. */
    const delayFrame = (block: AudioBlock, i: number, pos: number, g: number): number => {
      for (let c = 0; c < channels; c++) {
        const x = block[c][i];
        block[c][i] = ring[c][pos] * g;
        ring[c][pos] = x;
      }
      return pos + 1 === look ? 0 : pos + 1;
    };

    const inner = (block: AudioBlock) => {
      const n = block[0]?.length ?? 0;
      const x0 = block[0];
      const x1 = channels > 1 ? block[1] : x0;
      if (!simdEnabled()) return frames(block, x0, x1, 0, n);
      // The kernel reads the level from one or two channels; past two, from their frame peaks given as one channel
      // (exact: each is one of the samples), and then, as with a lookahead, its gains are applied here.
      let l0 = x0, l1 = x1;
      if (channels > 2) {
        if (levels.length < n) levels = new Float32Array(n);
        for (let i = 0; i < n; i++) levels[i] = framePeak(block, x0, x1, i);
        l0 = l1 = levels;
      }
      const apart = look > 0 || channels > 2;
      if (apart && gains.length < n) gains = new Float64Array(n);
      for (let i = 0; i < n; ) {
        const did = compressorRun(l0, l1, i, n, constants, state, apart ? gains : null);
        if (apart) {
          for (let j = i; j < i + did; j++) {
            if (look > 0) state.pos = delayFrame(block, j, state.pos, gains[j]);
            else scaleFrame(block, x0, x1, j, gains[j]);
          }
        }
        i += did;
        if (i === n) break;
        // A frame the kernel declines is the JavaScript's, and so is the rest of the block when it declines at once
        // (a state it cannot take on, as the NaN an infinite sample leaves).
        const to = did === 0 ? n : i + 1;
        frames(block, x0, x1, i, to);
        i = to;
      }
    };
    return compensateLatency(inner, look, channels);
  },
});
