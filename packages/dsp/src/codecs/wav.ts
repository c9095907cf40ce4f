import { open, type FileHandle } from 'node:fs/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { InvalidMediaError, LimitExceededError } from '../errors.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';
import { f32StereoJoin, f32StereoSplit, f32ToS16Mono, kernelBytes, kernelFloats, planarToS16Stereo, releaseKernelMemory, s16MonoToF32, s16StereoToPlanar } from '../engine/wasm/index.ts';

export type WavSampleType = 'int' | 'float';

export interface WavInfo {
  readonly sampleRate: number;
  readonly channels: number;
  readonly bitsPerSample: number;
  readonly sampleType: WavSampleType;
  readonly blockAlign: number;
  /** Byte offset of the first sample in the file. */
  readonly dataOffset: number;
  readonly dataBytes: number;
  readonly frames: number;
  /**
   * Present when the file was cut short inside its audio: the header promised `declaredFrames`, the file holds
   * `frames` (what is there is decoded, as ffmpeg does, and the cut is reported rather than hidden).
   */
  readonly truncated?: { readonly declaredFrames: number };
}

export const WAV_LIMITS = {
  maxChannels: 8,
  minSampleRate: 1000,
  maxSampleRate: 768_000,
  /** How far into the file we look for the data chunk (metadata chunks before it). */
  maxHeaderBytes: 4 * 1024 * 1024,
} as const;

const bad = (code: string, message: string, details?: Record<string, unknown>): never => {
  throw new InvalidMediaError(code, message, details);
};

const id = (b: Uint8Array, at: number) => String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/**
 * Parse and check a WAV header against the real file size. Every lie a header can tell (channel counts,
 * rates, bit depths, sizes past the end of the file) is a typed error; nothing is allocated from a size
 * the header claims. `read(offset, length)` reads bytes from the file.
 */
export async function parseWavHeader(read: (offset: number, length: number) => Promise<Uint8Array>, fileSize: number): Promise<WavInfo> {
  if (fileSize === 0) bad('Media::Empty', 'the file is empty');
  if (fileSize < 12) bad('Wav::Truncated', 'the file ends inside the RIFF header', { fileSize });
  const riff = await read(0, 12);
  const tag = id(riff, 0);
  if ((tag !== 'RIFF' && tag !== 'RF64') || id(riff, 8) !== 'WAVE') bad('Wav::NotWav', 'not a RIFF/WAVE file');
  if (tag === 'RF64') bad('Wav::UnsupportedRf64', 'RF64 (64-bit) WAV files are not supported');
  const riffSize = new DataView(riff.buffer, riff.byteOffset, 12).getUint32(4, true);
  if (riffSize < 4) bad('Wav::BadRiffSize', `the RIFF size (${riffSize}) is too small`, { riffSize });
  // A RIFF size beyond the file means the file was cut short (or the header lies): the data chunk below tells
  // whether audio is missing, and what is there is decoded.
  if (riffSize === 0xffffffff) bad('Wav::BadRiffSize', 'the RIFF size is 0xFFFFFFFF (unknown length)', { riffSize });

  let offset = 12;
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'frames'> | null = null;
  while (true) {
    if (offset + 8 > fileSize) bad(fmt ? 'Wav::NoData' : 'Wav::NoFmt', fmt ? 'no data chunk' : 'no fmt chunk', { offset });
    if (offset > WAV_LIMITS.maxHeaderBytes) bad('Wav::HeaderTooLarge', `no audio data in the first ${WAV_LIMITS.maxHeaderBytes} bytes`);
    const h = await read(offset, 8);
    const chunk = id(h, 0);
    const size = new DataView(h.buffer, h.byteOffset, 8).getUint32(4, true);
    const body = offset + 8;
    if (chunk === 'fmt ') {
      if (size < 16) bad('Wav::FmtTooShort', `the fmt chunk is ${size} bytes; at least 16 are needed`, { size });
      if (body + size > fileSize) bad('Wav::Truncated', 'the file ends inside the fmt chunk');
      const f = await read(body, Math.min(size, 40));
      const v = new DataView(f.buffer, f.byteOffset, f.length);
      let format = v.getUint16(0, true);
      const channels = v.getUint16(2, true);
      const sampleRate = v.getUint32(4, true);
      const blockAlign = v.getUint16(12, true);
      const bits = v.getUint16(14, true);
      if (format === 0xfffe) {
        if (size < 40) bad('Wav::FmtTooShort', 'WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk', { size });
        format = v.getUint16(24, true);
      }
      if (channels < 1 || channels > WAV_LIMITS.maxChannels) {
        bad('Wav::BadChannels', `${channels} channels; 1 to ${WAV_LIMITS.maxChannels} are supported`, { channels });
      }
      if (sampleRate < WAV_LIMITS.minSampleRate || sampleRate > WAV_LIMITS.maxSampleRate) {
        bad('Wav::BadSampleRate', `sample rate ${sampleRate} Hz; ${WAV_LIMITS.minSampleRate} to ${WAV_LIMITS.maxSampleRate} Hz are supported`, { sampleRate });
      }
      let sampleType: WavSampleType;
      if (format === 1 && (bits === 8 || bits === 16 || bits === 24 || bits === 32)) sampleType = 'int';
      else if (format === 3 && (bits === 32 || bits === 64)) sampleType = 'float';
      else if (format !== 1 && format !== 3) return bad('Wav::UnsupportedFormat', `WAV format tag ${format} is not PCM or IEEE float`, { format });
      else return bad('Wav::UnsupportedBitDepth', `${bits}-bit ${format === 3 ? 'float' : 'PCM'} is not supported`, { bits });
      if (blockAlign !== (channels * bits) / 8) bad('Wav::BadBlockAlign', `block align ${blockAlign} does not match ${channels} × ${bits} bits`, { blockAlign });
      fmt = { sampleRate, channels, bitsPerSample: bits, sampleType, blockAlign };
    } else if (chunk === 'data') {
      if (!fmt) bad('Wav::NoFmt', 'the data chunk comes before any fmt chunk');
      if (size === 0xffffffff) bad('Wav::BadDataSize', 'the data size is 0xFFFFFFFF (unknown length)');
      const declaredFrames = Math.floor(size / fmt!.blockAlign);
      const frames = Math.floor(Math.min(size, fileSize - body) / fmt!.blockAlign);
      if (frames === 0) bad('Wav::NoAudio', declaredFrames > 0 ? 'the file ends before its first audio frame' : 'the data chunk holds no audio frames');
      const cut = frames < declaredFrames ? { truncated: { declaredFrames } } : {};
      return { ...fmt!, dataOffset: body, dataBytes: frames * fmt!.blockAlign, frames, ...cut };
    }
    offset = body + size + (size & 1);
  }
}

