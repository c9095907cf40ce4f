import { designBiquad, type BiquadCoefficients } from '../engine/biquad.ts';

/**
 * Tempo from an onset-strength envelope in three bands (Scheirer 1998; Ellis 2007), streaming:
 *
 * - the mono mix is split by biquads into lows (kick, < 150 Hz), mids (snare and voices, 200 Hz–2 kHz) and highs
 *   (hats, > 5 kHz); per hop of ~5.8 ms each band's log energy is taken and its rise kept (half-wave rectified flux);
 * - the bands are normalised by their mean and summed, the highs at half weight: hats often tick twice or four
 *   times per beat and would otherwise pull the estimate up an octave;
 * - the envelope's autocorrelation is scored per candidate beat period τ as ac(τ) + ac(2τ)/2 + ac(4τ)/4 (a beat
 *   is also a half bar and a bar), weighted by a log-Gaussian around 120 BPM (σ 1.4 octaves), as beat trackers do;
 * - the octave (half, same or double that period) is then settled by the loud accents alone: the rises of the
 *   amplitude of lows and mids together (kick and snare; hats and quiet ghost notes count little in amplitude).
 *   The fastest of the three at which those accents still recur (autocorrelation ≥ ACCENT_RECUR) is the beat:
 *   a backbeat at 70 BPM under eighth-note hats reads 70, not 140, and a 172 BPM break not 86;
 * - a clip shorter than LOOP_SECONDS is taken as a loop: its autocorrelation is circular (the end runs into the
 *   start), and when the best period is within 4 % of a whole number of beats in the clip, the tempo is that exact
 *   number of beats over the clip's length — loops are cut to whole bars, and a 2-second clip holds too few beats
 *   to measure a period to 1 BPM any other way.
 *
 * Only the first TEMPO_SECONDS are used. Returns null when there is no rhythm to speak of.
 */
export const TEMPO_SECONDS = 120;
const LOOP_SECONDS = 8;
const MIN_SECONDS = 1;
const MIN_BPM = 60;
const MAX_BPM = 200;
const MIN_FLUX = 0.02;
/** How strongly the loud accents must recur at a period for it to be the beat (autocorrelation, 1 = exactly). */
const ACCENT_RECUR = 0.4;
/**
 * How strongly the onset envelope must repeat at both the beat and two beats (autocorrelation) to be a tempo:
 * of 360 white and red noise clips (1.5–20 s, 30 seeds) the highest was 0.148; of the 200 drum loops of the tests
 * and their tuning set the lowest 0.191.
 */
const RHYTHM_MIN = 0.17;
/** The bands whose amplitude makes the accents: lows and mids. */
const ACCENT_BANDS = 2;

/** push() runs these bands' four sections (1, 2 and 1) in one loop, written out for exactly this shape. */
const BANDS: { design: Parameters<typeof designBiquad>[0][]; weight: number }[] = [
  { design: [{ type: 'lowpass', frequencyHz: 150, q: 0.707 }], weight: 1 },
  { design: [{ type: 'highpass', frequencyHz: 200, q: 0.707 }, { type: 'lowpass', frequencyHz: 2000, q: 0.707 }], weight: 1 },
  { design: [{ type: 'highpass', frequencyHz: 5000, q: 0.707 }], weight: 0.2 },
];

export class TempoTracker {
  readonly hop: number;
  private readonly sections: BiquadCoefficients[][];
  private readonly state: Float64Array[];
  private readonly energy: Float64Array;
  private readonly last: Float64Array;
  private readonly first: Float64Array;
  private readonly flux: Float32Array[];
  /** Per hop, the rise of the amplitude of the accent bands; and that amplitude at the first and last hop. */
  private readonly accent: Float32Array;
  private firstAmp = 0;
  private lastAmp = 0;
  private fill = 0;
  private hops = 0;
  private readonly maxHops: number;

  constructor(readonly sampleRate: number) {
    this.hop = Math.max(64, Math.round(sampleRate / 172));
    this.sections = BANDS.map((b) => b.design.map((d) => designBiquad(d, sampleRate)));
    this.state = this.sections.map((s) => new Float64Array(2 * s.length));
    this.energy = new Float64Array(BANDS.length);
    this.last = new Float64Array(BANDS.length);
    this.first = new Float64Array(BANDS.length);
    this.maxHops = Math.ceil((TEMPO_SECONDS * sampleRate) / this.hop);
    this.flux = BANDS.map(() => new Float32Array(this.maxHops));
    this.accent = new Float32Array(this.maxHops);
  }

