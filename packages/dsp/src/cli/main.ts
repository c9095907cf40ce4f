/**
 * `david`: the DSP package on the command line.
 *   david effects [--json]
 *   david analyze <file> [--json]
 *   david presets [<preset id>] [--json]
 *   david process <in> <out> (--effect <id> [--param k=v]... | --chain <file.json> | --preset <id>) [--bits 16|24|32] [--float] [--json]
 *   david waveform <in> <out.json|out.png> [--zoom <samples per pixel>] [--bits 8|16] [--width W --height H]
 * Exit codes: 0 ok, 2 bad usage or parameters, 3 bad input media or a limit, 1 internal failure.
 */
import { lstat, mkdtemp, open, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { analyze } from '../analysis/analyze.ts';
import { spectrogramPng, waveformPeaks } from '../analysis/waveform.ts';
import { decodeFile } from '../codecs/decode.ts';
import { encodeToFile, keptWavFormat } from '../codecs/encode.ts';
import { locateFfmpeg } from '../codecs/ffmpeg.ts';
import { EXTENSIONS, formatFromPath } from '../codecs/formats.ts';
import { probeFile, type ProbeResult } from '../codecs/probe.ts';
import { getEffect, registry } from '../effects/registry.ts';
import { applyChain, resolveChain, type StepReport } from '../engine/chain.ts';
import { getPreset, presets, presetView, type PresetDeclaration } from '../presets.ts';
import { DspError, InvalidMediaError, InvalidParameterError, LimitExceededError } from '../errors.ts';
import { closest } from '../suggest.ts';
import type { AudioBlock, ChainStep, EffectDeclaration, ParamSpec } from '../types.ts';
import { VERSION } from '../version.ts';

export class UsageError extends Error {}

const EXIT = { ok: 0, internal: 1, usage: 2, media: 3 } as const;

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

/** Every command's options, for node's strict parseArgs: anything else is a usage error with a suggestion. */
const COMMON: Record<string, OptionSpec> = { help: { type: 'boolean', short: 'h' }, json: { type: 'boolean' } };
export const COMMANDS: Record<string, { usage: string; summary: string; options: Record<string, OptionSpec>; positionals: [number, number] }> = {
  effects: { usage: 'david effects [<effect id>] [--json]', summary: 'list the effects and their parameters, or show one', options: {}, positionals: [0, 1] },
  presets: { usage: 'david presets [<preset id>] [--json]', summary: 'list the presets (named chains with a loudness target), or show one', options: {}, positionals: [0, 1] },
  analyze: { usage: 'david analyze <file> [--json] [--quiet]', summary: 'loudness (EBU R128), peaks, spectrum, tempo', options: { quiet: { type: 'boolean' } }, positionals: [1, 1] },
  process: {
    usage: 'david process <in> <out> (--effect <id> [--param name=value]... | --chain <chain.json> | --preset <id>) [--bits 16|24|32] [--float] [--json] [--quiet]',
    summary: 'apply an effect, a chain or a preset; the output format comes from the extension',
    options: { effect: { type: 'string' }, param: { type: 'string', multiple: true }, chain: { type: 'string' }, preset: { type: 'string' }, bits: { type: 'string' }, float: { type: 'boolean' }, quiet: { type: 'boolean' } },
    positionals: [2, 2],
  },
  waveform: {
    usage: 'david waveform <in> <out.json|out.png> [--zoom <samples per pixel>] [--bits 8|16] [--width W] [--height H] [--json]',
    summary: 'audiowaveform/peaks.js JSON peaks, or a spectrogram PNG',
    options: { zoom: { type: 'string' }, bits: { type: 'string' }, width: { type: 'string' }, height: { type: 'string' } },
    positionals: [2, 2],
  },
  ffmpeg: { usage: 'david ffmpeg [--json]', summary: 'which ffmpeg binary is used', options: {}, positionals: [0, 0] },
  remote: {
    usage:
      'david remote process <files or folders...> --api <url> (--effect <id> [--param k=v]... | --chain <file> | --preset <id>) --out <dir> [--format <ext>] [--concurrency N] [--session <id> --token <token>] [--json] [--quiet]',
    summary: 'run jobs on a David API: upload, process, follow and download (resumable)',
    options: {
      api: { type: 'string' },
      effect: { type: 'string' },
      param: { type: 'string', multiple: true },
      chain: { type: 'string' },
      preset: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      concurrency: { type: 'string' },
      session: { type: 'string' },
      token: { type: 'string' },
      quiet: { type: 'boolean' },
    },
    positionals: [2, Infinity],
  },
};

export interface Parsed {
  positional: string[];
  flags: Map<string, string[]>;
}

/** `--json=false` means off and `--json=true` on; any other value given to a switch is a usage error. */
function normaliseSwitches(argv: string[], options: Record<string, OptionSpec>): string[] {
  return argv.map((a) => {
    const m = /^--([^=]+)=(.*)$/s.exec(a);
    if (!m || options[m[1]]?.type !== 'boolean') return a;
    if (m[2] === 'true') return `--${m[1]}`;
    if (m[2] === 'false') return `--no-${m[1]}`;
    throw new UsageError(`--${m[1]} is a switch: give it alone, or as --${m[1]}=true / --${m[1]}=false`);
  });
}

export function parseCommand(command: string, argv: string[]): Parsed {
  const spec = COMMANDS[command];
  const options = { ...COMMON, ...spec.options };
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    // node:util through getBuiltinModule, not `import`: the import's namespace reads every export, and its
    // TextDecoder getter loads the diff module (~5 ms of every start).
    ({ values, positionals } = process.getBuiltinModule('node:util').parseArgs({ args: normaliseSwitches(argv, options), options, strict: true, allowPositionals: true, allowNegative: true }));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const name = /'(-{1,2}[^'\s=]+)/.exec((err as Error).message)?.[1];
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && name) {
      const known = Object.keys(options);
      const guess = closest(name.replace(/^-+/, ''), known);
      throw new UsageError(`unknown option ${name} for '${command}'${guess ? `; did you mean --${guess}?` : ''}\nusage: ${spec.usage}`);
    }
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') throw new UsageError(`${(err as Error).message.split('.')[0]}\nusage: ${spec.usage}`);
    throw new UsageError((err as Error).message);
  }
  const flags = new Map<string, string[]>();
  for (const [k, v] of Object.entries(values)) {
    if (v === undefined) continue;
    flags.set(k, (Array.isArray(v) ? v : [v]).map(String));
  }
  if (flags.get('help')?.at(-1) !== 'true') {
    const [min, max] = spec.positionals;
    if (positionals.length < min || positionals.length > max) throw new UsageError(`usage: ${spec.usage}`);
  }
  return { positional: positionals, flags };
}

