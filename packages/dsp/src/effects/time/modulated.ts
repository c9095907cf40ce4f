import { fastSin, msToFrames, SINE, TABLE_SIZE } from '../../engine/util.ts';
import { modDelay, type ModDelay } from '../../engine/wasm/index.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * A modulated delay line shared by chorus and flanger: per channel a ring buffer, read at a fractional delay
 * (linear interpolation) that an LFO moves; the LFO runs on absolute frames, so any block size gives the same output.
 *
 * The per-frame arithmetic is in single precision (each step rounded with Math.fround), as the WebAssembly kernel
 * does it four frames to a vector. The delay is split into a whole number of frames and a small part q (the base's
 * fraction plus the LFO's excursion), so the read position is as precise as q, whose size is the depth, not the
 * delay: within 1e-5 of a frame at the default 2 ms depth and 5e-5 at the 10 ms maximum (48 kHz), below the 1e-3
 * of the LFO's grid interpolation.
 */
function modulatedDelay(opts: {
  channels: number;
  sampleRate: number;
  voices: number;
  delayMs: number;
  depthMs: number;
  rateHz: number;
  feedback: number;
  mix: number;
  /** LFO phase offset between channels, in cycles. */
  channelPhase: number;
}) {
  const { channels, voices } = opts;
  const f32 = Math.fround;
  const base = (opts.delayMs / 1000) * opts.sampleRate;
  const depth = (opts.depthMs / 1000) * opts.sampleRate;
  const size = Math.max(4, Math.ceil(base + depth) + 4);
  // The delay is whole + q, q = frac + depth·LFO (single precision); it is held at ≥ 1 frame: q ≥ 1 − whole.
  const whole = Math.floor(base);
  const frac = f32(base - whole);
  const qMin = 1 - whole;
  // Each line is written twice (at pos and pos + size), so a read at pos + size − d never wraps.
  const lines = Array.from({ length: channels }, () => new Float32Array(2 * size));
  const inc = opts.rateHz / opts.sampleRate;
  const wet = f32(opts.mix / voices);
  const dry = f32(1 - opts.mix);
  const feedback = f32(opts.feedback);
  const voiceOffset = Float64Array.from({ length: voices }, (_, v) => v / voices);
  // The LFO is evaluated on a grid of GRID frames (at absolute positions, so any block size gives the same grid)
  // and interpolated linearly between: at ≤ 5 Hz the error is under 1e-3 of a sample of delay. State: the LFO phase
  // at the start of the current cell (advanced by a cell's worth as each cell ends), the write position and the
  // absolute frame count at the start of the next block. Channels are independent, so each runs its own loop over
  // the block from the same starting state (locals: no boxed doubles in the loop).
  const GRID = 16;
  const cellStep = GRID * inc;
  const state = { phase: 0, pos: 0, count: 0 };
  const e0 = new Float64Array(voices);
  const es = new Float64Array(voices);
  // The same loop as a WebAssembly kernel (every step the same arithmetic), per channel.
  const constants: ModDelay[] = Array.from({ length: channels }, (_, c) => ({
    whole, frac, depth, cellStep, dry, wet, feedback, channelOffset: c * opts.channelPhase, voiceOffset, sine: SINE, sineSize: TABLE_SIZE,
  }));
  return (block: AudioBlock): AudioBlock => {
    const n = block[0]?.length ?? 0;
    let endPhase = state.phase, endPos = state.pos;
    for (let c = 0; c < channels; c++) {
      const line = lines[c];
      const xs = block[c];
      const st = { phase: state.phase, pos: state.pos, cell: state.count % GRID };
      if (n > 0 && modDelay(xs.subarray(0, n), line, constants[c], st)) {
        (endPhase = st.phase), (endPos = st.pos);
        continue;
      }
      const channelOffset = c * opts.channelPhase;
      let phase = state.phase;
      let pos = state.pos;
      let k = state.count % GRID;
      for (let i = 0; i < n; ) {
        // One grid cell (or the part of it in this block): per voice the LFO's excursion (in frames) at the cell's
        // start and its step per frame.
        const end = Math.min(n, i + (GRID - k));
        for (let v = 0; v < voices; v++) {
          const off = phase + voiceOffset[v] + channelOffset;
          const a = fastSin(off);
          e0[v] = f32(depth * a);
          es[v] = f32((depth * (fastSin(off + cellStep) - a)) / GRID);
        }
        if (voices === 2 && feedback === 0) {
          // The default chorus, unrolled: two reads per frame, no loop over voices.
          const a0 = e0[0], s0 = es[0], a1 = e0[1], s1 = es[1];
          for (; i < end; i++, k++) {
            const x = xs[i];
            let q0 = f32(frac + f32(a0 + f32(s0 * k)));
            let q1 = f32(frac + f32(a1 + f32(s1 * k)));
            if (q0 < qMin) q0 = qMin;
            if (q1 < qMin) q1 = qMin;
            const c0 = Math.ceil(q0), c1 = Math.ceil(q1);
            const j0 = pos + size - whole - c0, j1 = pos + size - whole - c1;
            const u0 = line[j0], u1 = line[j1];
            const sum = f32(f32(u0 + f32(f32(line[j0 + 1] - u0) * f32(c0 - q0))) + f32(u1 + f32(f32(line[j1 + 1] - u1) * f32(c1 - q1))));
            line[pos] = x;
            line[pos + size] = x;
            xs[i] = f32(x * dry) + f32(sum * wet);
            if (++pos === size) pos = 0;
          }
        } else {
          for (; i < end; i++, k++) {
            const x = xs[i];
            let sum = 0;
            for (let v = 0; v < voices; v++) {
              // Delay moves within [base − depth, base + depth] (held at one frame at least).
              let q = f32(frac + f32(e0[v] + f32(es[v] * k)));
              if (q < qMin) q = qMin;
              const cq = Math.ceil(q);
              const j = pos + size - whole - cq; // in [pos + 3, pos + size − 1]: inside the mirrored line
              const u = line[j];
              const val = f32(u + f32(f32(line[j + 1] - u) * f32(cq - q)));
              sum = v === 0 ? val : f32(sum + val); // the first voice as it is (0 + −0 would be +0): the kernel's sum
            }
            const w = feedback === 0 ? x : f32(x + f32(feedback * f32(sum / voices)));
            line[pos] = w;
            line[pos + size] = w;
            xs[i] = f32(x * dry) + f32(sum * wet);
            if (++pos === size) pos = 0;
          }
        }
        if (k === GRID) {
          k = 0;
          phase += cellStep;
          if (phase >= 1) phase -= 1;
        }
      }
      endPhase = phase;
      endPos = pos;
    }
    state.phase = endPhase;
    state.pos = endPos;
    state.count += n;
    return block;
  };
}

export const chorus = defineEffect({
  id: 'chorus',
  description: 'Chorus: several voices of the signal at slowly modulated short delays',
  parameters: {
    voices: { kind: 'number', min: 1, max: 4, default: 2, unit: 'voices', integer: true, doc: 'Number of delayed copies' },
    delayMs: { kind: 'number', min: 5, max: 40, default: 20, unit: 'ms', doc: 'Centre delay of the voices' },
    depthMs: { kind: 'number', min: 0, max: 10, default: 2, unit: 'ms', doc: 'How far the delay swings either side' },
    rateHz: { kind: 'number', min: 0.05, max: 5, default: 0.8, unit: 'Hz', doc: 'Modulation rate' },
    mix: { kind: 'number', min: 0, max: 1, default: 0.5, unit: 'ratio', doc: 'Share of the voices (0 = dry)' },
    spreadPct: { kind: 'number', min: 0, max: 100, default: 50, unit: '%', doc: 'LFO phase offset between channels (stereo spread)' },
  },
  create(p, { format }) {
    return {
      outputChannels: format.channels,
      process: modulatedDelay({ channels: format.channels, sampleRate: format.sampleRate, voices: p.voices, delayMs: p.delayMs, depthMs: p.depthMs, rateHz: p.rateHz, feedback: 0, mix: p.mix, channelPhase: p.spreadPct / 200 }),
      flush: () => [],
    };
  },
});

export const flanger = defineEffect({
  id: 'flanger',
  description: 'Flanger: the signal mixed with a copy at a very short swept delay, with feedback',
  parameters: {
    delayMs: { kind: 'number', min: 0.5, max: 10, default: 3, unit: 'ms', doc: 'Centre delay' },
    depthMs: { kind: 'number', min: 0, max: 5, default: 2, unit: 'ms', doc: 'How far the delay swings either side' },
    rateHz: { kind: 'number', min: 0.05, max: 5, default: 0.25, unit: 'Hz', doc: 'Sweep rate' },
    feedback: { kind: 'number', min: -0.95, max: 0.95, default: 0.5, unit: 'ratio', doc: 'Feedback of the delayed signal' },
    mix: { kind: 'number', min: 0, max: 1, default: 0.5, unit: 'ratio', doc: 'Share of the delayed signal (0 = dry)' },
  },
  create(p, { format }) {
    return {
      outputChannels: format.channels,
      process: modulatedDelay({ channels: format.channels, sampleRate: format.sampleRate, voices: 1, delayMs: p.delayMs, depthMs: p.depthMs, rateHz: p.rateHz, feedback: p.feedback, mix: p.mix, channelPhase: 0.25 }),
      flush: () => [],
    };
  },
});

/**
 * Phaser: a cascade of first-order all-passes whose common break frequency an LFO sweeps between baseHz and
 * baseHz + rangeHz·depth, with feedback; the all-pass coefficient is updated every 16 samples (counted from the
 * stream start, so block size does not matter).
 */
export const phaser = defineEffect({
  id: 'phaser',
  description: 'Phaser: swept all-pass stages mixed with the dry signal to move notches through the spectrum',
  parameters: {
    stages: { kind: 'number', min: 2, max: 12, default: 4, unit: 'stages', integer: true, doc: 'All-pass stages (notches = stages / 2)' },
    rateHz: { kind: 'number', min: 0.05, max: 5, default: 0.5, unit: 'Hz', doc: 'Sweep rate' },
    depth: { kind: 'number', min: 0, max: 1, default: 0.7, unit: 'ratio', doc: 'Share of the range swept' },
    feedback: { kind: 'number', min: -0.9, max: 0.9, default: 0.3, unit: 'ratio', doc: 'Feedback around the all-pass cascade' },
    baseHz: { kind: 'number', min: 50, max: 5000, default: 300, unit: 'Hz', doc: 'Lowest break frequency' },
    rangeHz: { kind: 'number', min: 0, max: 10000, default: 2000, unit: 'Hz', doc: 'Sweep range above the base' },
    mix: { kind: 'number', min: 0, max: 1, default: 0.5, unit: 'ratio', doc: 'Share of the phased signal (0 = dry)' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const sr = format.sampleRate;
    const stages = p.stages;
    const state = new Float64Array(channels * stages);
    const last = new Float64Array(channels);
    const inc = p.rateHz / sr;
    const fb = p.feedback;
    const wet = p.mix;
    const dry = 1 - p.mix;
    const st = { phase: 0, count: 0, a: 0 };
    const coef = (phase: number) => {
      const f = Math.min(0.45 * sr, p.baseHz + p.rangeHz * p.depth * 0.5 * (1 + fastSin(phase)));
      const t = Math.tan((Math.PI * f) / sr);
      return (t - 1) / (t + 1);
    };
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        const n = block[0]?.length ?? 0;
        let { phase, count, a } = st;
        for (let i = 0; i < n; i++) {
          if ((count & 15) === 0) a = coef(phase);
          count++;
          for (let c = 0; c < channels; c++) {
            const x = block[c][i];
            let y = x + fb * last[c];
            const o = c * stages;
            for (let s = 0; s < stages; s++) {
              // y = a·x + x[n−1] − a·y[n−1], in transposed form with one state per stage.
              const out = a * y + state[o + s];
              state[o + s] = y - a * out;
              y = out;
            }
            last[c] = y;
            block[c][i] = x * dry + y * wet;
          }
          phase += inc;
          if (phase >= 1) phase -= 1;
        }
        st.phase = phase;
        st.count = count;
        st.a = a;
        return block;
      },
      flush: () => [],
    };
  },
});
