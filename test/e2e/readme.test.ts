import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { useLocalStack } from '../helpers/stack.ts';
import { decodeWithFfmpeg, rmsDb, sineWav } from '../helpers/audio.ts';

const ctx = useLocalStack('readme');

/** The first bash block under a README heading, as a user would copy it. */
async function readmeBlock(heading: string): Promise<string> {
  const readme = await readFile(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf(`## ${heading}`));
  const m = /```bash\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error(`no bash block under ${heading}`);
  return m[1];
}

describe('the README walkthrough', () => {
  it('runs when pasted into bash, start to end, and leaves the processed file in out.wav', async () => {
    const block = await readmeBlock('Try it with curl');
    const take = sineWav({ seconds: 1, peakDbfs: -12 });
    await writeFile(join(ctx.dir, 'take.wav'), take);
    const { stdout, stderr } = await promisify(execFile)('bash', ['-c', block], { cwd: ctx.dir, env: { ...process.env, API: ctx.stack.apiUrl }, timeout: 60_000 });
    expect(stderr).toBe('');
    expect(stdout).toContain('uploaded');
    expect(stdout).toContain('"status":"ready"');
    expect(stdout).toContain('"status":"completed"');
    expect(stdout).toContain('wrote out.wav');
    const input = await decodeWithFfmpeg(join(ctx.dir, 'take.wav'));
    const output = await decodeWithFfmpeg(join(ctx.dir, 'out.wav'));
    expect(rmsDb(output.channels[0]) - rmsDb(input.channels[0])).toBeCloseTo(-6, 1);
  });
});
