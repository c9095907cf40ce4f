#!/usr/bin/env node
// The `david` command. Runs the esbuild bundle of the CLI (bin/bundle.mjs), rebuilt first when the sources changed
// since it was built, with Node's compile cache on; DAVID_FROM_SOURCE=1 (or no esbuild) runs the TypeScript sources
// through tsx instead.
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { BUNDLE, buildBundle, bundleIsCurrent, sourcesKey } from './bundle.mjs';

module.enableCompileCache?.();
let mod;
if (process.env.DAVID_FROM_SOURCE !== '1') {
  const key = sourcesKey();
  try {
    if (!bundleIsCurrent(key)) await buildBundle(key);
    mod = await import(pathToFileURL(BUNDLE).href);
  } catch (err) {
    if (process.env.DAVID_DEBUG) console.error(`david: running the sources (no bundle: ${err?.message ?? err})`);
  }
}
if (!mod) {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
process.exit(await mod.main(process.argv.slice(2)));
