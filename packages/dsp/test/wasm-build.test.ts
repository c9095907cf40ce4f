import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Kept out of the mutation run's test set (it assembles the source with wabt; nothing in it judges the kernels).
describe('the WebAssembly kernels the package ships', () => {
  it('are what kernels.wat assembles to (the committed bytes are not stale)', () => {
    const script = fileURLToPath(new URL('../bin/build-wasm.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
