export * from './types.ts';
export * from './errors.ts';
export * from './params.ts';
export * from './effects/registry.ts';
export * from './engine/chain.ts';
export * from './codecs/index.ts';
export * from './analysis/index.ts';
export * from './engine/biquad.ts';
