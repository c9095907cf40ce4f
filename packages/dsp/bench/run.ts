/**
 * David against ffmpeg and SoX on the same input, as whole processes, in the same run, rounds interleaved.
 *   npm run bench [-- --rounds 3 --minutes 10 --only gain,reverb --formats s16,f32 --memory-minutes 60]
 * Prints a markdown table (medians) per sample format (16-bit and 32-bit float WAV in and out, each tool writing
 * the input's format), with issue 15's target for each row and whether it is met, and the peak memory of
 * `david process` for a 1-minute and a long input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeMusicLike } from './signal.ts';
import { buildBundle } from '../bin/bundle.mjs';
import { decodeFile } from '../src/codecs/decode.ts';
import { analyze } from '../src/analysis/analyze.ts';
import { applyChain, blocksOf, collect } from '../src/engine/chain.ts';
import type { AudioBlock, ChainStep } from '../src/types.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const ROUNDS = Number(arg('rounds', '3'));
const MINUTES = Number(arg('minutes', '10'));
const MEMORY_MINUTES = Number(arg('memory-minutes', '10'));
const ONLY = arg('only', '').split(',').filter(Boolean);
const FORMATS = arg('formats', 's16,f32').split(',').filter(Boolean) as SampleFormat[];
type SampleFormat = 's16' | 'f32';
for (const f of FORMATS) if (f !== 's16' && f !== 'f32') throw new Error(`--formats: '${f}' is not s16 or f32`);

const pkg = join(import.meta.dirname, '..');
const cache = join(import.meta.dirname, '.cache');
const out = join(cache, 'out');
mkdirSync(out, { recursive: true });

function ensureSignal(minutes: number): string {
  const path = join(cache, `music-${minutes}min.wav`);
  return path;
}
for (const m of new Set([MINUTES, 1, MEMORY_MINUTES, 0.1 / 60])) {
  const path = ensureSignal(m);
  if (!existsSync(path)) {
    process.stderr.write(`generating ${path}\n`);
    await writeMusicLike(path, m * 60);
  }
}

// The CLI as users run it: bin/david.mjs on its bundle, built here first so no round pays for the build.
await buildBundle();
const DAVID = [process.execPath, join(pkg, 'bin', 'david.mjs')];
const FFMPEG = ['ffmpeg', '-nostdin', '-hide_banner', '-loglevel', 'error', '-filter_threads', '1', '-threads', '1', '-y'];
const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const HAVE_SOX = has('sox');
const HAVE_TIME = existsSync('/usr/bin/time');

interface Case {
  name: string;
  david: string[]; // arguments after `david`, with IN and OUT placeholders
  ffmpeg?: string[]; // filter arguments
  sox?: string[]; // effect arguments
  /** How many times faster than each peer the row must be (issue 15). */
  target: { ffmpeg?: number; sox?: number };
  /** Expected output duration ÷ input duration (for the sanity check). */
  durationRatio?: number;
  note?: string;
}

