import type { AudioBlock } from '../types.ts';
import { kaiserSinc } from './util.ts';
import { fracOverlapAdd, wsolaSearch } from './wasm/index.ts';

/** Taps either side of a fractional frame position (a Kaiser-windowed sinc), 16 in all: the loop below is written for 16. */
const K = 8;
const FRACTIONAL = kaiserSinc(1, K, 8);

/**
 * Streaming WSOLA time stretch (Verhelst & Roelands 1993): Hann frames of 2·H output samples overlap-added at
 * hop H; frame k is taken from the input near k·H / ratio, shifted by up to ±Δ to where it best continues the
 * previous frame (cross-correlation of the overlap, searched coarsely on an 8× box-decimated mono mix, refined at
 * full rate, and placed between samples by a parabola through the normalised correlation around the best one: a
 * frame starts at a fractional position, read through a 16-tap windowed sinc). Whole-sample placement left phase
 * jumps of up to half a sample at every splice, sidebands at −39 dB on a 440 Hz sine. Pitch is untouched because
 * every frame is a piece of the input. Output length
 * is exactly round(n · ratio); any block size gives the same output; memory is a FIFO of a few frames.
 */
export class Wsola {
  private readonly H: number;
  private readonly N: number;
  private readonly delta: number;
  private readonly window: Float32Array;
  private buf: Float32Array[];
  private mono: Float32Array;
  private bufStart = 0;
  private bufLen = 0;
  private readonly acc: Float32Array[];
  private k = 0; // frame index
  private prev = -1; // input position of the previous frame
  private emitted = 0;
  private inTotal = 0;
  private readonly dT: Float64Array;
  private readonly dC: Float64Array;
  private readonly taps = new Float32Array(2 * K);
  private readonly found = new Float64Array(7);
  /** Output gathered by one run, per channel (grown as needed, reused). */
  private out: Float32Array[];

