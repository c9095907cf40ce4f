import { msToFrames, renderTail } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

// Freeverb (Jezar at Dreampoint, public domain): tunings at 44.1 kHz, scaled to the stream's rate.
const COMBS = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
const ALLPASSES = [556, 441, 341, 225];
// runTank is written for this layout: combs in groups of four, exactly four all-passes.
const STEREO_SPREAD = 23;
const FIXED_GAIN = 0.015;
const TAIL_FLOOR = Math.pow(10, -90 / 20);
const TAIL_CAP_S = 20;

interface Tank {
  combs: Float32Array[];
  combPos: Int32Array;
  combLp: Float64Array;
  allpasses: Float32Array[];
  apPos: Int32Array;
}

function tank(sampleRate: number, spread: number): Tank {
  const k = sampleRate / 44100;
  const combs = COMBS.map((n) => new Float32Array(Math.max(1, Math.round((n + spread) * k))));
  const allpasses = ALLPASSES.map((n) => new Float32Array(Math.max(1, Math.round((n + spread) * k))));
  return { combs, combPos: new Int32Array(combs.length), combLp: new Float64Array(combs.length), allpasses, apPos: new Int32Array(allpasses.length) };
}

/**
 * Run one tank over `input` into `out` (both the same length). The combs go four to a loop: each comb's damping
 * filter is a one-pole recursion whose latency, not arithmetic, bounds a single loop; four independent ones
 * run side by side.
 */
function runTank(t: Tank, input: Float32Array, out: Float32Array, n: number, feedback: number, damp: number): void {
  out.fill(0, 0, n);
  const d1 = damp;
  const d2 = 1 - damp;
  for (let j = 0; j < t.combs.length; j += 4) {
    const b0 = t.combs[j], b1 = t.combs[j + 1], b2 = t.combs[j + 2], b3 = t.combs[j + 3];
    const s0 = b0.length, s1 = b1.length, s2 = b2.length, s3 = b3.length;
    let p0 = t.combPos[j], p1 = t.combPos[j + 1], p2 = t.combPos[j + 2], p3 = t.combPos[j + 3];
    let l0 = t.combLp[j], l1 = t.combLp[j + 1], l2 = t.combLp[j + 2], l3 = t.combLp[j + 3];
    for (let i = 0; i < n; i++) {
      const x = input[i];
      const y0 = b0[p0], y1 = b1[p1], y2 = b2[p2], y3 = b3[p3];
      l0 = y0 * d2 + l0 * d1;
      l1 = y1 * d2 + l1 * d1;
      l2 = y2 * d2 + l2 * d1;
      l3 = y3 * d2 + l3 * d1;
      b0[p0] = x + l0 * feedback;
      b1[p1] = x + l1 * feedback;
      b2[p2] = x + l2 * feedback;
      b3[p3] = x + l3 * feedback;
      out[i] += y0 + y1 + (y2 + y3);
      if (++p0 === s0) p0 = 0;
      if (++p1 === s1) p1 = 0;
      if (++p2 === s2) p2 = 0;
      if (++p3 === s3) p3 = 0;
    }
    t.combPos[j] = p0, t.combPos[j + 1] = p1, t.combPos[j + 2] = p2, t.combPos[j + 3] = p3;
    t.combLp[j] = l0, t.combLp[j + 1] = l1, t.combLp[j + 2] = l2, t.combLp[j + 3] = l3;
  }
  // The four series all-passes in one pass over the block (one read and one write of `out` instead of four).
  const [a0, a1, a2, a3] = t.allpasses;
  const s0 = a0.length, s1 = a1.length, s2 = a2.length, s3 = a3.length;
  let p0 = t.apPos[0], p1 = t.apPos[1], p2 = t.apPos[2], p3 = t.apPos[3];
  for (let i = 0; i < n; i++) {
    let x = out[i];
    let b = a0[p0];
    a0[p0] = x + b * 0.5;
    x = b - x;
    b = a1[p1];
    a1[p1] = x + b * 0.5;
    x = b - x;
    b = a2[p2];
    a2[p2] = x + b * 0.5;
    x = b - x;
    b = a3[p3];
    a3[p3] = x + b * 0.5;
    out[i] = b - x;
    if (++p0 === s0) p0 = 0;
    if (++p1 === s1) p1 = 0;
    if (++p2 === s2) p2 = 0;
    if (++p3 === s3) p3 = 0;
  }
  t.apPos[0] = p0, t.apPos[1] = p1, t.apPos[2] = p2, t.apPos[3] = p3;
}

