// The `david` command's bundle: one esbuild file of the CLI and everything it imports, kept in dist/ with the key of
// the sources it was built from (every file's path, size and modification time under src/, and the lockfile's). The
// command runs it when the key still matches and rebuilds it when it does not, so an edit is never served stale.
// Built at install (`npm ci` runs the root `prepare`) or on first use; `npm run build:cli -w @david/dsp` forces it.
// node:fs through getBuiltinModule, not `import … from 'node:fs'`: the import's namespace reads every export, and its
// ReadStream getter loads all of node:stream (~10 ms of every start).
const { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = process.getBuiltinModule('node:fs');
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(pkg, 'dist', 'david.mjs');
const KEY = `${BUNDLE}.key`;

/**
 * The key of the sources: the path, size and mtime of every file under src/ and of the lockfile, one line each, kept
 * whole (a few kB) rather than hashed, so a start need not load node:crypto (~9 ms) to compare it.
 */
export function sourcesKey() {
  const lines = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        const s = statSync(path);
        lines.push(`${path}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  walk(join(pkg, 'src'));
  for (const lock of [join(pkg, 'package.json'), join(pkg, '..', '..', 'package-lock.json')]) {
    try {
      const s = statSync(lock);
      lines.push(`${lock}\0${s.size}\0${s.mtimeMs}\n`);
    } catch {
      // not in a checkout: the package's sources alone
    }
  }
  return lines.join('');
}

/** Whether dist/ holds a bundle of the sources as they are now. */
export function bundleIsCurrent(key = sourcesKey()) {
  try {
    return readFileSync(KEY, 'utf8') === key;
  } catch {
    return false;
  }
}

/**
 * Builds the bundle (about 0.3 s) into a temporary file and renames it into place, then writes its key: a
 * concurrent start sees the old pair or the new one, never half a file. Throws when esbuild is missing.
 */
export async function buildBundle(key = sourcesKey()) {
  const { build } = await import('esbuild');
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  try {
    await build({
      entryPoints: [join(pkg, 'src', 'cli', 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // Whitespace and comments out, names kept (stack traces stay readable), ASCII only: a third smaller, and a
      // source with no byte over 127 is read without UTF-8 decoding (~10 ms less per start, measured).
      minifyWhitespace: true,
      minifySyntax: true,
      charset: 'ascii',
      outfile: tmp,
      logLevel: 'warning',
    });
    rmSync(KEY, { force: true });
    renameSync(tmp, BUNDLE);
    writeFileSync(KEY, key);
  } finally {
    rmSync(tmp, { force: true });
  }
  return BUNDLE;
}
