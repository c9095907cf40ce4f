import { startLocalStack, type LocalStack } from '@david/local';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/** A local stack for one test file, in its own temporary folder (also the file's scratch folder), stopped after it. */
export function useLocalStack(name: string): { readonly stack: LocalStack; readonly dir: string } {
  const ctx = {} as { stack: LocalStack; dir: string };
  beforeAll(async () => {
    ctx.dir = await mkdtemp(join(tmpdir(), `david-${name}-`));
    ctx.stack = await startLocalStack({ dataDir: join(ctx.dir, 'data'), port: 0, deliveryPort: 0, logLevel: 'SILENT', onError: () => undefined });
  });
  afterAll(async () => {
    await ctx.stack?.stop();
    if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}
