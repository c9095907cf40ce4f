import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import wavefileModule from 'wavefile';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile } from '../src/codecs/decode.ts';
import { encodeToFile } from '../src/codecs/encode.ts';
import { locateFfmpeg } from '../src/codecs/ffmpeg.ts';
import { probeFile } from '../src/codecs/probe.ts';
import { parseWavHeader, writeWavFile } from '../src/codecs/wav.ts';
import { blocksOf, collect } from '../src/engine/chain.ts';
import { DspError } from '../src/errors.ts';
import type { AudioBlock } from '../src/types.ts';
import { maxAbsDiff } from './measure.ts';

const { WaveFile } = wavefileModule as unknown as { WaveFile: new () => { fromScratch(ch: number, sr: number, bits: string, samples: unknown): void; toBuffer(): Uint8Array } };
const dir = mkdtempSync(join(tmpdir(), 'david-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SR = 44_100;

function tone(channels: number, seconds: number, amp = 0.5): AudioBlock {
  const n = Math.round(seconds * SR);
  return Array.from({ length: channels }, (_, c) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * (300 + 100 * c) * i) / SR)));
}
const decodeAll = async (path: string) => {
  const d = await decodeFile(path);
  return { ...d, audio: await collect(d.stream, d.format.channels) };
};
async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    expect(err).toBeInstanceOf(DspError);
    return (err as DspError).code;
  }
}