  constructor(
    readonly ratio: number,
    private readonly channels: number,
    sampleRate: number,
  ) {
    this.H = Math.round(sampleRate * 0.02);
    this.N = 2 * this.H;
    this.delta = Math.round(sampleRate * 0.01);
    this.window = Float32Array.from({ length: this.N }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / this.N));
    this.buf = Array.from({ length: channels }, () => new Float32Array(1 << 14));
    this.mono = new Float32Array(1 << 14);
    this.acc = Array.from({ length: channels }, () => new Float32Array(this.N));
    this.dT = new Float64Array(Math.ceil(this.H / 8) + 1);
    this.dC = new Float64Array(Math.ceil((this.H + 2 * this.delta) / 8) + 2);
    this.out = Array.from({ length: channels }, () => new Float32Array(1 << 15));
  }

  private append(block: AudioBlock) {
    const n = block[0]?.length ?? 0;
    const keepFrom = Math.min(this.nominal(this.k) - this.delta, this.prev < 0 ? 0 : Math.floor(this.prev) + this.H) - 8 - K;
    const drop = Math.max(0, Math.min(this.bufLen, keepFrom - this.bufStart));
    if (drop > 0) {
      for (const ch of this.buf) ch.copyWithin(0, drop, this.bufLen);
      this.mono.copyWithin(0, drop, this.bufLen);
      this.bufStart += drop;
      this.bufLen -= drop;
    }
    if (this.bufLen + n > this.mono.length) {
      let cap = this.mono.length;
      while (cap < this.bufLen + n) cap *= 2;
      const grow = (a: Float32Array) => {
        const b = new Float32Array(cap);
        b.set(a.subarray(0, this.bufLen));
        return b;
      };
      this.buf = this.buf.map(grow);
      this.mono = grow(this.mono);
    }
    for (let c = 0; c < this.channels; c++) this.buf[c].set(block[c], this.bufLen);
    const mono = this.mono, at = this.bufLen;
    if (this.channels === 2) {
      const l = block[0], r = block[1];
      for (let i = 0; i < n; i++) mono[at + i] = (l[i] + r[i]) * 0.5;
    } else {
      const inv = 1 / this.channels;
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let c = 0; c < this.channels; c++) s += block[c][i];
        mono[at + i] = s * inv;
      }
    }
    this.bufLen += n;
  }

  private nominal(k: number): number {
    return Math.round((k * this.H) / this.ratio);
  }

  /** Best input position for frame k near `a`, continuing the frame at `prev`. */
  private search(a: number): number {
    const { H, delta, mono, bufStart } = this;
    const lo = Math.max(0, a - delta);
    const hi = a + delta;
    const exact = this.prev + H; // the natural continuation
    const t0 = Math.round(exact);
    // The whole search as one SIMD kernel (the same arithmetic, step by step), on a copy of the samples it reads.
    const base = Math.min(t0, lo) - 1;
    const r = this.found;
    if (base >= bufStart && wsolaSearch(mono, base - bufStart, Math.max(t0 + H, hi + H + 3) - base, t0 - base, lo - base, hi - base, H, r)) {
      const e = (q: number) => (r[q + 4] > 0 ? r[q + 1] / Math.sqrt(r[q + 4]) : 0);
      return this.between(base + r[0], e(0), e(1), e(2), exact - t0);
    }
    // Coarse: 8× decimated template (the overlap, H samples) against 8× decimated candidates.
    const D = 8;
    const tl = Math.floor(H / D);
    const cl = Math.floor((hi - lo + H) / D);
    const dT = this.dT, dC = this.dC;
    for (let i = 0; i < tl; i++) {
      let s = 0;
      const o = t0 + i * D - bufStart;
      for (let j = 0; j < D; j++) s += mono[o + j];
      dT[i] = s;
    }
    for (let i = 0; i < cl; i++) {
      let s = 0;
      const o = lo + i * D - bufStart;
      for (let j = 0; j < D; j++) s += mono[o + j];
      dC[i] = s;
    }
    // Four candidate offsets per pass over the template: four independent sums (no single addition chain) and
    // each template value loaded once for all four.
    let best = -Infinity, bestJ = 0;
    const last = cl - tl; // highest candidate offset
    let j = 0;
    for (; j + 3 <= last; j += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let i = 0; i < tl; i++) {
        const t = dT[i];
        s0 += t * dC[i + j];
        s1 += t * dC[i + j + 1];
        s2 += t * dC[i + j + 2];
        s3 += t * dC[i + j + 3];
      }
      if (s0 > best) (best = s0), (bestJ = j);
      if (s1 > best) (best = s1), (bestJ = j + 1);
      if (s2 > best) (best = s2), (bestJ = j + 2);
      if (s3 > best) (best = s3), (bestJ = j + 3);
    }
    for (; j <= last; j++) {
      let s = 0;
      for (let i = 0; i < tl; i++) s += dT[i] * dC[i + j];
      if (s > best) {
        best = s;
        bestJ = j;
      }
    }
    // Refine around the coarse winner: every other position with the template subsampled by 4, then the
    // neighbours of the best of those with it subsampled by 2.
    const a0 = t0 - bufStart;
    const score = (p: number, stride: number) => {
      const b0 = p - bufStart;
      let s0 = 0, s1 = 0;
      let i = 0;
      for (; i + stride < H; i += 2 * stride) {
        s0 += mono[a0 + i] * mono[b0 + i];
        s1 += mono[a0 + i + stride] * mono[b0 + i + stride];
      }
      if (i < H) s0 += mono[a0 + i] * mono[b0 + i];
      return s0 + s1;
    };
    const centre = lo + bestJ * D;
    const from = Math.max(lo, centre - D), to = Math.min(hi, centre + D);
    let bestPos = centre;
    best = -Infinity;
    for (let p = from; p <= to; p += 2) {
      const s = score(p, 4);
      if (s > best) (best = s), (bestPos = p);
    }
    const mid = bestPos;
    best = -Infinity;
    for (let p = Math.max(from, mid - 1); p <= Math.min(to, mid + 1); p++) {
      const s = score(p, 2);
      if (s > best) (best = s), (bestPos = p);
    }
    // Between samples: the normalised correlation at full rate around the winner, a parabola through the three.
    const ncc = (p: number) => {
      const b0 = p - bufStart;
      let s = 0, e = 0;
      for (let i = 0; i < H; i++) {
        const v = mono[b0 + i];
        s += mono[a0 + i] * v;
        e += v * v;
      }
      return e > 0 ? s / Math.sqrt(e) : 0;
    };
    const cm = ncc(bestPos - 1), c0 = ncc(bestPos), cp = ncc(bestPos + 1);
    return this.between(bestPos, cm, c0, cp, exact - t0);
  }

  /** The frame's start: a parabola through the normalised correlations around the winner places it between samples. */
  private between(bestPos: number, cm: number, c0: number, cp: number, past: number): number {
    const curve = cm - 2 * c0 + cp;
    const frac = curve < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (cm - cp)) / curve)) : 0;
    // The template started at t0, the continuation at `exact`: the frame starts as far past the match.
    return bestPos + frac + past;
  }

  /** Run every frame whose input is available; return the completed output. */
  private run(limit: number): AudioBlock {
    const { H, N, delta, channels } = this;
    let total = 0; // output samples per channel so far, in this.out
    for (;;) {
      if (this.emitted >= limit) break;
      const a = this.nominal(this.k);

      const needEnd = Math.max(a + delta + N, this.prev < 0 ? 0 : Math.ceil(this.prev) + 2 * H) + 8 + K;
      if (needEnd > this.bufStart + this.bufLen) break;
      const found = this.prev < 0 ? 0 : this.search(a);
      const i0 = Math.floor(found);
      // At the very start there are no K samples before the frame to interpolate from: a whole sample then.
      const f = i0 < K - 1 ? 0 : found - i0;
      const p = i0 + f;
      const off = i0 - this.bufStart;
      const w = this.window;
      if (f < 1e-9) {
        for (let c = 0; c < channels; c++) {
          const x = this.buf[c], acc = this.acc[c];
          for (let i = 0; i < N; i++) acc[i] += x[off + i] * w[i];
        }
      } else {
        // x(i0 + i + f) = Σ h(j − f) x(i0 + i + j), j = −K+1 … K, in single precision (its rounding is far below
        // anything audible), two sums of 8 taps each in tap order: what the SIMD kernel computes four outputs at a time.
        const h = this.taps;
        for (let j = -K + 1; j <= K; j++) h[j + K - 1] = FRACTIONAL(j - f);
        const fr = Math.fround;
        for (let c = 0; c < channels; c++) {
          const x = this.buf[c], acc = this.acc[c];
          // The kernel does a multiple of 4 outputs; this loop the rest, or all of them when the kernels are off.
          const done = fracOverlapAdd(x, off - K + 1, w, acc, h);
          for (let i = done, b = off - K + 1 + done; i < N; i++, b++) {
            let u = fr(h[0] * x[b]);
            for (let j = 1; j < 8; j++) u = fr(u + fr(h[j] * x[b + j]));
            let v = fr(h[8] * x[b + 8]);
            for (let j = 9; j < 16; j++) v = fr(v + fr(h[j] * x[b + j]));
            acc[i] += fr(fr(u + v) * w[i]);
          }
        }
      }
      // The first H samples are final: emit them and shift.
      const take = Math.min(H, limit - this.emitted);
      if (total + take > this.out[0].length) {
        const cap = Math.max(2 * this.out[0].length, total + take);
        this.out = this.out.map((o) => {
          const grown = new Float32Array(cap);
          grown.set(o.subarray(0, total));
          return grown;
        });
      }
      for (let c = 0; c < channels; c++) this.out[c].set(this.acc[c].subarray(0, take), total);
      total += take;
      for (const acc of this.acc) {
        acc.copyWithin(0, H, N);
        acc.fill(0, N - H);
      }
      this.emitted += take;
      this.prev = p;
      this.k++;
    }
    return this.out.map((o) => o.subarray(0, total));
  }

  /** The output is a view of a buffer the next `process` or `flush` reuses: consume it first. */
  process(block: AudioBlock): AudioBlock {
    this.inTotal += block[0]?.length ?? 0;
    this.append(block);
    return this.run(Infinity);
  }

  flush(): AudioBlock {
    const total = Math.round(this.inTotal * this.ratio);
    // Pad with silence until every remaining output frame can be formed.
    const parts: AudioBlock[] = [];
    let guard = 0;
    while (this.emitted < total && guard++ < 1e6) {
      this.append(Array.from({ length: this.channels }, () => new Float32Array(this.N + 2 * this.delta)));
      parts.push(this.run(total).map((c) => c.slice())); // a copy: the next run reuses the buffer
    }
    const n = parts.reduce((s, p) => s + (p[0]?.length ?? 0), 0);
    const out = Array.from({ length: this.channels }, () => new Float32Array(n));
    let o = 0;
    for (const part of parts) {
      for (let c = 0; c < this.channels; c++) out[c].set(part[c], o);
      o += part[0]?.length ?? 0;
    }
    return out;
  }
}