/** Read a WAV header from a file. */
export async function readWavInfo(path: string): Promise<WavInfo> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    return await parseWavHeader(readerOf(fh), size);
  } finally {
    await fh.close();
  }
}

function readerOf(fh: FileHandle) {
  return async (offset: number, length: number) => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  };
}

/**
 * Convert interleaved sample bytes (whole frames, from an aligned buffer) to planar floats: into views of `into`
 * when its channels are long enough, else new arrays.
 */
export function deinterleave(bytes: Uint8Array, info: Pick<WavInfo, 'channels' | 'bitsPerSample' | 'sampleType'>, into?: AudioBlock): AudioBlock {
  const nch = info.channels;
  const bps = info.bitsPerSample / 8;
  const frames = Math.floor(bytes.length / (nch * bps));
  const out: AudioBlock =
    into && into.length === nch && into[0].length >= frames ? into.map((c) => c.subarray(0, frames)) : Array.from({ length: nch }, () => new Float32Array(frames));
  const n = frames * nch;
  if (info.sampleType === 'float' && bps === 4) {
    // The SIMD kernels do the first multiple of 4 frames (stereo, mono 16-bit); these loops do the rest.
    const i0 = nch === 2 ? f32StereoSplit(bytes, out[0], out[1], frames) : 0;
    const src = new Float32Array(bytes.buffer, bytes.byteOffset, n);
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = i0, j = i0 * nch + c; i < frames; i++, j += nch) dst[i] = src[j];
    }
  } else if (info.sampleType === 'float') {
    const src = new Float64Array(bytes.buffer, bytes.byteOffset, n);
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = 0, j = c; i < frames; i++, j += nch) dst[i] = src[j];
    }
  } else if (bps === 2) {
    const i0 = nch === 2 ? s16StereoToPlanar(bytes, out[0], out[1], frames) : nch === 1 ? s16MonoToF32(bytes, out[0], frames) : 0;
    const src = new Int16Array(bytes.buffer, bytes.byteOffset, n);
    const k = 1 / 32768;
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = i0, j = i0 * nch + c; i < frames; i++, j += nch) dst[i] = src[j] * k;
    }
  } else if (bps === 3) {
    const k = 1 / 8388608;
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = 0, p = c * 3; i < frames; i++, p += nch * 3) {
        dst[i] = (((bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16)) << 8) >> 8) * k;
      }
    }
  } else if (bps === 4) {
    const src = new Int32Array(bytes.buffer, bytes.byteOffset, n);
    const k = 1 / 2147483648;
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = 0, j = c; i < frames; i++, j += nch) dst[i] = src[j] * k;
    }
  } else {
    for (let c = 0; c < nch; c++) {
      const dst = out[c];
      for (let i = 0, j = c; i < frames; i++, j += nch) dst[i] = (bytes[j] - 128) / 128;
    }
  }
  return out;
}

