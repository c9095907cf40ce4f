/**
 * `david`: the DSP package on the command line.
 *   david effects [--json]
 *   david analyze <file> [--json]
 *   david process <in> <out> (--effect <id> [--param k=v]... | --chain <file.json>) [--bits 16|24|32] [--float] [--json]
 *   david waveform <in> <out.json|out.png> [--zoom <samples per pixel>] [--bits 8|16] [--width W --height H]
 * Exit codes: 0 ok, 2 bad usage or parameters, 3 bad input media or a limit, 1 internal failure.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../analysis/analyze.ts';
import { spectrogramPng, waveformPeaks } from '../analysis/waveform.ts';
import { decodeFile } from '../codecs/decode.ts';
import { encodeToFile } from '../codecs/encode.ts';
import { locateFfmpeg } from '../codecs/ffmpeg.ts';
import { formatFromPath } from '../codecs/formats.ts';
import { probeFile } from '../codecs/probe.ts';
import { registry } from '../effects/registry.ts';
import { applyChain, resolveChain } from '../engine/chain.ts';
import { DspError, InvalidMediaError, InvalidParameterError, LimitExceededError } from '../errors.ts';
import type { AudioBlock, ChainStep, ParamSpec } from '../types.ts';

class UsageError extends Error {}

const EXIT = { ok: 0, internal: 1, usage: 2, media: 3 } as const;

interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

const BOOLEAN_FLAGS = new Set(['json', 'float', 'help', 'version', 'quiet']);

function parseArgs(argv: string[]): Parsed {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split(/=(.*)/s, 2);
      const value = BOOLEAN_FLAGS.has(name) ? 'true' : inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else positional.push(a);
  }
  return { positional, flags };
}

const flag = (p: Parsed, name: string) => p.flags.get(name)?.at(-1);

function parseValue(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (raw.trim() !== '' && !Number.isNaN(Number(raw))) return Number(raw);
  if (raw.startsWith('[') || raw.startsWith('{')) {
    try {
      return JSON.parse(raw);
    } catch {
      throw new UsageError(`cannot parse JSON value ${raw}`);
    }
  }
  return raw;
}

function describeSpec(name: string, s: ParamSpec): string {
  switch (s.kind) {
    case 'number':
      return `  --param ${name}=<${s.min}..${s.max}${s.unit ? ' ' + s.unit : ''}>  default ${s.default}. ${s.doc}`;
    case 'enum':
      return `  --param ${name}=<${s.values.join('|')}>  default ${s.default}. ${s.doc}`;
    case 'boolean':
      return `  --param ${name}=<true|false>  default ${s.default}. ${s.doc}`;
    case 'list':
      return `  --param ${name}='[{${Object.keys(s.item).join(', ')}}...]'  ${s.minItems}–${s.maxItems} items. ${s.doc}`;
  }
}

/** A progress bar on stderr, only on a terminal and only once work has taken more than a second. */
function progress(totalFrames: number | undefined, quiet: boolean) {
  const started = Date.now();
  let frames = 0;
  let lastDraw = 0;
  const on = !quiet && process.stderr.isTTY && !!totalFrames;
  return {
    wrap(stream: AsyncIterable<AudioBlock>): AsyncIterable<AudioBlock> {
      return (async function* () {
        for await (const b of stream) {
          frames += b[0]?.length ?? 0;
          const now = Date.now();
          if (on && now - started > 1000 && now - lastDraw > 100) {
            lastDraw = now;
            const f = Math.min(1, frames / totalFrames!);
            const width = 30;
            process.stderr.write(`\r[${'#'.repeat(Math.round(f * width)).padEnd(width, '.')}] ${(f * 100).toFixed(0).padStart(3)}%`);
          }
          yield b;
        }
      })();
    },
    done() {
      if (on && lastDraw > 0) process.stderr.write('\r' + ' '.repeat(40) + '\r');
    },
  };
}