export const flag = (p: Parsed, name: string) => p.flags.get(name)?.at(-1);
const on = (p: Parsed, name: string) => flag(p, name) === 'true';

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

/** `--param name=value` flags as an effect's parameters. */
export function paramsOf(p: Parsed): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const kv of p.flags.get('param') ?? []) {
    const eq = kv.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes name=value, got '${kv}'`);
    parameters[kv.slice(0, eq)] = parseValue(kv.slice(eq + 1));
  }
  return parameters;
}

export function positiveInt(p: Parsed, name: string, fallback: number, max: number): number {
  const raw = flag(p, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max} (got '${raw}')`);
  return n;
}

/** An input that exists, is a regular file and can be read, or a usage error that says which. */
async function readableInput(path: string): Promise<void> {
  let s;
  try {
    s = await stat(path);
  } catch {
    throw new UsageError(`no such file: ${path}`);
  }
  if (s.isDirectory()) throw new UsageError(`${path} is a directory; give an audio file`);
  if (!s.isFile()) throw new UsageError(`${path} is not a regular file`);
  try {
    await (await open(path, 'r')).close();
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/** The output may not be the input: not the same path, not through a symlink, not a hard link to it. */
async function distinctOutput(input: string, output: string): Promise<void> {
  const [a, b] = await Promise.all([stat(input), stat(output).catch(() => null)]);
  if (b && a.dev === b.dev && a.ino === b.ino) throw new UsageError(`the output ${output} is the input file; give another output path`);
  const outDir = await realpath(dirname(output)).catch(() => null);
  if (!outDir) throw new UsageError(`the output folder ${dirname(output)} does not exist`);
  if ((await realpath(input)) === join(outDir, basename(output))) throw new UsageError(`the output ${output} is the input file; give another output path`);
  const o = await lstat(output).catch(() => null);
  if (o?.isDirectory()) throw new UsageError(`the output ${output} is a directory`);
}

/**
 * Write through a temporary file next to the output and rename it into place when complete, so a failure never
 * leaves a half-written file (nor touches an existing one).
 */
export async function writeAtomically<T>(output: string, write: (tempPath: string) => Promise<T>): Promise<T> {
  const temp = join(dirname(output), `.${basename(output)}.david-${process.pid}-${Date.now()}.part${output.slice(output.lastIndexOf('.'))}`);
  try {
    const result = await write(temp);
    await rename(temp, output);
    return result;
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
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
  // isatty, not process.stderr.isTTY: touching process.stderr builds its stream (node:stream, ~5 ms of every start).
  const on = !quiet && process.getBuiltinModule('node:tty').isatty(2) && !!totalFrames;
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

function describeEffect(d: EffectDeclaration): string[] {
  const lines = [`${d.id} — ${d.description}`];
  for (const [name, spec] of Object.entries(d.parameters)) lines.push(describeSpec(name, spec));
  if (d.wholeStream) lines.push(`  note: ${d.wholeStream}`);
  if (d.tail) lines.push(`  note: ${d.tail}`);
  return lines;
}

const effectJson = (d: EffectDeclaration) => ({ id: d.id, description: d.description, parameters: d.parameters, whole_stream: d.wholeStream, tail: d.tail });

async function cmdEffects(p: Parsed) {
  const [id] = p.positional;
  if (id !== undefined) {
    const d = getEffect(id); // unknown: a usage error with the closest id
    console.log(on(p, 'json') ? JSON.stringify(effectJson(d), null, 2) : describeEffect(d).join('\n'));
    return;
  }
  if (on(p, 'json')) {
    console.log(JSON.stringify([...registry.values()].map(effectJson), null, 2));
    return;
  }
  for (const d of registry.values()) console.log(describeEffect(d).join('\n'));
}

const describePreset = (d: PresetDeclaration) =>
  [`${d.id} — ${d.description}`, ...d.chain.map((s, i) => `  ${i + 1}. ${s.effect} ${JSON.stringify(s.parameters ?? {})}`)].join('\n');

async function cmdPresets(p: Parsed) {
  const [id] = p.positional;
  const list = id !== undefined ? [getPreset(id)] : [...presets.values()];
  if (on(p, 'json')) console.log(JSON.stringify(id !== undefined ? presetView(list[0]) : list.map(presetView), null, 2));
  else console.log(list.map(describePreset).join('\n'));
}

/**
 * What each step with a target reached, on stderr: a note wherever a target was missed, always; a line for each one
 * met unless the output is --json (which carries them all) or --quiet.
 */
function printReports(reports: readonly StepReport[], all: boolean) {
  for (const r of reports) {
    const step = `${r.effect} (step ${r.step + 1})`;
    const reached = r.reached === null ? 'nothing measurable' : `${r.reached} ${r.unit}`;
    if (!r.met) console.error(`note: ${step} missed its target of ${r.target} ${r.unit}: ${reached}; ${r.reason}`);
    else if (all) console.error(`${step}: reached ${reached} (target ${r.target} ${r.unit} ± ${r.tolerance})`);
  }
}

async function cmdAnalyze(p: Parsed) {
  const [file] = p.positional;
  await readableInput(file);
  const probe = await probeFile(file);
  const cut = truncation(file, probe, 'truncated');
  const decoded = await decodeFile(file, { reuseBlocks: true });
  const bar = progress(Math.round(probe.durationSeconds * probe.sampleRate), on(p, 'quiet'));
  const result = await analyze(bar.wrap(decoded.stream), decoded.format);
  bar.done();
  if (on(p, 'json')) console.log(JSON.stringify({ file, format: probe.format, codec: probe.codec, ...cut, ...result }, null, 2));
  else {
    const level = (field: keyof typeof result.not_measurable, unit: string) => {
      const v = result[field];
      return v === null ? `not measurable (${result.not_measurable[field]})` : `${v} ${unit}`;
    };
    const rows: [string, string][] = [
      ['duration', `${result.duration_s.toFixed(3)} s`],
      ['format', `${probe.format} (${probe.codec}), ${result.sample_rate} Hz, ${result.channels} ch`],
      ['integrated loudness', level('integrated_lufs', 'LUFS')],
      ['loudness range', level('loudness_range_lu', 'LU')],
      ['max momentary', level('max_momentary_lufs', 'LUFS')],
      ['max short-term', level('max_short_term_lufs', 'LUFS')],
      ['true peak', level('true_peak_dbtp', 'dBTP')],
      ['sample peak', level('peak_dbfs', 'dBFS')],
      ['RMS', level('rms_dbfs', 'dBFS')],
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

/** The chain a command asks for: `--chain <file.json>`, `--effect <id>` with `--param`s, or `--preset <id>`. */
export async function readChain(p: Parsed): Promise<ChainStep[]> {
  const chainFile = flag(p, 'chain');
  const effect = flag(p, 'effect');
  const preset = flag(p, 'preset');
  if ([chainFile, effect, preset].filter((v) => v !== undefined).length > 1) throw new UsageError('give one of --effect, --chain or --preset');
  if (preset !== undefined) {
    if (p.flags.has('param')) throw new UsageError('--param goes with --effect; a preset holds its own parameters');
    return [...getPreset(preset).chain]; // unknown: a usage error with the closest id
  }
  if (chainFile) {
    if (p.flags.has('param')) throw new UsageError('--param goes with --effect; a chain file holds its own parameters');
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
  if (!effect) throw new UsageError('needs --effect <id>, --chain <file.json> or --preset <id>');
  return [{ effect, parameters: paramsOf(p) }];
}

/**
 * A WAV cut short is decoded as far as it goes: the user hears of it on stderr, and `--json` carries it under `key`.
 */
function truncation(input: string, probe: ProbeResult, key: string): Record<string, { declared_duration_s: number }> {
  if (!probe.truncated) return {};
  console.error(`note: ${input} is cut short: its header declares ${probe.truncated.declaredSeconds.toFixed(3)} s, the file holds ${probe.durationSeconds.toFixed(3)} s (decoding what is there)`);
  return { [key]: { declared_duration_s: probe.truncated.declaredSeconds } };
}

async function cmdProcess(p: Parsed) {
  const [input, output] = p.positional;
  const outFormat = formatFromPath(output);
  if (!outFormat) throw new UsageError(`cannot tell the output format from '${output}' (use ${EXTENSIONS.join(' ')})`);
  const steps = resolveChain(await readChain(p)); // validate before any decoding
  const bitsRaw = flag(p, 'bits');
  const bits = bitsRaw === undefined ? undefined : Number(bitsRaw);
  if (bits !== undefined && bits !== 16 && bits !== 24 && bits !== 32) throw new UsageError('--bits must be 16, 24 or 32');
  if ((bits !== undefined || on(p, 'float')) && outFormat !== 'wav') throw new UsageError('--bits and --float set the sample format of a .wav output only');
  await readableInput(input);
  await distinctOutput(input, output);
  const started = performance.now();
  const probe = await probeFile(input);
  const cut = truncation(input, probe, 'input_truncated');
  const decoded = await decodeFile(input, { reuseBlocks: true });
  const tempDir = await mkdtemp(join(tmpdir(), 'david-cli-'));
  try {
    const bar = progress(Math.round(probe.durationSeconds * probe.sampleRate), on(p, 'quiet'));
    const { stream, format, reports } = applyChain(bar.wrap(decoded.stream), steps, decoded.format, tempDir);
    // Without --bits or --float a WAV keeps the input's sample format (24-bit stays 24-bit).
    const sample = bits !== undefined || on(p, 'float') ? { bitDepth: bits as 16 | 24 | 32 | undefined, float: on(p, 'float') } : keptWavFormat(probe.bitDepth);
    const result = await writeAtomically(output, (temp) => encodeToFile(stream, format, outFormat, temp, sample));
    bar.done();
    const summary = {
      input,
      output,
      format: outFormat,
      sample_rate: format.sampleRate,
      channels: result.channels,
      ...(result.downmixedFrom ? { downmixed_from: result.downmixedFrom } : {}),
      ...(outFormat === 'wav' ? { sample_format: sample.float ? 'float32' : `pcm${sample.bitDepth ?? 16}` } : {}),
      duration_s: result.frames / format.sampleRate,
      bytes: result.bytes,
      seconds: (performance.now() - started) / 1000,
      ...(flag(p, 'preset') !== undefined ? { preset: flag(p, 'preset') } : {}),
      chain: steps.map((s) => ({ effect: s.decl.id, parameters: s.params })),
      reports: reports(),
      ...cut,
    };
    printReports(summary.reports, !on(p, 'quiet') && !on(p, 'json'));
    if (result.downmixedFrom) console.error(`note: ${outFormat} holds at most ${result.channels} channels: the ${result.downmixedFrom} channels were downmixed`);
    if (on(p, 'json')) console.log(JSON.stringify(summary, null, 2));
    else {
      const line = `wrote ${output}: ${summary.duration_s.toFixed(3)} s, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`;
      // Straight to fd 2 (as console.error would, synchronously), without building process.stderr's stream; through
      // the stream after all should fd 2 refuse (a full non-blocking pipe).
      try {
        process.getBuiltinModule('node:fs').writeSync(2, `${line}\n`);
      } catch {
        console.error(line);
      }
    }
  } finally {
    await rm(tempDir, { recursive: true, force: true });
  }
}

async function cmdWaveform(p: Parsed) {
  const [input, output] = p.positional;
  const png = output.endsWith('.png');
  if (!png && !output.endsWith('.json')) throw new UsageError('the output must end in .json (audiowaveform peaks) or .png (spectrogram)');
  // Each output kind has its own options; one given to the other kind would be ignored, so it is refused.
  const foreign = (png ? ['zoom', 'bits'] : ['width', 'height']).filter((n) => p.flags.has(n));
  if (foreign.length > 0) throw new UsageError(`--${foreign[0]} applies to ${png ? '.json peaks' : '.png spectrograms'}, not to ${output}`);
  await readableInput(input);
  await distinctOutput(input, output);
  const decoded = await decodeFile(input);
  if (png) {
    const image = await spectrogramPng(decoded.stream, decoded.format, { width: positiveInt(p, 'width', 1024, 16384), height: positiveInt(p, 'height', 256, 8192) });
    await writeAtomically(output, (temp) => writeFile(temp, image));
  } else {
    const bits = Number(flag(p, 'bits') ?? 8);
    if (bits !== 8 && bits !== 16) throw new UsageError('--bits must be 8 or 16');
    const data = await waveformPeaks(decoded.stream, decoded.format, { samplesPerPixel: positiveInt(p, 'zoom', 256, 1 << 24), bits });
    await writeAtomically(output, (temp) => writeFile(temp, JSON.stringify(data)));
  }
  if (on(p, 'json')) console.log(JSON.stringify({ input, output }));
}

const HELP = `david ${VERSION} — audio effects, analysis and codecs

${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${c.usage}\n      ${c.summary}`)
  .join('\n')}

  david <command> --help for one command; --json for machine-readable output, --quiet for no progress bar.
  Exit codes: 0 ok, 2 bad usage or parameters, 3 bad input media, 1 internal failure.`;

function commandHelp(name: string): string {
  const c = COMMANDS[name];
  const opts = Object.entries({ ...COMMON, ...c.options })
    .map(([k, o]) => `  --${k}${o.type === 'string' ? ' <value>' : ''}${o.multiple ? ' (repeatable)' : ''}`)
    .join('\n');
  return `usage: ${c.usage}\n\n${c.summary}\n\noptions:\n${opts}`;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const [cmd, ...rest] = argv;
    if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
      console.log(`david ${VERSION}`);
      return EXIT.ok;
    }
    if (cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h') {
      if (rest[0] && Object.hasOwn(COMMANDS, rest[0])) console.log(commandHelp(rest[0]));
      else console.log(HELP);
      return EXIT.ok;
    }
    if (!Object.hasOwn(COMMANDS, cmd)) {
      const guess = closest(cmd, Object.keys(COMMANDS));
      throw new UsageError(`unknown command '${cmd}'${guess ? `; did you mean '${guess}'?` : ''}\n\n${HELP}`);
    }
    const parsed = parseCommand(cmd, rest);
    if (on(parsed, 'help')) {
      console.log(commandHelp(cmd));
      return EXIT.ok;
    }
    switch (cmd) {
      case 'effects':
        await cmdEffects(parsed);
        break;
      case 'presets':
        await cmdPresets(parsed);
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
      case 'remote':
        return await (await import('./remote.ts')).cmdRemote(parsed);
      case 'ffmpeg': {
        const f = await locateFfmpeg();
        console.log(on(parsed, 'json') ? JSON.stringify(f) : `${f.path} (${f.source}, ${f.version})`);
        break;
      }
    }
    return EXIT.ok;
  } catch (err) {
    const json = argv.includes('--json') || argv.includes('--json=true');
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
      if (err.code === 'Codec::FfmpegPathUnusable') return EXIT.usage;
      return err.code.startsWith('Media::') || err.code.startsWith('Wav::') ? EXIT.media : EXIT.internal;
    }
    report('Cli::Internal', (err as Error)?.stack ?? String(err));
    return EXIT.internal;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.DAVID_CLI_MAIN === '1') {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