/**
 * Stream a WAV file's audio as planar blocks: fixed-size reads into one aligned buffer, so memory does not
 * depend on the file's length.
 */
export async function* readWavBlocks(path: string, info: WavInfo, blockFrames = 32768, maxFrames = Infinity, reuseBlocks = false): AsyncIterable<AudioBlock> {
  if (info.frames > maxFrames) {
    throw new LimitExceededError('Media::TooLong', `the audio lasts ${(info.frames / info.sampleRate).toFixed(1)} s; the limit is ${(maxFrames / info.sampleRate).toFixed(0)} s`);
  }
  const fh = await open(path, 'r');
  let ring: AudioBlock[] | null = null;
  let bufs: Uint8Array[] = [];
  try {
    const bytesPerBlock = blockFrames * info.blockAlign;
    // Reads of about IO_BYTES (whole blocks), cut into blocks here: one read per block cost a thread-pool round
    // trip each (10 min of 16-bit stereo: 808 reads of 128 KiB; now 101 of 1 MiB), while blocks stay small enough
    // for the effects' passes over them to stay in cache.
    const bytesPerRead = bytesPerBlock * Math.max(1, Math.floor(IO_BYTES / bytesPerBlock));
    let remaining = info.frames * info.blockAlign;
    let pos = info.dataOffset;
    // Two byte buffers used in turn: the next read is started before the current one is converted, so disk
    // and processing overlap; a buffer is read into again only after all its bytes became (fresh) float blocks.
    // In the kernels' memory where there is room: the conversion reads them where they are.
    bufs = [kernelBytes(bytesPerRead) ?? new Uint8Array(bytesPerRead), kernelBytes(bytesPerRead) ?? new Uint8Array(bytesPerRead)];
    let turn = 0;
    const readNext = () => {
      if (remaining <= 0) return null;
      const want = Math.min(bytesPerRead, remaining);
      const buf = bufs[turn++ & 1].subarray(0, want);
      const at = pos;
      pos += want;
      remaining -= want;
      return fh.read(buf, 0, want, at).then(({ bytesRead }) => {
        if (bytesRead < want) throw new InvalidMediaError('Wav::Truncated', 'the file ended while reading audio (changed while reading?)');
        return buf;
      });
    };
    // With reuseBlocks, float blocks come from a ring of three (see DecodeOptions.reuseBlocks), in the kernels' memory
    // where there is room: the conversion writes them there, and the effects' kernels work on them where they are.
    // Each no longer than the file, and not zeroed: every block is written whole before it is handed out.
    const ringFrames = Math.max(1, Math.min(blockFrames, info.frames));
    ring = reuseBlocks ? Array.from({ length: 3 }, () => Array.from({ length: info.channels }, () => kernelFloats(ringFrames, false) ?? new Float32Array(ringFrames))) : null;
    let blocks = 0;
    let next = readNext();
    // Blocks cut from one read follow each other without a turn of the event loop; whoever runs beside the stream
    // (a worker's progress reports, its heartbeats) would wait for all of them. So one is taken every YIELD_MS.
    let turned = performance.now();
    while (next) {
      const buf = await next;
      next = readNext();
      next?.catch(() => undefined); // handled when awaited
      for (let at = 0; at < buf.length; at += bytesPerBlock) {
        if (performance.now() - turned > YIELD_MS) {
          await nextTurn();
          turned = performance.now();
        }
        yield deinterleave(buf.subarray(at, at + bytesPerBlock), info, ring?.[blocks++ % 3]);
      }
    }
  } finally {
    await fh.close(); // no read in flight past this
    for (const x of [...bufs, ...(ring ?? []).flat()]) releaseKernelMemory(x);
  }
}

