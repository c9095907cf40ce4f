import type { EffectDeclaration } from '../../types.ts';
import { compressor } from './compressor.ts';
import { distortion } from './distortion.ts';
import { equalizer } from './equalizer.ts';
import { fade } from './fade.ts';
import { noiseGate } from './noise-gate.ts';
import { channelOps, pan } from './pan.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const effects: EffectDeclaration<any>[] = [equalizer, compressor, noiseGate, distortion, fade, pan, channelOps];
