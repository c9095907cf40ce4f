import { describe, expect, it } from 'vitest';
import { applyChain, blocksOf, collect, MAX_CHAIN_LENGTH, renderChain, resolveChain } from '../src/engine/chain.ts';
import { DspError } from '../src/errors.ts';
import type { AudioBlock, ChainStep } from '../src/types.ts';

// The chain itself: what it accepts, the format each step hands the next, that it never yields an empty block, the
// reports with their steps, and that the caller's audio is never written to.

const SR = 44_100;
const tone = (frames: number, f = 440, a = 0.5): Float32Array => Float32Array.from({ length: frames }, (_, i) => a * Math.sin((2 * Math.PI * f * i) / SR));

/** The error a call throws (or fails the test when it throws nothing). */
function thrown(fn: () => unknown): DspError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DspError);
    return err as DspError;
  }
  throw new Error('nothing was thrown');
}

describe('resolveChain', () => {
  it('takes 1 to 16 steps, each with its parameters resolved to the declared defaults', () => {
    expect(MAX_CHAIN_LENGTH).toBe(16);
    const one = resolveChain([{ effect: 'gain' }]);
    expect(one).toHaveLength(1);
    expect(one[0].decl.id).toBe('gain');
    expect(one[0].params).toEqual({ gainDb: 0 });
    const sixteen = resolveChain(Array.from({ length: 16 }, (_, i) => ({ effect: 'gain', parameters: { gainDb: i } })));
    expect(sixteen.map((s) => s.params.gainDb)).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('refuses no steps, more than 16 and what is not a list, saying how many it takes', () => {
    for (const steps of [[], Array.from({ length: 17 }, () => ({ effect: 'gain' })), { effect: 'gain' }, null]) {
      const err = thrown(() => resolveChain(steps as unknown as ChainStep[]));
      expect(err.code).toBe('Effect::InvalidChain');
      expect(err.message).toContain('1 to 16 steps');
      expect(err.details).toEqual({ allowed: { min_items: 1, max_items: 16 } });
    }
  });

  it('refuses an unknown effect and a bad parameter before any work', () => {
    expect(thrown(() => resolveChain([{ effect: 'gain' }, { effect: 'reverbb' }])).code).toBe('Effect::UnknownEffect');
    expect(thrown(() => resolveChain([{ effect: 'gain', parameters: { gainDb: 1000 } }])).code).toMatch(/^Effect::/);
  });
});

describe('applyChain', () => {
  it('hands each step the format the one before produced (channels, then rate), and reports the last', async () => {
    const audio = [tone(SR), tone(SR, 660)];
    const { stream, format } = applyChain(blocksOf(audio, 1000), [{ effect: 'channels', parameters: { mode: 'mono' } }, { effect: 'resample', parameters: { sampleRate: 22_050 } }, { effect: 'gain', parameters: { gainDb: -6 } }], { sampleRate: SR, channels: 2 }, '/tmp');
    expect(format).toEqual({ sampleRate: 22_050, channels: 1 });
    const out = await collect(stream, format.channels);
    expect(out).toHaveLength(1);
    expect(out[0].length).toBe(SR / 2);
    // Every step ran: the mono mix (l + r)/2 of two tones of amplitude 0.5 has power (0.125 + 0.125)/4, RMS 0.25;
    // resampling keeps it (both tones are far below the new Nyquist); then 6 dB down.
    const rms = Math.sqrt(out[0].subarray(1000, 10_000).reduce((s, v) => s + v * v, 0) / 9000);
    expect(rms).toBeCloseTo(0.25 * 10 ** (-6 / 20), 2);
  });

  it('refuses an empty chain as resolveChain does', () => {
    expect(thrown(() => applyChain(blocksOf([tone(10)], 4), [], { sampleRate: SR, channels: 1 }, '/tmp')).code).toBe('Effect::InvalidChain');
  });

  it('takes steps already resolved as well as raw ones, with the same result', async () => {
    const audio = [tone(5000)];
    const steps: ChainStep[] = [{ effect: 'gain', parameters: { gainDb: -3 } }, { effect: 'delay', parameters: { timeMs: 10, mix: 0.5 } }];
    const run = async (s: ChainStep[] | ReturnType<typeof resolveChain>) => {
      const applied = applyChain(blocksOf(audio, 512), s, { sampleRate: SR, channels: 1 }, '/tmp');
      return collect(applied.stream, 1);
    };
    const raw = await run(steps);
    const resolved = await run(resolveChain(steps));
    expect(raw[0].length).toBeGreaterThan(5000); // the echo's tail
    expect(Buffer.from(resolved[0].buffer).equals(Buffer.from(raw[0].buffer))).toBe(true);
  });

  it('never yields an empty block, though steps return some (a lookahead fills first, a stretch waits for input)', async () => {
    const audio = [tone(20_000)];
    // gain last: its flush has nothing (no block at all), which must not come out as a block either.
    const { stream } = applyChain(blocksOf(audio, 64), [{ effect: 'limiter' }, { effect: 'time_stretch', parameters: { durationRatio: 1.5 } }, { effect: 'gain' }], { sampleRate: SR, channels: 1 }, '/tmp');
    let blocks = 0, frames = 0;
    for await (const block of stream) {
      expect(block.length).toBe(1);
      expect(block[0].length).toBeGreaterThan(0);
      blocks++;
      frames += block[0].length;
    }
    expect(blocks).toBeGreaterThan(1);
    expect(frames).toBe(30_000);
  });

  it('gives the reports of the steps with a target, each with its step number and effect, once the stream is consumed', async () => {
    const audio = [tone(2 * SR, 440, 0.1), tone(2 * SR, 550, 0.1)];
    const { audio: out, reports } = await renderChain(audio, [{ effect: 'gain', parameters: { gainDb: 1 } }, { effect: 'normalize', parameters: { targetDb: -20 } }, { effect: 'gain' }], { sampleRate: SR, channels: 2 });
    expect(out[0].length).toBe(2 * SR);
    expect(reports).toHaveLength(1);
    expect(reports[0].step).toBe(1);
    expect(reports[0].effect).toBe('normalize');
    expect(reports[0].target).toBeDefined();
  });
});

describe('blocksOf, collect and renderChain', () => {
  it('cut audio into copies of the given size, so effects working in place never touch the caller’s audio', async () => {
    const audio = [tone(10_001)];
    const before = audio[0].slice();
    const sizes: number[] = [];
    for await (const block of blocksOf(audio, 4096)) {
      sizes.push(block[0].length);
      block[0].fill(9);
    }
    expect(sizes).toEqual([4096, 4096, 1809]);
    expect(audio[0]).toEqual(before);
    const whole: number[] = [];
    for await (const block of blocksOf([tone(8192)], 4096)) whole.push(block[0].length);
    expect(whole).toEqual([4096, 4096]); // no empty block after a whole number of them
    const { audio: out } = await renderChain(audio, [{ effect: 'gain', parameters: { gainDb: 6 } }], { sampleRate: SR, channels: 1 });
    expect(audio[0]).toEqual(before);
    expect(out[0][100] / before[100]).toBeCloseTo(10 ** (6 / 20), 5);
  });

  it('give nothing for audio with no channels, and collect an empty stream as no frames', async () => {
    const blocks: AudioBlock[] = [];
    for await (const block of blocksOf([], 4096)) blocks.push(block);
    expect(blocks).toEqual([]);
    async function* empties(): AsyncIterable<AudioBlock> {
      yield [];
      yield [new Float32Array(0)];
    }
    expect(await collect(empties(), 1)).toEqual([new Float32Array(0)]);
  });

  it('collect keeps blocks that their source reuses (it copies each one) and joins them in order', async () => {
    const shared: AudioBlock = [new Float32Array(3)];
    async function* reused(): AsyncIterable<AudioBlock> {
      for (let k = 0; k < 4; k++) {
        shared[0].fill(k);
        yield shared;
      }
    }
    const out = await collect(reused(), 1);
    expect(Array.from(out[0])).toEqual([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
  });
});
