import { LoudnessMeter, whyNotMeasurable, type LoudnessSummary } from '../../analysis/loudness.ts';
import { dbToGain } from '../../engine/util.ts';
import { defineEffect, type AudioBlock, type BlockProcessor, type EffectReport } from '../../types.ts';
import { FrameSpill } from '../edit/spill.ts';
import { limiter } from './limiter.ts';

const CHUNK = 65536;
/** How close to the target counts as reached: LU in lufs mode, dB in peak mode. */
const NORMALIZE_TOLERANCE = 0.1;
/** The iteration stops once a limited pass measures this close to the target. */
const CONVERGED = 0.05;
/** Measuring passes of the limited audio at most (each reads the spilled audio once). */
const MAX_LIMITED_PASSES = 6;
/** The most the gain may rise above the unlimited one to make up for what the limiter takes. */
const MAX_MAKEUP_DB = 24;
/** The limiter's settings when normalize limits: a short lookahead, a release that does not pump on speech. */
const LIMITER = { lookaheadMs: 5, releaseMs: 100 } as const;

const round = (v: number) => Math.round(v * 100) / 100;
const finite = (v: number) => (Number.isFinite(v) ? round(v) : null);

/**
 * Two-pass normalisation. The first pass measures (integrated loudness, sample and true peak) while spilling the
 * audio as float32 to the temp directory; the output is read back from the spill with one gain.
 *
 * Where that gain would put the true peak over the ceiling, `peakControl` decides: `limit` keeps the gain that
 * reaches the target and runs the audio through the true-peak limiter; the limiter takes some loudness, so the gain
 * is raised until the limited audio measures the target (a secant iteration over the spill, each pass measured, at
 * most six). `lower_gain` lowers the gain instead: no limiter, the target is missed. Either way the report says what
 * the output measures, and why it misses the target when it does.
 */
