import { startEmulators, type Emulators } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * The default emulators (no buckets) and a scratch folder for every test of a file: started before them, stopped
 * and removed after. Read `dir` and `emulators` inside tests or hooks (they are set once `beforeAll` has run).
 */
export function emulatorsForFile(prefix: string): { readonly dir: string; readonly emulators: Emulators } {
  const held = {} as { dir: string; emulators: Emulators };
  beforeAll(async () => {
    held.dir = await mkdtemp(join(tmpdir(), prefix));
    held.emulators = await startEmulators('s3rver', join(held.dir, 'data'), {}, []);
  });
  afterAll(async () => {
    await held.emulators?.stop();
    if (held.dir) await rm(held.dir, { recursive: true, force: true });
  });
  return held;
}
