#!/usr/bin/env node
// Builds the `david` command's bundle now (root `prepare`, run by `npm ci` and `npm install`; `npm run build:cli`).
import { buildBundle } from './bundle.mjs';

const path = await buildBundle();
if (!process.argv.includes('--quiet')) console.log(`david: bundled the CLI into ${path}`);