export const normalize = defineEffect({
  id: 'normalize',
  description: 'Normalize to an integrated loudness (LUFS) or a peak level (dBFS) under a true-peak ceiling; reports the level reached',
  wholeStream: 'Needs a measurement of the whole stream first: the audio is spilled as float32 to the temp directory and read back, so memory stays bounded',
  parameters: {
    mode: { kind: 'enum', values: ['lufs', 'peak'], default: 'lufs', doc: 'Normalize integrated loudness (EBU R128) or sample peak' },
    targetDb: { kind: 'number', min: -70, max: 0, default: -14, unit: 'LUFS or dBFS', doc: 'Target: LUFS in lufs mode, dBFS in peak mode' },
    truePeakCeilingDb: { kind: 'number', min: -20, max: 0, default: -1, unit: 'dBTP', doc: 'Highest true peak of the output' },
    peakControl: {
      kind: 'enum',
      values: ['limit', 'lower_gain'],
      default: 'limit',
      doc: 'When the target would put peaks over the ceiling: limit them (a true-peak limiter; the target is reached) or lower the gain (no limiter; the target is missed, and the report says so)',
    },
  },
  create(p, ctx) {
    const { format, tempDir } = ctx;
    const channels = format.channels;
    const lufs = p.mode === 'lufs';
    const unit = lufs ? 'LUFS' : 'dBFS';
    const reachedOf = (s: LoudnessSummary) => (lufs ? s.integrated_lufs : s.sample_peak_dbfs);
    let report: EffectReport | undefined;

    /** One pass over the spill at a gain, through a new limiter or not. */
    const pass = async function* (spill: FrameSpill, gainDb: number, limited: boolean): AsyncIterable<AudioBlock> {
      const g = dbToGain(gainDb);
      const lim: BlockProcessor | null = limited ? (limiter.create({ ceilingDb: p.truePeakCeilingDb, ...LIMITER }, ctx) as BlockProcessor) : null;
      for (let start = 0; start < spill.frames; start += CHUNK) {
        const block = await spill.read(start, Math.min(CHUNK, spill.frames - start));
        for (const ch of block) for (let i = 0; i < ch.length; i++) ch[i] *= g;
        const out = lim ? lim.process(block) : block;
        if ((out[0]?.length ?? 0) > 0) yield out;
      }
      const tail = lim?.flush() ?? [];
      if ((tail[0]?.length ?? 0) > 0) yield tail;
    };
    /** What a limited pass at a gain measures, without keeping its audio. */
    const limitedLevel = async (spill: FrameSpill, gainDb: number): Promise<number> => {
      const meter = new LoudnessMeter(format, { truePeak: false });
      for await (const block of pass(spill, gainDb, true)) meter.push(block);
      return reachedOf(meter.summary());
    };
    /** The gain whose limited output measures closest to the target, from `g0` (the unlimited gain) upwards. */
    const limitedGain = async (spill: FrameSpill, g0: number): Promise<{ gainDb: number; passes: number }> => {
      let cur = { g: g0, level: await limitedLevel(spill, g0) };
      let best = cur;
      let prev: typeof cur | null = null;
      let passes = 1;
      while (passes < MAX_LIMITED_PASSES && Math.abs(p.targetDb - cur.level) > CONVERGED) {
        // Limited loudness rises slower than the gain: the secant's slope, kept within (0, 1].
        const slope = prev && cur.g !== prev.g ? Math.min(1, Math.max(0.05, (cur.level - prev.level) / (cur.g - prev.g))) : 1;
        const next = Math.min(g0 + MAX_MAKEUP_DB, Math.max(g0, cur.g + (p.targetDb - cur.level) / slope));
        if (Math.abs(next - cur.g) < 1e-4) break;
        prev = cur;
        cur = { g: next, level: await limitedLevel(spill, next) };
        passes++;
        if (Math.abs(p.targetDb - cur.level) < Math.abs(p.targetDb - best.level)) best = cur;
      }
      return { gainDb: best.g, passes };
    };

    return {
      outputChannels: channels,
      async *transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
        const spill = await FrameSpill.create(tempDir, channels);
        try {
          const meter = new LoudnessMeter(format);
          for await (const block of source) {
            meter.push(block);
            await spill.append(block);
          }
          const input = meter.summary();
          const measured = reachedOf(input);
          const silent = !Number.isFinite(input.sample_peak_dbfs);
          if (!Number.isFinite(measured)) {
            // Nothing to measure: the audio passes unchanged.
            const why = silent ? (spill.frames === 0 ? 'no audio' : 'digital silence') : whyNotMeasurable(spill.frames, format.sampleRate);
            report = { target: p.targetDb, reached: null, unit, tolerance: NORMALIZE_TOLERANCE, met: false, reason: `not measurable: ${why}; the audio was left unchanged`, measurements: { gain_db: 0 } };
            yield* pass(spill, 0, false);
            return;
          }
          const wanted = p.targetDb - measured;
          const overDb = input.true_peak_dbtp + wanted - p.truePeakCeilingDb; // > 0: the target puts peaks over the ceiling
          const limited = overDb > 0 && p.peakControl === 'limit';
          let gainDb = wanted;
          let passes = 0;
          if (overDb > 0 && !limited) gainDb = wanted - overDb;
          else if (limited && lufs) ({ gainDb, passes } = await limitedGain(spill, wanted));
          // The output is measured as it goes: the report gives what it is, not what it should be.
          const out = new LoudnessMeter(format);
          for await (const block of pass(spill, gainDb, limited)) {
            out.push(block);
            yield block;
          }
          const result = out.summary();
          const reached = reachedOf(result);
          const met = Math.abs(reached - p.targetDb) <= NORMALIZE_TOLERANCE;
          const ceiling = `the ${p.truePeakCeilingDb} dBTP true-peak ceiling`;
          const reason = met
            ? undefined
            : overDb > 0 && !limited
              ? `held back by ${ceiling}: the gain was lowered by ${round(overDb)} dB (peakControl=limit reaches the target with a limiter)`
              : limited
                ? `${ceiling} leaves too little room: with peaks limited by up to ${round(input.true_peak_dbtp + gainDb - p.truePeakCeilingDb)} dB the output reaches ${round(reached)} ${unit}`
                : `the output measures ${round(reached)} ${unit}`;
          report = {
            target: p.targetDb,
            reached: finite(reached),
            unit,
            tolerance: NORMALIZE_TOLERANCE,
            met,
            ...(reason ? { reason } : {}),
            measurements: {
              gain_db: round(gainDb),
              [lufs ? 'input_lufs' : 'input_peak_dbfs']: finite(measured),
              input_true_peak_dbtp: finite(input.true_peak_dbtp),
              true_peak_dbtp: finite(result.true_peak_dbtp),
              limited_db: limited ? round(Math.max(0, input.true_peak_dbtp + gainDb - p.truePeakCeilingDb)) : 0,
              measuring_passes: passes,
            },
          };
        } finally {
          await spill.dispose();
        }
      },
      report(): EffectReport {
        if (!report) throw new Error('normalize: report asked before its output ended');
        return report;
      },
    };
  },
});
