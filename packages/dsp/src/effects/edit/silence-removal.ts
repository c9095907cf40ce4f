import { dbToGain, msToFrames } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';
import { FrameSpill } from './spill.ts';

const MEMORY_CAP_FRAMES = 1 << 20; // a silent run longer than this (~22 s at 48 kHz) is spilled to disk

type RunKind = 'leading' | 'internal' | 'trailing' | 'only';

/** The pending silent run: kept in memory up to a cap, then spilled, so a long silence never grows memory. */
class SilentRun {
  private parts: AudioBlock[] = [];
  private spill: FrameSpill | null = null;
  frames = 0;
  constructor(
    private readonly channels: number,
    private readonly tempDir: string,
  ) {}

  async append(block: AudioBlock): Promise<void> {
    const n = block[0]?.length ?? 0;
    if (n === 0) return;
    if (!this.spill && this.frames + n > MEMORY_CAP_FRAMES) {
      this.spill = await FrameSpill.create(this.tempDir, this.channels);
      for (const p of this.parts) await this.spill.append(p);
      this.parts = [];
    }
    if (this.spill) await this.spill.append(block);
    else this.parts.push(block.map((c) => c.slice()));
    this.frames += n;
  }

  /** Frames [start, end) of the run, in chunks. */
  async *range(start: number, end: number): AsyncIterable<AudioBlock> {
    if (end <= start) return;
    if (this.spill) {
      for (let s = start; s < end; s += 65536) yield await this.spill.read(s, Math.min(65536, end - s));
      return;
    }
    let offset = 0;
    for (const p of this.parts) {
      const n = p[0].length;
      const a = Math.max(start, offset);
      const b = Math.min(end, offset + n);
      if (a < b) yield p.map((c) => c.subarray(a - offset, b - offset));
      offset += n;
    }
  }

  async reset(): Promise<void> {
    this.parts = [];
    this.frames = 0;
    await this.spill?.dispose();
    this.spill = null;
  }
}

/**
 * Remove silence: frames whose level is below the threshold on every channel form silent runs. Leading and
 * trailing runs (per mode) shrink to `padMs`; in mode `all`, internal runs of at least `minSilenceMs` shrink to
 * `padMs` (half kept at each side, so decays and onsets are not cut).
 */
export const silenceRemoval = defineEffect({
  id: 'silence_removal',
  description: 'Remove leading, trailing or all long silences',
  changesLength: true,
  wholeStream: 'Streams, but holds each silent run until it ends (in memory up to ~22 s, then spilled to the temp directory)',
  parameters: {
    mode: { kind: 'enum', values: ['leading', 'trailing', 'both', 'all'], default: 'both', doc: 'Which silences to remove' },
    thresholdDb: { kind: 'number', min: -96, max: -10, default: -50, unit: 'dB', doc: 'Level below which a frame is silent' },
    minSilenceMs: { kind: 'number', min: 10, max: 60000, default: 500, unit: 'ms', doc: 'Shortest internal silence removed (mode all)' },
    padMs: { kind: 'number', min: 0, max: 5000, default: 50, unit: 'ms', doc: 'Silence kept where a run is removed' },
  },
  create(p, { format, tempDir }) {
    const channels = format.channels;
    const thr = dbToGain(p.thresholdDb);
    const pad = msToFrames(p.padMs, format.sampleRate);
    const minRun = msToFrames(p.minSilenceMs, format.sampleRate);
    const removes = (kind: RunKind, frames: number) =>
      kind === 'only'
        ? true
        : kind === 'internal'
          ? p.mode === 'all' && frames >= minRun
          : p.mode === 'all' || p.mode === 'both' || p.mode === kind;

    async function* finish(run: SilentRun, kind: RunKind): AsyncIterable<AudioBlock> {
      const s = run.frames;
      if (!removes(kind, s)) yield* run.range(0, s);
      else if (kind === 'leading') yield* run.range(Math.max(0, s - pad), s);
      else if (kind === 'trailing') yield* run.range(0, Math.min(s, pad));
      else if (kind === 'internal') {
        const head = Math.min(s, Math.ceil(pad / 2));
        yield* run.range(0, head);
        yield* run.range(Math.max(head, s - Math.floor(pad / 2)), s);
      }
      await run.reset();
    }

    return {
      outputChannels: channels,
      async *transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
        const run = new SilentRun(channels, tempDir);
        let inRun = false;
        let seenSound = false;
        try {
          for await (const block of source) {
            const n = block[0]?.length ?? 0;
            let segStart = 0;
            for (let i = 0; i < n; i++) {
              let silent = true;
              for (let c = 0; c < channels; c++) {
                const v = block[c][i];
                if (v >= thr || v <= -thr) {
                  silent = false;
                  break;
                }
              }
              if (silent && !inRun) {
                if (i > segStart) yield block.map((ch) => ch.subarray(segStart, i));
                inRun = true;
                segStart = i;
              } else if (!silent && inRun) {
                await run.append(block.map((ch) => ch.subarray(segStart, i)));
                yield* finish(run, seenSound ? 'internal' : 'leading');
                inRun = false;
                segStart = i;
              }
              if (!silent) seenSound = true;
            }
            if (inRun) await run.append(block.map((ch) => ch.subarray(segStart, n)));
            else if (n > segStart) yield segStart === 0 ? block : block.map((ch) => ch.subarray(segStart, n));
          }
          if (inRun) yield* finish(run, seenSound ? 'trailing' : 'only');
        } finally {
          await run.reset();
        }
      },
    };
  },
});
