/** Small shared conversions for effects. */
export const dbToGain = (db: number): number => Math.pow(10, db / 20);
export const gainToDb = (g: number): number => (g > 0 ? 20 * Math.log10(g) : -Infinity);
export const msToFrames = (ms: number, sampleRate: number): number => Math.round((ms / 1000) * sampleRate);
/** One-pole smoothing coefficient for a time constant (the envelope moves 1 − 1/e of the way in `ms`). */
export const timeCoef = (ms: number, sampleRate: number): number => (ms <= 0 ? 0 : Math.exp(-1 / ((ms / 1000) * sampleRate)));

/** A block of `frames` frames of silence. */
export const silentBlock = (channels: number, frames: number): Float32Array[] =>
  Array.from({ length: channels }, () => new Float32Array(frames));

/** Sine lookup with linear interpolation, shared read-only by all LFOs (phase in cycles, any real value). */
const TABLE_SIZE = 4096;
const SINE = (() => {
  const t = new Float64Array(TABLE_SIZE + 1);
  for (let i = 0; i <= TABLE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / TABLE_SIZE);
  return t;
})();
export function fastSin(phaseCycles: number): number {
  const p = (phaseCycles - Math.floor(phaseCycles)) * TABLE_SIZE;
  const i = p | 0;
  const f = p - i;
  return SINE[i] + (SINE[i + 1] - SINE[i]) * f;
}
