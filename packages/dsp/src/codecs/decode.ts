import { LimitExceededError } from '../errors.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';
import { locateFfmpeg, SAFE_INPUT_FLAGS, startFfmpeg, type FfmpegInfo } from './ffmpeg.ts';
import { FORMATS, type ContainerFormat } from './formats.ts';
import { DEFAULT_MAX_DURATION_SECONDS, probeFile, sniffFile, type ProbeResult } from './probe.ts';
import { deinterleave, readWavBlocks, readWavInfo } from './wav.ts';

export interface DecodeOptions {
  readonly maxDurationSeconds?: number;
  readonly timeoutMs?: number;
  readonly blockFrames?: number;
  readonly ffmpeg?: FfmpegInfo;
  /**
   * WAV only: hand out blocks from a small ring of buffers instead of fresh arrays, so a long file makes no
   * garbage (and the process no growing pile of dead buffers between collections). Only for consumers that are
   * done with a block before they ask for the next one — as every effect, `applyChain`, the encoders and
   * `analyze` are (they copy what they keep; a test runs every effect both ways). Not for code that collects
   * blocks by reference.
   */
  readonly reuseBlocks?: boolean;
  /**
   * What a probe of this very file found (ingest probes each upload once and passes it on): the file is then
   * neither sniffed nor probed again, and a compressed one costs one ffmpeg run, the decode.
   */
  readonly probe?: ProbeResult;
}

export interface Decoded {
  readonly format: StreamFormat;
  readonly source: ContainerFormat;
  readonly stream: AsyncIterable<AudioBlock>;
}

/**
 * Decode a file into planar float blocks, streaming with bounded memory: WAV natively; other formats through
 * ffmpeg writing raw float32 to a pipe (no temp files), with the duration limit enforced while decoding too.
 */
export async function decodeFile(path: string, opts: DecodeOptions = {}): Promise<Decoded> {
  const maxDuration = opts.maxDurationSeconds ?? DEFAULT_MAX_DURATION_SECONDS;
  const blockFrames = opts.blockFrames ?? 32768;
  const source = opts.probe?.format ?? (await sniffFile(path));
  if (source === 'wav') {
    const info = await readWavInfo(path);
    return {
      format: { sampleRate: info.sampleRate, channels: info.channels },
      source,
      stream: readWavBlocks(path, info, blockFrames, Math.floor(maxDuration * info.sampleRate), opts.reuseBlocks ?? false),
    };
  }
  const probe = opts.probe ?? (await probeFile(path, { maxDurationSeconds: maxDuration, ffmpeg: opts.ffmpeg, format: source }));
  const format = { sampleRate: probe.sampleRate, channels: probe.channels };
  const ffmpeg = opts.ffmpeg ?? (await locateFfmpeg());
  return { format, source, stream: ffmpegBlocks(ffmpeg, path, source, format, maxDuration, blockFrames, opts.timeoutMs ?? 15 * 60_000) };
}

async function* ffmpegBlocks(
  ffmpeg: FfmpegInfo,
  path: string,
  source: ContainerFormat,
  format: StreamFormat,
  maxDuration: number,
  blockFrames: number,
  timeoutMs: number,
): AsyncIterable<AudioBlock> {
  const maxFrames = Math.floor(maxDuration * format.sampleRate);
  const args = [
    ...SAFE_INPUT_FLAGS,
    '-loglevel', 'error',
    '-f', FORMATS[source].demuxer,
    '-i', path,
    '-map', '0:a:0',
    // One second past the limit, so a longer file is detected rather than silently cut.
    '-t', String(maxDuration + 1),
    '-ac', String(format.channels),
    '-ar', String(format.sampleRate),
    '-f', 'f32le',
    '-c:a', 'pcm_f32le',
    'pipe:1',
  ];
  const proc = startFfmpeg(ffmpeg, args, { timeoutMs, failCode: 'Media::DecodeFailed' });
  proc.child.stdin.end();
  const frameBytes = 4 * format.channels;
  const blockBytes = blockFrames * frameBytes;
  let pending = new Uint8Array(blockBytes);
  let fill = 0;
  let frames = 0;
  let finished = false;
  const info = { channels: format.channels, bitsPerSample: 32, sampleType: 'float' as const };
  try {
    for await (const chunk of proc.child.stdout as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length) {
        const n = Math.min(chunk.length - at, blockBytes - fill);
        pending.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill === blockBytes) {
          frames += blockFrames;
          if (frames > maxFrames) throw new LimitExceededError('Media::TooLong', `the audio lasts longer than the ${maxDuration} s limit`);
          yield deinterleave(pending, info);
          pending = new Uint8Array(blockBytes);
          fill = 0;
        }
      }
    }
    await proc.done;
    const tailFrames = Math.floor(fill / frameBytes);
    frames += tailFrames;
    if (frames > maxFrames) throw new LimitExceededError('Media::TooLong', `the audio lasts longer than the ${maxDuration} s limit`);
    if (tailFrames > 0) yield deinterleave(pending.subarray(0, tailFrames * frameBytes), info);
    finished = true;
  } finally {
    if (!finished) proc.kill();
  }
}
