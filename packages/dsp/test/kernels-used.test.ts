import { afterEach, describe, expect, it, vi } from 'vitest';
import { renderChain } from '../src/engine/chain.ts';
import * as kernels from '../src/engine/wasm/index.ts';
import type { ChainStep } from '../src/types.ts';

// The off/on comparisons (wasm-kernels.test.ts) cannot see an effect that never hands its frames to its kernel:
// the JavaScript loop gives the same bytes, so both sides would be the JavaScript. Here every kernel wrapper is
// wrapped once more to record its calls and answers, and each effect must have had its work done by its kernel.
vi.mock('../src/engine/wasm/index.ts', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/engine/wasm/index.ts')>();
  const spied: Record<string, unknown> = { ...original };
  for (const name of ['compressorRun', 'gateBlock', 'echoSegment', 'modDelay', 'biquadStereo', 'scaleInPlace', 'wsolaSearch', 'fracOverlapAdd', 'resampleFine']) {
    spied[name] = vi.fn(original[name as keyof typeof original] as (...args: unknown[]) => unknown);
  }
  return spied;
});

afterEach(() => vi.clearAllMocks());

const SR = 44_100;
const FRAMES = 3 * SR;
/** Stereo music-like test material: two tones and a beat, louder in bursts. */
const stereo = () =>
  [0, 1].map((c) =>
    Float32Array.from({ length: FRAMES }, (_, i) => (i % 22_050 < 8_000 ? 0.8 : 0.05) * (0.6 * Math.sin((2 * Math.PI * (220 + 110 * c) * i) / SR) + 0.3 * Math.sin((2 * Math.PI * 1234 * i) / SR))),
  );

/** The calls a spied kernel got and what each answered. */
const results = (fn: unknown) => (fn as ReturnType<typeof vi.fn>).mock.results.map((r) => r.value as unknown);
/** The frames the compressor's kernel said it did, over all its calls. */
const compressorFrames = () => results(kernels.compressorRun).reduce((s: number, v) => s + (v as number), 0);

async function run(step: ChainStep) {
  await renderChain(stereo(), [step], { sampleRate: SR, channels: 2 }, { blockSize: 4096 });
}

describe('each effect with a WebAssembly kernel runs it (stereo, kernels on)', () => {
  it('the compressor’s kernel does every frame, with and without lookahead', async () => {
    expect(kernels.simdEnabled()).toBe(true);
    await run({ effect: 'compressor', parameters: { thresholdDb: -30 } });
    expect(compressorFrames()).toBe(FRAMES);
    vi.clearAllMocks();
    await run({ effect: 'compressor', parameters: { thresholdDb: -30, lookaheadMs: 5 } });
    // The lookahead adds its delay in silence at the end.
    expect(compressorFrames()).toBe(FRAMES + Math.round(0.005 * SR));
  });

  for (const [step, fn] of [
    [{ effect: 'noise_gate', parameters: { thresholdDb: -20 } }, 'gateBlock'],
    [{ effect: 'delay', parameters: { timeMs: 120, feedback: 0.4 } }, 'echoSegment'],
    [{ effect: 'chorus' }, 'modDelay'],
    [{ effect: 'flanger' }, 'modDelay'],
    [{ effect: 'equalizer', parameters: { bands: [{ type: 'peaking', frequencyHz: 1000, gainDb: 6, q: 1 }] } }, 'biquadStereo'],
    [{ effect: 'gain', parameters: { gainDb: -3 } }, 'scaleInPlace'],
    [{ effect: 'time_stretch', parameters: { durationRatio: 0.8 } }, 'wsolaSearch'],
    [{ effect: 'time_stretch', parameters: { durationRatio: 0.8 } }, 'fracOverlapAdd'],
    [{ effect: 'pitch_shift', parameters: { semitones: 3 } }, 'resampleFine'],
  ] as const) {
    it(`${step.effect}: ${fn} did the work`, async () => {
      await run(step as ChainStep);
      const answers = results(kernels[fn]);
      expect(answers.length, `${fn} was called`).toBeGreaterThan(0);
      // Each wrapper answers false (or 0) when it declined and left the work to the JavaScript.
      expect(answers.filter((v) => v === true || (typeof v === 'number' && v > 0)).length, `${fn} did the work`).toBe(answers.length);
    });
  }
});