describe('WAV, natively and streaming', () => {
  it('round-trips 16/24/32-bit int and 32-bit float within quantisation', async () => {
    const audio = tone(2, 0.5);
    for (const [opts, tol] of [[{ bitDepth: 16 }, 1 / 32768], [{ bitDepth: 24 }, 1 / 8388608], [{ bitDepth: 32 }, 1e-7], [{ float: true }, 0]] as const) {
      const path = join(dir, `rt-${JSON.stringify(opts)}.wav`);
      await writeWavFile(blocksOf(audio, 1000), { sampleRate: SR, channels: 2 }, path, opts);
      const back = await decodeAll(path);
      expect(back.format).toEqual({ sampleRate: SR, channels: 2 });
      expect(back.audio[0].length).toBe(audio[0].length);
      expect(maxAbsDiff(audio, back.audio), JSON.stringify(opts)).toBeLessThanOrEqual(tol + 1e-9);
    }
  });

  it('reads 8-bit, 64-bit float and 6-channel files written by another library (wavefile)', async () => {
    const n = 4410;
    const ramp = Array.from({ length: n }, (_, i) => Math.sin(i / 30));
    const cases: [string, number, unknown[], number][] = [
      ['8', 1, [ramp.map((v) => Math.round(128 + v * 100))], 1 / 128],
      ['64', 2, [ramp.map((v) => v * 0.5), ramp.map((v) => v * -0.5)], 1e-7],
      ['16', 6, Array.from({ length: 6 }, (_, c) => ramp.map((v) => Math.round(v * 1000 * (c + 1)))), 1 / 32768],
    ];
    for (const [bits, channels, samples, tol] of cases) {
      const wav = new WaveFile();
      wav.fromScratch(channels, SR, bits, channels === 1 ? samples[0] : samples);
      const path = join(dir, `wf-${bits}-${channels}.wav`);
      writeFileSync(path, wav.toBuffer());
      const back = await decodeAll(path);
      expect(back.format.channels).toBe(channels);
      expect(back.audio[0].length).toBe(n);
      const expected = (c: number, i: number) => (bits === '8' ? ramp[i] * 100 / 128 : bits === '64' ? ramp[i] * 0.5 * (c === 0 ? 1 : -1) : Math.round(ramp[i] * 1000 * (c + 1)) / 32768);
      let m = 0;
      for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(back.audio[c][i] - expected(c, i)));
      expect(m, `${bits}-bit ${channels} ch`).toBeLessThanOrEqual(tol + 1e-6);
    }
  });

  it('files past the 1 MiB read and write pieces, in blocks of uneven size (one larger than a piece), keep every sample', async () => {
    // Exact 16-bit values (k / 32768), so writing is lossless and every sample can be compared exactly.
    const frames = 700_001;
    const value = (c: number, i: number) => ((((i * 7919 + c * 104_729) % 65_536) + 65_536) % 65_536) - 32_768;
    const audio: AudioBlock = [0, 1].map((c) => Float32Array.from({ length: frames }, (_, i) => value(c, i) / 32768));
    async function* uneven(): AsyncIterable<AudioBlock> {
      const sizes = [1000, 300_000, 77, 65_536, 3, 131_072];
      for (let at = 0, k = 0; at < frames; k++) {
        const n = Math.min(sizes[k % sizes.length], frames - at);
        yield audio.map((ch) => ch.slice(at, at + n));
        at += n;
      }
    }
    const path = join(dir, 'big-uneven.wav');
    const written = await writeWavFile(uneven(), { sampleRate: SR, channels: 2 }, path, { bitDepth: 16 });
    expect(written.frames).toBe(frames);
    // ffmpeg reads the file as we meant it: every sample, in order.
    const raw = spawnSync('ffmpeg', ['-v', 'error', '-i', path, '-f', 's16le', '-'], { maxBuffer: 1 << 24 }).stdout;
    const ff = new Int16Array(raw.buffer, raw.byteOffset, raw.length / 2);
    expect(ff.length).toBe(frames * 2);
    let wrong = 0;
    for (let i = 0; i < frames; i++) if (ff[2 * i] !== value(0, i) || ff[2 * i + 1] !== value(1, i)) wrong++;
    expect(wrong).toBe(0);
    // Our reader, with reused blocks, gives the same samples back.
    const decoded = await decodeFile(path, { reuseBlocks: true });
    let at = 0;
    wrong = 0;
    for await (const block of decoded.stream) {
      for (let i = 0; i < block[0].length; i++) if (block[0][i] * 32768 !== value(0, at + i) || block[1][i] * 32768 !== value(1, at + i)) wrong++;
      at += block[0].length;
    }
    expect(at).toBe(frames);
    expect(wrong).toBe(0);
  });

  it('lets the event loop turn between blocks cut from one read (a worker’s progress reports are not held back)', async () => {
    // 8 blocks come from each 1 MiB read; a consumer spending 10 ms on each would hold the loop ~80 ms without a turn.
    const path = join(dir, 'turns.wav');
    await writeWavFile(blocksOf(tone(2, 6), 32768), { sampleRate: SR, channels: 2 }, path, { bitDepth: 16 });
    const decoded = await decodeFile(path, { reuseBlocks: true });
    let last = performance.now(), maxGap = 0, blocks = 0;
    const timer = setInterval(() => {
      const t = performance.now();
      maxGap = Math.max(maxGap, t - last);
      last = t;
    }, 1);
    try {
      for await (const block of decoded.stream) {
        const t0 = performance.now();
        while (performance.now() - t0 < 10); // a busy effect
        blocks += block.length > 0 ? 1 : 0;
      }
    } finally {
      clearInterval(timer);
    }
    expect(blocks).toBeGreaterThanOrEqual(8);
    expect(maxGap).toBeLessThan(45);
  });

  it('probes WAV natively exactly as ffprobe does', async () => {
    const path = join(dir, 'probe.wav');
    await writeWavFile(blocksOf(tone(2, 1.234), 4096), { sampleRate: SR, channels: 2 }, path, { bitDepth: 24 });
    const ours = await probeFile(path);
    const ff = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=sample_rate,channels,duration,bits_per_sample', '-of', 'json', path], { encoding: 'utf8' });
    const s = JSON.parse(ff.stdout).streams[0];
    expect(ours).toMatchObject({ format: 'wav', sampleRate: Number(s.sample_rate), channels: s.channels, bitDepth: s.bits_per_sample });
    expect(Math.abs(ours.durationSeconds - Number(s.duration))).toBeLessThan(1e-4);
  });
});

describe('multichannel WAV output carries a channel mask', () => {
  it('3 to 8 channels are written as the layouts ffmpeg names 3.0, 4.0, 5.0, 5.1, 6.1 and 7.1, not mask 0', async () => {
    // ffmpeg's own names for the default WAVE_FORMAT_EXTENSIBLE layouts of each channel count.
    const expected: Record<number, string> = { 1: 'mono', 2: 'stereo', 3: '3.0', 4: '4.0', 5: '5.0', 6: '5.1', 7: '6.1', 8: '7.1' };
    for (let ch = 1; ch <= 8; ch++) {
      const path = join(dir, `mask-${ch}.wav`);
      await writeWavFile(blocksOf(tone(ch, 0.1), 1000), { sampleRate: SR, channels: ch }, path, { bitDepth: 24 });
      const r = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=channel_layout', '-of', 'csv=p=0', path], { encoding: 'utf8' });
      expect(r.stdout.trim(), `${ch} channels`).toBe(expected[ch]);
    }
  });
});