const P = (k: string, v: unknown) => ['--param', `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`];
const cases: Case[] = [
  { name: 'gain', david: ['process', 'IN', 'OUT', '--effect', 'gain', ...P('gainDb', -6)], ffmpeg: ['-af', 'volume=-6dB'], sox: ['vol', '-6dB'], target: { ffmpeg: 1.5 } },
  {
    name: 'equalizer (3 bands)',
    david: ['process', 'IN', 'OUT', '--effect', 'equalizer', ...P('bands', [{ type: 'lowshelf', frequencyHz: 100, gainDb: 3, q: 0.707 }, { type: 'peaking', frequencyHz: 1000, gainDb: 6, q: 1 }, { type: 'highshelf', frequencyHz: 8000, gainDb: -3, q: 0.707 }])],
    ffmpeg: ['-af', 'lowshelf=f=100:g=3,equalizer=f=1000:t=q:w=1:g=6,highshelf=f=8000:g=-3'],
    sox: ['bass', '+3', '100', 'equalizer', '1000', '1q', '+6', 'treble', '-3', '8000'],
    target: { ffmpeg: 1.2 },
  },
  {
    name: 'compressor',
    david: ['process', 'IN', 'OUT', '--effect', 'compressor', ...P('thresholdDb', -20), ...P('ratio', 4), ...P('attackMs', 10), ...P('releaseMs', 100)],
    ffmpeg: ['-af', 'acompressor=threshold=0.1:ratio=4:attack=10:release=100:knee=2'],
    sox: ['compand', '0.01,0.1', '6:-70,-70,-20,-20,0,-15', '0', '-90', '0'],
    target: { ffmpeg: 1.2 },
  },
  {
    name: 'noise gate',
    david: ['process', 'IN', 'OUT', '--effect', 'noise_gate', ...P('thresholdDb', -40)],
    ffmpeg: ['-af', 'agate=threshold=0.01:range=0.0001:attack=1:release=100'],
    sox: ['compand', '.001,.1', '-inf,-40.1,-inf,-40,-40', '0', '-90', '0'],
    target: { ffmpeg: 1.2 },
  },
  {
    name: 'delay',
    david: ['process', 'IN', 'OUT', '--effect', 'delay', ...P('timeMs', 300), ...P('feedback', 0.4), ...P('mix', 0.35)],
    ffmpeg: ['-af', 'aecho=0.65:1:300:0.35'],
    sox: ['echo', '0.65', '1', '300', '0.35'],
    target: { ffmpeg: 1.5 },
    durationRatio: -1, // echo tails differ by design
    note: 'ffmpeg aecho and SoX echo are single-tap echoes; ours has feedback (more work)',
  },
  {
    name: 'reverb',
    david: ['process', 'IN', 'OUT', '--effect', 'reverb', ...P('roomSize', 0.5), ...P('mix', 0.3)],
    ffmpeg: ['-af', 'aecho=0.8:0.8:29|37|43|53|61|71|79|89:0.5|0.45|0.4|0.36|0.32|0.28|0.25|0.22'],
    sox: ['reverb', '50', '50', '100', '100', '0', '0'],
    target: { sox: 1.5 },
    durationRatio: -1,
    note: 'ffmpeg has no Freeverb: compared with an 8-tap aecho; SoX reverb is Freeverb-based',
  },
  {
    name: 'chorus',
    david: ['process', 'IN', 'OUT', '--effect', 'chorus', ...P('voices', 2)],
    ffmpeg: ['-af', 'chorus=0.5:0.9:50|60:0.4|0.32:0.25|0.4:2|2.3'],
    sox: ['chorus', '0.5', '0.9', '50', '0.4', '0.25', '2', '-t', '60', '0.32', '0.4', '2.3', '-s'],
    target: { ffmpeg: 1.2 },
    durationRatio: -1,
  },
  {
    name: 'pitch_shift (+3 semitones)',
    david: ['process', 'IN', 'OUT', '--effect', 'pitch_shift', ...P('semitones', 3)],
    ffmpeg: ['-af', 'rubberband=pitch=1.189207115'],
    sox: ['pitch', '300'],
    target: { sox: 3 },
  },
  {
    name: 'time_stretch (tempo × 1.25)',
    david: ['process', 'IN', 'OUT', '--effect', 'time_stretch', ...P('durationRatio', 0.8)],
    ffmpeg: ['-af', 'atempo=1.25'],
    sox: ['tempo', '1.25'],
    target: { ffmpeg: 1.2 },
    durationRatio: 0.8,
  },
  { name: 'analyze (R128 + true peak)', david: ['analyze', 'IN', '--json', '--quiet'], ffmpeg: ['-af', 'ebur128=peak=true', '-f', 'null', '-'], sox: ['-n', 'stats'], target: { ffmpeg: 3 } },
];

interface Run {
  seconds: number;
  maxRssKb: number;
}

function run(cmd: string[], env?: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const argv = HAVE_TIME ? ['/usr/bin/time', '-f', '%M', ...cmd] : cmd;
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    let hwm = 0;
    const poll = HAVE_TIME
      ? null
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwm = Math.max(hwm, Number(m[1]));
          } catch {
            /* exited */
          }
        }, 20);
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      if (poll) clearInterval(poll);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      if (code !== 0) return reject(new Error(`${cmd.join(' ')} failed (${code}): ${err.slice(-2000)}`));
      const lines = err.trim().split('\n');
      resolve({ seconds, maxRssKb: HAVE_TIME ? Number(lines[lines.length - 1]) : hwm });
    });
  });
}

const subst = (args: string[], input: string, output: string) => args.map((a) => (a === 'IN' ? input : a === 'OUT' ? output : a));
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** What ffprobe (not our decoder) says of an output: its duration and its audio codec. */
function probed(path: string): { seconds: number; codec: string } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'format=duration:stream=codec_name', '-of', 'json', path], { encoding: 'utf8' });
  const j = JSON.parse(r.stdout || '{}') as { format?: { duration?: string }; streams?: { codec_name?: string }[] };
  return { seconds: Number(j.format?.duration), codec: j.streams?.[0]?.codec_name ?? '' };
}