/** The size of a read or a write of audio bytes (file I/O in pieces this big, blocks cut from them). */
const IO_BYTES = 1 << 20;
/** The longest the reader keeps the event loop to itself between blocks (ms). */
const YIELD_MS = 5;

export interface WavWriteOptions {
  readonly bitDepth?: 16 | 24 | 32;
  readonly float?: boolean;
}

/**
 * dwChannelMask for each channel count: the default layouts of WAVE_FORMAT_EXTENSIBLE as ffmpeg assigns them
 * (mono FC; stereo FL FR; 3.0 FL FR FC; 4.0 FL FR FC BC; 5.0 FL FR FC BL BR; 5.1 FL FR FC LFE BL BR; 6.1 FL FR FC LFE
 * BC SL SR; 7.1 FL FR FC LFE BL BR SL SR), so players route the channels instead of guessing from a mask of 0.
 */
export const DEFAULT_CHANNEL_MASKS: Readonly<Record<number, number>> = { 1: 0x4, 2: 0x3, 3: 0x7, 4: 0x107, 5: 0x37, 6: 0x3f, 7: 0x70f, 8: 0x63f };

export function wavHeader(format: StreamFormat, opts: WavWriteOptions, dataBytes: number): Uint8Array {
  const float = opts.float ?? false;
  const bits = float ? 32 : (opts.bitDepth ?? 16);
  const blockAlign = (format.channels * bits) / 8;
  const extensible = format.channels > 2 || bits > 16;
  const fmtSize = extensible ? 40 : 16;
  const h = new Uint8Array(12 + 8 + fmtSize + 8);
  const v = new DataView(h.buffer);
  const put = (at: number, s: string) => [...s].forEach((ch, i) => (h[at + i] = ch.charCodeAt(0)));
  put(0, 'RIFF');
  v.setUint32(4, Math.min(0xffffffff, h.length - 8 + dataBytes), true);
  put(8, 'WAVE');
  put(12, 'fmt ');
  v.setUint32(16, fmtSize, true);
  v.setUint16(20, extensible ? 0xfffe : float ? 3 : 1, true);
  v.setUint16(22, format.channels, true);
  v.setUint32(24, format.sampleRate, true);
  v.setUint32(28, format.sampleRate * blockAlign, true);
  v.setUint16(32, blockAlign, true);
  v.setUint16(34, bits, true);
  if (extensible) {
    v.setUint16(36, 22, true);
    v.setUint16(38, bits, true);
    v.setUint32(40, DEFAULT_CHANNEL_MASKS[format.channels] ?? 0, true);
    // KSDATAFORMAT_SUBTYPE_PCM / IEEE_FLOAT: {0000000X-0000-0010-8000-00aa00389b71}
    v.setUint16(44, float ? 3 : 1, true);
    h.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 46);
  }
  put(12 + 8 + fmtSize, 'data');
  v.setUint32(12 + 8 + fmtSize + 4, Math.min(0xffffffff, dataBytes), true);
  return h;
}

/**
 * Interleave a planar float block into little-endian sample bytes (with clipping and rounding for ints): into
 * `into` (from its start) when it is large enough, else a new array.
 */
