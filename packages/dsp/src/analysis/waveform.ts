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

/** audiowaveform's default zoom (samples per pixel). */
export const DEFAULT_SAMPLES_PER_PIXEL = 256;

/** A sample as 16-bit PCM: scaled, rounded, clamped. */
const toPcm16 = (x: number) => Math.max(-32768, Math.min(32767, Math.round(x * 32768)));

/**
 * Waveform peaks built block by block (so they can ride along another pass over the audio, as the analysis at
 * ingest). Values as audiowaveform computes them: each sample as 16-bit PCM (rounded, clamped), min and max per
 * pixel and channel, and for 8 bits the 16-bit value divided by 256 and truncated toward zero.
 */
export class PeaksBuilder {
  private readonly data: number[] = [];
  private readonly mins: Int32Array;
  private readonly maxs: Int32Array;
  private fill = 0;
  private readonly bits: 8 | 16;

  private spp: number;
  private readonly maxPixels: number;

  /**
   * With `maxPixels`, a long input does not grow the data past that: whenever it is reached the zoom doubles
   * (pairs of pixels merged, exactly, as their min and max), so an hour of audio is a few hundred kilobytes.
   */
  constructor(
    private readonly format: StreamFormat,
    opts: { samplesPerPixel?: number; bits?: 8 | 16; maxPixels?: number } = {},
  ) {
    const spp = opts.samplesPerPixel ?? DEFAULT_SAMPLES_PER_PIXEL;
    this.maxPixels = Math.max(2, 2 * Math.floor((opts.maxPixels ?? Infinity) / 2));
    if (!Number.isInteger(spp) || spp < 2 || spp > 1 << 24) {
      throw new InvalidParameterError('Waveform::InvalidZoom', 'samplesPerPixel must be a whole number from 2 to 16777216', { allowed: { min: 2, max: 1 << 24 } });
    }
    this.spp = spp;
    this.bits = opts.bits ?? 8;
    this.mins = new Int32Array(format.channels).fill(32767);
    this.maxs = new Int32Array(format.channels).fill(-32768);
  }

