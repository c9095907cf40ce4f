export * from './loudness.ts';
export * from './analyze.ts';
export * from './waveform.ts';
