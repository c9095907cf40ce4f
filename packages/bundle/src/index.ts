import { buildSync, type BuildOptions, type Metafile } from 'esbuild';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** What a function's bundle is built from (FunctionSpec in packages/core/src/resources.ts has these fields). */
export interface BundleSpec {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  /** Files of an npm package shipped beside the bundle (in `into/`), read at run time. */
  readonly bundleFiles?: { readonly package: string; readonly files: readonly string[]; readonly into: string };
}

export interface Bundle {
  /** The folder Lambda gets as the function's code (what the CDK uploads, what the local runtime loads). */
  readonly dir: string;
  /** `index.mjs` in `dir`; the handler is its `handler` export (`index.handler`). */
  readonly file: string;
  readonly handler: 'index.handler';
  /** Size of index.mjs in bytes. */
  readonly bytes: number;
  /** Whether this call reused the cached build (nothing it was built from changed). */
  readonly cached: boolean;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** Where bundles are cached, one folder per function (git-ignored). */
export const BUNDLE_ROOT = join(REPO_ROOT, '.build', 'functions');

/**
 * The esbuild options of every function: one self-contained ESM file for Node 24, with the AWS SDK versions we test
 * inside it (not the runtime's own copy: aws/aws-sdk-js-v3#5919). Only the npm ffmpeg fallbacks stay out: in Lambda
 * ffmpeg comes from the layer (FFMPEG_PATH), locally from the machine.
 */
const options = (entry: string, outfile: string): BuildOptions => ({
  entryPoints: [join(REPO_ROOT, entry)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  mainFields: ['module', 'main'],
  // CommonJS dependencies inside an ESM bundle need a require.
  banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
  external: ['ffmpeg-static', '@ffmpeg-installer/ffmpeg'],
  metafile: true,
  logLevel: 'silent',
  absWorkingDir: REPO_ROOT,
});

const OPTIONS_VERSION = createHash('sha256').update(JSON.stringify(options('x', 'y'))).digest('hex');

/** A fingerprint of everything a build read: the options, and each input file's path and bytes. */
function fingerprint(inputs: readonly string[], spec: BundleSpec): string {
  const h = createHash('sha256').update(OPTIONS_VERSION).update(JSON.stringify(spec));
  for (const path of [...inputs].sort()) {
    h.update(path);
    try {
      h.update(readFileSync(join(REPO_ROOT, path)));
    } catch {
      h.update('\0missing');
    }
  }
  return h.digest('hex');
}

/**
 * Build (or reuse) a function's bundle: the one artifact both the CDK app deploys and `npm start` runs. The cache
 * is valid while no file the last build read has changed (esbuild's metafile lists them; a new import is a changed
 * file, so it is caught too). Each build lands in a folder named by its fingerprint, made whole and then renamed
 * into place, and `latest.json` points at it: a process loading a bundle never sees it replaced or half-written,
 * and two processes building at once both end with a complete one.
 */
export function buildFunction(name: string, spec: BundleSpec): Bundle {
  const root = join(BUNDLE_ROOT, name);
  const latest = join(root, 'latest.json');
  const found = (dir: string, cached: boolean): Bundle => {
    const file = join(dir, 'index.mjs');
    return { dir, file, handler: 'index.handler', bytes: statSync(file).size, cached };
  };
  try {
    const prev = JSON.parse(readFileSync(latest, 'utf8')) as { inputs: string[]; fingerprint: string };
    const dir = join(root, prev.fingerprint.slice(0, 16));
    if (prev.fingerprint === fingerprint(prev.inputs, spec) && existsSync(join(dir, 'index.mjs'))) return found(dir, true);
  } catch {
    // no build yet, or an unreadable pointer: build
  }
  const tmp = join(root, `.tmp-${process.pid}-${Date.now()}`);
  mkdirSync(tmp, { recursive: true });
  try {
    const result = buildSync(options(spec.entry, join(tmp, 'index.mjs')));
    if (result.errors.length > 0) throw new Error(`bundling ${name} failed: ${result.errors.map((e) => e.text).join('; ')}`);
    const inputs = Object.keys((result.metafile as Metafile).inputs).filter((p) => !p.startsWith('<'));
    if (spec.bundleFiles) {
      const b = spec.bundleFiles;
      mkdirSync(join(tmp, b.into), { recursive: true });
      for (const f of b.files) {
        const from = join('node_modules', b.package, f);
        copyFileSync(join(REPO_ROOT, from), join(tmp, b.into, f));
        inputs.push(from);
      }
    }
    const fp = fingerprint(inputs, spec);
    const dir = join(root, fp.slice(0, 16));
    try {
      renameSync(tmp, dir);
    } catch {
      // The same build is already in place (another process made it): keep that one.
      if (!existsSync(join(dir, 'index.mjs'))) throw new Error(`could not place the ${name} bundle in ${dir}`);
    }
    const pointer = `${latest}.${process.pid}`;
    writeFileSync(pointer, JSON.stringify({ inputs, fingerprint: fp }));
    renameSync(pointer, latest);
    pruneOld(root, dir);
    return found(dir, false);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Builds other than the current one, older than a day (a long-running stack may still be loading one). */
function pruneOld(root: string, keep: string) {
  const dayAgo = Date.now() - 86_400_000;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (!entry.isDirectory() || path === keep) continue;
    if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The ffmpeg the default Lambda layer ships (/opt/ffmpeg): the static x86_64 build inside @ffmpeg-installer/linux-x64.
 * The CDK stack stages it; `npm test` runs the ffmpeg-dependent tests once more with it (the `layer-ffmpeg` project).
 */
export function layerFfmpegBinary(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@ffmpeg-installer/linux-x64/package.json')), 'ffmpeg');
}
