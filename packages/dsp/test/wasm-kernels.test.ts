import { afterEach, describe, expect, it } from 'vitest';
import { deinterleave, interleave } from '../src/codecs/wav.ts';
import { gain } from '../src/effects/gain.ts';
import { peakBetween, peakRange } from '../src/engine/true-peak.ts';
import { analyze } from '../src/analysis/analyze.ts';
import { LoudnessMeter } from '../src/analysis/loudness.ts';
import { blocksOf, renderChain } from '../src/engine/chain.ts';
import { createResampler } from '../src/engine/resampler.ts';
import { SINE, TABLE_SIZE } from '../src/engine/util.ts';
import { biquadStereo, channelStats, chunkAbsMax32, compressorRun, echoSegment, fracOverlapAdd, gateBlock, kFilterStereo, mixStereo, modDelay, resampleFine, s16StereoToPlanar, simdEnabled, truePeakRange, useSimd, wsolaSearch } from '../src/engine/wasm/index.ts';
import type { AudioBlock, BlockProcessor } from '../src/types.ts';

// The SIMD kernels must give what the JavaScript loops give, bit for bit: every path below runs twice, kernels off
// then on, on the same input, and the outputs' bytes are compared. The inputs hold what breaks conversions: exact
// half-way values (x × 32768 = n + 0.5, positive and negative), values just beside them, clipping beyond ±1, ±∞,
// NaN, −0, denormals, and a length that is not a multiple of 4 so the JavaScript tail runs after the kernel.

afterEach(() => useSimd(true));

/** Deterministic samples with the awkward values spread through them. */
function samples(n: number, seed: number): Float32Array {
  const x = new Float32Array(n);
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const special = [0.5 / 32768, -0.5 / 32768, 1.5 / 32768, -1.5 / 32768, 32766.5 / 32768, -32767.5 / 32768, 1, -1, 1.0000001, -1.0000001, 3, -3, Infinity, -Infinity, NaN, -0, 1e-40, -1e-40, Math.fround(0.49999997 / 32768)];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (r < 0.1) x[i] = special[Math.floor(rnd() * special.length)];
    else if (r < 0.3) x[i] = (Math.floor(rnd() * 65536) - 32768 + 0.5) / 32768; // exact ties
    else x[i] = (rnd() * 2 - 1) * 1.2;
  }
  return x;
}

const bytesOf = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Float samples compared as values: equal, or both NaN (a NaN's payload bits are not kept even by the JavaScript
 * loops alone: the interpreter and the optimized code of the same loop copy them differently), and −0 is not 0.
 */
function sameFloats(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  const x = new Float32Array(a.buffer, a.byteOffset, a.length / 4), y = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
  for (let i = 0; i < x.length; i++) if (!Object.is(x[i], y[i])) return false;
  return true;
}

function bothWays<T extends ArrayBufferView>(run: () => T): { js: Buffer; simd: Buffer } {
  useSimd(false);
  const js = Buffer.from(bytesOf(run()));
  useSimd(true);
  const simd = Buffer.from(bytesOf(run()));
  return { js, simd };
}

/** `run` with the kernels off, then on (each result as it is: bytes, or an analysis to compare whole). */
async function bothWaysAsync<T>(run: () => Promise<T>): Promise<{ js: T; simd: T }> {
  useSimd(false);
  const js = await run();
  useSimd(true);
  const simd = await run();
  return { js, simd };
}