/** The input in each sample format: the 16-bit signal, and ffmpeg's exact conversion of it to 32-bit float. */
function inputIn(sf: SampleFormat): string {
  const s16 = ensureSignal(MINUTES);
  if (sf === 's16') return s16;
  const f32 = s16.replace(/\.wav$/, '-f32.wav');
  if (!existsSync(f32)) {
    const r = spawnSync(FFMPEG[0], [...FFMPEG.slice(1), '-i', s16, '-c:a', 'pcm_f32le', f32]);
    if (r.status !== 0) throw new Error(`could not make ${f32}: ${r.stderr}`);
  }
  return f32;
}
const CODEC: Record<SampleFormat, string> = { s16: 'pcm_s16le', f32: 'pcm_f32le' };
const FORMAT_LABEL: Record<SampleFormat, string> = { s16: '16-bit WAV', f32: '32-bit float WAV' };
/** Each peer writes the input's sample format: ffmpeg's WAV muxer would write 16-bit unless told. */
const ffmpegOut: Record<SampleFormat, string[]> = { s16: [], f32: ['-c:a', 'pcm_f32le'] };
const soxOut: Record<SampleFormat, string[]> = { s16: [], f32: ['-e', 'floating-point', '-b', '32'] };

const inputSeconds = MINUTES * 60;
const selected = cases.filter((c) => ONLY.length === 0 || ONLY.some((o) => c.name.startsWith(o)));
const times: Record<string, { david: number[]; ffmpeg: number[]; sox: number[] }> = {};
const key = (sf: SampleFormat, c: Case) => `${sf} ${c.name}`;
const FLOOR = join(import.meta.dirname, 'floor.mjs');
const floorTimes: Record<string, number[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const c of selected) {
    for (const sf of FORMATS) {
      const input = inputIn(sf);
      const t = (times[key(sf, c)] ??= { david: [], ffmpeg: [], sox: [] });
      const tools = (['david', 'ffmpeg', 'sox'] as const).filter((k) => (k === 'sox' ? HAVE_SOX && c.sox : k === 'ffmpeg' ? c.ffmpeg : true));
      // Rotate who goes first each round.
      for (let k = 0; k < tools.length; k++) {
        const tool = tools[(k + round) % tools.length];
        const o = join(out, `${tool}.wav`);
        if (tool === 'david') t.david.push((await run([...DAVID, ...subst(c.david, input, o)])).seconds);
        else if (tool === 'ffmpeg') {
          const f = c.ffmpeg!;
          const nullOut = f.includes('null');
          t.ffmpeg.push((await run([...FFMPEG, '-i', input, ...f, ...(nullOut ? [] : [...ffmpegOut[sf], '-f', 'wav', o])])).seconds);
        } else {
          const x = c.sox!;
          t.sox.push((await run(x[0] === '-n' ? ['sox', input, ...x] : ['sox', input, ...soxOut[sf], o, ...x])).seconds);
        }
      }
      // Sanity: we never win by doing nothing, and every tool wrote the input's sample format.
      if (round === 0 && c.david[0] === 'process') {
        const d = probed(join(out, 'david.wav')).seconds;
        const want = c.durationRatio === -1 ? null : inputSeconds * (c.durationRatio ?? 1);
        const ok = want === null ? d >= inputSeconds - 0.01 : Math.abs(d - want) / want < 0.005;
        if (!ok) throw new Error(`${c.name}: david wrote ${d} s, expected ${want ?? `≥ ${inputSeconds}`} s`);
        if (statSync(join(out, 'david.wav')).size < inputSeconds * 44_100 * 4 * 0.2) throw new Error(`${c.name}: output suspiciously small`);
        for (const tool of tools) {
          const { codec } = probed(join(out, `${tool}.wav`));
          if (codec !== CODEC[sf]) throw new Error(`${c.name}: ${tool} wrote ${codec} from ${CODEC[sf]} input`);
        }
      }
      process.stderr.write(`round ${round + 1}/${ROUNDS} ${c.name} (${sf})\n`);
    }
  }
  // The I/O floor, in the same rounds: Node copying the file through itself, and cp.
  for (const sf of FORMATS) {
    (floorTimes[`node ${sf}`] ??= []).push((await run([process.execPath, FLOOR, inputIn(sf), join(out, 'floor.wav')])).seconds);
    (floorTimes[`cp ${sf}`] ??= []).push((await run(['cp', inputIn(sf), join(out, 'floor.wav')])).seconds);
  }
}