  push(block: AudioBlock): void {
    const n = block[0]?.length ?? 0;
    const ch = this.format.channels;
    let i = 0;
    while (i < n) {
      const take = Math.min(n - i, this.spp - this.fill);
      for (let c = 0; c < ch; c++) {
        // Rounding to 16-bit and clamping keep order, so the min and max of the 16-bit values are those of the
        // lowest and highest float (converted once, not per sample; a NaN is skipped either way).
        const x = block[c];
        let lo = Infinity, hi = -Infinity;
        const end = i + take;
        for (let k = i; k < end; k++) {
          const v = x[k];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        if (lo !== Infinity) this.mins[c] = Math.min(this.mins[c], toPcm16(lo));
        if (hi !== -Infinity) this.maxs[c] = Math.max(this.maxs[c], toPcm16(hi));
      }
      this.fill += take;
      i += take;
      if (this.fill === this.spp) this.emit();
    }
  }

  private emit(): void {
    const q = this.bits === 8 ? (v: number) => (v / 256) | 0 : (v: number) => v;
    for (let c = 0; c < this.format.channels; c++) {
      this.data.push(q(this.mins[c]), q(this.maxs[c]));
      this.mins[c] = 32767;
      this.maxs[c] = -32768;
    }
    this.fill = 0;
    if (this.data.length / (2 * this.format.channels) >= this.maxPixels) this.halve();
  }

  /** Double the zoom: each pair of pixels becomes one (an even count, so the next pixel starts on the new grid). */
  private halve(): void {
    const ch = this.format.channels;
    const d = this.data;
    const out: number[] = [];
    for (let p = 0; p < d.length; p += 4 * ch) {
      for (let c = 0; c < ch; c++) out.push(Math.min(d[p + 2 * c], d[p + 2 * ch + 2 * c]), Math.max(d[p + 2 * c + 1], d[p + 2 * ch + 2 * c + 1]));
    }
    d.length = 0;
    for (const v of out) d.push(v);
    this.spp *= 2;
  }

  finish(): WaveformData {
    if (this.fill > 0) this.emit();
    const ch = this.format.channels;
    return { version: 2, channels: ch, sample_rate: this.format.sampleRate, samples_per_pixel: this.spp, bits: this.bits, length: this.data.length / (2 * ch), data: this.data };
  }
}

export async function waveformPeaks(
  stream: AsyncIterable<AudioBlock>,
  format: StreamFormat,
  opts: { samplesPerPixel: number; bits?: 8 | 16 },
): Promise<WaveformData> {
  const peaks = new PeaksBuilder(format, opts);
  for await (const block of stream) peaks.push(block);
  return peaks.finish();
}

/**
 * audiowaveform's binary format (.dat, version 2): a little-endian header (version, flags — 1 for 8-bit —, sample
 * rate, samples per pixel, length, channels) then min/max pairs per pixel and channel as int8 or int16.
 */
export function waveformDat(w: WaveformData): Uint8Array {
  const width = w.bits === 8 ? 1 : 2;
  const out = new Uint8Array(24 + w.data.length * width);
  const v = new DataView(out.buffer);
  v.setInt32(0, 2, true);
  v.setUint32(4, w.bits === 8 ? 1 : 0, true);
  v.setInt32(8, w.sample_rate, true);
  v.setInt32(12, w.samples_per_pixel, true);
  v.setUint32(16, w.length, true);
  v.setInt32(20, w.channels, true);
  for (let i = 0; i < w.data.length; i++) {
    if (width === 1) v.setInt8(24 + i, w.data[i]);
    else v.setInt16(24 + 2 * i, w.data[i], true);
  }
  return out;
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
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', process.getBuiltinModule('node:zlib').deflateSync(raw)), chunk('IEND', new Uint8Array())];
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

/** A 3 × 5 pixel font for the axis labels: rows top to bottom, three bits each. */
const GLYPHS: Record<string, number[]> = {
  '0': [7, 5, 5, 5, 7], '1': [2, 6, 2, 2, 7], '2': [7, 1, 7, 4, 7], '3': [7, 1, 7, 1, 7], '4': [5, 5, 7, 1, 1],
  '5': [7, 4, 7, 1, 7], '6': [7, 4, 7, 5, 7], '7': [7, 1, 2, 2, 2], '8': [7, 5, 7, 5, 7], '9': [7, 5, 7, 1, 7],
  '.': [0, 0, 0, 0, 2], '-': [0, 0, 7, 0, 0], k: [4, 5, 6, 5, 5], s: [0, 7, 6, 1, 7], m: [0, 7, 7, 5, 5],
  d: [1, 1, 7, 5, 7], B: [6, 5, 6, 5, 6], H: [5, 5, 7, 5, 5], z: [0, 7, 1, 4, 7],
};
/** Text is drawn at twice the font's size: 8 px per character (6 + 2 of space), 10 px high. */
const SCALE = 2;
const CHAR_W = 4 * SCALE;
const TEXT_H = 5 * SCALE;
const INK: [number, number, number] = [220, 220, 228];
const PAPER: [number, number, number] = [16, 16, 24];
/** Margins around the plot: frequency labels left, time labels below, the dB scale right. */
export const SPECTROGRAM_MARGINS = { left: 6 * CHAR_W, top: 8, right: 8 + 10 + 4 + 4 * CHAR_W + 4, bottom: TEXT_H + 8 } as const;

/** The first value of 1, 2, 5 × 10^k at or above `x`. */
function niceStep(x: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}
const hz = (f: number) => (f === 0 ? '0' : f >= 1000 ? `${+(f / 1000).toFixed(2)}k` : `${Math.round(f)}`);
const seconds = (t: number, step: number) => (step >= 60 ? `${+(t / 60).toFixed(1)}m` : `${+t.toFixed(step < 1 ? 1 : 0)}s`);

class Canvas {
  readonly rgb: Uint8Array;
  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < width * height; i++) this.rgb.set(PAPER, i * 3);
  }
  set(x: number, y: number, c: readonly number[]): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    this.rgb.set(c, (y * this.width + x) * 3);
  }
  /** Text with its top-left corner at (x, y); characters without a glyph are left out. */
  text(x: number, y: number, s: string): void {
    for (const [i, ch] of [...s].entries()) {
      const rows = GLYPHS[ch];
      if (!rows) continue;
      for (let r = 0; r < 5; r++) for (let c = 0; c < 3; c++) if (rows[r] & (4 >> c)) for (let d = 0; d < SCALE * SCALE; d++) this.set(x + i * CHAR_W + c * SCALE + (d % SCALE), y + r * SCALE + Math.floor(d / SCALE), INK);
    }
  }
}

/**
 * Spectrogram PNG of the mono mix: magnitude in dB (−100..0 dBFS) on a linear frequency axis, built block by block,
 * with a frequency axis (left, Hz/kHz), a time axis (below, s or min) and the dB colour scale (right). Memory is
 * bounded: column spectra are kept at a hop that doubles (merging pairs by maximum) whenever more than 2 × width
 * columns have accumulated, so any duration fits in about 2 × width × height bytes before the final resampling.
 * `width` × `height` is the plot; the picture adds SPECTROGRAM_MARGINS around it.
 */
