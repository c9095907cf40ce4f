#!/usr/bin/env node
// The `david` command. Runs the prebuilt bundle when present (`npm run build:cli`: fast start-up), else the
// TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const bundle = join(here, '..', 'dist', 'david.mjs');
let mod;
if (existsSync(bundle) && process.env.DAVID_FROM_SOURCE !== '1') mod = await import(pathToFileURL(bundle).href);
else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(join(here, '..', 'src', 'cli', 'main.ts')).href);
}
process.exit(await mod.main(process.argv.slice(2)));