describe('WebAssembly SIMD kernels', () => {
  it('are on in this Node from the first call (otherwise everything below would compare the JavaScript loops with themselves)', () => {
    const l = new Float32Array(7), r = new Float32Array(7);
    expect(s16StereoToPlanar(new Uint8Array(28), l, r, 7)).toBe(4); // did the first multiple of 4 frames
    expect(simdEnabled()).toBe(true);
  });

  it('are off after useSimd(false) and with DAVID_SIMD=0, and then do nothing', () => {
    const l = new Float32Array(8), r = new Float32Array(8);
    useSimd(false);
    expect(simdEnabled()).toBe(false);
    expect(s16StereoToPlanar(new Uint8Array(32), l, r, 8)).toBe(0);
    process.env.DAVID_SIMD = '0';
    try {
      useSimd(true);
      expect(simdEnabled()).toBe(false);
    } finally {
      delete process.env.DAVID_SIMD;
    }
    useSimd(true);
    expect(simdEnabled()).toBe(true);
  });

  it('run the effects’ kernels when on, and decline (leaving the work to the JavaScript) when off', () => {
    // The off/on comparisons below cannot see a wrapper that never runs its kernel: both sides would be the
    // JavaScript. Each wrapper must say it did the work, and here it must have changed what it was given.
    const x = Float32Array.from({ length: 3000 }, (_, i) => Math.sin(i * 0.05));
    const copy = () => x.slice();
    const calls: [string, () => boolean | number | undefined, () => void][] = [];
    {
      const l = copy(), r = copy();
      calls.push(['biquadStereo', () => biquadStereo(l, r, Float64Array.of(0.5, 0, 0, 0, 0), new Float64Array(4)), () => expect(l[10]).toBeCloseTo(x[10] / 2, 6)]);
    }
    {
      const state = new Float64Array(8), sums = new Float64Array(2);
      calls.push(['kFilterStereo', () => kFilterStereo(x, x, 0, 3000, Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0), state, sums), () => expect(sums[0]).toBeCloseTo(x.reduce((a, v) => a + v * v, 0), 6)]);
    }
    {
      const a = copy(), b = copy();
      const st = { env: 0, isOpen: false, held: 0, gain: 0.5 };
      calls.push(['gateBlock', () => gateBlock(a, b, { open: 2, close: 1, floor: 0.5, up: 1, down: 1, envRel: 0, hold: 0 }, st), () => expect(a[10]).toBeCloseTo(x[10] / 2, 6)]);
    }
    {
      // ratio 1 above a threshold of 0 dB: no reduction, so the gain is the makeup (here 2, a 6 dB makeup's gain)
      const a = copy(), b = copy();
      const p = { att: 0, rel: 0, rmsCoef: 0, makeup: 2, thresholdDb: 0, ratio: 1, kneeDb: 0, kneeStart: 1, rms: false, lnToDb: 20 / Math.LN10 };
      calls.push(['compressorRun', () => compressorRun(a, b, 0, 3000, p, { held: 0, reductionDb: 0, meanSquare: 0 }, null) === 3000, () => expect(b[10]).toBe(Math.fround(x[10] * 2))]);
    }
    {
      const line = new Float32Array(3000).fill(0.25), xs = copy();
      calls.push(['echoSegment', () => echoSegment(line, 0, xs, 0, 3000, 0, 0, 1), () => expect(xs[7]).toBe(0.25)]);
    }
    {
      const line = new Float32Array(200), xs = copy();
      const st = { phase: 0, pos: 0, cell: 0 };
      const p = { whole: 20, frac: 0, depth: 0, cellStep: 0, dry: 1, wet: 0, feedback: 0, channelOffset: 0, voiceOffset: Float64Array.of(0), sine: SINE, sineSize: TABLE_SIZE };
      calls.push(['modDelay', () => modDelay(xs, line, p, st), () => expect(st.pos).toBe(3000 % 100)]);
    }
    {
      const out = [new Float32Array(10)];
      const table = new Float32Array(2 * 4).fill(0.25);
      calls.push(['resampleFine', () => resampleFine({ buf: [copy()], bufStart: 0, K: 1, taps: 3, table, phases: 1, step: 1.5 }, 2, 10, out), () => expect(out[0][3]).not.toBe(0)]);
    }
    {
      const found = new Float64Array(7).fill(-1);
      calls.push(['wsolaSearch', () => wsolaSearch(x, 0, 2000, 1, 100, 300, 400, found), () => expect(found[0]).toBeGreaterThanOrEqual(99)]);
    }
    {
      const mono = new Float64Array(3000), energy = new Float64Array(3000);
      calls.push(['mixStereo', () => mixStereo(x, x, 3000, mono, energy, { last: 0 }), () => expect(mono[10]).toBeCloseTo(x[10], 6)]);
    }
    for (const [name, call, check] of calls) {
      expect(call(), name).toBeTruthy();
      check();
    }
    useSimd(false);
    const st = { env: 0, isOpen: false, held: 0, gain: 1 };
    expect(biquadStereo(copy(), copy(), Float64Array.of(1, 0, 0, 0, 0), new Float64Array(4))).toBe(false);
    expect(gateBlock(copy(), copy(), { open: 2, close: 1, floor: 0.5, up: 1, down: 1, envRel: 0, hold: 0 }, st)).toBe(false);
    expect(echoSegment(new Float32Array(10), 0, copy(), 0, 10, 0, 0, 1)).toBe(false);
    expect(compressorRun(copy(), copy(), 0, 10, { att: 0, rel: 0, rmsCoef: 0, makeup: 2, thresholdDb: 0, ratio: 1, kneeDb: 0, kneeStart: 1, rms: false, lnToDb: 1 }, { held: 0, reductionDb: 0, meanSquare: 0 }, null)).toBe(0);
    expect(mixStereo(x, x, 10, new Float64Array(10), new Float64Array(10), { last: 0 })).toBeUndefined();
  });

  it('read 16-bit samples as k / 32768 exactly, mono and stereo (independent of either path)', () => {
    for (const channels of [1, 2]) {
      const n = 1003 * channels;
      const ints = Int16Array.from({ length: n }, (_, i) => ((i * 7919) % 65_536) - 32_768);
      const planar = deinterleave(new Uint8Array(ints.buffer), { channels, bitsPerSample: 16, sampleType: 'int' });
      let wrong = 0;
      for (let i = 0; i < n; i++) if (planar[i % channels][Math.floor(i / channels)] !== ints[i] / 32768) wrong++;
      expect(wrong, `${channels} ch`).toBe(0);
    }
  });

  for (const channels of [1, 2, 3]) {
    for (const frames of [0, 3, 4, 4099, 40_001]) {
      it(`write 16-bit and float WAV bytes as the JavaScript loops do (${channels} ch, ${frames} frames)`, () => {
        const block: AudioBlock = Array.from({ length: channels }, (_, c) => samples(frames, 7 + c + frames));
        for (const opts of [{ bitDepth: 16 as const }, { float: true }]) {
          const { js, simd } = bothWays(() => interleave(block, opts));
          expect(simd.length).toBe(frames * channels * (opts.float ? 4 : 2));
          expect(opts.float ? sameFloats(simd, js) : simd.equals(js)).toBe(true);
        }
      });

      it(`read 16-bit and float WAV bytes as the JavaScript loops do (${channels} ch, ${frames} frames)`, () => {
        const raw = new Uint8Array(frames * channels * 4);
        let s = 99 + frames;
        for (let i = 0; i < raw.length; i++) raw[i] = (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 24;
        for (const info of [{ channels, bitsPerSample: 16, sampleType: 'int' as const }, { channels, bitsPerSample: 32, sampleType: 'float' as const }]) {
          const bytes = raw.subarray(0, frames * channels * (info.bitsPerSample / 8));
          const { js, simd } = bothWays(() => {
            const planar = deinterleave(bytes, info);
            return new Uint8Array(Buffer.concat(planar.map((c) => bytesOf(c))));
          });
          expect(simd.length).toBe(frames * channels * 4);
          expect(sameFloats(simd, js)).toBe(true);
        }
      });
    }
  }

  it('round half up and saturate when writing 16-bit, as documented (independent of either path)', () => {
    const x = new Float32Array([0.5 / 32768, -0.5 / 32768, 1.5 / 32768, -1.5 / 32768, 2, -2, NaN, Infinity, -Infinity, 32767.4 / 32768, 0.25, -0.25]);
    const expected = [1, 0, 2, -1, 32767, -32768, 0, 32767, -32768, 32767, 8192, -8192];
    for (const on of [false, true]) {
      useSimd(on);
      const out = interleave([x], { bitDepth: 16 });
      expect(Array.from(new Int16Array(out.buffer, out.byteOffset, x.length))).toEqual(expected);
    }
  });

  it('write floor(x × 32768 + 0.5) in double precision, saturated, for the 16 floats either side of every tie and every integer, and tiny values (mono and stereo)', () => {
    // The kernels round in single precision (fewer steps); these are the inputs where that could differ, if anywhere.
    const centres: number[] = [];
    for (let k = -32770; k <= 32770; k++) centres.push((k + 0.5) / 32768, k / 32768);
    for (let e = -149; e <= -14; e++) centres.push(2 ** e, -(2 ** e));
    const x = new Float32Array(centres.length * 33);
    const word = new Int32Array(x.buffer);
    const one = new Float32Array(1), oneWord = new Int32Array(one.buffer);
    centres.forEach((c, i) => {
      one[0] = c;
      for (let d = -16; d <= 16; d++) word[i * 33 + d + 16] = oneWord[0] + d;
    });
    const reference = new Int16Array(x.length);
    for (let i = 0; i < x.length; i++) reference[i] = Number.isNaN(x[i]) ? 0 : Math.max(-32768, Math.min(32767, Math.floor(x[i] * 32768 + 0.5)));
    const half = x.length >> 1;
    for (const on of [false, true]) {
      useSimd(on);
      const mono = interleave([x], { bitDepth: 16 });
      expect(Buffer.compare(mono, bytesOf(reference)), `mono, kernels ${on}`).toBe(0);
      const stereo = new Int16Array(interleave([x.subarray(0, half), x.subarray(half, 2 * half)], { bitDepth: 16 }).buffer);
      let wrong = 0;
      for (let j = 0; j < 2 * half; j++) if (stereo[j] !== reference[(j & 1) * half + (j >> 1)]) wrong++;
      expect(wrong, `stereo, kernels ${on}`).toBe(0);
    }
  });

  it('make the gain effect give the same samples as the JavaScript multiply', () => {
    for (const gainDb of [-6, 0.1, 13.7, -96, 48]) {
      const { js, simd } = bothWays(() => {
        const proc = gain.create({ gainDb } as never, { format: { sampleRate: 48_000, channels: 2 }, tempDir: '/tmp' }) as BlockProcessor;
        const out = proc.process([samples(10_003, 1), samples(10_003, 2)]);
        return new Uint8Array(Buffer.concat(out.map((c) => bytesOf(c))));
      });
      expect(sameFloats(simd, js)).toBe(true);
    }
  });

  it('find the largest |sample| of every whole chunk of 32 (history then block), NaN where one is NaN', () => {
    for (const [h, n] of [[31, 0], [31, 1], [31, 33], [31, 32_768], [0, 70_000], [5, 100_003]]) {
      const head = Float64Array.from(samples(h, 3 + n), (v) => (Number.isNaN(v) ? 0.25 : v));
      const x = samples(n, 11 + n);
      const out = new Float64Array(Math.ceil((h + n) / 32) + 1).fill(-1);
      const done = chunkAbsMax32(head, x, out);
      expect(done).toBe(Math.floor((h + n) / 32));
      const at = (i: number) => (i < h ? head[i] : x[i - h]);
      for (let k = 0; k < done; k++) {
        let m = 0;
        for (let i = k * 32; i < k * 32 + 32; i++) m = Math.max(m, Math.abs(at(i)));
        expect(Object.is(out[k], m), `chunk ${k} of ${h}+${n}`).toBe(true);
      }
      expect(out[done]).toBe(-1); // nothing written past the whole chunks
    }
  });

  it('sum samples and squares in even and odd accumulators and count clips as two JavaScript accumulators do', () => {
    for (const n of [0, 3, 4, 1001, 65_536, 200_003]) {
      const x = Float32Array.from(samples(n, 5 + n), (v) => (Number.isFinite(v) ? v : 0.999_95));
      const st = channelStats(x, 0.9999, { sEven: 0, sOdd: 0, qEven: 0, qOdd: 0, clips: 0, done: 0 });
      expect(st.done).toBe(n & ~3);
      let s0 = 0, s1 = 0, q0 = 0, q1 = 0, clips = 0;
      for (let i = 0; i < st.done; i++) {
        if (i % 2 === 0) (s0 += x[i]), (q0 += x[i] * x[i]);
        else (s1 += x[i]), (q1 += x[i] * x[i]);
        if (Math.abs(x[i]) >= 0.9999) clips++;
      }
      expect([st.sEven, st.sOdd, st.qEven, st.qOdd, st.clips], `${n} samples`).toEqual([s0, s1, q0, q1, clips]);
      expect(clips > 0 || n < 1000).toBe(true); // the clip count is exercised
    }
  });

  it('evaluate a true-peak range as documented, and decline what does not fit (the caller then runs the JavaScript)', () => {
    // An independent reading of the kernel's contract: for each position, |x[i + 15]|, |x[i + 16]| and the coarse
    // phases' |dot products|; the refining phases only where the coarse maximum × margin exceeds the running one.
    const phase = (seed: number) => Float64Array.from(samples(32, seed), (v) => (Number.isFinite(v) ? v / 8 : 0.01));
    const coarse = [phase(1), phase(2), phase(3)], refine = Array.from({ length: 12 }, (_, p) => phase(10 + p));
    const dot = (w: Float64Array, x: Float64Array, at: number) => {
      let a = 0, b = 0;
      for (let j = 0; j < 32; j += 2) (a += w[j] * x[at + j]), (b += w[j + 1] * x[at + j + 1]);
      return a + b;
    };
    const reference = (x: Float64Array, start: number, end: number, tp: number, margin: number) => {
      for (let i = start; i < end; i++) {
        let m = Math.max(Math.abs(x[i + 15]), Math.abs(x[i + 16]));
        for (const w of coarse) m = Math.max(m, Math.abs(dot(w, x, i)));
        if (!(m * margin <= tp)) for (const w of refine) m = Math.max(m, Math.abs(dot(w, x, i)));
        if (m > tp) tp = m;
      }
      return tp;
    };
    let refinedMatters = 0;
    for (let trial = 0; trial < 40; trial++) {
      const x = Float64Array.from(samples(100, 500 + trial), (v) => (Number.isFinite(v) ? v : 0));
      const tp0 = trial % 4 === 0 ? 0 : 0.5, margin = 1 + (trial % 3) * 0.1;
      const got = truePeakRange(x, trial % 7, 40 + (trial % 29), tp0, coarse, refine, margin);
      expect(got, `trial ${trial}`).toBe(reference(x, trial % 7, 40 + (trial % 29), tp0, margin));
      // Position by position from 0, the refining phases raise some maxima above the coarse ones.
      for (let i = 0; i < 60; i++) if (truePeakRange(x, i, i + 1, 0, coarse, refine, 1) !== truePeakRange(x, i, i + 1, 0, coarse, [], 1)) refinedMatters++;
    }
    expect(refinedMatters).toBeGreaterThan(100); // so the reference's refine step is really being compared
    const x = new Float64Array(40_000);
    expect(truePeakRange(x, 0, 20_000, 0, coarse, refine, 1)).toBeUndefined(); // more than the scratch memory holds
    expect(truePeakRange(x, 0, 5, 0, [...coarse, ...refine, phase(99), phase(98)], [], 1)).toBeUndefined(); // 17 phases
    expect(truePeakRange(x, 0, 5, 0, [coarse[0].subarray(0, 31)], [], 1)).toBeUndefined(); // not 32 taps
    expect(truePeakRange(x, 0, 5, 0, coarse, refine, 1)).toBe(0);
    // A new instance (empty memory) gets the tables again.
    useSimd(true);
    expect(truePeakRange(x, 0, 5, 0, coarse, refine, 1)).toBe(0);
    for (let j = 0; j < 32; j++) x[j] = coarse[0][j] < 0 ? -0.5 : 0.5; // the first phase's dot product is 0.5·Σ|w| > 0.5
    expect(reference(x, 0, 1, 0, 1)).toBeGreaterThan(0.5);
    expect(truePeakRange(x, 0, 1, 0, coarse, refine, 1)).toBe(reference(x, 0, 1, 0, 1));
    // Other tables of the same sizes are loaded, not the ones from before.
    x.fill(0.5, 0, 40);
    const doubled = refine.map((w) => w.map((v) => v * 2));
    expect(truePeakRange(x, 0, 1, 0, coarse, doubled, 1)).toBe(reference2(x, doubled));
    function reference2(v: Float64Array, ref: Float64Array[]) {
      let m = 0.5;
      for (const w of [...coarse, ...ref]) m = Math.max(m, Math.abs(dot(w, v, 0)));
      return m;
    }
  });

  it('evaluate true peak over a range as the JavaScript peakBetween loop does (coarse only and refined)', () => {
    let refined = 0;
    for (let trial = 0; trial < 300; trial++) {
      const work = Float64Array.from(samples(32 + 31 + 5, 1000 + trial));
      for (let i = 0; i < work.length; i++) if (!Number.isFinite(work[i]) && trial % 7 !== 0) work[i] = 0.3; // NaN and ∞ in some trials only
      const start = trial % 5, end = start + 1 + (trial % 32);
      // Running maxima from below everything (always refined) to above everything (never).
      const tp0 = [0, 0.2, 0.6, 0.95, 1.3, 5][trial % 6];
      let js = tp0;
      for (let i = start; i < end; i++) {
        const a = peakBetween(work, i, js);
        if (a > js) js = a;
      }
      const simd = peakRange(work, start, end, tp0);
      expect(Object.is(simd, js), `trial ${trial}: ${simd} vs ${js}`).toBe(true);
      if (js > tp0) refined++;
    }
    expect(refined).toBeGreaterThan(50); // the maximum moved, so interpolated points were really computed
  });

  it('overlap-add a frame read between samples as documented: each output from its own 16 samples, in f32', () => {
    // Lengths around a multiple of 4 and past one piece (16,384 outputs); finite samples, as audio is.
    const f = Math.fround;
    for (const n of [0, 3, 4, 7, 1764, 16_384 + 9]) {
      const x = samples(n + 15 + 3, 500 + n).map((v) => (Number.isFinite(v) && Math.abs(v) < 10 ? v : 0.25));
      const w = samples(n, 600 + n).map((v) => (Number.isFinite(v) ? Math.abs(v) % 1 : 0.5));
      const h = Float32Array.from({ length: 16 }, (_, j) => Math.sin(j + 0.3) / (1 + j));
      const acc0 = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
      const acc = acc0.slice();
      const done = fracOverlapAdd(x, 3, w, acc, h);
      expect(done).toBe(n & ~3);
      for (let i = 0; i < n; i++) {
        let u = f(h[0] * x[3 + i]);
        for (let j = 1; j < 8; j++) u = f(u + f(h[j] * x[3 + i + j]));
        let v = f(h[8] * x[3 + i + 8]);
        for (let j = 9; j < 16; j++) v = f(v + f(h[j] * x[3 + i + j]));
        const want = i < done ? f(acc0[i] + f(f(u + v) * w[i])) : acc0[i]; // the tail is the caller's
        if (!Object.is(acc[i], want)) expect(acc[i], `n ${n}, output ${i}`).toBe(want);
      }
    }
  });

  it('make time stretch and pitch shift give the same samples as the JavaScript overlap-add', async () => {
    const format = { sampleRate: 44_100, channels: 2 };
    const sig = (seed: number) => samples(44_100, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
    for (const step of [
      { effect: 'time_stretch', parameters: { durationRatio: 1.25 } },
      { effect: 'time_stretch', parameters: { durationRatio: 0.7 } },
      { effect: 'time_stretch', parameters: { durationRatio: 4 } }, // the search starts at the stream's first sample
      { effect: 'time_stretch', parameters: { durationRatio: 0.25 } },
      { effect: 'pitch_shift', parameters: { semitones: 3 } },
      { effect: 'pitch_shift', parameters: { semitones: -7, cents: 13 } },
    ]) {
      const run = async () => {
        const out = (await renderChain([sig(7), sig(8)], [step], format, { blockSize: 1000 })).audio;
        return Buffer.concat(out.map((c) => bytesOf(c)));
      };
      const { js, simd } = await bothWaysAsync(run);
      expect(js.length).toBeGreaterThan(0);
      expect(simd.equals(js), `${step.effect} ${JSON.stringify(step.parameters)}`).toBe(true);
    }
  });

  it('make the resampler at arbitrary ratios give the same samples as its JavaScript (1–3 channels, both qualities)', () => {
    // Ratios with no small fraction (the per-sample interpolated weights), up and down; the last one's `high`
    // table is too large for the kernel's memory, so it must fall back and still agree.
    const cases: [number, number, number, 'fast' | 'high'][] = [
      [52_444.03, 44_100, 2, 'fast'], [37_000.7, 44_100, 1, 'fast'], [44_100, 48_000.3, 3, 'high'], [44_100, 19_000.9, 2, 'high'],
    ];
    for (const [from, to, channels, quality] of cases) {
      const input = Array.from({ length: channels }, (_, c) => samples(20_011, 40 + c).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0)));
      const run = () => {
        const r = createResampler(from, to, channels, quality);
        const parts: AudioBlock[] = [];
        for (let at = 0; at < input[0].length; at += 3001) parts.push(r.process(input.map((x) => x.slice(at, at + 3001))));
        parts.push(r.flush());
        return new Uint8Array(Buffer.concat(parts.flatMap((b) => b.map((ch) => bytesOf(ch)))));
      };
      const { js, simd } = bothWays(run);
      expect(js.length, `${from} → ${to}`).toBe(4 * channels * Math.round((20_011 * to) / from));
      expect(simd.equals(js), `${from} → ${to}, ${channels} ch, ${quality}`).toBe(true);
    }
  });

  it('make chorus and flanger give the same samples as their JavaScript loop (any voices, feedback, block sizes)', async () => {
    const format = { sampleRate: 44_100, channels: 2 };
    const sig = (seed: number) => samples(90_000, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
    const steps = [
      { effect: 'chorus', parameters: {} },
      { effect: 'chorus', parameters: { voices: 1, depthMs: 10, delayMs: 5, rateHz: 5 } },
      { effect: 'chorus', parameters: { voices: 3, spreadPct: 100 } },
      { effect: 'chorus', parameters: { voices: 4, mix: 1 } },
      { effect: 'flanger', parameters: {} },
      { effect: 'flanger', parameters: { feedback: -0.9, delayMs: 0.5, depthMs: 5 } },
    ];
    for (const step of steps) {
      for (const blockSize of [40_000, 777]) {
        const run = async () => Buffer.concat((await renderChain([sig(11), sig(12)], [step], format, { blockSize })).audio.map((c) => bytesOf(c)));
        const { js, simd } = await bothWaysAsync(run);
        expect(js.length).toBe(2 * 4 * 90_000);
        expect(simd.equals(js), `${step.effect} ${JSON.stringify(step.parameters)}, blocks of ${blockSize}`).toBe(true);
      }
    }
  });

  it('make analysis give the same result as the JavaScript mix-down and crossing count (zeros, NaN, any blocks)', async () => {
    const format = { sampleRate: 44_100, channels: 2 };
    // Tones and noise whose mix is never exactly 0 (the kernel counts such blocks itself: checked below); in the
    // second signal runs of exact zeros, a NaN and a pair that cancels to 0 in the mix.
    const plain = (seed: number) => {
      const noise = samples(100_000, seed);
      return Float32Array.from(noise, (v, i) => 0.3 * Math.sin(i * 0.013 * seed) + 0.2 * Math.sin(i * 0.41 + seed) + (Number.isFinite(v) ? 0.1 * Math.max(-1, Math.min(1, v)) : 0));
    };
    const l1 = plain(21), r1 = plain(22);
    const mono = new Float64Array(100_000), energy = new Float64Array(100_000);
    expect(mixStereo(l1, r1, l1.length, mono, energy, { last: 0 })).toBeGreaterThan(10_000); // counted by the kernel
    // Signs alternating every frame: every consecutive pair crosses, across the kernel's pieces too (n − 1 of them,
    // or n from an opposite sign before); zeros and NaN are skipped, keeping the sign before them; the last sign stays.
    const alt = Float32Array.from({ length: 40_001 }, (_, i) => (i % 2 ? 0.5 : -0.25));
    const cross = (x: Float32Array, last: number) => {
      const sign = { last };
      return [mixStereo(x, x, x.length, new Float64Array(x.length), new Float64Array(x.length), sign), sign.last];
    };
    expect(cross(alt, 0)).toEqual([40_000, -1]);
    expect(cross(alt, 1)).toEqual([40_001, -1]);
    expect(cross(alt, -1)).toEqual([40_000, -1]);
    (alt[33_000] = 0), (alt[33_001] = NaN), (alt[33_002] = 0); // +, 0, NaN, 0, +: its four crossings become none
    expect(cross(alt, 0)).toEqual([39_996, -1]);
    expect(cross(new Float32Array(5), 1)).toEqual([0, 1]);
    const l2 = plain(23), r2 = plain(24);
    l2.fill(0, 5_000, 7_000), r2.fill(0, 5_000, 7_000);
    l2[50_000] = NaN;
    (l2[60_000] = 0.25), (r2[60_000] = -0.25);
    for (const [l, r] of [[l1, r1], [l2, r2]]) {
      for (const blockSize of [40_000, 4096, 333]) {
        const run = async () => analyze(blocksOf([l, r], blockSize), format);
        const { js, simd } = await bothWaysAsync(run);
        expect(simd, `blocks of ${blockSize}`).toEqual(js);
      }
    }
  });

  it('make the loudness meter’s K-weighting give the same sums as its JavaScript (stereo, any rate and block size)', async () => {
    // Unrounded meter readings; at 192 kHz a 100 ms sub-block (19,200 frames) is longer than the kernel's piece.
    for (const sampleRate of [44_100, 192_000]) {
      const n = sampleRate * 4;
      const chans = [0, 1].map((c) => Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * (0.01 + c * 0.003)) + 0.1 * Math.sin(i * 0.31) * (i % 20_000 < 9_000 ? 1 : 0.01)));
      for (const blockSize of [4096, 1001]) {
        const run = async () => {
          const meter = new LoudnessMeter({ sampleRate, channels: 2 }, { truePeak: false });
          for await (const b of blocksOf(chans, blockSize)) meter.push(b);
          return meter.summary();
        };
        const { js, simd } = await bothWaysAsync(run);
        expect(Number.isFinite(js.integrated_lufs)).toBe(true);
        for (const key of Object.keys(js) as (keyof typeof js)[]) expect(Object.is(simd[key], js[key]), `${sampleRate} Hz, blocks of ${blockSize}: ${key} ${simd[key]} vs ${js[key]}`).toBe(true);
      }
    }
  });

  it('make the equalizer (a biquad cascade) give the same samples as its JavaScript passes (1 to 7 bands, any blocks)', async () => {
    const format = { sampleRate: 44_100, channels: 2 };
    const sig = (seed: number) => samples(50_000, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
    const all = [
      { type: 'lowshelf', frequencyHz: 100, gainDb: 3, q: 0.707 }, { type: 'peaking', frequencyHz: 1000, gainDb: 6, q: 1 },
      { type: 'highshelf', frequencyHz: 8000, gainDb: -3, q: 0.707 }, { type: 'highpass', frequencyHz: 30, q: 0.707 },
      { type: 'notch', frequencyHz: 3000, q: 4 }, { type: 'peaking', frequencyHz: 250, gainDb: -12, q: 8 }, { type: 'lowpass', frequencyHz: 18_000, q: 0.5 },
    ];
    for (const count of [1, 3, 4, 7]) {
      for (const blockSize of [40_000, 777]) {
        const step = { effect: 'equalizer', parameters: { bands: all.slice(0, count) } };
        const run = async () => Buffer.concat((await renderChain([sig(31), sig(32)], [step], format, { blockSize })).audio.map((c) => bytesOf(c)));
        const { js, simd } = await bothWaysAsync(run);
        expect(js.length).toBe(2 * 4 * 50_000);
        expect(simd.equals(js), `${count} bands, blocks of ${blockSize}`).toBe(true);
      }
    }
  });

  it('make the noise gate give the same samples as its JavaScript loop (mono and stereo, holds, any blocks)', async () => {
    // Bursts with gaps of 3,000 frames (the gate holds, then reopens: its hold count must start again) and of
    // 8,000 (it closes), so that it opens, holds, closes and ramps both ways.
    const sig = (seed: number) => {
      const x = samples(120_000, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
      for (let i = 0; i < x.length; i++) {
        const t = i % 21_000;
        x[i] *= t < 5_000 || (t >= 8_000 && t < 13_000) ? 0.5 : 0.0005;
      }
      return x;
    };
    const settings = [{}, { thresholdDb: -30, holdMs: 0, attackMs: 0.1, releaseMs: 1 }, { thresholdDb: -60, hysteresisDb: 20, holdMs: 300, rangeDb: -20 }];
    for (const channels of [1, 2]) {
      for (const parameters of settings) {
        for (const blockSize of [40_000, 333]) {
          const step = { effect: 'noise_gate', parameters };
          const input = Array.from({ length: channels }, (_, c) => sig(51 + c));
          const run = async () => Buffer.concat((await renderChain(input, [step], { sampleRate: 44_100, channels }, { blockSize })).audio.map((c) => bytesOf(c)));
          const { js, simd } = await bothWaysAsync(run);
          expect(js.length).toBe(channels * 4 * 120_000);
          expect(simd.equals(js), `${channels} ch, ${JSON.stringify(parameters)}, blocks of ${blockSize}`).toBe(true);
        }
      }
    }
  });

  it('make the compressor give the same samples as its JavaScript loop (1–3 channels, peak and RMS, knee, lookahead, any blocks)', async () => {
    // Loud bursts between quiet passages, so the level crosses the knee both ways and the gain reduction rises and
    // recovers; more than one kernel chunk (16,384 frames) per block at the larger block size.
    const sig = (seed: number) => {
      const x = samples(120_000, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
      for (let i = 0; i < x.length; i++) x[i] *= i % 20_000 < 7_000 ? 0.9 : 0.02;
      return x;
    };
    const settings = [
      {},
      { detector: 'rms', thresholdDb: -30, ratio: 8, attackMs: 1, releaseMs: 50 },
      { kneeDb: 0, ratio: 20, thresholdDb: -12, makeupDb: 6 },
      { lookaheadMs: 5, kneeDb: 12, attackMs: 30, releaseMs: 400, makeupDb: 3 },
      { lookaheadMs: 1, detector: 'rms', thresholdDb: -60, ratio: 1.5 },
    ];
    for (const channels of [1, 2, 3]) {
      for (const parameters of settings) {
        for (const blockSize of [40_000, 333]) {
          const input = Array.from({ length: channels }, (_, c) => sig(71 + c));
          const run = async () => Buffer.concat((await renderChain(input, [{ effect: 'compressor', parameters }], { sampleRate: 44_100, channels }, { blockSize })).audio.map((c) => bytesOf(c)));
          const { js, simd } = await bothWaysAsync(run);
          expect(js.length).toBe(channels * 4 * 120_000);
          expect(simd.equals(js), `${channels} ch, ${JSON.stringify(parameters)}, blocks of ${blockSize}`).toBe(true);
        }
      }
    }
  });

  it('leave to the compressor’s JavaScript the frames it does otherwise (a level of 10^30, then ∞), and take over again after', async () => {
    // 10^30 asks for a gain below dbToGainFast’s range (its Math.pow fallback); ∞ makes the state NaN from then on.
    for (const lookaheadMs of [0, 3]) {
      for (const blockSize of [40_000, 333]) {
        const x = Float32Array.from({ length: 60_000 }, (_, i) => 0.8 * Math.sin(i * 0.03));
        x[10_000] = 1e30;
        x[50_000] = Infinity;
        const run = async () => (await renderChain([x, x.map((v) => -v)], [{ effect: 'compressor', parameters: { ratio: 20, thresholdDb: -40, lookaheadMs } }], { sampleRate: 44_100, channels: 2 }, { blockSize })).audio;
        const { js, simd } = await bothWaysAsync(run);
        for (const c of [0, 1]) expect(sameFloats(bytesOf(simd[c]), bytesOf(js[c])), `channel ${c}, lookahead ${lookaheadMs}, blocks of ${blockSize}`).toBe(true);
        // What was made of them: a reduction below dbToGainFast’s range after 10^30 (a gain under −379 dB, its
        // Math.pow fallback), finite again before ∞, and NaN from ∞ on.
        const deepest = js[0].subarray(10_001, 14_000).reduce((m, v, i) => Math.min(m, Math.abs(v / x[10_001 + i])), Infinity);
        expect(deepest).toBeLessThan(10 ** (-379 / 20));
        expect(Math.abs(js[0][49_000])).toBeGreaterThan(1e-4);
        expect(js[0][59_000]).toBeNaN();
      }
    }
  });

  it('make the delay give the same samples as its JavaScript loop (mono and stereo, short and long lines, its tail)', async () => {
    const sig = (seed: number) => samples(60_000, seed).map((v) => (Number.isFinite(v) ? Math.max(-1, Math.min(1, v)) : 0));
    for (const channels of [1, 2]) {
      for (const parameters of [{ timeMs: 300, feedback: 0.4, mix: 0.35 }, { timeMs: 1, feedback: 0.9 }, { timeMs: 900, feedback: 0.95, mix: 1 }]) {
        for (const blockSize of [40_000, 1_000]) {
          const input = Array.from({ length: channels }, (_, c) => sig(61 + c));
          const run = async () => Buffer.concat((await renderChain(input, [{ effect: 'delay', parameters }], { sampleRate: 44_100, channels }, { blockSize })).audio.map((c) => bytesOf(c)));
          const { js, simd } = await bothWaysAsync(run);
          expect(js.length).toBeGreaterThan(channels * 4 * 60_000); // the echoes' tail is there
          expect(simd.equals(js), `${channels} ch, ${JSON.stringify(parameters)}, blocks of ${blockSize}`).toBe(true);
        }
      }
    }
  });
});