export class SpectrogramBuilder {
  private readonly fft;
  private readonly size: number;
  private readonly win: Float64Array;
  private readonly winSum: number;
  private readonly windowed: Float64Array;
  private readonly frame: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private columns: Uint8Array[] = [];
  private merge = 1; // frames merged into one column
  private pending: Uint8Array | null = null;
  private pendingCount = 0;
  private pos = 0;
  private frames = 0;
  private readonly width: number;
  private readonly height: number;
  private readonly sampleRate: number;

  private readonly fitWidth: boolean;

  /** With `fitWidth`, a short input is drawn one column per spectrum (never wider than `width`, at least 16). */
  constructor(opts: { width: number; height: number; sampleRate: number; fftSize?: number; fitWidth?: boolean }) {
    const { width, height } = opts;
    if (!(width >= 16 && width <= 8192 && height >= 16 && height <= 4096)) {
      throw new InvalidParameterError('Spectrogram::InvalidSize', 'width must be 16–8192 and height 16–4096 pixels', { allowed: { width: [16, 8192], height: [16, 4096] } });
    }
    this.width = width;
    this.height = height;
    this.sampleRate = opts.sampleRate;
    this.fitWidth = opts.fitWidth ?? false;
    this.size = opts.fftSize ?? 2048;
    this.fft = createRealFft(this.size);
    this.win = hann(this.size);
    this.winSum = this.win.reduce((a, b) => a + b, 0);
    this.windowed = new Float64Array(this.size);
    this.frame = new Float64Array(this.size);
    this.re = new Float64Array(this.size);
    this.im = new Float64Array(this.size);
  }

  push(block: AudioBlock): void {
    const n = block[0]?.length ?? 0;
    const ch = block.length;
    const { frame, size } = this;
    this.frames += n;
    let pos = this.pos;
    let i = 0;
    while (i < n) {
      // The mono mix, a frame at a time (the sum in channel order, over the channel count).
      const take = Math.min(n - i, size - pos);
      if (ch === 1) frame.set(block[0].subarray(i, i + take), pos);
      else if (ch === 2) {
        const l = block[0], r = block[1];
        for (let k = 0; k < take; k++) frame[pos + k] = (l[i + k] + r[i + k]) / 2;
      } else {
        for (let k = 0; k < take; k++) {
          let m = 0;
          for (let c = 0; c < ch; c++) m += block[c][i + k];
          frame[pos + k] = m / ch;
        }
      }
      pos += take;
      i += take;
      if (pos === size) {
        this.column();
        pos = 0;
      }
    }
    this.pos = pos;
  }

  private column(): void {
    const { size, height, re, im } = this;
    const bins = size / 2;
    for (let i = 0; i < size; i++) this.windowed[i] = this.frame[i] * this.win[i];
    this.fft.forward(this.windowed, re, im);
    const col = new Uint8Array(height);
    for (let y = 0; y < height; y++) {
      const k0 = Math.floor((y * bins) / height);
      const k1 = Math.max(k0 + 1, Math.floor(((y + 1) * bins) / height));
      let p = 0; // the row's largest power; one square root per row
      for (let k = k0; k < k1; k++) {
        const q = re[k] * re[k] + im[k] * im[k];
        if (q > p) p = q;
      }
      const dbv = 20 * Math.log10((2 * Math.sqrt(p)) / this.winSum + 1e-12);
      col[height - 1 - y] = Math.round(Math.max(0, Math.min(1, (dbv + 100) / 100)) * 255);
    }
    if (!this.pending) this.pending = col;
    else for (let y = 0; y < height; y++) this.pending[y] = Math.max(this.pending[y], col[y]);
    if (++this.pendingCount === this.merge) {
      this.columns.push(this.pending);
      this.pending = null;
      this.pendingCount = 0;
      if (this.columns.length > 2 * this.width) {
        const cs = this.columns;
        const merged: Uint8Array[] = [];
        for (let i = 0; i + 1 < cs.length; i += 2) merged.push(cs[i].map((v, y) => Math.max(v, cs[i + 1][y])));
        if (cs.length % 2) this.pending = cs[cs.length - 1];
        this.pendingCount = cs.length % 2;
        this.columns = merged;
        this.merge *= 2;
      }
    }
  }

