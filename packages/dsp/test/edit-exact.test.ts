import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reverse, trim } from '../src/effects/edit/index.ts';
import { silenceRemoval } from '../src/effects/edit/silence-removal.ts';
import { FrameSpill } from '../src/effects/edit/spill.ts';
import type { AudioBlock, StreamTransform } from '../src/types.ts';

/**
 * Sample-exact checks of the edit effects (trim, reverse, silence_removal) and the spill file under the whole-stream
 * ones. silence_removal is compared with a plain whole-array model of its documented rule, written here: frames
 * below the threshold on every channel form silent runs; a removed leading run keeps its last `pad` frames, a
 * trailing one its first `pad`, an internal one (mode all, at least `minSilenceMs`) ⌈pad/2⌉ at its start and ⌊pad/2⌋
 * at its end; a stream that is all silence is removed whole.
 */
const SR = 8000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'edit-exact-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function* blocksOf(audio: Float64Array[], sizes: number[]): AsyncIterable<AudioBlock> {
  const n = audio[0].length;
  for (let at = 0, k = 0; at < n; k++) {
    const size = sizes[k % sizes.length];
    yield audio.map((c) => c.subarray(at, Math.min(n, at + size))) as unknown as AudioBlock;
    at += size;
  }
}

async function collect(stream: AsyncIterable<AudioBlock>, channels: number): Promise<{ audio: number[][]; blocks: AudioBlock[] }> {
  const audio: number[][] = Array.from({ length: channels }, () => []);
  const blocks: AudioBlock[] = [];
  for await (const b of stream) {
    blocks.push(b);
    b.forEach((c, ch) => audio[ch].push(...c));
  }
  return { audio, blocks };
}

type Mode = 'leading' | 'trailing' | 'both' | 'all';
type SrParams = { mode: Mode; thresholdDb: number; minSilenceMs: number; padMs: number };

/** The model: whole arrays in, whole arrays out. */
function modelSilenceRemoval(audio: Float64Array[], p: SrParams, sr: number): number[][] {
  const thr = 10 ** (p.thresholdDb / 20);
  const pad = Math.round((p.padMs / 1000) * sr);
  const minRun = Math.round((p.minSilenceMs / 1000) * sr);
  const n = audio[0].length;
  const silent = (i: number) => audio.every((c) => Math.abs(c[i]) < thr);
  const keep: boolean[] = new Array(n).fill(true);
  for (let i = 0; i < n; ) {
    if (!silent(i)) {
      i++;
      continue;
    }
    let j = i;
    while (j < n && silent(j)) j++;
    const len = j - i;
    const leading = i === 0, trailing = j === n;
    const drop = (from: number, to: number) => keep.fill(false, from, to);
    if (leading && trailing) drop(i, j);
    else if (leading && p.mode !== 'trailing') drop(i, j - Math.min(len, pad));
    else if (trailing && p.mode !== 'leading') drop(i + Math.min(len, pad), j);
    else if (!leading && !trailing && p.mode === 'all' && len >= minRun) drop(i + Math.min(len, Math.ceil(pad / 2)), j - Math.floor(pad / 2));
    i = j;
  }
  return audio.map((c) => Array.from(c).filter((_, i) => keep[i]));
}

/** Sound whose every sample is distinct (so a frame out of place shows), and silence just below the threshold. */
function scene(parts: [kind: 'sound' | 'silence' | 'edge', frames: number][], channels: number, thr: number): Float64Array[] {
  const n = parts.reduce((a, [, f]) => a + f, 0);
  const out = Array.from({ length: channels }, () => new Float64Array(n));
  let at = 0, serial = 0;
  for (const [kind, frames] of parts) {
    for (let i = 0; i < frames; i++, at++, serial++) {
      for (let c = 0; c < channels; c++) {
        const sign = (serial + c) % 2 ? -1 : 1;
        // 'silence' sits just below the threshold; 'edge' frames sit exactly at ±threshold (which is sound).
        out[c][at] = kind === 'sound' ? sign * (0.2 + ((serial * 7 + c) % 1000) / 2000) : kind === 'edge' ? sign * thr : sign * thr * 0.999;
      }
    }
  }
  return out;
}

async function runSilenceRemoval(audio: Float64Array[], p: SrParams, sizes: number[], sr = SR) {
  const fx = silenceRemoval.create(p, { format: { sampleRate: sr, channels: audio.length }, tempDir: dir }) as StreamTransform;
  return collect(fx.transform(blocksOf(audio, sizes)), audio.length);
}

