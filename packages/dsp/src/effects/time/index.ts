import type { EffectDeclaration } from '../../types.ts';
import { delay } from './delay.ts';
import { chorus, flanger, phaser } from './modulated.ts';
import { reverb } from './reverb.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [delay, chorus, flanger, phaser, reverb];
