import { defineConfig } from 'vitest/config';
import { layerFfmpegBinary } from './packages/bundle/src/index.ts';
import { motoAvailable } from './packages/local/src/moto.ts';

const exclude = ['**/node_modules/**', '**/cdk.out/**'];

/**
 * The end-to-end files that run a second time on moto_server, an independent implementation of S3, SQS and
 * DynamoDB (S3 → SQS notifications its own), so the code is not tuned to one emulator's quirks. Not here: the
 * drills that restart the stack on its data (moto keeps state in memory) or drive s3rver directly.
 */
const SECOND_EMULATOR = ['admin', 'contract', 'dlq', 'expiry', 'flaky-deps', 'index-stores', 'lease', 'pipeline', 'poison', 'remote', 'ttl', 'uploads'];

const motoHere = motoAvailable();
if (!motoHere) console.warn('moto_server is not installed (python3 -c "import moto.server" failed): the second-emulator pass does not run');

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 's3rver',
          include: ['packages/*/test/**/*.test.ts', 'functions/**/*.test.ts', 'infra/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude,
          env: { DAVID_EMULATOR: 's3rver' },
        },
      },
      // The tests that run ffmpeg, once more with the very binary the default Lambda layer ships (FFMPEG_PATH).
      {
        extends: true,
        test: {
          name: 'layer-ffmpeg',
          include: ['packages/dsp/test/codecs.test.ts', 'test/e2e/pipeline.test.ts'],
          exclude,
          env: { DAVID_EMULATOR: 's3rver', FFMPEG_PATH: layerFfmpegBinary() },
        },
      },
      ...(motoHere
        ? [{ extends: true, test: { name: 'moto', include: SECOND_EMULATOR.map((f) => `test/e2e/${f}.test.ts`), exclude, env: { DAVID_EMULATOR: 'moto' } } }]
        : []),
    ],
  },
});