  /** Mono samples, in order. Each band runs over the block on its own (coefficients and state in locals). */
  push(mono: Float32Array | Float64Array, n: number): void {
    const room = (this.maxHops - this.hops) * this.hop - this.fill;
    const m = Math.min(n, Math.max(0, room));
    if (m === 0) return;
    const hop = this.hop;
    const ends: number[] = []; // block positions where a hop completes
    for (let e = hop - this.fill; e <= m; e += hop) ends.push(e);
    const hopEnergy = BANDS.map(() => new Float64Array(ends.length));
    // The three bands' four sections in one loop: independent recursions side by side keep the processor busy
    // where one alone waits on its own previous result (the same arithmetic as one band at a time).
    const [[A], [B, C], [D]] = this.sections;
    const [sa, sb, sd] = this.state;
    let az1 = sa[0], az2 = sa[1], bz1 = sb[0], bz2 = sb[1], cz1 = sb[2], cz2 = sb[3], dz1 = sd[0], dz2 = sd[1];
    let e0 = this.energy[0], e1 = this.energy[1], e2 = this.energy[2];
    const [h0, h1, h2] = hopEnergy;
    let next = 0, nextEnd = ends.length > 0 ? ends[0] : -1;
    for (let i = 0; i < m; i++) {
      const x = mono[i];
      const ya = A.b0 * x + az1;
      az1 = A.b1 * x - A.a1 * ya + az2;
      az2 = A.b2 * x - A.a2 * ya;
      const yb = B.b0 * x + bz1;
      bz1 = B.b1 * x - B.a1 * yb + bz2;
      bz2 = B.b2 * x - B.a2 * yb;
      const yc = C.b0 * yb + cz1;
      cz1 = C.b1 * yb - C.a1 * yc + cz2;
      cz2 = C.b2 * yb - C.a2 * yc;
      const yd = D.b0 * x + dz1;
      dz1 = D.b1 * x - D.a1 * yd + dz2;
      dz2 = D.b2 * x - D.a2 * yd;
      e0 += ya * ya;
      e1 += yc * yc;
      e2 += yd * yd;
      if (i + 1 === nextEnd) {
        (h0[next] = e0), (h1[next] = e1), (h2[next] = e2);
        e0 = e1 = e2 = 0;
        nextEnd = ++next < ends.length ? ends[next] : -1;
      }
    }
    (sa[0] = az1), (sa[1] = az2), (sb[0] = bz1), (sb[1] = bz2), (sb[2] = cz1), (sb[3] = cz2), (sd[0] = dz1), (sd[1] = dz2);
    (this.energy[0] = e0), (this.energy[1] = e1), (this.energy[2] = e2);
    for (let k = 0; k < ends.length; k++) {
      for (let b = 0; b < BANDS.length; b++) {
        const le = Math.log1p(1e4 * hopEnergy[b][k]);
        if (this.hops === 0) this.first[b] = le;
        this.flux[b][this.hops] = this.hops === 0 ? 0 : Math.max(0, le - this.last[b]);
        this.last[b] = le;
      }
      let loud = 0;
      for (let b = 0; b < ACCENT_BANDS; b++) loud += hopEnergy[b][k];
      const amp = Math.sqrt(loud / hop);
      if (this.hops === 0) this.firstAmp = amp;
      this.accent[this.hops] = this.hops === 0 ? 0 : Math.max(0, amp - this.lastAmp);
      this.lastAmp = amp;
      this.hops++;
    }
    this.fill = ends.length > 0 ? m - ends[ends.length - 1] : this.fill + m;
  }

