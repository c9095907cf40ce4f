import { createFft } from '../../engine/fft.ts';
import { dbToGain, msToFrames } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';
import { FrameSpill } from '../edit/spill.ts';

const N = 2048;
const HOP = N / 2;
const READ = 65536;

/**
 * Spectral noise reduction. Pass 1 spills the audio and records the energy of every hop; the noise profile is the
 * mean power spectrum of the quietest `profileMs` (or of a given span), steady tones in it taken for signal. Pass 2 is a short-time Fourier transform
 * (2048-point, 50 % overlap, √Hann analysis and synthesis, so unity gain where nothing is removed) applying a
 * power-subtraction gain per bin, floored at −reductionDb, computed from power smoothed across neighbouring bins and
 * smoothed over time (less musical noise). Channels are processed in pairs packed into one complex FFT with one gain per
 * pair, which keeps the stereo image stable.
 */
/** Bins on each side of a bin that make its background; the ±3 bins of a tone's main lobe are left out. */
const BACKGROUND = 16;
const LOBE = 3;
/** A profile bin this far over its background on both sides (10 dB) is a steady tone. */
const TONE_RATIO = 10;

const median = (values: number[]) => values.sort((a, b) => a - b)[values.length >> 1];

/**
 * Steady tones in the profile are signal, not noise: a file with no quiet passage has its music in the quietest
 * span too, and subtracting a held note's own power cut it by ~9 dB. A bin more than 10 dB over the median of its
 * neighbours on each side (its main lobe left out) is set to the higher of the two, so a tone passes and the noise
 * around it is still taken out; a sloped noise (pink, brown) stands over one side only and is kept whole. Mains hum is
 * a steady tone as well: an equalizer notch is the tool for it.
 */
function untone(profile: Float64Array): void {
  const last = profile.length - 1;
  const replaced: [number, number][] = [];
  for (let k = LOBE + 1; k <= last - LOBE - 1; k++) {
    const left: number[] = [], right: number[] = [];
    for (let j = Math.max(0, k - LOBE - BACKGROUND); j < k - LOBE; j++) left.push(profile[j]);
    for (let j = k + LOBE + 1; j <= Math.min(last, k + LOBE + BACKGROUND); j++) right.push(profile[j]);
    const background = Math.max(median(left), median(right));
    if (profile[k] > TONE_RATIO * background) replaced.push([k, background]);
  }
  for (const [k, background] of replaced) profile[k] = background;
}

