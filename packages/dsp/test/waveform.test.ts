import WaveformData from 'waveform-data';
import { describe, expect, it } from 'vitest';
import { PeaksBuilder, waveformDat, waveformPeaks } from '../src/analysis/waveform.ts';
import { blocksOf } from '../src/engine/chain.ts';

const SR = 48_000;

/** audiowaveform's 8-bit peaks, written out here: 16-bit samples, min/max per pixel, ÷256 truncated toward zero. */
function reference(channels: Float32Array[], spp: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < channels[0].length; p += spp) {
    for (const ch of channels) {
      const px = Array.from(ch.subarray(p, p + spp), (x) => Math.max(-32768, Math.min(32767, Math.round(x * 32768))));
      out.push(Math.trunc(Math.min(...px) / 256) || 0, Math.trunc(Math.max(...px) / 256) || 0);
    }
  }
  return out;
}

/** A noisy, decaying signal: every pixel different. */
function signal(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, (_, i) => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return (s / 2 ** 31 - 0.5) * 1.9 * Math.exp(-i / n);
  });
}

describe('waveform peaks', () => {
  it('truncate toward zero as audiowaveform does, where rounding or flooring would differ', async () => {
    // −100/32768 is −0.39 in 8 bits: audiowaveform writes 0 (floor would say −1); 300/32768 is 1.17: 1.
    const x = Float32Array.from([-100 / 32768, 300 / 32768, -300 / 32768, 1, -1]);
    const w = await waveformPeaks(blocksOf([x], 2), { sampleRate: SR, channels: 1 }, { samplesPerPixel: 2 });
    expect(w.data).toEqual(reference([x], 2));
    // floor would give −1, 1, −2: audiowaveform (and we) give 0, 1, −1.
    expect(w.data).toEqual([0, 1, -1, 127, -128, -128]);
  });

  it('coarsen a long input exactly: past maxPixels the zoom doubles, and the result equals peaks drawn at that zoom', async () => {
    const ch = [signal(100_000, 1), signal(100_000, 7)];
    const b = new PeaksBuilder({ sampleRate: SR, channels: 2 }, { samplesPerPixel: 256, maxPixels: 100 });
    for await (const block of blocksOf(ch, 4096)) b.push(block);
    const w = b.finish();
    // 100,000 frames would be 391 pixels at 256: the zoom doubles on reaching 100 pixels, twice (at 25,600 and
    // 51,200 frames), ending at 1024 samples per pixel: 98 pixels.
    expect([w.samples_per_pixel, w.length]).toEqual([1024, 98]);
    expect(w.data).toEqual(reference(ch, w.samples_per_pixel));
  });

  it('write audiowaveform’s binary .dat, which waveform-data reads back as the same peaks', async () => {
    const ch = [signal(20_000, 3), signal(20_000, 5)];
    for (const bits of [8, 16] as const) {
      const w = await waveformPeaks(blocksOf(ch, 1000), { sampleRate: SR, channels: 2 }, { samplesPerPixel: 300, bits });
      const dat = waveformDat(w);
      const fromDat = WaveformData.create(dat.buffer.slice(dat.byteOffset, dat.byteOffset + dat.byteLength) as ArrayBuffer);
      const fromJson = WaveformData.create(w);
      expect([fromDat.channels, fromDat.sample_rate, fromDat.scale, fromDat.length, fromDat.bits]).toEqual([2, SR, 300, Math.ceil(20_000 / 300), bits]);
      for (const c of [0, 1]) {
        expect(fromDat.channel(c).min_array()).toEqual(fromJson.channel(c).min_array());
        expect(fromDat.channel(c).max_array()).toEqual(fromJson.channel(c).max_array());
      }
    }
  });
});
