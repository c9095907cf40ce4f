import type { AudioBlock, BlockProcessor } from '../types.ts';
import { silentBlock } from './util.ts';

/**
 * Wrap a processor that works in place with a fixed internal delay (lookahead) so the stream comes out aligned:
 * the first `latency` output frames are dropped and `flush` pushes `latency` frames of silence through to
 * release the held-back end. Output length equals input length, for any block size.
 */
export function compensateLatency(inner: (block: AudioBlock) => void, latency: number, channels: number): BlockProcessor {
  let toSkip = latency;
  const run = (block: AudioBlock): AudioBlock => {
    inner(block);
    const n = block[0]?.length ?? 0;
    if (toSkip === 0) return block;
    const skip = Math.min(toSkip, n);
    toSkip -= skip;
    return block.map((ch) => ch.subarray(skip));
  };
  return {
    outputChannels: channels,
    process: run,
    flush: () => (latency > 0 ? run(silentBlock(channels, latency)) : []),
  };
}
