import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A 16-bit PCM WAV of sines (one frequency per channel) at a given peak level. */
export function sineWav(opts: { seconds: number; sampleRate?: number; channels?: number; freqHz?: number; peakDbfs?: number }): Buffer {
  const sr = opts.sampleRate ?? 44_100;
  const channels = opts.channels ?? 2;
  const frames = Math.round(opts.seconds * sr);
  const amp = Math.pow(10, (opts.peakDbfs ?? -6) / 20);
  const samples = new Int16Array(frames * channels);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const f = (opts.freqHz ?? 440) * (1 + c * 0.5);
      samples[i * channels + c] = Math.round(amp * 32767 * Math.sin((2 * Math.PI * f * i) / sr));
    }
  }
  return pcm16Wav(samples, channels, sr);
}

/** A 16-bit PCM WAV written by hand (independent of our writer): interleaved samples, a 44-byte header. */
export function pcm16Wav(samples: Int16Array, channels: number, sampleRate: number): Buffer {
  const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8);
  header.write('fmt ', 12);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

export function ffmpegPath(): string {
  return process.env.FFMPEG_PATH ?? 'ffmpeg';
}

/** Encode with the real ffmpeg (test fixtures are made, not downloaded). */
export async function transcode(inputPath: string, outputPath: string, args: string[] = []): Promise<void> {
  await run(ffmpegPath(), ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', inputPath, ...args, outputPath]);
}

/** Decode any file with ffmpeg to interleaved float32 and return per-channel samples. */
export async function decodeWithFfmpeg(path: string): Promise<{ channels: Float32Array[]; sampleRate: number }> {
  const probe = await run(ffmpegPath(), ['-nostdin', '-hide_banner', '-i', path, '-f', 'null', '-'], { maxBuffer: 1 << 20 }).catch((e) => e);
  const m = /Audio: [^,]+, (\d+) Hz, ([^,]+),/.exec(String(probe.stderr));
  const sampleRate = m ? Number(m[1]) : 44_100;
  const nch = m ? (m[2].includes('stereo') ? 2 : m[2].includes('mono') ? 1 : Number.parseInt(m[2], 10) || 2) : 2;
  const { stdout } = await run(ffmpegPath(), ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', path, '-f', 'f32le', '-ac', String(nch), '-'], {
    encoding: 'buffer',
    maxBuffer: 1 << 28,
  });
  const buf = stdout as unknown as Buffer;
  const inter = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const frames = inter.length / nch;
  const channels = Array.from({ length: nch }, (_, c) => {
    const ch = new Float32Array(frames);
    for (let i = 0; i < frames; i++) ch[i] = inter[i * nch + c];
    return ch;
  });
  return { channels, sampleRate };
}

export function rmsDb(ch: Float32Array, from = 0, to = ch.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += ch[i] * ch[i];
  return 10 * Math.log10(s / Math.max(1, to - from));
}
