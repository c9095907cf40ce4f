import RNNoise from '@echogarden/rnnoise-wasm';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createResampler } from '../../engine/resampler.ts';
import { DspError } from '../../errors.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/** RNNoise's network runs at 48 kHz on 10 ms frames, on samples in the 16-bit range. */
const CORE_RATE = 48_000;
const FRAME = 480;
/** Its output lags its input by one frame (measured in the tests by cross-correlation). */
const CORE_DELAY = FRAME;

interface RnnoiseModule {
  HEAPF32: Float32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _rnnoise_create(model: number): number;
  _rnnoise_destroy(state: number): void;
  _rnnoise_process_frame(state: number, out: number, input: number): number;
}

/** Where the weights (inside rnnoise.wasm) are: beside a deployed bundle (copied at bundling), else in node_modules. */
export const RNNOISE_FILES = { package: '@echogarden/rnnoise-wasm', files: ['rnnoise.wasm'], into: 'rnnoise' } as const;

function wasmBytes(): Uint8Array {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, RNNOISE_FILES.into, 'rnnoise.wasm')];
  try {
    candidates.push(createRequire(import.meta.url).resolve(`${RNNOISE_FILES.package}/rnnoise.wasm`));
  } catch {
    // not installed here: only a copy beside the bundle can serve
  }
  for (const c of candidates) {
    try {
      return process.getBuiltinModule('node:fs').readFileSync(c); // not `import`: see cli/main.ts's parseArgs
    } catch {
      // next
    }
  }
  throw new DspError('Effect::ModelMissing', `the speech_denoise model (${RNNOISE_FILES.package}/rnnoise.wasm) is not installed`);
}

let loading: Promise<RnnoiseModule> | null = null;
/** One WebAssembly instance per process (about 6 ms to start); every stream gets its own network states. */
function rnnoise(): Promise<RnnoiseModule> {
  loading ??= (RNNoise({ wasmBinary: wasmBytes() }) as Promise<RnnoiseModule>).catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}

/** A first-in first-out queue of planar samples. */
class Fifo {
  private data: Float32Array[];
  private start = 0;
  private end = 0;

  constructor(private readonly channels: number) {
    this.data = Array.from({ length: channels }, () => new Float32Array(8192));
  }

  get length(): number {
    return this.end - this.start;
  }

  push(block: AudioBlock): void {
    const n = block[0]?.length ?? 0;
    if (this.end + n > this.data[0].length) {
      const size = Math.max(this.data[0].length, 2 * (this.length + n));
      this.data = this.data.map((d) => {
        const grown = new Float32Array(size);
        grown.set(d.subarray(this.start, this.end));
        return grown;
      });
      this.end -= this.start;
      this.start = 0;
    }
    for (let c = 0; c < this.channels; c++) this.data[c].set(block[c].subarray(0, n), this.end);
    this.end += n;
  }

  shift(n: number): AudioBlock {
    const out = this.data.map((d) => d.slice(this.start, this.start + n));
    this.start += n;
    if (this.start === this.end) this.start = this.end = 0;
    return out;
  }
}

/**
 * ML speech denoising: RNNoise (a recurrent network trained on speech and noise; Valin 2018), compiled to
 * WebAssembly with its weights, from @echogarden/rnnoise-wasm. Any input rate is resampled to the network's 48 kHz
 * and back (our zero-latency windowed-sinc resampler), each channel runs its own network state, and the network's
 * one-frame delay is removed, so the output lines up with the input sample for sample and has its exact length.
 * Memory is bounded (a few frames per channel). `mix` blends the denoised signal with the original.
 */
export const speechDenoise = defineEffect({
  id: 'speech_denoise',
  description: 'ML speech denoiser (RNNoise, a recurrent neural network): removes background noise from speech',
  parameters: {
    mix: { kind: 'number', min: 0, max: 1, default: 1, unit: 'ratio', doc: 'Share of the denoised signal (1 = fully denoised, 0 = the original)' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const rate = format.sampleRate;
    return {
      outputChannels: channels,
      async *transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
        const m = await rnnoise();
        const states = Array.from({ length: channels }, () => m._rnnoise_create(0));
        const inPtr = m._malloc(FRAME * 4);
        const outPtr = m._malloc(FRAME * 4);
        try {
          const up = rate === CORE_RATE ? null : createResampler(rate, CORE_RATE, channels, 'high');
          const down = rate === CORE_RATE ? null : createResampler(CORE_RATE, rate, channels, 'high');
          const framing = new Fifo(channels); // at 48 kHz, short of a whole frame
          const dry = new Fifo(channels); // the input, waiting for its denoised counterpart
          const wet = new Fifo(channels); // denoised, at the input rate
          let skip = CORE_DELAY;
          const denoise = (block: AudioBlock) => {
            framing.push(block);
            const frames = Math.floor(framing.length / FRAME);
            if (frames === 0) return;
            const input = framing.shift(frames * FRAME);
            const out = Array.from({ length: channels }, () => new Float32Array(frames * FRAME));
            for (let c = 0; c < channels; c++) {
              for (let f = 0; f < frames; f++) {
                const heap = m.HEAPF32; // a view of the module's memory (renewed should the memory grow)
                const at = inPtr >> 2;
                for (let i = 0; i < FRAME; i++) heap[at + i] = input[c][f * FRAME + i] * 32768;
                m._rnnoise_process_frame(states[c], outPtr, inPtr);
                const res = m.HEAPF32;
                const from = outPtr >> 2;
                for (let i = 0; i < FRAME; i++) out[c][f * FRAME + i] = res[from + i] / 32768;
              }
            }
            // The network's delay: its first frame of output precedes the input.
            const drop = Math.min(skip, out[0].length);
            skip -= drop;
            const aligned = out.map((x) => x.subarray(drop));
            wet.push(down ? down.process(aligned) : aligned);
          };
          const mixed = (n: number): AudioBlock => {
            const d = dry.shift(n);
            const w = wet.shift(n);
            if (p.mix === 1) return w;
            for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) w[c][i] = p.mix * w[c][i] + (1 - p.mix) * d[c][i];
            return w;
          };
          for await (const block of source) {
            if ((block[0]?.length ?? 0) === 0) continue;
            dry.push(block);
            denoise(up ? up.process(block) : block);
            const n = Math.min(dry.length, wet.length);
            if (n > 0) yield mixed(n);
          }
          // The end: the resampler's tail, then silence through the network to bring out its delay and the last frame.
          if (up) denoise(up.flush());
          denoise(Array.from({ length: channels }, () => new Float32Array(CORE_DELAY + FRAME)));
          if (down) wet.push(down.flush());
          if (wet.length < dry.length) wet.push(Array.from({ length: channels }, () => new Float32Array(dry.length - wet.length)));
          if (dry.length > 0) yield mixed(dry.length);
        } finally {
          for (const s of states) m._rnnoise_destroy(s);
          m._free(inPtr);
          m._free(outPtr);
        }
      },
    };
  },
});