// Start-up: each command 11 times, interleaved, one at a time, against `node -e 0` (the issue's yardstick: ≤ 2.5×).
const tiny = ensureSignal(0.1 / 60);
const startupCases: [string, string[], Record<string, string>?][] = [
  ['node -e 0', [process.execPath, '-e', '0']],
  ['david --version', [...DAVID, '--version']],
  ['david effects', [...DAVID, 'effects']],
  ['david process (0.1 s file, gain)', [...DAVID, 'process', tiny, join(out, 's.wav'), '--effect', 'gain']],
  ['david --version, sources through tsx', [...DAVID, '--version'], { DAVID_FROM_SOURCE: '1' }],
];
const startupTimes = startupCases.map((): number[] => []);
for (let round = 0; round < 11; round++) {
  for (const [i, [, cmd, env]] of startupCases.entries()) startupTimes[i].push((await run(cmd, env)).seconds);
}
const startup = median(startupTimes[3]);
const nodeStart = median(startupTimes[0]);
const startupRows = ['| command | median ms | × `node -e 0` |', '| --- | ---: | ---: |'];
for (const [i, [name]] of startupCases.entries()) {
  const ms = median(startupTimes[i]) * 1000;
  startupRows.push(`| ${name} | ${ms.toFixed(0)} | ${(ms / 1000 / nodeStart).toFixed(2)}× |`);
}
const fmt = (s: number) => s.toFixed(2);
const ratio = (a: number, b: number) => (Number.isFinite(b) && b > 0 ? `${(b / a).toFixed(2)}×` : '—');
const targetText = (t: Case['target']) => [t.ffmpeg && `≥ ${t.ffmpeg}× ffmpeg`, t.sox && `≥ ${t.sox}× SoX`].filter(Boolean).join(', ');
const rows: string[] = [];
for (const sf of FORMATS) {
  rows.push(
    '',
    `| effect (${MINUTES} min, 44.1 kHz stereo, ${FORMAT_LABEL[sf]}) | david s | ffmpeg s | sox s | vs ffmpeg | vs sox | × realtime | target | met |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  );
  for (const c of selected) {
    const t = times[key(sf, c)];
    const d = median(t.david), f = t.ffmpeg.length ? median(t.ffmpeg) : NaN, s = t.sox.length ? median(t.sox) : NaN;
    const met = (c.target.ffmpeg === undefined || f / d >= c.target.ffmpeg) && (c.target.sox === undefined || s / d >= c.target.sox);
    rows.push(`| ${c.name}${c.note ? ` ¹` : ''} | ${fmt(d)} | ${fmt(f)} | ${fmt(s)} | ${ratio(d, f)} | ${ratio(d, s)} | ${Math.round(inputSeconds / d).toLocaleString('en')} | ${targetText(c.target)} | ${met ? 'yes' : 'no'} |`);
  }
}
console.log(`\n${rows.join('\n')}\n`);
// What no Node process can beat: the ffmpeg time a row's target asks for, against Node merely copying the file; and
// what `david process` cannot beat without a shorter start-up: that floor plus its start-up over `node -e 0`.
const davidStartupOver = Math.max(0, startup - nodeStart);
for (const sf of FORMATS) {
  const node = median(floorTimes[`node ${sf}`]), cp = median(floorTimes[`cp ${sf}`]);
  const needs = selected
    .filter((c) => c.david[0] === 'process' && c.target.ffmpeg && times[key(sf, c)].ffmpeg.length)
    .map((c) => ({ c, need: median(times[key(sf, c)].ffmpeg) / c.target.ffmpeg! }));
  const below = needs.filter(({ need }) => need < node).map(({ c, need }) => `${c.name} (${fmt(need)} s)`);
  const belowStart = needs.filter(({ need }) => need >= node && need < node + davidStartupOver).map(({ c, need }) => `${c.name} (${fmt(need)} s)`);
  console.log(
    `I/O floor, ${FORMAT_LABEL[sf]}: Node copying the file through itself ${fmt(node)} s (start-up included), cp ${fmt(cp)} s; ` +
      `with david's start-up over \`node -e 0\` (${(davidStartupOver * 1000).toFixed(0)} ms) ${fmt(node + davidStartupOver)} s.` +
      (below.length ? ` Below the floor, so out of reach for any Node process: ${below.join(', ')}.` : '') +
      (belowStart.length ? ` Below the floor plus our start-up, so out of reach for david as it starts now: ${belowStart.join(', ')}.` : '') +
      (below.length || belowStart.length ? '' : ' Every target is above both.'),
  );
}
for (const c of selected.filter((c) => c.note)) console.log(`¹ ${c.name}: ${c.note}`);
console.log(`\ndavid start-up (process a 0.1 s file): ${fmt(startup)} s — included in every david time above.`);
console.log(`\nStart-up (11 interleaved runs each, whole processes; the bundle current):\n\n${startupRows.join('\n')}\n`);

