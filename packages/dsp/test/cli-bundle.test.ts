import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The `david` command runs its esbuild bundle, built on first use and rebuilt when a source changes. Tested on a
 * copy of the package (bin, src, in the same layout) beside a link to this checkout's node_modules, so the checkout's own bundle is not
 * touched.
 */
const pkg = join(import.meta.dirname, '..');
const root = mkdtempSync(join(tmpdir(), 'david-bundle-'));
const copy = join(root, 'packages', 'dsp');
cpSync(join(pkg, 'bin'), join(copy, 'bin'), { recursive: true });
cpSync(join(pkg, 'src'), join(copy, 'src'), { recursive: true });
cpSync(join(pkg, 'package.json'), join(copy, 'package.json'));
cpSync(join(pkg, '..', '..', 'package.json'), join(root, 'package.json'));
symlinkSync(join(pkg, '..', '..', 'node_modules'), join(root, 'node_modules'), 'dir');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const david = async (...args: string[]) => {
  const env = { ...process.env };
  delete env.DAVID_FROM_SOURCE;
  return (await promisify(execFile)(process.execPath, [join(copy, 'bin', 'david.mjs'), ...args], { env, timeout: 60_000 })).stdout.trim();
};
const bundle = join(copy, 'dist', 'david.mjs');

describe('the david command and its bundle', () => {
  it('builds the bundle on first use, runs it, and rebuilds it when a source file changes', async () => {
    expect(existsSync(bundle)).toBe(false);
    const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
    expect(await david('--version')).toBe(`david ${version}`);
    expect(existsSync(bundle)).toBe(true);
    // The key lists every source file with its size and modification time (the version file among them).
    expect(readFileSync(`${bundle}.key`, 'utf8')).toMatch(/src\/version\.ts\0\d+\0[\d.]+\n/);

    // What runs is the bundle, not the sources: a line added to the bundle (its key unchanged) is executed.
    appendFileSync(bundle, '\nconsole.log("from the bundle");\n');
    expect(await david('--version')).toContain('from the bundle');

    // A source edit changes the key: the next start rebuilds, and the edit is what runs (never a stale bundle).
    const versionTs = join(copy, 'src', 'version.ts');
    const before = readFileSync(versionTs, 'utf8');
    expect(before).toMatch(/VERSION/);
    writeFileSync(versionTs, `${before}\n// edited\n`.replace(/(VERSION[^=]*=\s*)([^;\n]+)/, "$1'9.9.9-edited'"));
    const out = await david('--version');
    expect(out).toBe('david 9.9.9-edited');
    expect(out).not.toContain('from the bundle');
    expect(readFileSync(bundle, 'utf8')).toContain('9.9.9-edited');
  }, 120_000);

  it('runs the sources through tsx when asked (DAVID_FROM_SOURCE=1), without building', async () => {
    rmSync(join(copy, 'dist'), { recursive: true, force: true });
    const env = { ...process.env, DAVID_FROM_SOURCE: '1' };
    const out = (await promisify(execFile)(process.execPath, [join(copy, 'bin', 'david.mjs'), '--version'], { env, timeout: 60_000 })).stdout.trim();
    expect(out).toMatch(/^david /);
    expect(existsSync(bundle)).toBe(false);
  }, 60_000);
});