describe('silence_removal against the whole-array model', () => {
  const base = { thresholdDb: -40, minSilenceMs: 50, padMs: 25 }; // at 8 kHz: minRun 400 frames, pad 200 frames
  const thr = 10 ** (base.thresholdDb / 20);
  const scenes: Record<string, [('sound' | 'silence' | 'edge'), number][]> = {
    // leading 1000, internal runs shorter than, exactly at and longer than minRun, trailing 900
    'runs of every kind': [['silence', 1000], ['sound', 300], ['silence', 399], ['sound', 250], ['silence', 400], ['sound', 123], ['silence', 2500], ['sound', 77], ['silence', 900]],
    // runs shorter than the pad: what is kept cannot exceed the run
    'runs shorter than the pad': [['silence', 150], ['sound', 40], ['silence', 450], ['sound', 10], ['silence', 60]],
    // frames exactly at ±threshold count as sound: the runs are cut in two
    'frames at the threshold': [['silence', 700], ['edge', 1], ['silence', 700], ['sound', 100], ['silence', 300], ['edge', 2], ['silence', 300], ['sound', 50], ['silence', 500], ['edge', 1]],
    'sound only': [['sound', 3000]],
    'silence only': [['silence', 3000]],
  };
  for (const [name, parts] of Object.entries(scenes)) {
    for (const mode of ['leading', 'trailing', 'both', 'all'] as const) {
      for (const channels of [1, 2]) {
        it(`${name}, mode ${mode}, ${channels} channel(s): exactly the model, in any block size`, async () => {
          const audio = scene(parts, channels, thr);
          const p = { ...base, mode };
          const want = modelSilenceRemoval(audio, p, SR);
          for (const sizes of [[1], [7, 1, 333], [4096]]) {
            const { audio: got, blocks } = await runSilenceRemoval(audio, p, sizes);
            expect(got[0].length, `blocks ${sizes}`).toBe(want[0].length);
            expect(got).toEqual(want);
            expect(blocks.every((b) => b[0].length > 0), 'no empty blocks').toBe(true);
          }
        });
      }
    }
  }

  it('a frame is silent only when every channel is: one loud channel keeps the run', async () => {
    const audio = scene([['sound', 100], ['silence', 1000], ['sound', 100]], 2, thr);
    for (let i = 100; i < 1100; i += 97) audio[1][i] = 0.5; // the right channel speaks now and then
    const p = { ...base, mode: 'all' as const };
    const { audio: got } = await runSilenceRemoval(audio, p, [256]);
    expect(got).toEqual(modelSilenceRemoval(audio, p, SR));
    expect(got[0].length).toBe(1200); // every gap (at most 96 frames) is shorter than minRun: nothing removed
  });

  it('an empty block in the stream changes nothing and yields no empty block', async () => {
    const audio = scene([['silence', 500], ['sound', 200], ['silence', 500]], 1, thr);
    async function* withEmpty(): AsyncIterable<AudioBlock> {
      yield [new Float32Array(0)];
      for await (const b of blocksOf(audio, [300])) {
        yield b;
        yield [new Float32Array(0)];
      }
    }
    const p = { ...base, mode: 'both' as const };
    const fx = silenceRemoval.create(p, { format: { sampleRate: SR, channels: 1 }, tempDir: dir }) as StreamTransform;
    const { audio: got, blocks } = await collect(fx.transform(withEmpty()), 1);
    expect(got).toEqual(modelSilenceRemoval(audio, p, SR));
    expect(blocks.every((b) => b[0].length > 0)).toBe(true);
  });

  describe('a silent run longer than the memory cap (2^20 frames) is spilled to disk', () => {
    // 48 kHz stereo: an internal run of 1.2 M frames (25 s), kept whole (mode leading) or shrunk (mode all, 5 s pad)
    const sr = 48_000;
    const big = [['sound', 1000], ['silence', 1_200_000], ['sound', 1000]] as [('sound' | 'silence'), number][];
    for (const mode of ['leading', 'all'] as const) {
      it(`mode ${mode}: the output is exactly the model and the spill file is gone afterwards`, async () => {
        const audio = scene(big, 2, thr);
        const p = { ...base, mode, minSilenceMs: 1000, padMs: 5000 };
        const { audio: got } = await runSilenceRemoval(audio, p, [65536, 4096], sr);
        const want = modelSilenceRemoval(audio, p, sr);
        expect(got[0].length).toBe(want[0].length);
        // Spilled as float32: the silence comes back rounded to float32, the sound (never spilled) exactly.
        const f32 = want.map((c) => c.map((v, i) => (i >= 1000 && i < c.length - 1000 ? Math.fround(v) : v)));
        expect(got).toEqual(f32);
        expect(await readdir(dir)).toEqual([]);
      }, 60_000);
    }

    it('a consumer that stops mid-run leaves no spill file behind', async () => {
      const audio = scene(big, 1, thr);
      const p = { ...base, mode: 'leading' as const, minSilenceMs: 1000, padMs: 5000 };
      const fx = silenceRemoval.create(p, { format: { sampleRate: sr, channels: 1 }, tempDir: dir }) as StreamTransform;
      let seen = 0;
      for await (const b of fx.transform(blocksOf(audio, [65536]))) {
        seen += b[0].length;
        if (seen > 200_000) break; // inside the spilled run's output
      }
      expect(seen).toBeGreaterThan(200_000);
      expect(await readdir(dir)).toEqual([]);
    }, 60_000);
  });
});

