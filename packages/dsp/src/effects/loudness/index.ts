import type { EffectDeclaration } from '../../types.ts';
import { limiter } from './limiter.ts';
import { normalize } from './normalize.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [normalize, limiter];
