import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeFile } from '../src/analysis/analyze.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { blocksOf } from '../src/engine/chain.ts';

const dir = mkdtempSync(join(tmpdir(), 'david-deadline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('analysis with a deadline', () => {
  it('gives up at its deadline with Analysis::TimedOut, and finishes when there is time', async () => {
    const path = join(dir, 'long.wav');
    const x = Float32Array.from({ length: 8000 * 600 }, (_, i) => 0.1 * Math.sin(i / 10)); // ten minutes at 8 kHz
    await writeWavFile(blocksOf([x], 4096), { sampleRate: 8000, channels: 1 }, path, { bitDepth: 16 });
    await expect(analyzeFile(path, { deadline: Date.now() - 1 })).rejects.toMatchObject({ code: 'Analysis::TimedOut' });
    await expect(analyzeFile(path, { deadline: Date.now() + 60_000 })).resolves.toMatchObject({ duration_s: 600 });
  });
});
