import { defineConfig } from 'vitest/config';

/**
 * The DSP tests that judge the effects and the engine, for mutation testing (`npm run mutation`): the ones that run
 * in process (the denoiser's synthesize their speech with espeak once per file, about 2 s). The CLI's (child
 * processes) are left to `npm test`.
 */
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: [
      'test/effects-suite.test.ts',
      'test/effects-reference.test.ts',
      'test/effects-characteristics.test.ts',
      'test/spectral-noise.test.ts',
      'test/spectral-pitch-time.test.ts',
      'test/biquad.test.ts',
      'test/engine-util.test.ts',
      'test/block-reuse.test.ts',
      'test/true-peak.test.ts',
      'test/presets.test.ts',
      'test/analysis-loudness.test.ts',
      'test/edit-exact.test.ts',
      'test/oversampler.test.ts',
      'test/wasm-kernels.test.ts',
      'test/kernels-used.test.ts',
      'test/resampler-direct.test.ts',
      'test/speech-denoise.test.ts',
      'test/kernel-memory.test.ts',
      'test/chain.test.ts',
      'test/wsola.test.ts',
    ],
    testTimeout: 120_000,
    pool: 'forks',
  },
});