async function cmdEffects(p: Parsed) {
  if (flag(p, 'json')) {
    const out = [...registry.values()].map((d) => ({ id: d.id, description: d.description, parameters: d.parameters, whole_stream: d.wholeStream, tail: d.tail }));
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  for (const d of registry.values()) {
    console.log(`${d.id} — ${d.description}`);
    for (const [name, spec] of Object.entries(d.parameters)) console.log(describeSpec(name, spec));
    if (d.wholeStream) console.log(`  note: ${d.wholeStream}`);
    if (d.tail) console.log(`  note: ${d.tail}`);
  }
}

async function cmdAnalyze(p: Parsed) {
  const [file] = p.positional;
  if (!file) throw new UsageError('usage: david analyze <file> [--json]');
  const probe = await probeFile(file);
  const decoded = await decodeFile(file, { reuseBlocks: true });
  const bar = progress(Math.round(probe.durationSeconds * probe.sampleRate), !!flag(p, 'quiet'));
  const result = await analyze(bar.wrap(decoded.stream), decoded.format);
  bar.done();
  if (flag(p, 'json')) console.log(JSON.stringify({ file, format: probe.format, codec: probe.codec, ...result }, null, 2));
  else {
    const rows: [string, string][] = [
      ['duration', `${result.duration_s.toFixed(3)} s`],
      ['format', `${probe.format} (${probe.codec}), ${result.sample_rate} Hz, ${result.channels} ch`],
      ['integrated loudness', `${result.integrated_lufs} LUFS`],
      ['loudness range', `${result.loudness_range_lu} LU`],
      ['max momentary / short-term', `${result.max_momentary_lufs} / ${result.max_short_term_lufs} LUFS`],
      ['true peak', `${result.true_peak_dbtp} dBTP`],
      ['sample peak', `${result.peak_dbfs} dBFS`],
      ['RMS', `${result.rms_dbfs} dBFS`],
      ['DC offset', result.dc_offset.map((d) => d.toExponential(2)).join(', ')],
      ['clipped samples', String(result.clipped_samples)],
      ['silent spans', String(result.silent_spans.length)],
      ['spectral centroid / rolloff', `${result.spectral_centroid_hz} / ${result.spectral_rolloff_hz} Hz`],
      ['spectral flatness', result.spectral_flatness.toFixed(4)],
      ['zero-crossing rate', `${result.zero_crossing_rate.toFixed(1)} /s`],
      ['tempo', result.tempo_bpm === null ? 'none found' : `${result.tempo_bpm} BPM`],
    ];
    for (const [k, v] of rows) console.log(`${k.padEnd(28)} ${v}`);
  }
}

async function readChain(p: Parsed): Promise<ChainStep[]> {
  const chainFile = flag(p, 'chain');
  const effect = flag(p, 'effect');
  if (chainFile && effect) throw new UsageError('give either --effect or --chain, not both');
  if (chainFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(chainFile, 'utf8'));
    } catch (err) {
      throw new UsageError(`cannot read the chain file ${chainFile}: ${(err as Error).message}`);
    }
    const steps = Array.isArray(parsed) ? parsed : (parsed as { chain?: unknown }).chain;
    if (!Array.isArray(steps)) throw new UsageError('a chain file holds [{ "effect": ..., "parameters": {...} }, ...] or { "chain": [...] }');
    return steps as ChainStep[];
  }
  if (!effect) throw new UsageError('process needs --effect <id> or --chain <file.json>');
  const parameters: Record<string, unknown> = {};
  for (const kv of p.flags.get('param') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes name=value, got '${kv}'`);
    parameters[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
  return [{ effect, parameters }];
}

async function cmdProcess(p: Parsed) {
  const [input, output] = p.positional;
  if (!input || !output) throw new UsageError('usage: david process <in> <out> (--effect <id> [--param k=v]... | --chain <file.json>)');
  const outFormat = formatFromPath(output);
  if (!outFormat) throw new UsageError(`cannot tell the output format from '${output}' (use .wav .mp3 .flac .ogg .opus .m4a .aac)`);
  const steps = resolveChain(await readChain(p)); // validate before any decoding
  const bitsRaw = flag(p, 'bits');
  const bits = bitsRaw === undefined ? undefined : Number(bitsRaw);
  if (bits !== undefined && bits !== 16 && bits !== 24 && bits !== 32) throw new UsageError('--bits must be 16, 24 or 32');
  const started = performance.now();
  const probe = await probeFile(input);
  const decoded = await decodeFile(input, { reuseBlocks: true });
  const tempDir = await mkdtemp(join(tmpdir(), 'david-cli-'));
  try {
    const bar = progress(Math.round(probe.durationSeconds * probe.sampleRate), !!flag(p, 'quiet'));
    const { stream, format } = applyChain(bar.wrap(decoded.stream), steps, decoded.format, tempDir);
    const result = await encodeToFile(stream, format, outFormat, output, { bitDepth: bits as 16 | 24 | 32 | undefined, float: !!flag(p, 'float') });
    bar.done();
    const summary = {
      input,
      output,
      format: outFormat,
      sample_rate: format.sampleRate,
      channels: format.channels,
      duration_s: result.frames / format.sampleRate,
      bytes: result.bytes,
      seconds: (performance.now() - started) / 1000,
      chain: steps.map((s) => ({ effect: s.decl.id, parameters: s.params })),
    };
    if (flag(p, 'json')) console.log(JSON.stringify(summary, null, 2));
    else console.error(`wrote ${output}: ${summary.duration_s.toFixed(3)} s, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`);
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

async function cmdWaveform(p: Parsed) {
  const [input, output] = p.positional;
  if (!input || !output) throw new UsageError('usage: david waveform <in> <out.json|out.png> [--zoom N] [--bits 8|16] [--width W --height H]');
  const decoded = await decodeFile(input);
  if (output.endsWith('.png')) {
    const png = await spectrogramPng(decoded.stream, decoded.format, { width: Number(flag(p, 'width') ?? 1024), height: Number(flag(p, 'height') ?? 256) });
    await writeFile(output, png);
  } else if (output.endsWith('.json')) {
    const bits = Number(flag(p, 'bits') ?? 8);
    if (bits !== 8 && bits !== 16) throw new UsageError('--bits must be 8 or 16');
    const data = await waveformPeaks(decoded.stream, decoded.format, { samplesPerPixel: Number(flag(p, 'zoom') ?? 256), bits });
    await writeFile(output, JSON.stringify(data));
  } else throw new UsageError('the output must end in .json (audiowaveform peaks) or .png (spectrogram)');
  if (flag(p, 'json')) console.log(JSON.stringify({ input, output }));
}

const HELP = `david — audio effects, analysis and codecs

  david effects [--json]                      list the effects and their parameters
  david analyze <file> [--json]               loudness (EBU R128), peaks, spectrum, tempo
  david process <in> <out> --effect <id> [--param name=value]...
  david process <in> <out> --chain <chain.json>
                [--bits 16|24|32] [--float]   WAV output sample format
  david waveform <in> <out.json>              audiowaveform/peaks.js JSON [--zoom N] [--bits 8|16]
  david waveform <in> <out.png>               spectrogram [--width W] [--height H]
  david ffmpeg                                which ffmpeg binary is used

  --json for machine-readable output, --quiet for no progress bar.
  Exit codes: 0 ok, 2 bad usage or parameters, 3 bad input media, 1 internal failure.`;

export async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
    const [cmd, ...rest] = parsed.positional;
    parsed = { ...parsed, positional: rest };
    if (flag(parsed, 'version')) {
      console.log('david 2.0.0');
      return EXIT.ok;
    }
    switch (cmd) {
      case 'effects':
        await cmdEffects(parsed);
        break;
      case 'analyze':
        await cmdAnalyze(parsed);
        break;
      case 'process':
        await cmdProcess(parsed);
        break;
      case 'waveform':
        await cmdWaveform(parsed);
        break;
      case 'ffmpeg': {
        const f = await locateFfmpeg();
        console.log(flag(parsed, 'json') ? JSON.stringify(f) : `${f.path} (${f.source}, ${f.version})`);
        break;
      }
      case undefined:
      case 'help':
        console.log(HELP);
        break;
      default:
        throw new UsageError(`unknown command '${cmd}'\n\n${HELP}`);
    }
    return EXIT.ok;
  } catch (err) {
    const json = argv.includes('--json');
    const report = (code: string, message: string, details?: unknown) =>
      json ? console.log(JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } })) : console.error(`david: ${message} [${code}]`);
    if (err instanceof UsageError) {
      report('Cli::Usage', err.message);
      return EXIT.usage;
    }
    if (err instanceof InvalidParameterError) {
      report(err.code, err.message, err.details);
      return EXIT.usage;
    }
    if (err instanceof InvalidMediaError || err instanceof LimitExceededError) {
      report(err.code, err.message, err.details);
      return EXIT.media;
    }
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      report('Cli::NoSuchFile', (err as Error).message);
      return EXIT.usage;
    }
    if (err instanceof DspError) {
      report(err.code, err.message, err.details);
      return err.code.startsWith('Media::') || err.code.startsWith('Wav::') ? EXIT.media : EXIT.internal;
    }
    report('Cli::Internal', (err as Error)?.stack ?? String(err));
    return EXIT.internal;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.DAVID_CLI_MAIN === '1') {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