describe('compressed formats through ffmpeg over pipes', () => {
  for (const fmt of ['mp3', 'flac', 'ogg', 'opus', 'm4a'] as const) {
    it(`${fmt}: encode and decode back with duration and level kept`, async () => {
      const audio = tone(2, 1, 0.4);
      const path = join(dir, `t.${fmt}`);
      const r = await encodeToFile(blocksOf(audio, 4096), { sampleRate: SR, channels: 2 }, fmt, path);
      expect(r.frames).toBe(SR);
      const probe = await probeFile(path);
      expect(probe.format).toBe(fmt);
      expect(Math.abs(probe.durationSeconds - 1)).toBeLessThan(0.06); // encoder padding
      const back = await decodeAll(path);
      const rms = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
      const mid = (x: Float32Array) => x.subarray(Math.floor(x.length * 0.2), Math.floor(x.length * 0.8));
      expect(Math.abs(20 * Math.log10(rms(mid(back.audio[0])) / rms(mid(audio[0]))))).toBeLessThan(0.5);
    });
  }

  it('reports which ffmpeg it uses', async () => {
    const f = await locateFfmpeg();
    expect(['env', 'ffmpeg-static', 'system', '@ffmpeg-installer']).toContain(f.source);
    expect(f.version.length).toBeGreaterThan(0);
    // FFMPEG_PATH wins (the layer-ffmpeg project sets it to the default Lambda layer's binary).
    if (process.env.FFMPEG_PATH) expect(f).toMatchObject({ source: 'env', path: process.env.FFMPEG_PATH });
  });
});

