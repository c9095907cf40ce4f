import { writeWavFile } from '../src/codecs/wav.ts';
import type { AudioBlock } from '../src/types.ts';

/**
 * A deterministic music-like stereo signal, generated block by block (so an hour never sits in memory):
 * detuned harmonic chords with envelopes, a decaying bass line, a kick, noise hats, slow stereo movement.
 */
export async function writeMusicLike(path: string, seconds: number, sampleRate = 44_100): Promise<void> {
  const total = Math.round(seconds * sampleRate);
  let seed = 12345;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  async function* blocks(): AsyncIterable<AudioBlock> {
    const B = 65536;
    for (let start = 0; start < total; start += B) {
      const n = Math.min(B, total - start);
      const l = new Float32Array(n), r = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const t = (start + i) / sampleRate;
        const bar = Math.floor(t / 2);
        const root = [110, 146.83, 123.47, 164.81][bar % 4];
        const beat = (t * 2) % 1;
        const env = 0.55 + 0.45 * Math.sin(2 * Math.PI * 0.07 * t) ** 2;
        let chord = 0;
        for (const [mul, amp] of [[2, 0.5], [2.52, 0.35], [3, 0.3], [4, 0.2], [6.01, 0.1]] as const) chord += amp * Math.sin(2 * Math.PI * root * mul * t);
        const bass = 0.5 * Math.sin(2 * Math.PI * root * 0.5 * t) * Math.exp(-beat * 2.5);
        const kick = Math.sin(2 * Math.PI * (45 + 60 * Math.exp(-beat * 30)) * beat) * Math.exp(-beat * 12);
        const hat = rnd() * Math.exp(-((t * 4) % 1) * 40) * 0.12;
        const pan = 0.5 + 0.3 * Math.sin(2 * Math.PI * 0.05 * t);
        const v = 0.22 * env * chord + 0.25 * bass + 0.3 * kick;
        l[i] = v * (1.2 - pan) + hat * pan;
        r[i] = v * (0.2 + pan) + hat * (1 - pan);
      }
      yield [l, r];
    }
  }
  await writeWavFile(blocks(), { sampleRate, channels: 2 }, path, { bitDepth: 16 });
}
