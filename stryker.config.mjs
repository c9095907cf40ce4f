/**
 * Mutation testing of the DSP effects and engine (`npm run mutation`, not part of `npm test`): Stryker changes the
 * code one mutant at a time and runs the tests that cover it; a mutant no test notices is a gap in the tests.
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'packages/dsp/vitest.mutation.config.ts' },
  mutate: ['packages/dsp/src/effects/**/*.ts', 'packages/dsp/src/engine/**/*.ts'],
  coverageAnalysis: 'perTest',
  // Module-level literals (declarations: docs, ranges) would each rerun every test; doc strings are not behaviour.
  ignoreStatic: true,
  mutator: { excludedMutations: ['StringLiteral'] },
  concurrency: 2,
  timeoutFactor: 3,
  // The initial run (every in-process DSP test, with per-test coverage) takes over Stryker's default 5 minutes on two
  // cores; with the default, `npm run mutation` stopped there.
  dryRunTimeoutMinutes: 30,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  ignorePatterns: ['/*', '!/packages', '/packages/*', '!/packages/dsp', '!/package.json', '!/tsconfig.json', '/packages/dsp/bench', '/packages/dsp/dist'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
