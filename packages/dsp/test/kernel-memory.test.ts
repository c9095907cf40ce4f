import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeFile } from '../src/codecs/decode.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { applyChain, blocksOf } from '../src/engine/chain.ts';
import { bytesCopiedToKernels, f32ToS16Mono, kernelBytes, kernelFloats, planarToS16Stereo, releaseKernelMemory, s16MonoToF32, s16StereoToPlanar, scaleInPlace, useSimd } from '../src/engine/wasm/index.ts';
import type { AudioBlock, ChainStep } from '../src/types.ts';

// Arrays in the kernels' own memory: the decoder reads the file into it and converts there, the effects' kernels
// work on the blocks where they are, and the encoder converts from there into the bytes it writes. Nothing crosses
// between JavaScript and the kernels; the output is the same as with ordinary arrays.

const dir = mkdtempSync(join(tmpdir(), 'david-kmem-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => useSimd(true));

const inKernels = (x: ArrayBufferView, y: ArrayBufferView) => x.buffer === y.buffer;

describe('arrays in the kernels’ memory', () => {
  it('are zeroed floats or bytes in the kernels’ memory, never overlapping, and space handed back is given again (zeroed)', () => {
    const a = kernelFloats(1000)!, b = kernelBytes(3001)!, c = kernelFloats(17)!;
    for (const x of [a, b, c]) expect(inKernels(x, a)).toBe(true);
    expect(a.length).toBe(1000);
    expect(b.length).toBe(3001);
    expect(a.every((v) => v === 0) && c.every((v) => v === 0)).toBe(true);
    const spans = [a, b, c].map((x) => [x.byteOffset, x.byteOffset + x.byteLength]).sort((p, q) => p[0] - q[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThanOrEqual(spans[i - 1][1]);
    for (const x of [a, b, c]) expect(x.byteOffset % 64).toBe(0);
    a.fill(7);
    releaseKernelMemory(a);
    const again = kernelFloats(1000)!;
    expect(again.byteOffset).toBe(a.byteOffset);
    expect(again.every((v) => v === 0)).toBe(true);
    releaseKernelMemory(a); // already handed back: must not free `again`
    const other = kernelFloats(1000)!;
    expect(other.byteOffset).not.toBe(again.byteOffset);
    releaseKernelMemory(new Float32Array(4)); // not one of them: ignored
    for (const x of [again, b, c, other]) releaseKernelMemory(x);
  });

  it('hand back exactly the array given back: not its neighbour, not one from a memory since renewed, nothing for 0 elements', () => {
    expect(kernelFloats(0)).toBeNull();
    expect(kernelBytes(0)).toBeNull();
    const a = kernelFloats(100)!, b = kernelFloats(100)!;
    releaseKernelMemory(b);
    const c = kernelFloats(100)!; // b's place, not a's
    expect(c.byteOffset).toBe(b.byteOffset);
    expect(kernelFloats(100)!.byteOffset).not.toBe(a.byteOffset);
    useSimd(true); // a new memory, an empty arena
    const fresh = kernelFloats(100)!;
    expect(fresh.byteOffset).toBe(a.byteOffset); // the first place of the new memory
    releaseKernelMemory(a); // of the old memory: must not free `fresh`
    expect(kernelFloats(100)!.byteOffset).not.toBe(fresh.byteOffset);
  });

  it('are not given when the kernels are off, or when the memory is full', () => {
    useSimd(false);
    expect(kernelFloats(16)).toBeNull();
    expect(kernelBytes(16)).toBeNull();
    useSimd(true);
    // A fresh memory (useSimd renews it) has 8 MiB for them: two arrays of 3 MiB, and then 2 MiB in smaller pieces.
    const taken: Float32Array[] = [];
    for (let x = kernelFloats(3 << 18); x; x = kernelFloats(3 << 18)) taken.push(x);
    expect(taken.length).toBe(2);
    const rest = kernelBytes(2 << 20);
    expect(rest).not.toBeNull();
    expect(kernelBytes(64)).toBeNull();
    for (const x of [...taken, rest!]) releaseKernelMemory(x);
    expect(kernelFloats(2 << 20)).not.toBeNull();
  });
});

describe('what crosses between JavaScript and the kernels', () => {
  it('is counted exactly: each array that lives elsewhere is copied in or out once, one that lives there not at all', () => {
    const frames = 40_000; // three pieces of at most 16,384 frames
    const bytes = new Uint8Array(frames * 4).map((_, i) => (i * 7) & 255);
    const count = (fn: () => void) => {
      const before = bytesCopiedToKernels();
      fn();
      return bytesCopiedToKernels() - before;
    };
    const jl = new Float32Array(frames), jr = new Float32Array(frames);
    const kl = kernelFloats(frames)!, kr = kernelFloats(frames)!, kb = kernelBytes(frames * 4)!;
    kb.set(bytes);
    // 16-bit stereo bytes in (4 a frame), two channels of floats out (8 a frame).
    expect(count(() => s16StereoToPlanar(bytes, jl, jr, frames))).toBe(frames * 12);
    expect(count(() => s16StereoToPlanar(kb, jl, jr, frames))).toBe(frames * 8);
    expect(count(() => s16StereoToPlanar(bytes, kl, kr, frames))).toBe(frames * 4);
    expect(count(() => s16StereoToPlanar(kb, kl, kr, frames))).toBe(0);
    expect(Buffer.from(kl.buffer, kl.byteOffset, kl.byteLength).equals(Buffer.from(jl.buffer))).toBe(true);
    // The gain: each channel in and out.
    expect(count(() => scaleInPlace(jl, 0.5))).toBe(frames * 8);
    expect(count(() => scaleInPlace(kl, 0.5))).toBe(0);
    expect(Array.from(kl.subarray(0, 50_000))).toEqual(Array.from(jl.subarray(0, 50_000)));
    // Back to bytes: two channels in, bytes out.
    const out = new Uint8Array(frames * 4), kout = kernelBytes(frames * 4)!;
    expect(count(() => planarToS16Stereo(jl, jr, out, frames))).toBe(frames * 12);
    expect(count(() => planarToS16Stereo(kl, kr, kout, frames))).toBe(0);
    expect(Buffer.from(kout.buffer, kout.byteOffset, kout.byteLength).equals(Buffer.from(out.buffer))).toBe(true);
    // Mono 16-bit: 2 bytes a sample each way, 4 for the float.
    expect(count(() => s16MonoToF32(bytes, jl, frames))).toBe(frames * 6);
    expect(count(() => s16MonoToF32(kb, kl, frames))).toBe(0);
    expect(Buffer.from(kl.buffer, kl.byteOffset, kl.byteLength).equals(Buffer.from(jl.buffer))).toBe(true);
    expect(count(() => f32ToS16Mono(jl, out, frames))).toBe(frames * 6);
    expect(count(() => f32ToS16Mono(kl, kout, frames))).toBe(0);
    for (const x of [kl, kr, kb, kout]) releaseKernelMemory(x);
  });
});

/** A test signal with the values that break conversions: ties, clipping, silence, full scale. */
function signal(channels: number, frames: number): AudioBlock {
  let s = 11 + channels;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Array.from({ length: channels }, (_, c) =>
    Float32Array.from({ length: frames }, (_, i) => {
      const r = rnd();
      if (r < 0.1) return [1, -1, 0, 0.5 / 32768, -1.5 / 32768][Math.floor(rnd() * 5)];
      return (rnd() * 2 - 1) * (0.4 + 0.2 * c) * Math.sin(i / 50);
    }),
  );
}

/** Decode (into the ring the CLI uses), run `steps`, encode; the written file's bytes and what crossed meanwhile. */
async function run(input: string, steps: ChainStep[], opts: { float?: boolean }, blockFrames = 4096) {
  const before = bytesCopiedToKernels();
  const decoded = await decodeFile(input, { reuseBlocks: true, blockFrames });
  const { stream, format } = applyChain(decoded.stream, steps, decoded.format, dir);
  const out = join(dir, 'out.wav');
  await writeWavFile(stream, format, out, opts);
  return { bytes: readFileSync(out), crossed: bytesCopiedToKernels() - before };
}

describe('a WAV through the effects in the kernels’ memory', () => {
  const cases = [
    { name: '16-bit stereo', channels: 2, float: false },
    { name: 'float stereo', channels: 2, float: true },
    { name: '16-bit mono', channels: 1, float: false },
  ];
  for (const { name, channels, float } of cases) {
    it(`copies nothing between JavaScript and the kernels for gain on ${name}, and writes the bytes the JavaScript writes`, async () => {
      const frames = 100_003; // not a multiple of 4 or of the block: the JavaScript does the last frames
      const input = join(dir, `in-${channels}-${float}.wav`);
      await writeWavFile(blocksOf(signal(channels, frames), 8192), { sampleRate: 44_100, channels }, input, { float });
      const steps: ChainStep[] = [{ effect: 'gain', parameters: { gainDb: -6 } }, { effect: 'gain', parameters: { gainDb: 2.5 } }];
      const on = await run(input, steps, { float });
      const large = await run(input, steps, { float }, 40_000); // the CLI's blocks are 32,768: past one kernel piece
      useSimd(false);
      const off = await run(input, steps, { float });
      expect(on.crossed).toBe(0);
      expect(large.crossed).toBe(0);
      expect(large.bytes.equals(on.bytes)).toBe(true);
      expect(off.crossed).toBe(0); // nothing to copy to kernels that are off
      expect(on.bytes.equals(off.bytes)).toBe(true);
      expect(on.bytes.length).toBe((float ? 68 : 44) + frames * channels * (float ? 4 : 2)); // every frame, none twice
    });
  }

  it('copies only the echo’s tail for the delay (its lines live there too), and writes the bytes the JavaScript writes', async () => {
    const frames = 44_100;
    const input = join(dir, 'in-delay.wav');
    await writeWavFile(blocksOf(signal(2, frames), 8192), { sampleRate: 44_100, channels: 2 }, input);
    const steps: ChainStep[] = [{ effect: 'delay', parameters: { timeMs: 100, feedback: 0.5, mix: 0.4 } }];
    const on = await run(input, steps, {});
    useSimd(false);
    const off = await run(input, steps, {});
    expect(on.bytes.equals(off.bytes)).toBe(true);
    const tailFrames = (on.bytes.length - 44) / 4 - frames;
    expect(tailFrames).toBeGreaterThan(0);
    // The tail's blocks are made by the effect (ordinary arrays): the echo copies them in and out, the encoder in.
    expect(on.crossed).toBeGreaterThan(0);
    expect(on.crossed).toBeLessThanOrEqual(tailFrames * 2 * 4 * 3);
  });

  it('copies nothing for the equalizer, the noise gate, chorus and flanger on stereo, and writes the bytes the JavaScript writes', async () => {
    const frames = 60_001;
    const input = join(dir, 'in-effects.wav');
    await writeWavFile(blocksOf(signal(2, frames), 8192), { sampleRate: 44_100, channels: 2 }, input);
    const chains: ChainStep[][] = [
      [{ effect: 'equalizer', parameters: { bands: [{ type: 'lowshelf', frequencyHz: 100, gainDb: 3, q: 0.707 }, { type: 'peaking', frequencyHz: 1000, gainDb: 6, q: 1 }, { type: 'highshelf', frequencyHz: 8000, gainDb: -3, q: 0.707 }, { type: 'highpass', frequencyHz: 40, q: 0.707 }] } }],
      [{ effect: 'noise_gate', parameters: { thresholdDb: -20 } }],
      [{ effect: 'chorus' }],
      [{ effect: 'flanger' }],
    ];
    for (const steps of chains) {
      useSimd(true);
      const on = await run(input, steps, {});
      useSimd(false);
      const off = await run(input, steps, {});
      expect(on.crossed, steps[0].effect).toBe(0);
      expect(on.bytes.equals(off.bytes), steps[0].effect).toBe(true);
    }
  });
});
