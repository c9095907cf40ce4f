import { LoudnessMeter } from '../../analysis/loudness.ts';
import { dbToGain } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';
import { FrameSpill } from '../edit/spill.ts';

const CHUNK = 65536;

/**
 * Two-pass normalisation: the first pass measures (sample peak, true peak, integrated loudness) while spilling the
 * audio as float32 to the temp directory; the second reads it back with one gain. Policy: the gain that reaches the
 * target, lowered if it would put the true peak above the ceiling — never a hidden limiter (chain `limiter` for
 * that). Silence (no gated loudness) passes unchanged.
 */
export const normalize = defineEffect({
  id: 'normalize',
  description: 'Normalize to a peak level (dBFS) or an integrated loudness (LUFS) with a true-peak ceiling',
  wholeStream: 'Needs a measurement of the whole stream first: the audio is spilled as float32 to the temp directory and read back, so memory stays bounded',
  parameters: {
    mode: { kind: 'enum', values: ['lufs', 'peak'], default: 'lufs', doc: 'Normalize integrated loudness (EBU R128) or sample peak' },
    targetDb: { kind: 'number', min: -70, max: 0, default: -14, unit: 'LUFS or dBFS', doc: 'Target: LUFS in lufs mode, dBFS in peak mode' },
    truePeakCeilingDb: { kind: 'number', min: -20, max: 0, default: -1, unit: 'dBTP', doc: 'The gain is lowered so the true peak stays below this' },
  },
  create(p, { format, tempDir }) {
    const channels = format.channels;
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
          const m = meter.summary();
          const measured = p.mode === 'lufs' ? m.integrated_lufs : m.sample_peak_dbfs;
          let gainDb = Number.isFinite(measured) ? p.targetDb - measured : 0;
          if (Number.isFinite(m.true_peak_dbtp) && m.true_peak_dbtp + gainDb > p.truePeakCeilingDb) gainDb = p.truePeakCeilingDb - m.true_peak_dbtp;
          const g = dbToGain(gainDb);
          for (let start = 0; start < spill.frames; start += CHUNK) {
            const block = await spill.read(start, Math.min(CHUNK, spill.frames - start));
            for (const ch of block) for (let i = 0; i < ch.length; i++) ch[i] *= g;
            yield block;
          }
        } finally {
          await spill.dispose();
        }
      },
    };
  },
});
