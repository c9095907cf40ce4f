import { lookupById } from '../suggest.ts';
import type { EffectDeclaration } from '../types.ts';
import { gain } from './gain.ts';
import { effects as dynamics } from './dynamics/index.ts';
import { effects as time } from './time/index.ts';
import { effects as spectral } from './spectral/index.ts';
import { effects as loudness } from './loudness/index.ts';
import { effects as edit } from './edit/index.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const all: EffectDeclaration<any>[] = [gain, ...dynamics, ...time, ...spectral, ...loudness, ...edit];

/** Every registered effect by id. An effect's id equals its registry key. */
export const registry: ReadonlyMap<string, EffectDeclaration> = new Map(all.map((e) => [e.id, e as EffectDeclaration]));
if (registry.size !== all.length) throw new Error('duplicate effect id in registry');

export function effectIds(): string[] {
  return [...registry.keys()];
}

/** An effect by id (a Map lookup: `__proto__` or `toString` are just unknown ids). */
export function getEffect(id: string): EffectDeclaration {
  return lookupById(registry, id, 'Effect::UnknownEffect', 'effect');
}