// Peak memory: 1 minute against a long input, same effect chain.
const memory: string[] = [];
for (const m of new Set([1, MEMORY_MINUTES])) {
  const file = ensureSignal(m);
  for (const [label, args] of [['reverb', ['--effect', 'reverb']], ['reverse (spilled)', ['--effect', 'reverse']]] as const) {
    const r = await run([...DAVID, 'process', file, join(out, 'mem.wav'), ...args]);
    memory.push(`| ${label} | ${m} min | ${(r.maxRssKb / 1024).toFixed(0)} MiB | ${fmt(r.seconds)} s |`);
  }
}
console.log(`\n| peak memory (max RSS) | input | david | time |\n| --- | --- | ---: | ---: |\n${memory.join('\n')}`);
// The kernels alone: the same effects in process on a 1-minute signal already in memory, in blocks of 32,768
// frames (no start-up, no file I/O, no int16 conversion; fresh copies of the blocks are made before the clock starts).
const decoded = await decodeFile(ensureSignal(1));
const audio = await collect(decoded.stream, decoded.format.channels);
const stepsOf = (args: string[]): ChainStep[] => {
  const steps: ChainStep[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--effect') steps.push({ effect: args[++i], parameters: {} });
    else if (args[i] === '--param') {
      const [k, ...v] = args[++i].split('=');
      const raw = v.join('=');
      let value: unknown = raw;
      try {
        value = JSON.parse(raw);
      } catch {
        /* a plain string */
      }
      (steps[steps.length - 1].parameters as Record<string, unknown>)[k] = value;
    }
  }
  return steps;
};
const collectBlocks = async (src: AsyncIterable<AudioBlock>) => {
  const all: AudioBlock[] = [];
  for await (const b of src) all.push(b);
  return all;
};
async function* listed(blocks: AudioBlock[]): AsyncIterable<AudioBlock> {
  yield* blocks;
}
/** Issue 15: the gain kernel alone, in process. */
const GAIN_KERNEL_REALTIME = 8000;
const kernelRows: string[] = [];
for (const c of selected) {
  const ms: number[] = [];
  for (let r = 0; r < ROUNDS + 1; r++) {
    const blocks = await collectBlocks(blocksOf(audio, 32768));
    const t0 = performance.now();
    if (c.david[0] === 'analyze') await analyze(listed(blocks), decoded.format);
    else {
      const { stream, format } = applyChain(listed(blocks), stepsOf(c.david), decoded.format, out);
      for await (const block of stream) void block;
      void format;
    }
    if (r > 0) ms.push(performance.now() - t0); // the first round warms the JIT
  }
  const realtime = 60_000 / median(ms);
  const target = c.name === 'gain' ? `≥ ${GAIN_KERNEL_REALTIME.toLocaleString('en')}× realtime | ${realtime >= GAIN_KERNEL_REALTIME ? 'yes' : 'no'}` : '— | —';
  kernelRows.push(`| ${c.name} | ${median(ms).toFixed(0)} ms | ${Math.round(realtime).toLocaleString('en')}× | ${target} |`);
}
console.log(`\n| kernel in process (1 min stereo in memory) | time | × realtime | target | met |\n| --- | ---: | ---: | --- | --- |\n${kernelRows.join('\n')}`);

console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, ${ROUNDS} rounds (medians), ffmpeg -filter_threads 1 -threads 1, ${HAVE_SOX ? 'sox 14.4' : 'no sox'}; ${HAVE_TIME ? '/usr/bin/time' : '/proc VmHWM'} for memory`);
rmSync(out, { recursive: true, force: true });
