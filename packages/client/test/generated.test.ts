import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generated } from '../scripts/generate.ts';

describe('the typed client', () => {
  it('is generated from the current route schemas (run `npm run generate -w @david/client` when this fails)', async () => {
    const { document, types } = await generated();
    const src = join(import.meta.dirname, '..', 'src');
    expect(readFileSync(join(src, 'openapi.json'), 'utf8')).toBe(document);
    expect(readFileSync(join(src, 'schema.d.ts'), 'utf8')).toBe(types);
  });
});