const quiet = (t: Tank) => {
  for (const b of [...t.combs, ...t.allpasses]) for (let i = 0; i < b.length; i++) if (Math.abs(b[i]) >= TAIL_FLOOR * 0.1) return false;
  return true;
};

/**
 * Freeverb-class reverb: 8 parallel low-pass-damped combs and 4 series all-passes per side, the right side
 * detuned by 23 samples; mono-summed input through an optional pre-delay ring buffer; width mixes the sides.
 */
export const reverb = defineEffect({
  id: 'reverb',
  description: 'Reverb (Freeverb): room size, damping, wet/dry mix, stereo width and pre-delay',
  tail: 'The reverberation continues after the input ends until it falls below −90 dBFS (at most 20 s)',
  parameters: {
    roomSize: { kind: 'number', min: 0, max: 1, default: 0.5, unit: 'ratio', doc: 'Size of the room (longer decay)' },
    damping: { kind: 'number', min: 0, max: 1, default: 0.5, unit: 'ratio', doc: 'High-frequency absorption' },
    mix: { kind: 'number', min: 0, max: 1, default: 0.3, unit: 'ratio', doc: 'Share of the reverberated signal (0 = dry)' },
    widthPct: { kind: 'number', min: 0, max: 100, default: 100, unit: '%', doc: 'Stereo width of the reverberation' },
    preDelayMs: { kind: 'number', min: 0, max: 500, default: 0, unit: 'ms', doc: 'Delay before the reverberation starts' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const feedback = 0.7 + 0.28 * p.roomSize;
    const damp = 0.4 * p.damping;
    const wet = p.mix * 3; // Freeverb's wet scale
    const width = p.widthPct / 100;
    const wet1 = wet * (width / 2 + 0.5);
    const wet2 = wet * ((1 - width) / 2);
    const dry = 1 - p.mix;
    const left = tank(format.sampleRate, 0);
    const right = tank(format.sampleRate, STEREO_SPREAD);
    const pre = Math.max(1, msToFrames(p.preDelayMs, format.sampleRate));
    const preLine = new Float32Array(pre);
    const usePre = p.preDelayMs > 0;
    let prePos = 0;
    let input = new Float32Array(0);
    let outL = new Float32Array(0);
    let outR = new Float32Array(0);
    const tailLeft = Math.round(TAIL_CAP_S * format.sampleRate);

    const run = (block: AudioBlock): AudioBlock => {
      const n = block[0]?.length ?? 0;
      if (input.length < n) {
        input = new Float32Array(n);
        outL = new Float32Array(n);
        outR = new Float32Array(n);
      }
      const g = FIXED_GAIN * (channels >= 2 ? 1 : 2);
      for (let i = 0; i < n; i++) {
        let s = block[0][i];
        if (channels >= 2) s += block[1][i];
        s *= g;
        if (usePre) {
          const d = preLine[prePos];
          preLine[prePos] = s;
          if (++prePos === pre) prePos = 0;
          s = d;
        }
        input[i] = s;
      }
      runTank(left, input, outL, n, feedback, damp);
      runTank(right, input, outR, n, feedback, damp);
      if (channels === 1) {
        const x = block[0];
        for (let i = 0; i < n; i++) x[i] = x[i] * dry + (outL[i] + outR[i]) * 0.5 * wet;
      } else {
        const l = block[0];
        const r = block[1];
        for (let i = 0; i < n; i++) {
          l[i] = l[i] * dry + outL[i] * wet1 + outR[i] * wet2;
          r[i] = r[i] * dry + outR[i] * wet1 + outL[i] * wet2;
        }
      }
      return block;
    };
    return {
      outputChannels: channels,
      process: run,
      flush: (): AudioBlock =>
        p.mix > 0 ? renderTail(run, channels, 4096, tailLeft, () => quiet(left) && quiet(right) && (!usePre || preLine.every((v) => Math.abs(v) < TAIL_FLOOR * 0.1))) : [],
    };
  },
});