describe('ffmpeg runs at its caller’s priority', () => {
  it('started by a process at niceness 10, ffmpeg’s session (its own process group) is at 10 too, where Linux schedules sessions as groups', () => {
    // A child at niceness 10 (as a background worker of the local stack runs) starts ffmpeg and reports its
    // scheduling: ffmpeg inherits the niceness, but it is a session of its own, and under autogroup scheduling
    // (Linux's default) that group's niceness is what weighs against other sessions.
    const script = `
      import { locateFfmpeg, startFfmpeg } from ${JSON.stringify(new URL('../src/codecs/ffmpeg.ts', import.meta.url).pathname)};
      import { readFileSync, existsSync } from 'node:fs';
      const p = startFfmpeg(await locateFfmpeg(), ['-nostdin', '-f', 'lavfi', '-i', 'anullsrc', '-t', '30', '-f', 'null', '-'], { timeoutMs: 60000, failCode: 'x' });
      const stat = readFileSync('/proc/' + p.child.pid + '/stat', 'utf8');
      const group = existsSync('/proc/self/autogroup') ? readFileSync('/proc/' + p.child.pid + '/autogroup', 'utf8') : null;
      p.kill();
      await p.done.catch(() => undefined);
      console.log(JSON.stringify({ nice: Number(stat.split(') ')[1].split(' ')[16]), group }));`;
    const run = spawnSync('nice', ['-n', '10', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const seen = JSON.parse(run.stdout.trim().split('\n').pop()!) as { nice: number; group: string | null };
    expect(seen.nice).toBe(10);
    if (seen.group !== null) expect(seen.group).toMatch(/ nice 10\n?$/);
  });
});

describe('bad input: a typed error with a stable code, never a crash', () => {
  /** A canonical 44-byte PCM header followed by `dataBytes` of audio; fields can be overridden. */
  function wavBytes(o: { channels?: number; rate?: number; bits?: number; format?: number; fmtSize?: number; dataSize?: number; riffSize?: number; dataBytes?: number } = {}) {
    const channels = o.channels ?? 2, bits = o.bits ?? 16, rate = o.rate ?? SR;
    const data = o.dataBytes ?? 400;
    const fmtSize = o.fmtSize ?? 16;
    const b = Buffer.alloc(12 + 8 + Math.max(16, fmtSize) + 8 + data);
    b.write('RIFF', 0);
    b.writeUInt32LE(o.riffSize ?? b.length - 8, 4);
    b.write('WAVE', 8);
    b.write('fmt ', 12);
    b.writeUInt32LE(fmtSize, 16);
    b.writeUInt16LE(o.format ?? 1, 20);
    b.writeUInt16LE(channels, 22);
    b.writeUInt32LE(rate, 24);
    b.writeUInt32LE(Math.floor((rate * channels * bits) / 8) % 2 ** 32, 28);
    b.writeUInt16LE(Math.floor((channels * bits) / 8) % 65536, 32);
    b.writeUInt16LE(bits, 34);
    const d = 20 + Math.max(16, fmtSize);
    b.write('data', d);
    b.writeUInt32LE(o.dataSize ?? data, d + 4);
    return b;
  }
  const cases: [string, Buffer, string][] = [
    ['0 channels', wavBytes({ channels: 0 }), 'Wav::BadChannels'],
    ['65,535 channels', wavBytes({ channels: 65535 }), 'Wav::BadChannels'],
    ['sample rate 0', wavBytes({ rate: 0 }), 'Wav::BadSampleRate'],
    ['sample rate 100 MHz', wavBytes({ rate: 100_000_000 }), 'Wav::BadSampleRate'],
    ['12-bit PCM', wavBytes({ bits: 12 }), 'Wav::UnsupportedBitDepth'],
    ['fmt chunk too short', wavBytes({ fmtSize: 10 }), 'Wav::FmtTooShort'],
    ['data size 0xFFFFFFFF', wavBytes({ dataSize: 0xffffffff }), 'Wav::BadDataSize'],
    ['truncated inside the fmt chunk', wavBytes().subarray(0, 30), 'Wav::Truncated'],
    ['no data chunk', wavBytes({ riffSize: 28 }).subarray(0, 36), 'Wav::NoData'],
    ['empty data chunk', wavBytes({ dataBytes: 0 }), 'Wav::NoAudio'],
    ['an empty file', Buffer.alloc(0), 'Media::Empty'],
    ['an M3U playlist named .wav', Buffer.from('#EXTM3U\n#EXTINF:-1,x\nhttp://127.0.0.1:9/a.mp3\n'), 'Media::UnknownFormat'],
    ['an HLS playlist named .wav', Buffer.from('#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\nfile:///etc/passwd\n'), 'Media::UnknownFormat'],
    ['random text', Buffer.from('hello, this is not audio at all'), 'Media::UnknownFormat'],
  ];
  it('a WAV cut short inside its audio is decoded as far as it goes, as ffmpeg does, and flagged', async () => {
    // 1 s of 16-bit stereo declared, 0.25 s (and half a frame) present: what a stopped recorder or a cut download leaves.
    const full = Buffer.alloc(44 + SR * 4);
    const whole = new WaveFile();
    whole.fromScratch(2, SR, '16', [Int16Array.from({ length: SR }, (_, i) => Math.round(10_000 * Math.sin(i / 9))), Int16Array.from({ length: SR }, (_, i) => Math.round(-8_000 * Math.sin(i / 5)))]);
    Buffer.from(whole.toBuffer()).copy(full);
    const cut = full.subarray(0, 44 + (SR / 4) * 4 + 2);
    const path = join(dir, 'cut.wav');
    writeFileSync(path, cut);
    const probe = await probeFile(path);
    expect(probe.durationSeconds).toBeCloseTo(0.25, 6);
    expect(probe.truncated?.declaredSeconds).toBeCloseTo(1, 6);
    const ours = (await decodeAll(path)).audio;
    const ff = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 'f32le', '-'], { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ff.status).toBe(0);
    const ref = new Float32Array(ff.stdout.buffer, ff.stdout.byteOffset, ff.stdout.length / 4);
    expect(ours[0].length).toBe(ref.length / 2);
    for (let i = 0; i < ours[0].length; i += 101) {
      expect(ours[0][i]).toBeCloseTo(ref[2 * i], 6);
      expect(ours[1][i]).toBeCloseTo(ref[2 * i + 1], 6);
    }
    // A RIFF size beyond the file with the audio all there is not a cut: decoded, not flagged.
    const lying = join(dir, 'riff-lies.wav');
    writeFileSync(lying, wavBytes({ riffSize: 0xfffffff0 }));
    expect((await probeFile(lying)).truncated).toBeUndefined();
  });

  for (const [name, bytes, code] of cases) {
    it(`${name} → ${code}`, async () => {
      const path = join(dir, `bad-${name.replace(/\W+/g, '-')}.wav`);
      writeFileSync(path, bytes);
      expect(await codeOf(probeFile(path))).toBe(code);
      expect(await codeOf(decodeFile(path).then((d) => collect(d.stream, d.format.channels)))).toBe(code);
    });
  }

  it('a file that decodes to longer than the limit (duration bomb) → Media::TooLong, from the probe and while decoding', async () => {
    const path = join(dir, 'long.mp3');
    const r = spawnSync('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'anullsrc=r=8000:cl=mono', '-t', '30', '-c:a', 'libmp3lame', '-b:a', '8k', '-y', path]);
    expect(r.status).toBe(0);
    expect(await codeOf(probeFile(path, { maxDurationSeconds: 10 }))).toBe('Media::TooLong');
    expect(await codeOf(decodeFile(path, { maxDurationSeconds: 10 }))).toBe('Media::TooLong');
    // A WAV claiming more frames than the limit is refused before reading audio.
    const wav = join(dir, 'long.wav');
    await writeWavFile(blocksOf(tone(1, 3), 4096), { sampleRate: SR, channels: 1 }, wav);
    expect(await codeOf(decodeFile(wav, { maxDurationSeconds: 2 }).then((d) => collect(d.stream, 1)))).toBe('Media::TooLong');
  });

  it('fuzz: mutated headers parse consistently or throw a DspError; reads stay small (nothing sized from the header)', async () => {
    const base = wavBytes({ dataBytes: 64 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat({ max: 60 }), value: fc.nat({ max: 255 }) }), { maxLength: 12 }),
        fc.option(fc.nat({ max: base.length }), { nil: undefined }),
        async (edits, cut) => {
          const b = Buffer.from(base);
          for (const e of edits) if (e.at < b.length) b[e.at] = e.value;
          const bytes = cut === undefined ? b : b.subarray(0, cut);
          let largestRead = 0;
          const read = async (offset: number, length: number) => {
            largestRead = Math.max(largestRead, length);
            return bytes.subarray(offset, offset + length);
          };
          try {
            const info = await parseWavHeader(read, bytes.length);
            expect(info.channels).toBeGreaterThanOrEqual(1);
            expect(info.channels).toBeLessThanOrEqual(8);
            expect(info.dataOffset + info.dataBytes).toBeLessThanOrEqual(bytes.length);
            expect(info.frames * info.blockAlign).toBeLessThanOrEqual(info.dataBytes);
            expect(info.frames).toBeGreaterThan(0);
          } catch (err) {
            if (!(err instanceof DspError)) throw err;
            expect(err.code).toMatch(/^(Wav|Media)::[A-Za-z]+$/);
          }
          expect(largestRead).toBeLessThanOrEqual(40);
        },
      ),
      { numRuns: 500, seed: 20261124 },
    );
  });
});

