import { msToFrames } from '../../engine/util.ts';
import { defineEffect, type AudioBlock, type EffectDeclaration } from '../../types.ts';
import { FrameSpill } from './spill.ts';
import { silenceRemoval } from './silence-removal.ts';

const CHUNK = 65536;

export const reverse = defineEffect({
  id: 'reverse',
  description: 'Play the audio backwards',
  wholeStream: 'Needs the whole stream: it is spilled as float32 to the temp directory and read back backwards in 64 k-frame chunks, so memory stays bounded',
  parameters: {},
  create(_p, { format, tempDir }) {
    const channels = format.channels;
    return {
      outputChannels: channels,
      async *transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
        const spill = await FrameSpill.create(tempDir, channels);
        try {
          for await (const block of source) await spill.append(block);
          // Output chunks from a ring of three buffers: a consumer is done with a block when it asks for the next.
          const ring = Array.from({ length: 3 }, () => Array.from({ length: channels }, () => new Float32Array(CHUNK)));
          let k = 0;
          for (let end = spill.frames; end > 0; end -= CHUNK) {
            const start = Math.max(0, end - CHUNK);
            const block = await spill.read(start, end - start, ring[k++ % 3]);
            for (const ch of block) ch.reverse();
            yield block;
          }
        } finally {
          await spill.dispose();
        }
      },
    };
  },
});

export const trim = defineEffect({
  id: 'trim',
  description: 'Keep only a span of the audio',
  changesLength: true,
  parameters: {
    startMs: { kind: 'number', min: 0, max: 86_400_000, default: 0, unit: 'ms', doc: 'Where the kept span starts' },
    durationMs: { kind: 'number', min: 0, max: 86_400_000, default: 0, unit: 'ms', doc: 'Length of the kept span (0 = to the end)' },
  },
  create(p, { format }) {
    const start = msToFrames(p.startMs, format.sampleRate);
    const end = p.durationMs > 0 ? start + msToFrames(p.durationMs, format.sampleRate) : Infinity;
    let pos = 0;
    return {
      outputChannels: format.channels,
      process(block: AudioBlock): AudioBlock {
        const n = block[0]?.length ?? 0;
        const from = Math.max(0, Math.min(n, start - pos));
        const to = Math.max(from, Math.min(n, end - pos));
        pos += n;
        return from === 0 && to === n ? block : block.map((ch) => ch.subarray(from, to));
      },
      flush: () => [],
    };
  },
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [trim, reverse, silenceRemoval];
