import { msToFrames, renderTail } from '../../engine/util.ts';
import { echoSegment, kernelFloats, releaseKernelMemory } from '../../engine/wasm/index.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

const TAIL_FLOOR = Math.pow(10, -90 / 20);
const TAIL_CAP_S = 30;

/** One channel's echo without damping, from `pos`; returns the position after the block. */
function echo(line: Float32Array, xs: Float32Array, n: number, pos: number, len: number, fb: number, dry: number, wet: number): number {
  // The SIMD kernel takes runs up to the line's end (each position visited once per run), with the same arithmetic;
  // a line of a few frames stays with the loop below (a call per few frames would cost more than it saves).
  let i = 0;
  while (i < n && len >= 64) {
    const m = Math.min(n - i, len - pos);
    if (!echoSegment(line, pos, xs, i, m, fb, dry, wet)) break;
    i += m;
    pos += m;
    if (pos === len) pos = 0;
  }
  for (; i < n; i++) {
    const d = line[pos];
    const x = xs[i];
    line[pos] = x + fb * d;
    xs[i] = x * dry + d * wet;
    if (++pos === len) pos = 0;
  }
  return pos;
}

/**
 * Echo: a ring-buffer delay line per channel with feedback through an optional one-pole low-pass (damping).
 * Ping-pong crosses the feedback between left and right. Output = dry·(1 − mix) + delayed·mix.
 */
export const delay = defineEffect({
  id: 'delay',
  description: 'Delay / echo with feedback, damping and ping-pong',
  tail: 'Echoes continue after the input ends until the delay line falls below −90 dBFS (at most 30 s)',
  parameters: {
    timeMs: { kind: 'number', min: 1, max: 5000, default: 300, unit: 'ms', doc: 'Time between echoes' },
    feedback: { kind: 'number', min: 0, max: 0.95, default: 0.4, unit: 'ratio', doc: 'Level of each echo relative to the previous one' },
    mix: { kind: 'number', min: 0, max: 1, default: 0.35, unit: 'ratio', doc: 'Share of the delayed signal (0 = dry)' },
    pingPong: { kind: 'boolean', default: false, doc: 'Alternate echoes between left and right' },
    dampingHz: { kind: 'number', min: 200, max: 22000, default: 22000, unit: 'Hz', doc: 'Low-pass in the feedback path (22000 = none)' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const len = Math.max(1, msToFrames(p.timeMs, format.sampleRate));
    // In the kernels' memory where there is room (the echo kernel then works on them where they are), handed back
    // at the end of the stream.
    const lines = Array.from({ length: channels }, () => kernelFloats(len) ?? new Float32Array(len));
    const lp = new Float64Array(channels);
    const damp = p.dampingHz >= 0.49 * format.sampleRate ? 1 : 1 - Math.exp((-2 * Math.PI * p.dampingHz) / format.sampleRate);
    const fb = p.feedback;
    const wet = p.mix;
    const dry = 1 - p.mix;
    const cross = p.pingPong && channels >= 2;
    const state = { pos: 0 };
    const tailLeft = Math.round(TAIL_CAP_S * format.sampleRate);

    // State in locals inside the loops (a captured variable written per sample costs a memory round trip).
    const run = (block: AudioBlock) => {
      const n = block[0]?.length ?? 0;
      let end = state.pos;
      if (cross) {
        const l0 = lines[0], l1 = lines[1], x0 = block[0], x1 = block[1];
        let lpl = lp[0], lpr = lp[1];
        let pos = state.pos;
        for (let i = 0; i < n; i++) {
          const dl = l0[pos];
          const dr = l1[pos];
          lpl += damp * (dl - lpl);
          lpr += damp * (dr - lpr);
          const xl = x0[i];
          const xr = x1[i];
          l0[pos] = xl + fb * lpr;
          l1[pos] = xr + fb * lpl;
          x0[i] = xl * dry + dl * wet;
          x1[i] = xr * dry + dr * wet;
          if (++pos === len) pos = 0;
        }
        lp[0] = lpl;
        lp[1] = lpr;
        end = pos;
      }
      // Channels on their own line (all of them, or those past the ping-pong pair).
      for (let c = cross ? 2 : 0; c < channels; c++) {
        const line = lines[c], xs = block[c];
        if (damp === 1) {
          // No damping: the feedback is the delayed sample itself, no one-pole recursion to wait on per sample.
          end = echo(line, xs, n, state.pos, len, fb, dry, wet);
          continue;
        }
        let l = lp[c];
        let pos = state.pos;
        for (let i = 0; i < n; i++) {
          const d = line[pos];
          l += damp * (d - l);
          const x = xs[i];
          line[pos] = x + fb * l;
          xs[i] = x * dry + d * wet;
          if (++pos === len) pos = 0;
        }
        lp[c] = l;
        end = pos;
      }
      state.pos = end;
      return block;
    };
    const lineIsQuiet = () => {
      for (const line of lines) for (let i = 0; i < len; i++) if (Math.abs(line[i]) >= TAIL_FLOOR) return false;
      return true;
    };
    return {
      outputChannels: channels,
      process: run,
      // Emit one delay length at a time while anything audible is left in the line.
      flush: (): AudioBlock => {
        const tail = wet > 0 ? renderTail(run, channels, len, tailLeft, lineIsQuiet) : [];
        for (const line of lines) releaseKernelMemory(line);
        return tail;
      },
    };
  },
});