  /** The tempo in BPM (one decimal), or null. `frames`: the whole input's length (a loop's length). */
  estimate(frames: number): number | null {
    const rate = this.sampleRate / this.hop;
    const n = this.hops;
    const seconds = frames / this.sampleRate;
    if (seconds < MIN_SECONDS || n < 8) return null;
    const loop = seconds < LOOP_SECONDS && n * this.hop >= frames - this.hop;
    // A loop's first hop rises from its last one (the end runs into the start).
    if (loop) {
      for (let b = 0; b < BANDS.length; b++) this.flux[b][0] = Math.max(0, this.first[b] - this.last[b]);
      this.accent[0] = Math.max(0, this.firstAmp - this.lastAmp);
    }
    // The bands, each over its mean, summed with their weights.
    const env = new Float64Array(n);
    let strongest = 0;
    for (let b = 0; b < BANDS.length; b++) {
      let mean = 0;
      for (let t = 0; t < n; t++) mean += this.flux[b][t];
      mean /= n;
      strongest = Math.max(strongest, mean);
      if (mean <= 1e-9) continue;
      for (let t = 0; t < n; t++) env[t] += (BANDS[b].weight * this.flux[b][t]) / mean;
    }
    // Onsets worth the name: a band whose level rises by a mean of 0.02 (log energy) a hop; a held tone rises by ~0.
    if (strongest < MIN_FLUX) return null;
    const maxLag = Math.min(Math.ceil(((4 * 60) / MIN_BPM) * rate) + 2, loop ? n - 1 : n >> 1);
    const near = periodicity(env, n, maxLag, loop);
    if (!near) return null;
    const at = (lag: number) => near(lag, 0);
    const score = (lag: number) => {
      const bpm = (60 * rate) / lag;
      const prior = Math.exp(-0.5 * Math.pow(Math.log2(bpm / 120) / 1.4, 2));
      // A period that is one and a half beats (a dotted pattern read as the beat) has its true beat at 2/3 of it.
      const beatInside = Math.min(1, Math.max(0, near((2 * lag) / 3) / Math.max(1e-9, near(lag))));
      return prior * (near(lag) + near(2 * lag) / 2 + near(4 * lag) / 4) * (1 - 0.5 * beatInside);
    };
    // The best period on a grid of a tenth of a hop.
    let best = 0, bestScore = -Infinity;
    for (let lag = (60 * rate) / MAX_BPM; lag <= (60 * rate) / MIN_BPM; lag += 0.1) {
      const s = score(lag);
      if (s > bestScore) [best, bestScore] = [lag, s];
    }
    if (bestScore <= 0 || at(best) < 0.05) return null;
    // The octave: the fastest of double, same and half the period at which the loud accents still recur.
    const accents = periodicity(this.accent, n, maxLag, loop);
    if (accents) {
      let beat = best;
      for (const lag of [best * 2, best, best / 2]) {
        const bpm = (60 * rate) / lag;
        if (bpm >= MIN_BPM && bpm <= MAX_BPM && accents(lag) >= ACCENT_RECUR) beat = lag;
      }
      best = beat;
    }
    // A pulse recurs: the envelope repeats at the beat and at two beats. Noise can score a lag by chance, not both.
    if (Math.min(near(best), near(2 * best)) < RHYTHM_MIN) return null;
    const bpm = (60 * rate) / best;
    if (loop) {
      // A whole number of beats in the loop, when the measured period is near one.
      const beats = Math.round((bpm * seconds) / 60);
      const exact = (60 * beats) / seconds;
      if (beats > 0 && Math.abs(exact / bpm - 1) < 0.04) return Math.round(exact * 10) / 10;
    }
    return Math.round(bpm * 10) / 10;
  }
}

/**
 * The normalised autocorrelation of an envelope (centred; circular for a loop) up to maxLag hops, as a function
 * `near(lag, width = 1)`: the highest value within ±width hops of a fractional lag (an envelope's peaks are a hop
 * or two wide, so a period's multiples are looked for that loosely). Null for a flat envelope.
 */
function periodicity(source: ArrayLike<number>, n: number, maxLag: number, loop: boolean): ((lag: number, width?: number) => number) | null {
  const env = new Float64Array(n);
  let mean = 0;
  for (let t = 0; t < n; t++) mean += source[t];
  mean /= n;
  let energy = 0;
  for (let t = 0; t < n; t++) {
    env[t] = source[t] - mean;
    energy += env[t] * env[t];
  }
  if (energy <= 1e-9) return null;
  const ac = new Float64Array(maxLag + 2);
  for (let lag = 0; lag <= maxLag + 1; lag++) {
    let s = 0;
    if (loop) for (let t = 0; t < n; t++) s += env[t] * env[(t + lag) % n];
    else for (let t = lag; t < n; t++) s += env[t] * env[t - lag];
    ac[lag] = s / (loop ? n : n - lag) / (energy / n);
  }
  const at = (lag: number) => {
    if (lag > maxLag) return 0;
    const i = Math.floor(lag), f = lag - i;
    return ac[i] * (1 - f) + ac[Math.min(i + 1, maxLag + 1)] * f;
  };
  return (lag, width = 1) =>
    width === 0 ? at(lag) : Math.max(at(lag - width), at(lag - width / 2), at(lag), at(lag + width / 2), at(lag + width));
}
