import { peakBetween, peakRange, truePeakL1, TP_TAPS } from '../engine/true-peak.ts';
import { flushDenormal } from '../engine/util.ts';
import { chunkAbsMax32, kFilterStereo } from '../engine/wasm/index.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';

/**
 * Loudness per ITU-R BS.1770-4 / EBU R128 (Tech 3341, 3342): K-weighting designed for the stream's sample rate
 * from the analog prototype (as libebur128 does), energy per 100 ms sub-block, 400 ms momentary and 3 s short-term
 * windows updated every 100 ms, absolute (−70 LUFS) and relative (−10 LU) gating for the integrated value,
 * −20 LU relative gating and the 10th–95th percentile spread for the loudness range, and true peak by 4×
 * polyphase oversampling refined to 16× near the running maximum (engine/true-peak.ts).
 */

interface Sos {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

export function kWeighting(sampleRate: number): [Sos, Sos] {
  // Stage 1: high shelf (head effects). Stage 2: RLB high-pass.
  let f0 = 1681.974450955533;
  const G = 3.999843853973347;
  let Q = 0.7071752369554196;
  let K = Math.tan((Math.PI * f0) / sampleRate);
  const Vh = Math.pow(10, G / 20);
  const Vb = Math.pow(Vh, 0.4996667741545416);
  let a0 = 1 + K / Q + K * K;
  const shelf = {
    b0: (Vh + (Vb * K) / Q + K * K) / a0,
    b1: (2 * (K * K - Vh)) / a0,
    b2: (Vh - (Vb * K) / Q + K * K) / a0,
    a1: (2 * (K * K - 1)) / a0,
    a2: (1 - K / Q + K * K) / a0,
  };
  f0 = 38.13547087602444;
  Q = 0.5003270373238773;
  K = Math.tan((Math.PI * f0) / sampleRate);
  a0 = 1 + K / Q + K * K;
  const highpass = { b0: 1, b1: -2, b2: 1, a1: (2 * (K * K - 1)) / a0, a2: (1 - K / Q + K * K) / a0 };
  return [shelf, highpass];
}

/** BS.1770 channel weights: L, R, C 1.0; LFE excluded; surrounds 1.41 (5.1 order L R C LFE Ls Rs). */
export function channelWeights(channels: number): Float64Array {
  const w = new Float64Array(channels).fill(1);
  if (channels === 6) {
    w[3] = 0;
    w[4] = 1.41;
    w[5] = 1.41;
  }
  return w;
}

const energyToLufs = (e: number) => (e > 0 ? -0.691 + 10 * Math.log10(e) : -Infinity);
const lufsToEnergy = (l: number) => Math.pow(10, (l + 0.691) / 10);

/** A growable Float64 list (100 ms values: 36,000 per hour). */
class Series {
  data = new Float64Array(1024);
  length = 0;
  push(v: number) {
    if (this.length === this.data.length) {
      const d = new Float64Array(this.data.length * 2);
      d.set(this.data);
      this.data = d;
    }
    this.data[this.length++] = v;
  }
  values() {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Why a loudness over `frames` frames is not measurable (−∞): too short for a 400 ms gating block (`momentary`,
 * which integrated loudness is built from) or a 3 s window (`short_term`, LRA), else all of it below the gate.
 */
export function whyNotMeasurable(frames: number, sampleRate: number, window: 'momentary' | 'short_term' = 'momentary'): string {
  const seconds = frames / sampleRate;
  if (window === 'momentary' && seconds < 0.4) return 'shorter than one 400 ms gating block';
  if (window === 'short_term' && seconds < 3) return 'shorter than one 3 s short-term window';
  return 'all of it below the −70 LUFS absolute gate';
}

export interface LoudnessSummary {
  integrated_lufs: number;
  loudness_range_lu: number;
  max_momentary_lufs: number;
  max_short_term_lufs: number;
  true_peak_dbtp: number;
  sample_peak_dbfs: number;
}

export class LoudnessMeter {
  private readonly channels: number;
  private readonly weights: Float64Array;
  private readonly coef: Float64Array;
  /** Filter state per channel: z1, z2 of both stages. */
  private readonly state: Float64Array;
  private readonly sums = new Float64Array(2);
  private readonly subLen: number;
  private subFill = 0;
  private subEnergy = 0;
  /** Last 30 sub-block energies (ring) for the 400 ms and 3 s windows. */
  private readonly ring = new Float64Array(30);
  private subCount = 0;
  private readonly momentary = new Series();
  private readonly shortTerm = new Series();
  private maxMomentary = -Infinity;
  private maxShortTerm = -Infinity;
  private readonly truePeakOn: boolean;
  private readonly history: Float64Array[];
  private work = new Float64Array(0);
  private chunkMax = new Float64Array(0);
  private truePeak = 0;
  private samplePeak = 0;

  constructor(readonly format: StreamFormat, opts: { truePeak?: boolean } = {}) {
    this.channels = format.channels;
    this.weights = channelWeights(format.channels);
    const [s1, s2] = kWeighting(format.sampleRate);
    this.coef = Float64Array.from([s1.b0, s1.b1, s1.b2, s1.a1, s1.a2, s2.b0, s2.b1, s2.b2, s2.a1, s2.a2]);
    this.state = new Float64Array(this.channels * 4);
    this.subLen = Math.round(format.sampleRate / 10);
    // At 4× rates and above the samples are already dense enough: no oversampling.
    this.truePeakOn = (opts.truePeak ?? true) && format.sampleRate < 176_400;
    this.history = Array.from({ length: this.channels }, () => new Float64Array(TP_TAPS - 1));
  }

  push(block: AudioBlock): void {
    const n = block[0]?.length ?? 0;
    let offset = 0;
    while (offset < n) {
      const take = Math.min(n - offset, this.subLen - this.subFill);
      this.subEnergy += this.filterEnergy(block, offset, take);
      this.subFill += take;
      offset += take;
      if (this.subFill === this.subLen) this.endSubBlock();
    }
    this.peaks(block);
  }

  /** K-weighted, channel-weighted sum of squares of frames [offset, offset + count). */
  private filterEnergy(block: AudioBlock, offset: number, count: number): number {
    if (this.channels === 2) return this.filterEnergyStereo(block, offset, count);
    const c = this.coef;
    const a0 = c[0], a1 = c[1], a2 = c[2], a3 = c[3], a4 = c[4];
    const b0 = c[5], b1 = c[6], b2 = c[7], b3 = c[8], b4 = c[9];
    let total = 0;
    for (let ch = 0; ch < this.channels; ch++) {
      const w = this.weights[ch];
      const x = block[ch];
      const s = ch * 4;
      let z1 = this.state[s], z2 = this.state[s + 1], y1 = this.state[s + 2], y2 = this.state[s + 3];
      let sum = 0;
      const end = offset + count;
      for (let i = offset; i < end; i++) {
        const xi = x[i];
        const u = a0 * xi + z1;
        z1 = a1 * xi - a3 * u + z2;
        z2 = a2 * xi - a4 * u;
        const v = b0 * u + y1;
        y1 = b1 * u - b3 * v + y2;
        y2 = b2 * u - b4 * v;
        sum += v * v;
      }
      this.state[s] = flushDenormal(z1);
      this.state[s + 1] = flushDenormal(z2);
      this.state[s + 2] = flushDenormal(y1);
      this.state[s + 3] = flushDenormal(y2);
      if (w !== 0) total += w * sum;
    }
    return total;
  }

  /** Both channels of a stereo block in one loop: two independent recursions run side by side (the same numbers). */
  private filterEnergyStereo(block: AudioBlock, offset: number, count: number): number {
    // The SIMD kernel: the same arithmetic, left and right as a vector's lanes.
    const sums = this.sums;
    sums[0] = sums[1] = 0;
    if (kFilterStereo(block[0], block[1], offset, count, this.coef, this.state, sums)) {
      const st = this.state;
      for (let i = 0; i < 8; i++) st[i] = flushDenormal(st[i]);
      return this.weighted(sums[0], sums[1]);
    }
    const c = this.coef;
    const a0 = c[0], a1 = c[1], a2 = c[2], a3 = c[3], a4 = c[4];
    const b0 = c[5], b1 = c[6], b2 = c[7], b3 = c[8], b4 = c[9];
    const st = this.state;
    const l = block[0], r = block[1];
    let lz1 = st[0], lz2 = st[1], ly1 = st[2], ly2 = st[3];
    let rz1 = st[4], rz2 = st[5], ry1 = st[6], ry2 = st[7];
    let sumL = 0, sumR = 0;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      const xl = l[i];
      const xr = r[i];
      const ul = a0 * xl + lz1;
      const ur = a0 * xr + rz1;
      lz1 = a1 * xl - a3 * ul + lz2;
      rz1 = a1 * xr - a3 * ur + rz2;
      lz2 = a2 * xl - a4 * ul;
      rz2 = a2 * xr - a4 * ur;
      const vl = b0 * ul + ly1;
      const vr = b0 * ur + ry1;
      ly1 = b1 * ul - b3 * vl + ly2;
      ry1 = b1 * ur - b3 * vr + ry2;
      ly2 = b2 * ul - b4 * vl;
      ry2 = b2 * ur - b4 * vr;
      sumL += vl * vl;
      sumR += vr * vr;
    }
    st[0] = flushDenormal(lz1), st[1] = flushDenormal(lz2), st[2] = flushDenormal(ly1), st[3] = flushDenormal(ly2);
    st[4] = flushDenormal(rz1), st[5] = flushDenormal(rz2), st[6] = flushDenormal(ry1), st[7] = flushDenormal(ry2);
    return this.weighted(sumL, sumR);
  }

  private weighted(sumL: number, sumR: number): number {
    const [wl, wr] = this.weights;
    let total = 0;
    if (wl !== 0) total += wl * sumL;
    if (wr !== 0) total += wr * sumR;
    return total;
  }

  private endSubBlock(): void {
    this.ring[this.subCount % 30] = this.subEnergy / this.subLen;
    this.subCount++;
    this.subEnergy = 0;
    this.subFill = 0;
    if (this.subCount >= 4) {
      let e = 0;
      for (let k = 1; k <= 4; k++) e += this.ring[(this.subCount - k) % 30];
      e /= 4;
      this.momentary.push(e);
      const l = energyToLufs(e);
      if (l > this.maxMomentary) this.maxMomentary = l;
    }
    if (this.subCount >= 30) {
      let e = 0;
      for (let k = 0; k < 30; k++) e += this.ring[k];
      e /= 30;
      this.shortTerm.push(e);
      const l = energyToLufs(e);
      if (l > this.maxShortTerm) this.maxShortTerm = l;
    }
  }

  private peaks(block: AudioBlock): void {
    const n = block[0]?.length ?? 0;
    const H = TP_TAPS - 1;
    if (this.work.length < n + H) this.work = new Float64Array(n + H);
    const work = this.work;
    for (let ch = 0; ch < this.channels; ch++) {
      const x = block[ch];
      if (!this.truePeakOn) {
        let sp = this.samplePeak;
        for (let i = 0; i < n; i++) sp = Math.max(sp, Math.abs(x[i]));
        this.samplePeak = sp;
        continue;
      }
      const hist = this.history[ch];
      work.set(hist, 0);
      work.set(x, H);
      // Chunks whose neighbourhood cannot exceed the current true peak (|y| ≤ max|x| · Σ|h|) are skipped. The
      // neighbourhood's max|x| comes from per-chunk maxima (each sample is looked at once, not 1 + H/32 times).
      const total = n + H;
      const nChunks = Math.ceil(total / 32);
      if (this.chunkMax.length < nChunks) this.chunkMax = new Float64Array(nChunks);
      const cm = this.chunkMax;
      // The SIMD kernel does the whole chunks (the same maxima); this loop the rest.
      for (let k = chunkAbsMax32(hist, x, cm); k < nChunks; k++) {
        const to = Math.min(total, (k + 1) * 32);
        let m = 0;
        for (let i = k * 32; i < to; i++) m = Math.max(m, Math.abs(work[i]));
        cm[k] = m;
      }
      // The sample peak falls out of the same maxima (the history part was this channel's earlier samples).
      let sp = this.samplePeak;
      for (let k = 0; k < nChunks; k++) sp = Math.max(sp, cm[k]);
      this.samplePeak = sp;
      let tp = Math.max(this.truePeak, sp);
      const l1 = truePeakL1();
      for (let start = 0; start < n; start += 32) {
        const end = Math.min(n, start + 32);
        let m = 0;
        const last = ((end + H - 1) / 32) | 0;
        for (let k = start / 32; k <= last; k++) if (cm[k] > m) m = cm[k];
        if (m * l1 <= tp) continue;
        tp = peakRange(work, start, end, tp);
      }
      this.truePeak = tp;
      for (let k = 0; k < H; k++) hist[k] = work[n + k];
    }
  }

  /** Integrated loudness of everything pushed so far (LUFS; −Infinity when all gated). */
  integrated(): number {
    return gatedLoudness(this.momentary.values(), -10);
  }

  summary(): LoudnessSummary {
    return {
      integrated_lufs: this.integrated(),
      loudness_range_lu: loudnessRange(this.shortTerm.values()),
      max_momentary_lufs: this.maxMomentary,
      max_short_term_lufs: this.maxShortTerm,
      true_peak_dbtp: 20 * Math.log10(Math.max(this.truePeak, this.samplePeak, this.tailPeak())),
      sample_peak_dbfs: 20 * Math.log10(this.samplePeak),
    };
  }

  /**
   * The inter-sample points after the last samples pushed, which a later push would have evaluated: the stream is
   * followed by silence, as it is preceded by it (the history starts as zeros). Read-only, so summary() may be asked
   * mid-stream.
   */
  private tailPeak(): number {
    if (!this.truePeakOn) return 0;
    const H = TP_TAPS - 1;
    const work = new Float64Array(2 * H);
    let tp = 0;
    for (const hist of this.history) {
      work.set(hist, 0);
      for (let i = 0; i < H; i++) tp = Math.max(tp, peakBetween(work, i, tp));
    }
    return tp;
  }
}

function gatedLoudness(blocks: Float64Array, relativeLu: number): number {
  const abs = lufsToEnergy(-70);
  let sum = 0, count = 0;
  for (const e of blocks) if (e > abs) (sum += e), count++;
  if (count === 0) return -Infinity;
  const rel = lufsToEnergy(energyToLufs(sum / count) + relativeLu);
  let s2 = 0, c2 = 0;
  for (const e of blocks) if (e > abs && e > rel) (s2 += e), c2++;
  return c2 === 0 ? -Infinity : energyToLufs(s2 / c2);
}

/** EBU Tech 3342: short-term values gated at −70 LUFS and −20 LU below their mean; 95th minus 10th percentile. */
export function loudnessRange(shortTerm: Float64Array): number {
  const abs = lufsToEnergy(-70);
  let sum = 0, count = 0;
  for (const e of shortTerm) if (e > abs) (sum += e), count++;
  if (count === 0) return Number.NaN; // nothing above the gate (or no 3 s window): not measurable
  const rel = lufsToEnergy(energyToLufs(sum / count) - 20);
  const kept: number[] = [];
  for (const e of shortTerm) if (e > abs && e > rel) kept.push(energyToLufs(e));
  if (kept.length === 0) return Number.NaN;
  kept.sort((a, b) => a - b);
  const pct = (p: number) => kept[Math.min(kept.length - 1, Math.max(0, Math.round((kept.length - 1) * p)))];
  return pct(0.95) - pct(0.1);
}