export function interleave(block: AudioBlock, opts: WavWriteOptions, into?: Uint8Array): Uint8Array {
  const nch = block.length;
  const frames = block[0]?.length ?? 0;
  const float = opts.float ?? false;
  const bits = float ? 32 : (opts.bitDepth ?? 16);
  const size = frames * nch * (bits / 8);
  const out = into && into.length >= size ? into.subarray(0, size) : new Uint8Array(size);
  if (float) {
    // The SIMD kernels do the first multiple of 4 frames (stereo, mono 16-bit); these loops do the rest.
    const i0 = nch === 2 ? f32StereoJoin(block[0], block[1], out, frames) : 0;
    const dst = new Float32Array(out.buffer, out.byteOffset, frames * nch);
    for (let c = 0; c < nch; c++) {
      const src = block[c];
      for (let i = i0, j = i0 * nch + c; i < frames; i++, j += nch) dst[j] = src[i];
    }
  } else if (bits === 16 && nch === 2) {
    // Stereo: both channels in one pass, stores in order.
    const i0 = planarToS16Stereo(block[0], block[1], out, frames);
    const dst = new Int16Array(out.buffer, out.byteOffset, frames * 2);
    const l = block[0], r = block[1];
    for (let i = i0, j = i0 * 2; i < frames; i++, j += 2) {
      let a = l[i] * 32768 + 32768.5;
      let b = r[i] * 32768 + 32768.5;
      a = a >= 0 ? (a <= 65535 ? a : 65535) : a < 0 ? 0 : 32768.5;
      b = b >= 0 ? (b <= 65535 ? b : 65535) : b < 0 ? 0 : 32768.5;
      dst[j] = (a | 0) - 32768;
      dst[j + 1] = (b | 0) - 32768;
    }
  } else if (bits === 16) {
    const i0 = nch === 1 ? f32ToS16Mono(block[0], out, frames) : 0;
    const dst = new Int16Array(out.buffer, out.byteOffset, frames * nch);
    for (let c = 0; c < nch; c++) {
      const src = block[c];
      for (let i = i0, j = i0 * nch + c; i < frames; i++, j += nch) {
        // Offset to positive so `| 0` rounds (half up) without Math.round; clip first. NaN becomes 0 (silence).
        let x = src[i] * 32768 + 32768.5;
        x = x >= 0 ? (x <= 65535 ? x : 65535) : x < 0 ? 0 : 32768.5;
        dst[j] = (x | 0) - 32768;
      }
    }
  } else if (bits === 24) {
    for (let c = 0; c < nch; c++) {
      const src = block[c];
      for (let i = 0, p = c * 3; i < frames; i++, p += nch * 3) {
        let s = Math.round(src[i] * 8388608);
        s = s > 8388607 ? 8388607 : s < -8388608 ? -8388608 : s;
        out[p] = s & 0xff;
        out[p + 1] = (s >> 8) & 0xff;
        out[p + 2] = (s >> 16) & 0xff;
      }
    }
  } else {
    const dst = new Int32Array(out.buffer, out.byteOffset, frames * nch);
    for (let c = 0; c < nch; c++) {
      const src = block[c];
      for (let i = 0, j = c; i < frames; i++, j += nch) {
        const s = Math.round(src[i] * 2147483648);
        dst[j] = s > 2147483647 ? 2147483647 : s < -2147483648 ? -2147483648 : s;
      }
    }
  }
  return out;
}

/** Write a WAV file streaming: placeholder sizes first, patched when the stream ends. */
export async function writeWavFile(stream: AsyncIterable<AudioBlock>, format: StreamFormat, path: string, opts: WavWriteOptions = {}) {
  const fh = await open(path, 'w');
  let slots: Uint8Array[] = [];
  try {
    const headerLen = wavHeader(format, opts, 0).length;
    let pos = headerLen;
    let frames = 0;
    // Blocks are converted into one of two buffers of IO_BYTES, written when the next block would not fit (one
    // write per ~1 MiB instead of one per block). One write in flight while the other buffer fills: a buffer is
    // filled again only after the write that used it has finished (awaited before the next write starts).
    let inFlight: Promise<unknown> = Promise.resolve();
    // In the kernels' memory where there is room: the conversion writes them where they are.
    slots = [kernelBytes(IO_BYTES) ?? new Uint8Array(IO_BYTES), kernelBytes(IO_BYTES) ?? new Uint8Array(IO_BYTES)];
    let slot = 0;
    let fill = 0;
    const flush = async (bytes: Uint8Array) => {
      await inFlight;
      inFlight = fh.write(bytes, 0, bytes.length, pos);
      pos += bytes.length;
    };
    const bytesPerFrame = format.channels * ((opts.float ? 32 : (opts.bitDepth ?? 16)) / 8);
    for await (const block of stream) {
      const n = block[0]?.length ?? 0;
      if (fill > 0 && fill + n * bytesPerFrame > IO_BYTES) {
        await flush(slots[slot].subarray(0, fill));
        slot ^= 1;
        fill = 0;
      }
      const into = slots[slot].subarray(fill);
      const bytes = interleave(block, opts, into);
      if (bytes.buffer === into.buffer) fill += bytes.length;
      else await flush(bytes); // larger than a buffer: written from its own array
      frames += n;
    }
    if (fill > 0) await flush(slots[slot].subarray(0, fill));
    await inFlight;
    const dataBytes = pos - headerLen;
    if (dataBytes & 1) await fh.write(new Uint8Array(1), 0, 1, pos++);
    await fh.write(wavHeader(format, opts, dataBytes), 0, headerLen, 0);
    return { bytes: pos, frames };
  } finally {
    await fh.close(); // no write in flight past this
    for (const x of slots) releaseKernelMemory(x);
  }
}
