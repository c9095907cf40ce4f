import type { EffectDeclaration } from '../../types.ts';
import { equalizer } from './equalizer.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [equalizer];
