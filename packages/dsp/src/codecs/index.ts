export * from './formats.ts';
export * from './ffmpeg.ts';
export * from './wav.ts';
export * from './probe.ts';
export * from './decode.ts';
export { encodeToFile, encodeStream, keptWavFormat, type EncodeOptions } from './encode.ts';