export const noiseReduction = defineEffect({
  id: 'noise_reduction',
  description: 'Spectral noise reduction with a noise profile learned from the quietest part (or a given span)',
  wholeStream: 'Needs a noise profile first: the audio is spilled as float32 to the temp directory while the quietest span is found, then read back',
  parameters: {
    reductionDb: { kind: 'number', min: 0, max: 48, default: 18, unit: 'dB', doc: 'Most a bin is attenuated' },
    sensitivity: { kind: 'number', min: 0.5, max: 4, default: 2, unit: 'ratio', doc: 'Over-subtraction: higher removes more noise (and more signal)' },
    profileMs: { kind: 'number', min: 100, max: 10000, default: 500, unit: 'ms', doc: 'Length of the quietest span used as the noise profile' },
    profileStartMs: { kind: 'number', min: -1, max: 86_400_000, default: -1, unit: 'ms', doc: 'Start of a given noise-only span (−1 = find the quietest)' },
  },
  create(p, { format, tempDir }) {
    const channels = format.channels;
    const floor = dbToGain(-p.reductionDb);
    const alpha = p.sensitivity;
    const profileHops = Math.max(1, Math.round(msToFrames(p.profileMs, format.sampleRate) / HOP));
    return {
      outputChannels: channels,
      async *transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
        const spill = await FrameSpill.create(tempDir, channels);
        try {
          // Pass 1: spill and measure the energy of every hop (of the sum over channels).
          const energies: number[] = [];
          let acc = 0, fill = 0;
          for await (const block of source) {
            await spill.append(block);
            const n = block[0]?.length ?? 0;
            for (let i = 0; i < n; i++) {
              let e = 0;
              for (let c = 0; c < channels; c++) e += block[c][i] * block[c][i];
              acc += e;
              if (++fill === HOP) {
                energies.push(acc);
                acc = 0;
                fill = 0;
              }
            }
          }
          const total = spill.frames;
          if (total === 0) return;
          if (fill > 0) energies.push(acc);
          let startHop = 0;
          if (p.profileStartMs >= 0) startHop = Math.min(Math.max(0, energies.length - profileHops), Math.floor(msToFrames(p.profileStartMs, format.sampleRate) / HOP));
          else if (energies.length > profileHops) {
            let sum = 0;
            for (let i = 0; i < profileHops; i++) sum += energies[i];
            let best = sum;
            for (let i = profileHops; i < energies.length; i++) {
              sum += energies[i] - energies[i - profileHops];
              if (sum < best) {
                best = sum;
                startHop = i - profileHops + 1;
              }
            }
          }

          const fft = createFft(N);
          const win = Float64Array.from({ length: N }, (_, i) => Math.sqrt(0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N)));
          const pairs = Math.ceil(channels / 2);
          const re = new Float64Array(N), im = new Float64Array(N);
          const power = new Float64Array(N / 2 + 1);
          const gain = new Float64Array(N / 2 + 1);
          const noise = Array.from({ length: pairs }, () => new Float64Array(N / 2 + 1));
          const smooth = Array.from({ length: pairs }, () => new Float64Array(N / 2 + 1).fill(1));

          /** Frames of the (zero-padded) signal starting at s = k·HOP − HOP, read through a sliding buffer. */
          const frameReader = () => {
            const inBuf = Array.from({ length: channels }, () => new Float32Array(N));
            let chunk: AudioBlock = [];
            let chunkStart = 0, readPos = 0;
            let next = -HOP; // the next shift brings in [next + HOP, next + 2·HOP)
            return async function advance(): Promise<AudioBlock> {
              for (const b of inBuf) b.copyWithin(0, HOP);
              for (let i = 0; i < HOP; i++) {
                const at = next + HOP + i;
                if (at < 0 || at >= total) {
                  for (let c = 0; c < channels; c++) inBuf[c][N - HOP + i] = 0;
                  continue;
                }
                if (at - chunkStart >= (chunk[0]?.length ?? 0)) {
                  chunkStart = readPos;
                  chunk = await spill.read(readPos, Math.min(READ, total - readPos));
                  readPos += chunk[0].length;
                }
                for (let c = 0; c < channels; c++) inBuf[c][N - HOP + i] = chunk[c][at - chunkStart];
              }
              next += HOP;
              return inBuf;
            };
          };

          const analyse = (buf: AudioBlock, pair: number) => {
            const l = buf[2 * pair], r = buf[2 * pair + 1];
            for (let i = 0; i < N; i++) {
              re[i] = l[i] * win[i];
              im[i] = r ? r[i] * win[i] : 0;
            }
            fft.forward(re, im);
            for (let k = 0; k <= N / 2; k++) {
              const j = (N - k) % N;
              power[k] = (re[k] * re[k] + im[k] * im[k] + re[j] * re[j] + im[j] * im[j]) / 2;
            }
          };

          // The noise profile: mean power over the chosen hops (frame k covers hops k−1 and k).
          {
            const advance = frameReader();
            const first = startHop + 1, last = Math.max(first, startHop + profileHops - 1);
            let frames = 0;
            for (let k = 0; k <= last; k++) {
              const buf = await advance();
              if (k < first) continue;
              for (let pr = 0; pr < pairs; pr++) {
                analyse(buf, pr);
                for (let b = 0; b <= N / 2; b++) noise[pr][b] += power[b];
              }
              frames++;
            }
            for (const nz of noise) {
              for (let b = 0; b <= N / 2; b++) nz[b] /= Math.max(1, frames);
              untone(nz);
            }
          }

          // Pass 2: filter every frame and overlap-add.
          const advance = frameReader();
          const out = Array.from({ length: channels }, () => new Float64Array(N));
          let emitStart = -HOP; // absolute index of out[0]
          let pending: AudioBlock = Array.from({ length: channels }, () => new Float32Array(READ));
          let pendingFill = 0;
          while (emitStart < total) {
            const buf = await advance();
            for (let pr = 0; pr < pairs; pr++) {
              analyse(buf, pr);
              const nz = noise[pr], sm = smooth[pr];
              for (let k = 0; k <= N / 2; k++) {
                // Power smoothed over neighbouring bins: a noise bin's power scatters widely around its mean.
                const ps = (power[Math.max(0, k - 1)] + 2 * power[k] + power[Math.min(N / 2, k + 1)]) / 4;
                const g = ps > 0 ? 1 - (alpha * nz[k]) / ps : 1; // silence: nothing to remove
                gain[k] = g > floor * floor ? Math.sqrt(g) : floor;
              }
              for (let k = 0; k <= N / 2; k++) {
                const g = (gain[Math.max(0, k - 1)] + 2 * gain[k] + gain[Math.min(N / 2, k + 1)]) / 4;
                sm[k] = 0.4 * sm[k] + 0.6 * g;
              }
              for (let k = 0; k < N; k++) {
                const g = sm[k <= N / 2 ? k : N - k];
                re[k] *= g;
                im[k] *= g;
              }
              fft.inverse(re, im);
              const l = out[2 * pr], r = out[2 * pr + 1];
              for (let i = 0; i < N; i++) {
                l[i] += re[i] * win[i];
                if (r) r[i] += im[i] * win[i];
              }
            }
            // out[0, HOP) is final: frames starting later do not reach it.
            for (let i = 0; i < HOP; i++) {
              const at = emitStart + i;
              if (at >= 0 && at < total) {
                for (let c = 0; c < channels; c++) pending[c][pendingFill] = out[c][i];
                if (++pendingFill === READ) {
                  yield pending;
                  pending = Array.from({ length: channels }, () => new Float32Array(READ));
                  pendingFill = 0;
                }
              }
            }
            for (const o of out) {
              o.copyWithin(0, HOP);
              o.fill(0, N - HOP);
            }
            emitStart += HOP;
          }
          if (pendingFill > 0) yield pending.map((c) => c.subarray(0, pendingFill));
        } finally {
          await spill.dispose();
        }
      },
    };
  },
});
