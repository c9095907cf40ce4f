import type { EffectDeclaration } from '../../types.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [];
