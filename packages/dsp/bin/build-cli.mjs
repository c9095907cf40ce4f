#!/usr/bin/env node
// Builds the `david` command's bundle now (root `prepare`, run by `npm ci` and `npm install`; `npm run build:cli`).
// As `prepare` (--quiet) a failure (no esbuild: an install without dev dependencies) is a warning, not a failed
// install: `david` then builds on first use, or runs the sources.
import { buildBundle } from './bundle.mjs';

const quiet = process.argv.includes('--quiet');
try {
  const path = await buildBundle();
  if (!quiet) console.log(`david: bundled the CLI into ${path}`);
} catch (err) {
  if (!quiet) throw err;
  console.warn(`david: the CLI bundle was not built (${err?.message ?? err}); it is built on first use`);
}
