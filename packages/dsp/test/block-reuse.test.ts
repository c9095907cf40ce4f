import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.ts';
import { decodeFile } from '../src/codecs/decode.ts';
import { readWavInfo, writeWavFile } from '../src/codecs/wav.ts';
import { applyChain, blocksOf, collect } from '../src/engine/chain.ts';
import { effectIds } from '../src/effects/registry.ts';
import type { AudioBlock } from '../src/types.ts';

/**
 * Decoding with `reuseBlocks` hands out blocks from a ring of three buffers. That is only safe if nothing keeps a
 * block after asking for the next one: run every effect (and analysis) both ways and demand identical output.
 */
const dir = mkdtempSync(join(tmpdir(), 'david-reuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SR = 44_100;
let seed = 5;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const n = Math.round(SR * 1.5);
const env = (i: number) => (i > n * 0.4 && i < n * 0.55 ? 0 : 1); // a silent stretch for gates and silence removal
const audio: AudioBlock = [
  Float32Array.from({ length: n }, (_, i) => env(i) * (0.4 * Math.sin((2 * Math.PI * 220 * i) / SR) + 0.1 * rnd())),
  Float32Array.from({ length: n }, (_, i) => env(i) * (0.3 * Math.sin((2 * Math.PI * 330 * i) / SR) + 0.1 * rnd())),
];
const path = join(dir, 'in.wav');

async function render(effect: string, reuseBlocks: boolean): Promise<AudioBlock> {
  const decoded = await decodeFile(path, { blockFrames: 1000, reuseBlocks });
  const { stream, format } = applyChain(decoded.stream, [{ effect }], decoded.format, dir);
  return collect(stream, format.channels);
}

describe('decoding into a ring of reused blocks', () => {
  it('gives every effect exactly the output it gives with fresh blocks', async () => {
    await writeWavFile(blocksOf(audio, 4096), { sampleRate: SR, channels: 2 }, path, { float: true });
    expect((await readWavInfo(path)).frames).toBe(n);
    for (const id of effectIds()) {
      const fresh = await render(id, false);
      const reused = await render(id, true);
      expect(reused.length, id).toBe(fresh.length);
      for (let c = 0; c < fresh.length; c++) {
        expect(reused[c].length, id).toBe(fresh[c].length);
        let same = true;
        for (let i = 0; i < fresh[c].length; i++) if (!Object.is(fresh[c][i], reused[c][i])) same = false;
        expect(same, `${id} channel ${c}`).toBe(true);
      }
    }
  }, 120_000);

  it('gives analysis the same result', async () => {
    const a = await analyze((await decodeFile(path, { blockFrames: 1000 })).stream, { sampleRate: SR, channels: 2 });
    const b = await analyze((await decodeFile(path, { blockFrames: 1000, reuseBlocks: true })).stream, { sampleRate: SR, channels: 2 });
    expect(b).toEqual(a);
  });

  it('really reuses: keeping blocks by reference shows the ring (which is why it is opt-in)', async () => {
    const kept: AudioBlock[] = [];
    for await (const b of (await decodeFile(path, { blockFrames: 1000, reuseBlocks: true })).stream) kept.push(b);
    expect(kept[0][0].buffer).toBe(kept[3][0].buffer);
  });
});
