import { InvalidParameterError } from '../errors.ts';
import { getEffect } from '../effects/registry.ts';
import { resolveParams } from '../params.ts';
import type { AudioBlock, BlockProcessor, ChainStep, EffectDeclaration, EffectReport, StreamFormat, StreamTransform } from '../types.ts';

export const MAX_CHAIN_LENGTH = 16;

export interface ResolvedStep {
  readonly decl: EffectDeclaration;
  readonly params: Record<string, unknown>;
}

/** Validate a chain against the declarations (unknown effects, bad parameters) before any work starts. */
export function resolveChain(steps: readonly ChainStep[]): ResolvedStep[] {
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_CHAIN_LENGTH) {
    throw new InvalidParameterError('Effect::InvalidChain', `a chain must have 1 to ${MAX_CHAIN_LENGTH} steps`, {
      allowed: { min_items: 1, max_items: MAX_CHAIN_LENGTH },
    });
  }
  return steps.map((step) => {
    const decl = getEffect(step.effect);
    return { decl, params: resolveParams(decl, step.parameters ?? {}) };
  });
}

function isTransform(p: BlockProcessor | StreamTransform): p is StreamTransform {
  return typeof (p as StreamTransform).transform === 'function';
}

async function* runProcessor(source: AsyncIterable<AudioBlock>, proc: BlockProcessor): AsyncIterable<AudioBlock> {
  for await (const block of source) {
    const out = proc.process(block);
    if (out.length > 0 && out[0].length > 0) yield out;
  }
  const tail = proc.flush();
  if (tail.length > 0 && tail[0].length > 0) yield tail;
}

/** An effect's report with the step it came from (0-based) and the effect's id. */
export interface StepReport extends EffectReport {
  readonly step: number;
  readonly effect: string;
}

export interface AppliedChain {
  readonly stream: AsyncIterable<AudioBlock>;
  readonly format: StreamFormat;
  /** The reports of the steps that aim at a target, in chain order; complete once `stream` has been consumed. */
  reports(): StepReport[];
}

/**
 * Apply a chain in one streaming pass. Returns the output stream and its format (channel count and rate may change).
 */
export function applyChain(source: AsyncIterable<AudioBlock>, steps: readonly ChainStep[] | readonly ResolvedStep[], format: StreamFormat, tempDir: string): AppliedChain {
  const resolved = steps.length > 0 && 'decl' in steps[0] ? (steps as ResolvedStep[]) : resolveChain(steps as ChainStep[]);
  let stream = source;
  let fmt = format;
  const reporters: { step: number; effect: string; report: () => EffectReport }[] = [];
  for (const [step, { decl, params }] of resolved.entries()) {
    const proc = decl.create(params as never, { format: fmt, tempDir });
    stream = isTransform(proc) ? proc.transform(stream) : runProcessor(stream, proc);
    fmt = { sampleRate: proc.outputSampleRate ?? fmt.sampleRate, channels: proc.outputChannels };
    if (proc.report) reporters.push({ step, effect: decl.id, report: proc.report.bind(proc) });
  }
  return { stream, format: fmt, reports: () => reporters.map(({ step, effect, report }) => ({ step, effect, ...report() })) };
}

/** Cut planar audio into blocks of `blockSize` frames (copies, so processors may work in place). */
export async function* blocksOf(audio: AudioBlock, blockSize: number): AsyncIterable<AudioBlock> {
  const frames = audio[0]?.length ?? 0;
  for (let start = 0; start < frames; start += blockSize) {
    const end = Math.min(frames, start + blockSize);
    yield audio.map((ch) => ch.slice(start, end));
  }
}

/** Gather a stream into one planar buffer (tests and small files only). */
export async function collect(stream: AsyncIterable<AudioBlock>, channels: number): Promise<AudioBlock> {
  const parts: AudioBlock[] = [];
  let frames = 0;
  for await (const block of stream) {
    const n = block[0]?.length ?? 0;
    if (n === 0) continue; // an empty block (or one with no channels) adds nothing
    parts.push(block.map((ch) => ch.slice()));
    frames += n;
  }
  const out = Array.from({ length: channels }, () => new Float32Array(frames));
  let offset = 0;
  for (const part of parts) {
    for (let c = 0; c < channels; c++) out[c].set(part[c], offset);
    offset += part[0].length;
  }
  return out;
}

/** Render a chain over in-memory audio in blocks of a given size (tests, the CLI on small inputs). */
export async function renderChain(
  audio: AudioBlock,
  steps: readonly ChainStep[],
  format: StreamFormat,
  options: { blockSize?: number; tempDir?: string } = {},
): Promise<{ audio: AudioBlock; format: StreamFormat; reports: StepReport[] }> {
  const applied = applyChain(blocksOf(audio, options.blockSize ?? 4096), steps, format, options.tempDir ?? '/tmp');
  return { audio: await collect(applied.stream, applied.format.channels), format: applied.format, reports: applied.reports() };
}
