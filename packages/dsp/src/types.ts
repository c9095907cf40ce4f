/**
 * The streaming contract of the DSP package.
 *
 * Audio moves as planar blocks: one Float32Array per channel, all of the same length (frames).
 * A block may have any length, including 0. Samples are nominally in [-1, 1].
 */
export type AudioBlock = Float32Array[];

export interface StreamFormat {
  readonly sampleRate: number;
  readonly channels: number;
}

/**
 * A per-stream block processor. Created by an effect for one stream; holds all state (delay lines,
 * envelopes, filter memories) in itself, never at module level.
 *
 * `process` may return a block of a different length than its input (lookahead, time stretch,
 * trimming); the concatenation of all outputs plus `flush()` is the effect's output. `process` may
 * modify its input block in place and return it. Output blocks may reuse internal buffers: the caller consumes a returned block before calling `process` again.
 * Processing a stream in blocks of any size must give the same output (within float rounding).
 */
export interface BlockProcessor {
  /** Output channel count (may differ from input, e.g. a mono mix). */
  readonly outputChannels: number;
  /** Output sample rate, when it differs from the input's (resample). */
  readonly outputSampleRate?: number;
  process(block: AudioBlock): AudioBlock;
  /** End of input: return any remaining output (lookahead, reverb tail), or [] for none. Called once. */
  flush(): AudioBlock;
  /** For an effect with a target: what it reached, asked once its output has ended. */
  report?(): EffectReport;
}

/**
 * A whole-stream transform, for effects that cannot work block by block (reverse, two-pass normalize).
 * They must still bound memory: spill to disk through `ctx.tempDir`, never hold the whole file.
 */
export interface StreamTransform {
  readonly outputChannels: number;
  readonly outputSampleRate?: number;
  transform(source: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock>;
  /** For an effect with a target: what it reached, asked once its output has ended. */
  report?(): EffectReport;
}

/**
 * What an effect that aims at a target (a loudness, a peak level) says of its result once its output has ended:
 * the target, what its own output measures, whether that is within `tolerance`, and why not when it is not. So a
 * result that misses what was asked says so, in the job result and on the command line.
 */
export interface EffectReport {
  readonly target: number;
  /** Measured on the effect's own output; null when the audio gives nothing to measure (`reason` says why). */
  readonly reached: number | null;
  readonly unit: string;
  readonly tolerance: number;
  readonly met: boolean;
  /** Why the target was missed; absent when met. */
  readonly reason?: string;
  /** Figures behind the result, units in their names (gain_db, true_peak_dbtp, ...). */
  readonly measurements: Readonly<Record<string, number | null>>;
}

export interface EffectContext {
  readonly format: StreamFormat;
  /** A directory the effect may spill to (created by the caller, removed afterwards). */
  readonly tempDir: string;
}

export type ParamValue = number | string | boolean | ParamObject[];
export interface ParamObject {
  [name: string]: number | string | boolean;
}

interface ParamSpecBase {
  /** One line for the API, the CLI help and the docs. */
  readonly doc: string;
}
export interface NumberParamSpec extends ParamSpecBase {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly default: number;
  /** e.g. 'dB', 'Hz', 'ms', 'ratio', 'semitones', 'LUFS', '%'. */
  readonly unit: string;
  /** Whole numbers only. */
  readonly integer?: boolean;
}
export interface EnumParamSpec extends ParamSpecBase {
  readonly kind: 'enum';
  readonly values: readonly string[];
  readonly default: string;
}
export interface BooleanParamSpec extends ParamSpecBase {
  readonly kind: 'boolean';
  readonly default: boolean;
}
/** A list of objects each described by `item` (e.g. equalizer bands). */
export interface ListParamSpec extends ParamSpecBase {
  readonly kind: 'list';
  readonly item: Readonly<Record<string, NumberParamSpec | EnumParamSpec | BooleanParamSpec>>;
  readonly minItems: number;
  readonly maxItems: number;
  readonly default: readonly ParamObject[];
}
export type ParamSpec = NumberParamSpec | EnumParamSpec | BooleanParamSpec | ListParamSpec;
export type ParamSpecs = Readonly<Record<string, ParamSpec>>;

/** The value type a spec validates to. */
export type ValueOf<S extends ParamSpec> = S extends NumberParamSpec
  ? number
  : S extends EnumParamSpec
    ? string
    : S extends BooleanParamSpec
      ? boolean
      : ParamObject[];
export type ParamsOf<S extends ParamSpecs> = { -readonly [K in keyof S]: ValueOf<S[K]> };

/**
 * One declaration per effect: its id (equal to its registry key), a description, its parameters
 * (the single source of defaults and ranges) and a factory for a per-stream processor.
 */
export interface EffectDeclaration<S extends ParamSpecs = ParamSpecs> {
  readonly id: string;
  readonly description: string;
  readonly parameters: S;
  /** Set when the effect needs the whole stream before it can output (and how it bounds memory). */
  readonly wholeStream?: string;
  /** Set when output outlasts input (reverb/delay tail), documenting how long. */
  readonly tail?: string;
  /** Set when output length differs from input length (time stretch, trim). */
  readonly changesLength?: boolean;
  create(params: ParamsOf<S>, ctx: EffectContext): BlockProcessor | StreamTransform;
}

/** Helper that keeps the literal types of a declaration while checking its shape. */
export function defineEffect<const S extends ParamSpecs>(decl: EffectDeclaration<S>): EffectDeclaration<S> {
  return decl;
}

export interface ChainStep {
  readonly effect: string;
  readonly parameters?: Record<string, unknown>;
}
