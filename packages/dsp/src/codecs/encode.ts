import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { DspError } from '../errors.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';
import { locateFfmpeg, startFfmpeg, type FfmpegInfo } from './ffmpeg.ts';
import { FORMATS, type ContainerFormat, type FormatSpec } from './formats.ts';
import { interleave, writeWavFile } from './wav.ts';

export interface EncodeOptions {
  readonly bitDepth?: 16 | 24 | 32;
  readonly float?: boolean;
  readonly bitrateKbps?: number;
  readonly timeoutMs?: number;
  readonly ffmpeg?: FfmpegInfo;
}

/**
 * The WAV sample format that keeps an input's precision (one rule for the CLI and the job worker): 16- and 24-bit
 * PCM as they were, 32-bit PCM and any float as 32-bit float, 8-bit and unknown depths (compressed input) as 16-bit.
 */
export function keptWavFormat(bitDepth: number | undefined): Pick<EncodeOptions, 'bitDepth' | 'float'> {
  if (bitDepth === 24) return { bitDepth: 24 };
  if (bitDepth !== undefined && bitDepth > 24) return { float: true };
  return { bitDepth: 16 };
}

function ffmpegOutputArgs(format: StreamFormat, out: ContainerFormat, opts: EncodeOptions): string[] {
  const m: FormatSpec['muxer'] = FORMATS[out].muxer;
  const bitrate = opts.bitrateKbps ?? m.bitrateKbps;
  const rate = out === 'opus' && ![8000, 12000, 16000, 24000, 48000].includes(format.sampleRate) ? ['-ar', '48000'] : [];
  const written = writtenChannels(format.channels, out);
  const downmix = written < format.channels ? ['-ac', String(written)] : [];
  return [...m.codec, ...(bitrate ? ['-b:a', `${bitrate}k`] : []), ...rate, ...downmix, '-f', m.format];
}

/** How many channels a file of format `out` gets from a stream of `channels` (fewer when the codec holds fewer). */
export function writtenChannels(channels: number, out: ContainerFormat): number {
  const max: number | undefined = (FORMATS[out].muxer as FormatSpec['muxer']).maxChannels;
  return max !== undefined && channels > max ? max : channels;
}

/** Feed planar blocks to ffmpeg's stdin as interleaved float32, honouring backpressure. */
async function feed(stream: AsyncIterable<AudioBlock>, stdin: NodeJS.WritableStream): Promise<number> {
  let frames = 0;
  try {
    for await (const block of stream) {
      frames += block[0]?.length ?? 0;
      if (!stdin.write(interleave(block, { float: true }))) await once(stdin, 'drain');
    }
  } finally {
    stdin.end();
  }
  return frames;
}

/**
 * Encode a stream into a file: WAV natively (header patched at the end), other formats by piping raw float32 into
 * ffmpeg, which writes the file (seekable output lets MP4/M4A put its index in place). It answers what it wrote:
 * `channels` is the file's count, and `downmixedFrom` is there when the codec could not hold the stream's channels
 * (6 into MP3) and ffmpeg's matrix downmixed them.
 */
export async function encodeToFile(
  stream: AsyncIterable<AudioBlock>,
  format: StreamFormat,
  out: ContainerFormat,
  path: string,
  opts: EncodeOptions = {},
): Promise<{ bytes: number; frames: number; channels: number; downmixedFrom?: number }> {
  if (out === 'wav') return { ...(await writeWavFile(stream, format, path, { bitDepth: opts.bitDepth, float: opts.float })), channels: format.channels };
  const ffmpeg = opts.ffmpeg ?? (await locateFfmpeg());
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'file,pipe',
    '-f', 'f32le', '-ar', String(format.sampleRate), '-ac', String(format.channels), '-i', 'pipe:0',
    ...ffmpegOutputArgs(format, out, opts),
    '-y', path,
  ];
  const proc = startFfmpeg(ffmpeg, args, { timeoutMs: opts.timeoutMs ?? 15 * 60_000, failCode: 'Codec::EncodeFailed' });
  proc.child.stdin.on('error', () => undefined);
  let frames: number;
  try {
    frames = await feed(stream, proc.child.stdin);
  } catch (err) {
    proc.kill();
    throw err;
  }
  await proc.done;
  const channels = writtenChannels(format.channels, out);
  return { bytes: (await stat(path)).size, frames, channels, ...(channels < format.channels ? { downmixedFrom: format.channels } : {}) };
}

/** Encode to a byte stream through ffmpeg (formats that can be written to a pipe). */
export function encodeStream(stream: AsyncIterable<AudioBlock>, format: StreamFormat, out: ContainerFormat, opts: EncodeOptions & { ffmpeg: FfmpegInfo }): Readable {
  if (out === 'm4a') throw new DspError('Codec::NotStreamable', 'm4a needs a seekable output; use encodeToFile');
  const args = [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-protocol_whitelist', 'pipe',
    '-f', 'f32le', '-ar', String(format.sampleRate), '-ac', String(format.channels), '-i', 'pipe:0',
    ...(out === 'wav' ? ['-c:a', opts.float ? 'pcm_f32le' : 'pcm_s16le', '-f', 'wav'] : ffmpegOutputArgs(format, out, opts)),
    'pipe:1',
  ];
  const proc = startFfmpeg(opts.ffmpeg, args, { timeoutMs: opts.timeoutMs ?? 15 * 60_000, failCode: 'Codec::EncodeFailed' });
  proc.child.stdin.on('error', () => undefined);
  feed(stream, proc.child.stdin).catch((err) => {
    proc.kill();
    proc.child.stdout.destroy(err as Error);
  });
  proc.done.catch((err) => proc.child.stdout.destroy(err as Error));
  return proc.child.stdout;
}

export { locateFfmpeg };