describe('FrameSpill', () => {
  const stereo = (n: number, from = 0) => [Float32Array.from({ length: n }, (_, i) => from + i), Float32Array.from({ length: n }, (_, i) => -(from + i) - 0.5)];

  it('reads back what was appended, any span, in stereo', async () => {
    const s = await FrameSpill.create(dir, 2);
    await s.append(stereo(1000));
    await s.append([new Float32Array(0), new Float32Array(0)]);
    await s.append(stereo(3000, 1000));
    expect(s.frames).toBe(4000);
    const [l, r] = await s.read(950, 2100);
    expect(Array.from(l)).toEqual(Array.from({ length: 2100 }, (_, i) => 950 + i));
    expect(Array.from(r)).toEqual(Array.from({ length: 2100 }, (_, i) => -(950 + i) - 0.5));
    // a smaller read after a larger one (its buffers are reused) and reads in both orders
    expect(Array.from((await s.read(3990, 10))[1])).toEqual(Array.from({ length: 10 }, (_, i) => -(3990 + i) - 0.5));
    expect(Array.from((await s.read(0, 3))[0])).toEqual([0, 1, 2]);
    await s.dispose();
  });

  it('fills `into` when it is long enough (exactly long enough included) and makes new arrays otherwise', async () => {
    const s = await FrameSpill.create(dir, 2);
    await s.append(stereo(100));
    const into = [new Float32Array(40), new Float32Array(40)];
    const exact = await s.read(10, 40, into);
    expect(exact[0].buffer).toBe(into[0].buffer);
    expect(exact[1].buffer).toBe(into[1].buffer);
    expect(Array.from(into[0])).toEqual(Array.from({ length: 40 }, (_, i) => 10 + i));
    const shorter = await s.read(10, 20, into);
    expect(shorter[0].buffer).toBe(into[0].buffer);
    expect(shorter[0].length).toBe(20);
    const longer = await s.read(0, 41, into);
    expect(longer[0].buffer).not.toBe(into[0].buffer);
    expect(longer[0][40]).toBe(40);
    await s.dispose();
  });

  it('refuses to read past what was written', async () => {
    const s = await FrameSpill.create(dir, 1);
    await s.append([Float32Array.from([1, 2, 3])]);
    await expect(s.read(2, 2)).rejects.toThrow(/ended early/);
    await s.dispose();
  });

  it('dispose removes its file and directory, and a second dispose is harmless', async () => {
    const s = await FrameSpill.create(dir, 1);
    await s.append([Float32Array.from([1, 2, 3])]);
    expect((await readdir(dir)).length).toBe(1);
    await s.dispose();
    expect(await readdir(dir)).toEqual([]);
    await s.dispose();
  });
});

describe('reverse', () => {
  const CHUNK = 65536;
  it('mirrors a stream of several chunks exactly, in chunk-sized blocks from a ring of three buffers, and cleans up', async () => {
    const n = 3 * CHUNK + 123;
    const audio = [Float64Array.from({ length: n }, (_, i) => i), Float64Array.from({ length: n }, (_, i) => -i)];
    const fx = reverse.create({}, { format: { sampleRate: SR, channels: 2 }, tempDir: dir }) as StreamTransform;
    const blocks: AudioBlock[] = [];
    const out: number[][] = [[], []];
    for await (const b of fx.transform(blocksOf(audio, [5000]))) {
      blocks.push(b);
      b.forEach((c, ch) => out[ch].push(...c));
    }
    expect(out[0]).toEqual(Array.from({ length: n }, (_, i) => n - 1 - i));
    expect(out[1]).toEqual(Array.from({ length: n }, (_, i) => -(n - 1 - i)));
    expect(blocks.map((b) => b[0].length)).toEqual([CHUNK, CHUNK, CHUNK, 123]);
    // memory stays bounded: the fourth block reuses the first one's buffers
    expect(blocks[3][0].buffer).toBe(blocks[0][0].buffer);
    expect(blocks[1][0].buffer).not.toBe(blocks[0][0].buffer);
    expect(await readdir(dir)).toEqual([]);
  });

  it('an empty stream gives no block; a consumer that stops early leaves no spill file', async () => {
    const fx = reverse.create({}, { format: { sampleRate: SR, channels: 1 }, tempDir: dir }) as StreamTransform;
    expect((await collect(fx.transform(blocksOf([new Float64Array(0)], [10])), 1)).blocks).toEqual([]);
    const fx2 = reverse.create({}, { format: { sampleRate: SR, channels: 1 }, tempDir: dir }) as StreamTransform;
    for await (const b of fx2.transform(blocksOf([new Float64Array(2 * CHUNK)], [CHUNK]))) {
      expect(b[0].length).toBe(CHUNK);
      break;
    }
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('trim', () => {
  it('with durationMs 0 keeps everything from startMs to the end, in any block size', async () => {
    const n = 10_000;
    for (const size of [1, 333, 20_000]) {
      const proc = trim.create({ startMs: 100, durationMs: 0 }, { format: { sampleRate: SR, channels: 1 }, tempDir: dir }) as { process(b: AudioBlock): AudioBlock };
      const out: number[] = [];
      for await (const b of blocksOf([Float64Array.from({ length: n }, (_, i) => i)], [size])) out.push(...proc.process(b)[0]);
      expect(out).toEqual(Array.from({ length: n - 800 }, (_, i) => 800 + i));
    }
  });
});
