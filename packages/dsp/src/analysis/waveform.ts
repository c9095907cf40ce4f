import { deflateSync } from 'node:zlib';
import { createRealFft, hann } from '../engine/fft.ts';
import { InvalidParameterError } from '../errors.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';

/** audiowaveform's JSON (version 2), which peaks.js reads: per pixel, per channel, a min and a max. */
export interface WaveformData {
  version: 2;
  channels: number;
  sample_rate: number;
  samples_per_pixel: number;
  bits: 8 | 16;
  length: number;
  data: number[];
}

export async function waveformPeaks(
  stream: AsyncIterable<AudioBlock>,
  format: StreamFormat,
  opts: { samplesPerPixel: number; bits?: 8 | 16 },
): Promise<WaveformData> {
  const spp = opts.samplesPerPixel;
  if (!Number.isInteger(spp) || spp < 1 || spp > 1 << 20) {
    throw new InvalidParameterError('Waveform::InvalidZoom', 'samplesPerPixel must be a whole number from 1 to 1048576', { allowed: { min: 1, max: 1 << 20 } });
  }
  const bits = opts.bits ?? 8;
  const scale = bits === 8 ? 127 : 32767;
  const ch = format.channels;
  const data: number[] = [];
  const mins = new Float64Array(ch).fill(Infinity);
  const maxs = new Float64Array(ch).fill(-Infinity);
  let fill = 0;
  const q = (v: number) => Math.max(-scale - 1, Math.min(scale, Math.round(v < 0 ? v * (scale + 1) : v * scale)));
  const emit = () => {
    for (let c = 0; c < ch; c++) {
      data.push(q(mins[c]), q(maxs[c]));
      mins[c] = Infinity;
      maxs[c] = -Infinity;
    }
    fill = 0;
  };
  for await (const block of stream) {
    const n = block[0]?.length ?? 0;
    let i = 0;
    while (i < n) {
      const take = Math.min(n - i, spp - fill);
      for (let c = 0; c < ch; c++) {
        const x = block[c];
        let lo = mins[c], hi = maxs[c];
        for (let k = i; k < i + take; k++) {
          const v = x[k];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        mins[c] = lo;
        maxs[c] = hi;
      }
      fill += take;
      i += take;
      if (fill === spp) emit();
    }
  }
  if (fill > 0) emit();
  return { version: 2, channels: ch, sample_rate: format.sampleRate, samples_per_pixel: spp, bits, length: data.length / (2 * ch), data };
}

// ---- spectrogram -------------------------------------------------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A minimal PNG encoder (8-bit RGB, filter 0) over node:zlib. */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const raw = new Uint8Array(height * (width * 3 + 1));
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (width * 3 + 1) + 1);
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const v = new DataView(out.buffer);
    v.setUint32(0, data.length);
    for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
    out.set(data, 8);
    v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const hv = new DataView(ihdr.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())];
  const total = parts.reduce((s, p) => s + p.length, 0);
  const png = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    png.set(p, o);
    o += p.length;
  }
  return png;
}

/** A perceptual-ish colour map (black → blue → magenta → orange → yellow → white) for 0..1. */
function colour(t: number): [number, number, number] {
  const stops = [
    [0, 0, 0],
    [30, 20, 110],
    [150, 30, 140],
    [240, 90, 40],
    [255, 210, 60],
    [255, 255, 255],
  ];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  return [0, 1, 2].map((k) => Math.round(stops[i][k] + (stops[i + 1][k] - stops[i][k]) * f)) as [number, number, number];
}

/**
 * Spectrogram PNG of the mono mix: magnitude in dB (−100..0 dBFS) on a linear frequency axis. Memory is bounded:
 * column spectra are kept at a hop that doubles (merging pairs by maximum) whenever more than 2 × width columns
 * have accumulated, so any duration fits in about 2 × width × height bytes before the final resampling.
 */
export async function spectrogramPng(
  stream: AsyncIterable<AudioBlock>,
  format: StreamFormat,
  opts: { width: number; height: number; fftSize?: number },
): Promise<Uint8Array> {
  const { width, height } = opts;
  const size = opts.fftSize ?? 2048;
  if (!(width >= 16 && width <= 8192 && height >= 16 && height <= 4096)) {
    throw new InvalidParameterError('Spectrogram::InvalidSize', 'width must be 16–8192 and height 16–4096 pixels', { allowed: { width: [16, 8192], height: [16, 4096] } });
  }
  const fft = createRealFft(size);
  const windowed = new Float64Array(size);
  const win = hann(size);
  const frame = new Float64Array(size);
  const re = new Float64Array(size), im = new Float64Array(size);
  const bins = size / 2;
  let columns: Uint8Array[] = [];
  let hop = size;
  let merge = 1; // frames merged into one column
  let pending: Uint8Array | null = null;
  let pendingCount = 0;
  let pos = 0;
  const winSum = win.reduce((a, b) => a + b, 0);
  const column = () => {
    for (let i = 0; i < size; i++) windowed[i] = frame[i] * win[i];
    fft.forward(windowed, re, im);
    const col = new Uint8Array(height);
    for (let y = 0; y < height; y++) {
      const k0 = Math.floor((y * bins) / height);
      const k1 = Math.max(k0 + 1, Math.floor(((y + 1) * bins) / height));
      let m = 0;
      for (let k = k0; k < k1; k++) m = Math.max(m, Math.hypot(re[k], im[k]));
      const dbv = 20 * Math.log10((2 * m) / winSum + 1e-12);
      col[height - 1 - y] = Math.round(Math.max(0, Math.min(1, (dbv + 100) / 100)) * 255);
    }
    if (!pending) pending = col;
    else for (let y = 0; y < height; y++) pending[y] = Math.max(pending[y], col[y]);
    if (++pendingCount === merge) {
      columns.push(pending);
      pending = null;
      pendingCount = 0;
      if (columns.length > 2 * width) {
        const merged: Uint8Array[] = [];
        for (let i = 0; i + 1 < columns.length; i += 2) merged.push(columns[i].map((v, y) => Math.max(v, columns[i + 1][y])));
        if (columns.length % 2) pending = columns[columns.length - 1];
        pendingCount = columns.length % 2;
        columns = merged;
        merge *= 2;
        hop = size * merge;
      }
    }
  };
  for await (const block of stream) {
    const n = block[0]?.length ?? 0;
    const ch = block.length;
    for (let i = 0; i < n; i++) {
      let m = 0;
      for (let c = 0; c < ch; c++) m += block[c][i];
      frame[pos++] = m / ch;
      if (pos === size) {
        column();
        pos = 0;
      }
    }
  }
  void hop;
  if (pending) columns.push(pending);
  const rgb = new Uint8Array(width * height * 3);
  const cols = Math.max(1, columns.length);
  for (let x = 0; x < width; x++) {
    const col = columns[Math.min(cols - 1, Math.floor((x * cols) / width))];
    for (let y = 0; y < height; y++) {
      const [r, g, b] = colour(col ? col[y] / 255 : 0);
      const o = (y * width + x) * 3;
      rgb[o] = r;
      rgb[o + 1] = g;
      rgb[o + 2] = b;
    }
  }
  return encodePng(width, height, rgb);
}