describe('a decoded stream reaches the CLI and workers as planar blocks', () => {
  it('decodes MP3 into blocks of bounded size', async () => {
    const path = join(dir, 'blocks.mp3');
    await encodeToFile(blocksOf(tone(2, 2), 4096), { sampleRate: SR, channels: 2 }, 'mp3', path);
    const d = await decodeFile(path, { blockFrames: 4096 });
    let maxBlock = 0, frames = 0;
    for await (const b of d.stream) {
      maxBlock = Math.max(maxBlock, b[0].length);
      frames += b[0].length;
    }
    expect(maxBlock).toBeLessThanOrEqual(4096);
    expect(Math.abs(frames / SR - 2)).toBeLessThan(0.06);
    expect(readFileSync(path).length).toBeGreaterThan(1000);
  });
});

describe('16-bit conversion', () => {
  it('rounds, clips and turns NaN into silence, mono and stereo alike', async () => {
    const { interleave } = await import('../src/codecs/wav.ts');
    const x = Float32Array.from([0, 0.5, -0.5, 1, -1, 2, -2, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1 / 65536, -1 / 65536]);
    const want = [0, 16384, -16384, 32767, -32768, 32767, -32768, 0, 32767, -32768, 1, 0];
    const mono = new Int16Array(interleave([x], { bitDepth: 16 }).buffer);
    expect(Array.from(mono)).toEqual(want);
    const stereo = new Int16Array(interleave([x, x.map((v) => -v)], { bitDepth: 16 }).buffer);
    expect(Array.from(stereo.filter((_, i) => i % 2 === 0))).toEqual(want);
    const negated = new Int16Array(interleave([x.map((v) => -v)], { bitDepth: 16 }).buffer);
    expect(Array.from(stereo.filter((_, i) => i % 2 === 1))).toEqual(Array.from(negated));
  });
});
