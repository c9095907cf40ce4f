import { open } from 'node:fs/promises';
import { InvalidMediaError, LimitExceededError } from '../errors.ts';
import { locateFfmpeg, SAFE_INPUT_FLAGS, startFfmpeg, type FfmpegInfo } from './ffmpeg.ts';
import { FORMAT_IDS, FORMATS, sniffFormat, type ContainerFormat } from './formats.ts';
import { readWavInfo } from './wav.ts';

export interface ProbeResult {
  readonly format: ContainerFormat;
  readonly codec: string;
  readonly durationSeconds: number;
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitRate?: number;
  readonly bitDepth?: number;
  /** A WAV cut short inside its audio: the duration its header declared (`durationSeconds` is what is there). */
  readonly truncated?: { readonly declaredSeconds: number };
}

export interface ProbeOptions {
  readonly timeoutMs?: number;
  readonly maxDurationSeconds?: number;
  readonly maxChannels?: number;
  readonly ffmpeg?: FfmpegInfo;
  /** The container, when the caller sniffed it already (the file is not read again for it). */
  readonly format?: ContainerFormat;
}

export const DEFAULT_MAX_DURATION_SECONDS = 4 * 3600;

/** The first bytes of a file and its size. */
export async function readHead(path: string, bytes = 4096): Promise<{ head: Uint8Array; size: number }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(bytes, size));
    await fh.read(head, 0, head.length, 0);
    return { head, size };
  } finally {
    await fh.close();
  }
}

/** Recognise a file by its bytes (never by its name); empty files and non-audio are typed errors. */
export async function sniffFile(path: string): Promise<ContainerFormat> {
  const { head, size } = await readHead(path);
  if (size === 0) throw new InvalidMediaError('Media::Empty', 'the file is empty');
  const format = sniffFormat(head);
  if (!format) throw new InvalidMediaError('Media::UnknownFormat', `the file is not audio in a format we read (${FORMAT_IDS.join(', ')})`);
  return format;
}

const LAYOUTS: Record<string, number> = { mono: 1, stereo: 2, '2.1': 3, '3.0': 3, '3.0(back)': 3, quad: 4, 'quad(side)': 4, '4.0': 4, '4.1': 5, '5.0': 5, '5.0(side)': 5, '5.1': 6, '5.1(side)': 6, '6.0': 6, '6.1': 7, '7.0': 7, '7.1': 8, '7.1(wide)': 8 };

/** Read the input description ffmpeg prints (Duration line and the first audio stream). */
export function parseFfmpegInfo(stderr: string): { durationSeconds: number | null; codec: string; sampleRate: number; channels: number; bitRate?: number } | null {
  const stream = /Stream #0:\d+(?:\[[^\]]*\])?(?:\([^)]*\))?: Audio: ([^,\s]+)[^,]*, (\d+) Hz, ([^,]+),/.exec(stderr);
  if (!stream) return null;
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(stderr);
  const br = /bitrate: (\d+) kb\/s/.exec(stderr);
  const layout = stream[3].trim();
  const channels = LAYOUTS[layout] ?? (Number.parseInt(layout, 10) || 0);
  return {
    durationSeconds: d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : null,
    codec: stream[1],
    sampleRate: Number(stream[2]),
    channels,
    ...(br ? { bitRate: Number(br[1]) * 1000 } : {}),
  };
}

/**
 * Describe an audio file: WAV natively from its (checked) header, everything else through ffmpeg with the demuxer
 * forced from the sniffed bytes, network protocols off, bounded probing and a wall-clock limit.
 */
export async function probeFile(path: string, opts: ProbeOptions = {}): Promise<ProbeResult> {
  const format = opts.format ?? (await sniffFile(path));
  const maxDuration = opts.maxDurationSeconds ?? DEFAULT_MAX_DURATION_SECONDS;
  const maxChannels = opts.maxChannels ?? 8;
  let result: ProbeResult;
  if (format === 'wav') {
    const info = await readWavInfo(path);
    result = {
      format,
      codec: info.sampleType === 'float' ? `pcm_f${info.bitsPerSample}le` : info.bitsPerSample === 8 ? 'pcm_u8' : `pcm_s${info.bitsPerSample}le`,
      durationSeconds: info.frames / info.sampleRate,
      sampleRate: info.sampleRate,
      channels: info.channels,
      bitRate: info.sampleRate * info.blockAlign * 8,
      bitDepth: info.bitsPerSample,
      ...(info.truncated ? { truncated: { declaredSeconds: info.truncated.declaredFrames / info.sampleRate } } : {}),
    };
  } else {
    const ffmpeg = opts.ffmpeg ?? (await locateFfmpeg());
    const proc = startFfmpeg(ffmpeg, [...SAFE_INPUT_FLAGS, '-f', FORMATS[format].demuxer, '-i', path, '-map', '0:a:0', '-t', '0', '-f', 'null', '-'], {
      timeoutMs: opts.timeoutMs ?? 20_000,
      failCode: 'Media::DecodeFailed',
    });
    proc.child.stdin.end();
    let stderr: string;
    try {
      stderr = await proc.done;
    } catch (err) {
      const msg = (err as Error).message;
      if (/matches no streams/.test(msg)) throw new InvalidMediaError('Media::NoAudio', 'the file holds no audio stream');
      if ((err as { code?: string }).code === 'Codec::Timeout') throw err;
      throw new InvalidMediaError('Media::DecodeFailed', `ffmpeg cannot read this ${format} file: ${msg}`, undefined, { cause: err });
    }
    const info = parseFfmpegInfo(stderr);
    if (!info || info.channels < 1 || info.sampleRate < 1) throw new InvalidMediaError('Media::NoAudio', 'the file holds no decodable audio stream');
    if (info.durationSeconds === null) throw new InvalidMediaError('Media::UnknownDuration', 'the file does not say how long it is');
    result = { format, codec: info.codec, durationSeconds: info.durationSeconds, sampleRate: info.sampleRate, channels: info.channels, ...(info.bitRate ? { bitRate: info.bitRate } : {}) };
  }
  if (result.channels > maxChannels) {
    throw new LimitExceededError('Media::TooManyChannels', `${result.channels} channels; at most ${maxChannels} are supported`, { channels: result.channels });
  }
  if (result.durationSeconds > maxDuration) {
    throw new LimitExceededError('Media::TooLong', `the audio lasts ${Math.round(result.durationSeconds)} s; the limit is ${maxDuration} s`, {
      duration_s: result.durationSeconds,
      max_duration_s: maxDuration,
    });
  }
  return result;
}
