import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.ts';
import { decodeFile } from '../src/codecs/decode.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { LoudnessMeter } from '../src/analysis/loudness.ts';
import { blocksOf, renderChain } from '../src/engine/chain.ts';
import { peakBetween, peakRange, TP_CENTER, TP_TAPS } from '../src/engine/true-peak.ts';
import { useSimd } from '../src/engine/wasm/index.ts';
import type { AudioBlock, StreamFormat } from '../src/types.ts';
import { ffmpegEbur128, LMMS_SAMPLES, lmmsSamples } from './references.ts';

/**
 * True peak on real recordings, against ffmpeg's `ebur128=peak=true` (the meter libebur128 and ffmpeg share the
 * method of): the meter within 0.1 dB, and the limiter's output never more than 0.1 dB over its ceiling as ffmpeg
 * measures it. The loops at 22.05 kHz have most of their energy near Nyquist, where inter-sample peaks are largest.
 */
const dir = mkdtempSync(join(tmpdir(), 'david-tp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const recordings = [...lmmsSamples('beats'), join(LMMS_SAMPLES, 'instruments/piano01.ogg'), join(LMMS_SAMPLES, 'misc/applause01.ogg')];

async function load(path: string): Promise<{ audio: AudioBlock; format: StreamFormat }> {
  const d = await decodeFile(path);
  const parts: AudioBlock[] = [];
  for await (const b of d.stream) parts.push(b.map((c) => c.slice()));
  const n = parts.reduce((s, b) => s + b[0].length, 0);
  const audio = Array.from({ length: d.format.channels }, () => new Float32Array(n));
  let o = 0;
  for (const b of parts) {
    for (let c = 0; c < audio.length; c++) audio[c].set(b[c], o);
    o += b[0].length;
  }
  return { audio, format: d.format };
}

async function ffmpegTruePeak(audio: AudioBlock, format: StreamFormat, name: string) {
  const path = join(dir, `${name}.wav`);
  await writeWavFile(blocksOf(audio, 8192), format, path, { bitDepth: 32, float: true });
  return ffmpegEbur128(path, dir).TP;
}

describe('true peak on real recordings (LMMS loops at 22.05 and 44.1 kHz), against ffmpeg', () => {
  it(`reads within 0.1 dB of ffmpeg on ${recordings.length} recordings`, async () => {
    expect(recordings.length).toBeGreaterThanOrEqual(15);
    for (const path of recordings) {
      const { audio, format } = await load(path);
      const ours = (await analyze(blocksOf(audio, 4096), format)).true_peak_dbtp!;
      const ref = await ffmpegTruePeak(audio, format, 'raw');
      expect(Math.abs(ours - ref), `${path}: ours ${ours.toFixed(2)}, ffmpeg ${ref.toFixed(2)}`).toBeLessThanOrEqual(0.1);
    }
  }, 120_000);

  it('the limiter holds −1 dBTP within 0.1 dB as ffmpeg measures it, 12 dB into the limit, and our meter agrees', async () => {
    let worst = -Infinity;
    for (const path of recordings) {
      const { audio, format } = await load(path);
      const hot = audio.map((c) => c.map((v) => v * 4));
      const out = (await renderChain(hot, [{ effect: 'limiter', parameters: { ceilingDb: -1 } }], format, { blockSize: 1000 })).audio;
      const ref = await ffmpegTruePeak(out, format, 'limited');
      const ours = (await analyze(blocksOf(out, 4096), format)).true_peak_dbtp;
      expect(ref, `${path}: ffmpeg ${ref.toFixed(2)}`).toBeLessThanOrEqual(-1 + 0.1);
      expect(ours, path).toBeLessThanOrEqual(-1 + 0.01);
      expect(ref, `${path}: limited, not just turned down`).toBeGreaterThan(-1.5);
      worst = Math.max(worst, ref);
    }
    expect(worst).toBeGreaterThan(-1.05); // the ceiling is reached, not avoided by a margin
  }, 120_000);

  it('a tone at fs/4 (crests between samples) limited to −6 dBTP measures ≤ −5.9 in ffmpeg', async () => {
    const format = { sampleRate: 48_000, channels: 1 };
    // Phase π/4: every sample sits at ±0.707 of the crest, so the sample peak is 3 dB below the true peak. 50 ms
    // linear fades: an abrupt start would ring (Gibbs) above the steady crest in any band-limited reconstruction.
    const n = 48_000 * 3;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin((Math.PI / 2) * i + Math.PI / 4) * Math.min(1, i / 2400, (n - i) / 2400));
    expect(await ffmpegTruePeak([x], format, 'tone-in')).toBeCloseTo(0, 1); // the reference sees the crests
    const out = (await renderChain([x], [{ effect: 'limiter', parameters: { ceilingDb: -6 } }], format, { blockSize: 777 })).audio;
    const ref = await ffmpegTruePeak(out, format, 'tone');
    expect(ref).toBeLessThanOrEqual(-6 + 0.1);
    expect(ref).toBeGreaterThan(-6.3);
  }, 60_000);
});

describe('true peak at the edges of a stream', () => {
  it('reads the same for a burst at the very end as for the same burst reversed at the very start', async () => {
    // fs/4 at phase π/4: crests fall between samples, 3 dB above the sample peak. 12 samples of it end the stream.
    const format = { sampleRate: 48_000, channels: 1 };
    const x = new Float32Array(4800);
    for (let i = x.length - 12; i < x.length; i++) x[i] = 0.5 * Math.sin((Math.PI / 2) * i + Math.PI / 4);
    const reversed = x.slice().reverse();
    const atEnd = (await analyze(blocksOf([x], 1000), format)).true_peak_dbtp!;
    const atStart = (await analyze(blocksOf([reversed], 1000), format)).true_peak_dbtp!;
    const samplePeak = 20 * Math.log10(0.5 * Math.SQRT1_2);
    // The interpolation is symmetric in time, so both readings must agree, and both must see above the samples.
    expect(Math.abs(atEnd - atStart)).toBeLessThan(0.01);
    expect(atStart - samplePeak).toBeGreaterThan(1);
    expect(atEnd - samplePeak).toBeGreaterThan(1);
  });
});

describe('true peak: what the meter skips cannot matter', () => {
  it('equals peakBetween at every position of the whole stream (silence before and after), for any block size', async () => {
    // The meter skips chunks that cannot beat the running maximum and converts only the samples it evaluates; the
    // reference evaluates every position of the zero-padded stream, in order, with the same running maximum.
    const format = { sampleRate: 48_000, channels: 2 };
    let s = 12345;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const n = 50_000;
    // Quiet noise with loud bursts at near-Nyquist phases here and there, so that some chunks are evaluated.
    const chans = [0, 1].map(() => Float32Array.from({ length: n }, (_, i) => (rnd() - 0.5) * 0.05 + (i % 9_001 < 12 ? 0.7 * Math.sin((Math.PI / 2) * i + Math.PI / 4) * (1 + rnd() * 0.2) : 0)));
    const H = TP_TAPS - 1;
    let want = 0;
    for (const x of chans) {
      const work = new Float64Array(n + 2 * H);
      work.set(x, H);
      for (let i = 0; i < n + H; i++) want = Math.max(want, Math.abs(work[i + H]), peakBetween(work, i, want));
    }
    for (const blockSize of [1, 31, 32, 1000, 4096, n]) {
      const meter = new LoudnessMeter(format, { truePeak: true });
      for await (const b of blocksOf(chans, blockSize)) meter.push(b);
      expect(meter.summary().true_peak_dbtp, `blocks of ${blockSize}`).toBe(20 * Math.log10(want));
    }
  });

  it('peakRange evaluates exactly the positions [start, end) and carries the running maximum, kernels on and off', () => {
    // A spike covered only by position `end` (its two samples are work[end + TP_CENTER] and the next), and one only
    // by position start − 1: neither may count; the quiet samples between must, each position as peakBetween says.
    let s = 99;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const start = 200, end = 1200;
    const work = Float64Array.from({ length: end + 2 * TP_TAPS }, () => (rnd() - 0.5) * 0.1);
    work[end + TP_CENTER + 1] = 0.9;
    work[start - 1 + TP_CENTER] = -0.8;
    let want = 0;
    for (let i = start; i < end; i++) want = Math.max(want, peakBetween(work, i, want));
    expect(want).toBeLessThan(0.5); // the spikes' ringing reaches inside, the spikes do not
    for (const on of [true, false]) {
      useSimd(on);
      try {
        expect(peakRange(work, start, end, 0), `kernels ${on ? 'on' : 'off'}`).toBe(want);
        expect(peakRange(work, start, end, 0.7), `a running maximum above everything in the range, kernels ${on ? 'on' : 'off'}`).toBe(0.7);
        expect(peakRange(work, start, start, 0.01)).toBe(0.01);
      } finally {
        useSimd(true);
      }
    }
  });
});
