import { peakBetween, TP_CENTER, truePeakL1, TP_TAPS } from '../../engine/true-peak.ts';
import { compensateLatency } from '../../engine/latency.ts';
import { dbToGain, msToFrames, timeCoef } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * True-peak lookahead limiter. Per sample, the required gain is ceiling / peak, where the peak includes the
 * inter-sample values at 16× wherever they could reach the ceiling (the same interpolator as the true-peak meter).
 * The gain is the sliding minimum of the requirement over the lookahead, recovered with the release time, then
 * box-averaged over the lookahead: the average of values each ≤ the requirement of the sample being output is ≤ it
 * too, so the ceiling holds with a smooth attack. All buffers are fixed-size rings.
 */
export const limiter = defineEffect({
  id: 'limiter',
  description: 'True-peak lookahead limiter: keeps the output below a ceiling in dBTP',
  parameters: {
    ceilingDb: { kind: 'number', min: -20, max: 0, default: -1, unit: 'dBTP', doc: 'Highest true peak of the output' },
    lookaheadMs: { kind: 'number', min: 1, max: 20, default: 5, unit: 'ms', doc: 'How far ahead the gain starts to fall' },
    releaseMs: { kind: 'number', min: 10, max: 2000, default: 100, unit: 'ms', doc: 'Time for the gain to recover' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const ceiling = dbToGain(p.ceilingDb);
    const L = Math.max(1, msToFrames(p.lookaheadMs, format.sampleRate));
    // Requirement index t covers samples t − H + TP_CENTER and the next one: the box of L gains, each the minimum
    // of L + 1 requirements, holds for sample t − L − D exactly when D = TP_CENTER.
    const D = TP_CENTER;
    const latency = L + D;
    const rc = timeCoef(p.releaseMs, format.sampleRate);
    const H = TP_TAPS - 1;
    const hist = Array.from({ length: channels }, () => new Float64Array(H));
    let work = new Float64Array(0);
    let pk = new Float64Array(0);
    // Sliding minimum over L + 1 requirements (monotonic deque in rings).
    const W = L + 1;
    const dqVal = new Float64Array(W + 1);
    const dqIdx = new Float64Array(W + 1);
    let dqHead = 0, dqLen = 0;
    let t = 0; // requirement index
    let rel = 1;
    const box = new Float64Array(L).fill(1);
    let boxPos = 0, boxSum = L;
    const delay = Array.from({ length: channels }, () => new Float32Array(latency));
    let dPos = 0;

    const peaks = (block: AudioBlock, n: number) => {
      if (pk.length < n) pk = new Float64Array(n);
      if (work.length < n + H) work = new Float64Array(n + H);
      pk.fill(0, 0, n);
      const l1 = truePeakL1();
      for (let c = 0; c < channels; c++) {
        const x = block[c];
        work.set(hist[c], 0);
        work.set(x, H);
        for (let start = 0; start < n; start += 32) {
          const end = Math.min(n, start + 32);
          let m = 0;
          for (let i = start; i < end + H; i++) {
            const a = work[i] < 0 ? -work[i] : work[i];
            if (a > m) m = a;
          }
          if (m * l1 <= ceiling) continue; // nothing here can reach the ceiling
          for (let i = start; i < end; i++) {
            const a = peakBetween(work, i, ceiling);
            if (a > pk[i]) pk[i] = a;
          }
        }
        for (let k = 0; k < H; k++) hist[c][k] = work[n + k];
      }
    };

    const inner = (block: AudioBlock) => {
      const n = block[0]?.length ?? 0;
      peaks(block, n);
      for (let i = 0; i < n; i++) {
        const r = pk[i] > ceiling ? ceiling / pk[i] : 1;
        // push r into the min-deque
        while (dqLen > 0 && dqVal[(dqHead + dqLen - 1) % (W + 1)] >= r) dqLen--;
        const slot = (dqHead + dqLen) % (W + 1);
        dqVal[slot] = r;
        dqIdx[slot] = t;
        dqLen++;
        while (dqIdx[dqHead] <= t - W) {
          dqHead = (dqHead + 1) % (W + 1);
          dqLen--;
        }
        const h = dqVal[dqHead];
        rel = rel * rc + (1 - rc);
        if (h < rel) rel = h;
        boxSum += rel - box[boxPos];
        box[boxPos] = rel;
        if (++boxPos === L) boxPos = 0;
        const g = Math.min(1, boxSum / L);
        for (let c = 0; c < channels; c++) {
          const x = block[c][i];
          block[c][i] = delay[c][dPos] * g;
          delay[c][dPos] = x;
        }
        if (++dPos === latency) dPos = 0;
        t++;
      }
    };
    return compensateLatency(inner, latency, channels);
  },
});
