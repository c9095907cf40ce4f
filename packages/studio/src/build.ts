/**
 * The studio's static files: index.html at the root, studio/studio.js (bundled from npm with esbuild: nothing is
 * loaded from a CDN at run time) and studio/studio.css. The local stack serves this folder on the API port; the CDK
 * app deploys the same folder to the studio bucket behind the delivery distribution. `studio/config.json` (the API
 * URL) is not part of the build: each place that serves the page writes its own.
 */
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));
export const STUDIO_BUILD = resolve(SRC, '../../..', '.build', 'studio');

/** What the page reads to find the API: empty for the origin it came from. */
export interface StudioConfig {
  readonly api_url: string;
}

/** Build into `dir` (replaced whole, so a reader never sees half a build): index.html, studio/*. */
export function buildStudio(dir = STUDIO_BUILD): { dir: string; bytes: number } {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'studio'), { recursive: true });
  const result = buildSync({
    entryPoints: [join(SRC, 'studio.ts')],
    bundle: true,
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    minify: true,
    sourcemap: 'linked',
    outfile: join(tmp, 'studio', 'studio.js'),
    metafile: true,
    logLevel: 'silent',
  });
  copyFileSync(join(SRC, 'index.html'), join(tmp, 'index.html'));
  copyFileSync(join(SRC, 'studio.css'), join(tmp, 'studio', 'studio.css'));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dirname(dir), { recursive: true });
  renameSync(tmp, dir);
  const bytes = Object.values(result.metafile!.outputs).reduce((n, o) => n + o.bytes, 0);
  return { dir, bytes };
}
