import type { Parsed } from './main.ts';

export async function cmdRemote(_p: Parsed): Promise<number> {
  throw new Error('not yet');
}