  finish(): Uint8Array {
    const { height, sampleRate } = this;
    const columns = this.pending ? [...this.columns, this.pending] : this.columns;
    const width = this.fitWidth ? Math.max(16, Math.min(this.width, columns.length)) : this.width;
    const M = SPECTROGRAM_MARGINS;
    const canvas = new Canvas(M.left + width + M.right, M.top + height + M.bottom);
    const cols = Math.max(1, columns.length);
    for (let x = 0; x < width; x++) {
      const col = columns[Math.min(cols - 1, Math.floor((x * cols) / width))];
      for (let y = 0; y < height; y++) canvas.set(M.left + x, M.top + y, colour(col ? col[y] / 255 : 0));
    }
    const bottom = M.top + height; // the first row below the plot
    // Frequency: row y shows bins from (height − 1 − y) / height of Nyquist; a tick every nice step, ≥ 20 px apart.
    const nyquist = sampleRate / 2;
    const fStep = niceStep((nyquist * 20) / height);
    for (let f = 0; f <= nyquist; f += fStep) {
      const y = bottom - 1 - Math.round((f / nyquist) * (height - 1));
      for (let k = 1; k <= 4; k++) canvas.set(M.left - k, y, INK);
      const label = hz(f);
      canvas.text(M.left - 6 - label.length * CHAR_W, Math.min(bottom - TEXT_H, Math.max(M.top, y - TEXT_H / 2)), label);
    }
    // Time: the plot spans the whole input; a tick every nice step, ≥ 56 px apart.
    const duration = this.frames / sampleRate;
    if (duration > 0) {
      const tStep = niceStep((duration * 56) / width);
      for (let t = 0; t <= duration + 1e-9; t += tStep) {
        const x = M.left + Math.round((t / duration) * (width - 1));
        for (let k = 0; k < 4; k++) canvas.set(x, bottom + k, INK);
        const label = seconds(t, tStep);
        canvas.text(Math.min(M.left + width - label.length * CHAR_W, Math.max(M.left, x - (label.length * CHAR_W) / 2)), bottom + 6, label);
      }
    }
    // The colour scale: 0 dBFS at the top, −100 at the bottom.
    const barX = M.left + width + 8;
    for (let y = 0; y < height; y++) {
      const c = colour(1 - y / Math.max(1, height - 1));
      for (let k = 0; k < 10; k++) canvas.set(barX + k, M.top + y, c);
    }
    canvas.text(barX + 14, M.top, '0');
    canvas.text(barX + 14, Math.max(M.top + TEXT_H + 2, bottom - TEXT_H), '-100');
    canvas.text(barX + 14, M.top + Math.round(height / 2 - TEXT_H / 2), 'dB');
    return encodePng(canvas.width, canvas.height, canvas.rgb);
  }
}

export async function spectrogramPng(
  stream: AsyncIterable<AudioBlock>,
  format: StreamFormat,
  opts: { width: number; height: number; fftSize?: number },
): Promise<Uint8Array> {
  const spectrogram = new SpectrogramBuilder({ ...opts, sampleRate: format.sampleRate });
  for await (const block of stream) spectrogram.push(block);
  return spectrogram.finish();
}

/** Receives every block of a pass over the audio (synchronously, before the block may be reused). */
export interface BlockSink {
  push(block: AudioBlock): void;
}

/** Hand each block to `sink` on its way through. */
export async function* tap(stream: AsyncIterable<AudioBlock>, sink: BlockSink): AsyncIterable<AudioBlock> {
  for await (const block of stream) {
    sink.push(block);
    yield block;
  }
}

/** What a file or output is shown with: waveform peaks (audiowaveform v2, 8-bit) and a spectrogram. */
export const VISUAL_SETTINGS = {
  samplesPerPixel: DEFAULT_SAMPLES_PER_PIXEL,
  bits: 8,
  /** The peaks of a long input are coarsened past this many pixels (zoom doubled), about 400 kB as .dat in stereo. */
  maxPixels: 100_000,
  /** A plot of at most 1024 columns (one per 2048-sample spectrum for a short input) and 256 rows, plus its axes. */
  spectrogram: { width: 1024, height: 256, fitWidth: true },
} as const;

export interface Visuals {
  readonly waveform: WaveformData;
  readonly spectrogram: Uint8Array;
}

/** Peaks and spectrogram in one pass (a sink for the pass that decodes anyway: the analysis, an encode). */
export class VisualsBuilder implements BlockSink {
  private readonly peaks: PeaksBuilder;
  private readonly spectrogram: SpectrogramBuilder;

  constructor(format: StreamFormat) {
    this.peaks = new PeaksBuilder(format, VISUAL_SETTINGS);
    this.spectrogram = new SpectrogramBuilder({ ...VISUAL_SETTINGS.spectrogram, sampleRate: format.sampleRate });
  }

  push(block: AudioBlock): void {
    this.peaks.push(block);
    this.spectrogram.push(block);
  }

  finish(): Visuals {
    return { waveform: this.peaks.finish(), spectrogram: this.spectrogram.finish() };
  }
}
