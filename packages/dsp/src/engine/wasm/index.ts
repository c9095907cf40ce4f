import { DB_TO_LOG2, LN_FAST_CONSTANTS } from '../util.ts';
import { KERNELS_WASM_BASE64 } from './kernels-binary.ts';

/**
 * The WebAssembly SIMD kernels (kernels.wat) behind plain functions on typed arrays. Each copies its input into the
 * module's fixed scratch memory a chunk at a time, runs the kernel and copies the result out; copies are memcpy
 * and cost a fraction of the scalar loops they replace (10-minute stereo 16-bit → float: ~9 ms against ~60–100 ms).
 *
 * Every function does a multiple of 4 frames and returns how many it did: the caller's JavaScript loop does the
 * rest, and all of it when the kernels are off (`DAVID_SIMD=0`, or no WebAssembly SIMD). The results are the
 * JavaScript loops' results, bit for bit (test/wasm-kernels.test.ts).
 */
interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer };
  s16x2_to_f32(src: number, l: number, r: number, frames: number): void;
  f32_to_s16x2(l: number, r: number, dst: number, frames: number): void;
  s16_to_f32(src: number, dst: number, n: number): void;
  f32_to_s16(src: number, dst: number, n: number): void;
  f32x2_split(src: number, l: number, r: number, frames: number): void;
  f32x2_join(l: number, r: number, dst: number, frames: number): void;
  scale(p: number, n: number, g: number): void;
  chunk_abs_max32(src: number, dst: number, chunks: number): void;
  channel_stats(src: number, n: number, clip: number, out: number): void;
  true_peak_range(x: number, n: number, tp: number, tab: number, coarse: number, refine: number, margin: number): number;
  frac_ola(x: number, w: number, acc: number, h: number, n: number): void;
  wsola_search(m: number, t0: number, lo: number, hi: number, H: number, scratch: number, out: number): void;
  mix2(l: number, r: number, n: number, mono: number, energy: number, sign: number): number;
  kfilter2(l: number, r: number, n: number, c: number, st: number, out: number): void;
  biquad3(l: number, r: number, n: number, sections: number, c: number, st: number): void;
  gate(x0: number, x1: number, two: number, n: number, p: number, st: number): void;
  compressor(x0: number, x1: number, two: number, n: number, p: number, st: number, gains: number, scratch: number): number;
  echo(line: number, x: number, n: number, fb: number, dry: number, wet: number): void;
  mod_delay(x: number, n: number, line: number, size: number, voices: number, par: number, st: number, sin: number, sinSize: number, l: number): void;
  resample_fine(x0: number, x1: number, two: number, tab: number, taps: number, phases: number, step: number, m: number, count: number, origin: number, out0: number, out1: number): void;
}

/** Frames per chunk; the scratch layout below holds one chunk of interleaved f32 stereo in and out. */
const CHUNK = 16_384;
const IN = 64; // up to CHUNK × 2 channels × 4 bytes (no region starts at address 0)
const L = IN + CHUNK * 8;
const R = L + CHUNK * 4;
const OUT = R + CHUNK * 4; // up to CHUNK × 8 bytes; ends 64 bytes past 384 KiB
const TAB = OUT + CHUNK * 8; // true peak's phases: up to 16 of 32 f64
const TPX = TAB + 16 * 256; // true peak's samples for one range
const TP_END = 8 * 65_536; // true peak's samples end here
// The resampler's: its phase table (up to 3.5 MiB), two channels' input frames, two channels' outputs.
const RS_TAB = TP_END;
const RS_X = 4 << 20;
const RS_X_FRAMES = 65_536; // per channel
const RS_OUT = RS_X + 2 * RS_X_FRAMES * 4;
const RS_OUT_MAX = 4096; // per channel
// The LFOs' sine table (engine/util.ts, up to 64 KiB).
const SIN = RS_OUT + 2 * RS_OUT_MAX * 4;
// The compressor's three arrays of CHUNK f64 (levels, reductions, mean squares).
const CMP = SIN + 65_536;
// Arrays that live in the module's memory (`kernelFloats`): from 5 MiB, past CMP + 384 KiB, to the memory's end
// (kernels.wat: 208 pages, 13 MiB).
const ARENA = 5 << 20;
const ARENA_END = 13 << 20;

/** The sine table now in the module's memory. */
let sinFor: Float64Array | null = null;

/** The resampler's table now in the module's memory. */
let rsTableFor: Float32Array | null = null;

/** Node's WebAssembly global (the project's TypeScript libs declare only its types). */
const wasm = (globalThis as unknown as { WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (mod: object) => { exports: object } } }).WebAssembly;

/** The instance's exports and views of its memory, made once (the memory never grows, so they stay valid). */
interface Heap {
  readonly k: Exports;
  readonly u8: Uint8Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly i32: Int32Array;
}

let kernels: Heap | null | undefined;
/** True peak's phase tables now in the module's memory (loaded again when other arrays are passed). */
let tablesFor: readonly (readonly Float64Array[])[] = [];

function load(): Heap | null {
  if (process.env.DAVID_SIMD === '0') return null;
  try {
    const k = new wasm.Instance(new wasm.Module(Buffer.from(KERNELS_WASM_BASE64, 'base64'))).exports as Exports;
    const b = k.memory.buffer;
    return { k, u8: new Uint8Array(b), f32: new Float32Array(b), f64: new Float64Array(b), i32: new Int32Array(b) };
  } catch {
    return null; // no WebAssembly SIMD here: the JavaScript loops do everything
  }
}

/** The kernels, or null when they are off. */
function heap(): Heap | null {
  if (kernels === undefined) kernels = load();
  return kernels;
}

/** Turn the kernels off or on again (tests compare both paths). A new instance has empty memory: tables reload. */
export function useSimd(on: boolean): void {
  kernels = on ? load() : null;
  tablesFor = [];
  rsTableFor = null;
  sinFor = null;
  arena = [];
}

/** The arena's allocations, [start, end) in bytes, in address order. */
let arena: [number, number][] = [];

/** Frees the space of an arena array its holder dropped without handing it back (a stream abandoned midway). */
const dropped = new FinalizationRegistry<{ memory: ArrayBufferLike; start: number }>(({ memory, start }) => free(memory, start));

function free(memory: ArrayBufferLike, start: number): void {
  if (memory !== kernels?.u8.buffer) return; // memory renewed since (`useSimd`): nothing to free
  const i = arena.findIndex(([s]) => s === start);
  if (i >= 0) arena.splice(i, 1);
}

/** `bytes` (a multiple of 64) of the arena, first fit: the start address, or −1 when there is no room. */
function allocate(bytes: number): number {
  let at = ARENA;
  let i = 0;
  for (; i < arena.length && arena[i][0] - at < bytes; i++) at = arena[i][1];
  if (at + bytes > ARENA_END) return -1;
  arena.splice(i, 0, [at, at + bytes]);
  return at;
}

/**
 * An arena array of `count` elements of `Type`, or null when the kernels are off or there is no room. Zeroed when
 * asked: the first touch of memory costs a page fault per 4 KiB (about 3.5 ms a MiB here), which a buffer that is
 * only read into leaves to the read.
 */
function arenaArray<T extends Float32Array | Uint8Array>(Type: { BYTES_PER_ELEMENT: number; new (buffer: ArrayBuffer, offset: number, length: number): T }, count: number, zeroed: boolean): T | null {
  const h = heap();
  if (!h || count <= 0) return null;
  const at = allocate((count * Type.BYTES_PER_ELEMENT + 63) & ~63); // whole cache lines
  if (at < 0) return null;
  const x = new Type(h.u8.buffer as ArrayBuffer, at, count);
  if (zeroed) x.fill(0);
  dropped.register(x, { memory: h.u8.buffer, start: at }, x);
  return x;
}

/**
 * `count` floats (zeroed unless asked not to) living in the kernels' memory, or null when the kernels are off or the
 * arena is full. The kernels work on such an array where it is, with no copy in or out: blocks that go from the
 * decoder through the effects to the encoder in this memory cross between JavaScript and the kernels not at all.
 * Hand it back with `releaseKernelMemory` when done; one dropped without that gets its space back when it is garbage
 * collected, so keep the array itself for as long as any subarray of it is in use.
 */
export const kernelFloats = (count: number, zeroed = true): Float32Array | null => arenaArray(Float32Array, count, zeroed);

/**
 * `count` bytes in the kernels' memory, as `kernelFloats` but not zeroed (what was there before): file reads and
 * writes go straight into and out of it.
 */
export const kernelBytes = (count: number): Uint8Array | null => arenaArray(Uint8Array, count, false);

/** Hands back an array from `kernelFloats` or `kernelBytes` (anything else, or one already handed back, is ignored). */
export function releaseKernelMemory(x: Float32Array | Uint8Array): void {
  if (dropped.unregister(x)) free(x.buffer, x.byteOffset);
}

/**
 * Bytes the kernels' wrappers copied between JavaScript's arrays of samples and the kernels' memory since the process
 * started: none for arrays that live there (`kernelFloats`, `kernelBytes`). For tests and measurements. (Tables,
 * constants and state are not counted; the compressor, true peak, the resampler and WSOLA still copy their samples.)
 */
let crossed = 0;
export const bytesCopiedToKernels = (): number => crossed;

/** dst.set(src, at), returning the bytes copied. */
function copy<T extends Float32Array | Uint8Array>(dst: T, at: number, src: T): number {
  dst.set(src as never, at);
  return src.byteLength;
}

/** The byte address of `x` in the kernels' memory, or −1 when it lives elsewhere (the kernels then copy it). */
const addressOf = (h: Heap, x: Float32Array | Uint8Array): number => (x.buffer === h.u8.buffer ? x.byteOffset : -1);

export function simdEnabled(): boolean {
  return heap() !== null;
}

const down4 = (n: number) => n & ~3;

/**
 * Runs `piece` over [0, down4(count)) in pieces of at most `room` (whole multiples of 4); returns how many were
 * done, 0 when the kernels are off.
 */
function inPieces(count: number, room: number, piece: (h: Heap, at: number, n: number) => void): number {
  const h = heap();
  if (!h) return 0;
  const todo = down4(count);
  for (let at = 0; at < todo; at += room) piece(h, at, Math.min(room, todo - at));
  return todo;
}

/**
 * Where the kernel reads or writes from element `at` of `x`: in place when `x` lives in the kernels' memory, else
 * the scratch region `scratch` (the caller copies).
 */
const place = (h: Heap, x: Float32Array | Uint8Array, at: number, scratch: number): number => {
  const a = addressOf(h, x);
  return a >= 0 ? a + at * x.BYTES_PER_ELEMENT : scratch;
};

/** x[at, at + n) for a kernel to read: its own address when it lives in the kernels' memory, else copied to `scratch`. */
function input(h: Heap, x: Float32Array | Uint8Array, at: number, n: number, scratch: number): number {
  const a = place(h, x, at, scratch);
  if (a === scratch) crossed += copy(x instanceof Float32Array ? h.f32 : h.u8, scratch / x.BYTES_PER_ELEMENT, x.subarray(at, at + n));
  return a;
}

/** After a kernel wrote x[at, at + n) at `a` (from `place` or `input`): copied back when `a` is the scratch region. */
function output(h: Heap, x: Float32Array | Uint8Array, at: number, n: number, scratch: number, a: number): void {
  if (a === scratch) crossed += copy(x, at, (x instanceof Float32Array ? h.f32 : h.u8).subarray(scratch / x.BYTES_PER_ELEMENT, scratch / x.BYTES_PER_ELEMENT + n));
}

/** Interleaved stereo bytes (`bytesPerFrame` each) → planar f32, by `kernel`. */
const stereoToPlanar =
  (kernel: 's16x2_to_f32' | 'f32x2_split', bytesPerFrame: number) =>
  (src: Uint8Array, l: Float32Array, r: Float32Array, frames: number): number =>
    inPieces(frames, CHUNK, (h, at, n) => {
      const pl = place(h, l, at, L), pr = place(h, r, at, R);
      h.k[kernel](input(h, src, at * bytesPerFrame, n * bytesPerFrame, IN), pl, pr, n);
      output(h, l, at, n, L, pl);
      output(h, r, at, n, R, pr);
    });

/** Planar f32 → interleaved stereo bytes (`bytesPerFrame` each), by `kernel`. */
const planarToStereo =
  (kernel: 'f32_to_s16x2' | 'f32x2_join', bytesPerFrame: number) =>
  (l: Float32Array, r: Float32Array, dst: Uint8Array, frames: number): number =>
    inPieces(frames, CHUNK, (h, at, n) => {
      const pd = place(h, dst, at * bytesPerFrame, OUT);
      h.k[kernel](input(h, l, at, n, L), input(h, r, at, n, R), pd, n);
      output(h, dst, at * bytesPerFrame, n * bytesPerFrame, OUT, pd);
    });

/** Interleaved 16-bit stereo bytes → planar f32. */
export const s16StereoToPlanar = stereoToPlanar('s16x2_to_f32', 4);
/** Planar f32 → interleaved 16-bit stereo bytes (round half up, saturate, NaN → 0). */
export const planarToS16Stereo = planarToStereo('f32_to_s16x2', 4);
/** Interleaved f32 stereo bytes → planar f32. */
export const f32StereoSplit = stereoToPlanar('f32x2_split', 8);
/** Planar f32 → interleaved f32 stereo bytes. */
export const f32StereoJoin = planarToStereo('f32x2_join', 8);

/** 16-bit mono bytes → f32. */
export function s16MonoToF32(src: Uint8Array, dst: Float32Array, samples: number): number {
  return inPieces(samples, CHUNK, (h, at, n) => {
    const p = place(h, dst, at, L);
    h.k.s16_to_f32(input(h, src, at * 2, n * 2, IN), p, n);
    output(h, dst, at, n, L, p);
  });
}

/** f32 → 16-bit mono bytes (round half up, saturate, NaN → 0). */
export function f32ToS16Mono(src: Float32Array, dst: Uint8Array, samples: number): number {
  return inPieces(samples, CHUNK, (h, at, n) => {
    const pd = place(h, dst, at * 2, OUT);
    h.k.f32_to_s16(input(h, src, at, n, L), pd, n);
    output(h, dst, at * 2, n * 2, OUT, pd);
  });
}

/** x[i] *= g for every sample (in f64, rounded to f32, as the JavaScript statement does). */
export function scaleInPlace(x: Float32Array, g: number): number {
  // Two chunks' worth of floats fit between IN and OUT's end.
  return inPieces(x.length, CHUNK * 2, (h, at, n) => {
    const p = input(h, x, at, n, IN);
    h.k.scale(p, n, g);
    output(h, x, at, n, IN, p);
  });
}

/**
 * Per chunk of 32 samples of the sequence `head` then `x`, the largest |sample| (NaN for a chunk holding a NaN, as
 * Math.max gives), into `out` from index 0. Does the whole chunks and returns how many; the caller does the last,
 * partial one. `head` is short (a filter's history).
 */
export function chunkAbsMax32(head: Float64Array, x: Float32Array, out: Float64Array): number {
  const h = heap();
  if (!h) return 0;
  const { k, f32 } = h;
  const total = head.length + x.length;
  const chunks = Math.floor(total / 32);
  const piece = (CHUNK * 2) / 32; // chunks per piece: 32k samples in, 1k maxima out (at OUT)
  for (let c0 = 0; c0 < chunks; c0 += piece) {
    const c1 = Math.min(chunks, c0 + piece);
    const s0 = c0 * 32, s1 = c1 * 32;
    let at = IN / 4;
    for (let s = s0; s < Math.min(s1, head.length); s++) f32[at++] = head[s];
    const from = Math.max(0, s0 - head.length);
    f32.set(x.subarray(from, s1 - head.length), at);
    k.chunk_abs_max32(IN, OUT, c1 - c0);
    out.set(f32.subarray(OUT / 4, OUT / 4 + (c1 - c0)), c0);
  }
  return chunks;
}

/** What `channelStats` found: sums over even and odd samples, of the samples and of their squares, and clips. */
export interface ChannelStats {
  sEven: number;
  sOdd: number;
  qEven: number;
  qOdd: number;
  clips: number;
  /** Samples done (a multiple of 4); the caller goes on from here with the same accumulators. */
  done: number;
}

/**
 * Sums of x and x² over even and odd samples in separate accumulators (f64, in order, as two JavaScript
 * accumulators give) and the count of |x| ≥ clip, over the first multiple of 4 samples; into `into`.
 */
export function channelStats(x: Float32Array, clip: number, into: ChannelStats): ChannelStats {
  into.sEven = into.sOdd = into.qEven = into.qOdd = into.clips = 0;
  const acc = OUT / 8;
  let f64: Float64Array | undefined;
  into.done = inPieces(x.length, CHUNK * 2, (h, at, n) => {
    if (!f64) (f64 = h.f64).fill(0, acc, acc + 4); // carried from piece to piece
    h.k.channel_stats(input(h, x, at, n, IN), n, clip, OUT);
    into.clips += Number(new BigInt64Array(h.k.memory.buffer, OUT + 32, 1)[0]);
  });
  if (f64) [into.sEven, into.sOdd, into.qEven, into.qOdd] = f64.subarray(acc, acc + 4);
  return into;
}

/**
 * True peak over positions [start, end) of `work` (engine/true-peak.ts's peakBetween for each, the running maximum
 * carried from `tp`), with its 32-tap phases `coarse` then `refine`. Returns the new running maximum, or undefined
 * when the kernels are off or the range does not fit (the caller's JavaScript loop does it then).
 */
export function truePeakRange(work: Float64Array, start: number, end: number, tp: number, coarse: readonly Float64Array[], refine: readonly Float64Array[], margin: number): number | undefined {
  const h = heap();
  const len = end - start + 31;
  if (!h || TPX + len * 8 > TP_END) return undefined;
  const { k, f64 } = h;
  if (tablesFor[0] !== coarse || tablesFor[1] !== refine) {
    const phases = [...coarse, ...refine];
    if (phases.length > 16 || phases.some((w) => w.length !== 32)) return undefined;
    phases.forEach((w, p) => f64.set(w, TAB / 8 + p * 32));
    tablesFor = [coarse, refine];
  }
  f64.set(work.subarray(start, start + len), TPX / 8);
  return k.true_peak_range(TPX, end - start, tp, TAB, coarse.length, refine.length, margin);
}

/**
 * WSOLA's overlap-add of one frame read between samples (engine/wsola.ts), in f32: for i in [0, n),
 * acc[i] += (Σ_{j<8} h[j]·x[from + i + j] + Σ_{j≥8} h[j]·x[from + i + j]) · w[i], each sum in tap order (its
 * JavaScript's arithmetic). n = w.length; x must hold from + n + 15 samples. Does a multiple of 4 outputs and
 * returns how many.
 */
export function fracOverlapAdd(x: Float32Array, from: number, w: Float32Array, acc: Float32Array, h: Float32Array): number {
  return inPieces(w.length, CHUNK, ({ k, f32 }, at, n) => {
    f32.set(x.subarray(from + at, from + at + n + 15), IN / 4);
    f32.set(w.subarray(at, at + n), L / 4);
    f32.set(acc.subarray(at, at + n), OUT / 4);
    f32.set(h.subarray(0, 16), R / 4);
    k.frac_ola(IN, L, OUT, R, n);
    acc.set(f32.subarray(OUT / 4, OUT / 4 + n), at);
  });
}

/** The resampler's arbitrary-ratio path, as engine/resampler.ts sets it up. */
export interface FineResampling {
  /** Per channel, the buffered input; frame i of the stream is at index i − bufStart. */
  readonly buf: readonly Float32Array[];
  readonly bufStart: number;
  /** Taps reach K frames either side of floor(t); taps = 2K + 1. */
  readonly K: number;
  readonly taps: number;
  /** (phases + 1) rows of the taps' weights, each padded with zeros to a multiple of 4. */
  readonly table: Float32Array;
  readonly phases: number;
  readonly step: number;
}

/**
 * Outputs m … m + count − 1 of the resampler's arbitrary-ratio path into `out` (per channel, from index 0): the
 * weights interpolated between the two nearest phases and four partial sums, all in f32, as its JavaScript does.
 * Returns false when the kernels are off or the table does not fit (the JavaScript runs then).
 */
export function resampleFine(r: FineResampling, m: number, count: number, out: readonly Float32Array[]): boolean {
  const h = heap();
  if (!h || RS_TAB + r.table.length * 4 > RS_X || r.taps + 12 > RS_X_FRAMES) return false;
  const { k, f32 } = h;
  if (rsTableFor !== r.table) {
    f32.set(r.table, RS_TAB / 4);
    rsTableFor = r.table;
  }
  // Outputs per piece: their input frames fit the region.
  const piece = Math.max(1, Math.min(RS_OUT_MAX, Math.floor((RS_X_FRAMES - r.taps - 5) / Math.max(1, r.step))));
  for (let done = 0; done < count; done += piece) {
    const n = Math.min(piece, count - done);
    const first = Math.floor((m + done) * r.step) - r.K - r.bufStart; // the first output's first frame in buf
    const last = Math.floor((m + done + n - 1) * r.step) - r.K - r.bufStart + r.taps + 3; // past the last output's padded group
    for (let c = 0; c < r.buf.length; c += 2) {
      const two = c + 1 < r.buf.length;
      f32.set(r.buf[c].subarray(first, last), RS_X / 4);
      if (two) f32.set(r.buf[c + 1].subarray(first, last), RS_X / 4 + RS_X_FRAMES);
      k.resample_fine(RS_X, RS_X + RS_X_FRAMES * 4, two ? 1 : 0, RS_TAB, r.taps, r.phases, r.step, m + done, n, r.K + r.bufStart + first, RS_OUT, RS_OUT + RS_OUT_MAX * 4);
      out[c].set(f32.subarray(RS_OUT / 4, RS_OUT / 4 + n), done);
      if (two) out[c + 1].set(f32.subarray(RS_OUT / 4 + RS_OUT_MAX, RS_OUT / 4 + RS_OUT_MAX + n), done);
    }
  }
  return true;
}

/**
 * WSOLA's search for one frame (engine/wsola.ts, Wsola.search, every step its JavaScript's arithmetic) on `mono`
 * from index `base` (`length` samples hold every position it reads): template at `t0`, candidates `lo`…`hi`, frames
 * of `H`, positions relative to `base`. Into `out`: the winner (relative), then s(b−1), s(b), s(b+1), e(b−1), e(b),
 * e(b+1) (each sum in i order, f64). Returns false when the kernels are off or the region does not fit.
 */
export function wsolaSearch(mono: Float32Array, base: number, length: number, t0: number, lo: number, hi: number, H: number, out: Float64Array): boolean {
  const h = heap();
  // The region in IN (CHUNK × 2 samples); the box and coarse sums (fewer than 3 × length / 8 + 16) in OUT.
  if (!h || length > CHUNK * 2 || (3 * length) / 8 + 16 > CHUNK) return false;
  h.f32.set(mono.subarray(base, base + length), IN / 4);
  h.k.wsola_search(IN, t0, lo, hi, H, OUT, R);
  out.set(h.f64.subarray(R / 8, R / 8 + 7));
  return true;
}

/** A modulated delay line's constants (effects/time/modulated.ts). */
export interface ModDelay {
  /** The delay's whole frames and the fraction of the base delay (a single-precision value). */
  readonly whole: number;
  readonly frac: number;
  /** The LFO's depth in frames and its phase step per grid cell of 16 frames. */
  readonly depth: number;
  readonly cellStep: number;
  /** Single-precision values. */
  readonly dry: number;
  readonly wet: number;
  readonly feedback: number;
  readonly channelOffset: number;
  readonly voiceOffset: Float64Array;
  /** The LFO's sine table (engine/util.ts SINE: size + 2 entries) and its size. */
  readonly sine: Float64Array;
  readonly sineSize: number;
}

/** Where a channel's pass leaves the LFO and the line: the phase at the grid cell's start, write position and frames into the cell. */
export interface ModDelayState {
  phase: number;
  pos: number;
  cell: number;
}

/**
 * One channel of the modulated delay line over `x` (in place), its mirrored `line` (2 × size) read and written, the
 * state advanced in `st`: every step the JavaScript loop's arithmetic. Returns false when the kernels are off or
 * the line or tables do not fit (the JavaScript runs then).
 */
export function modDelay(x: Float32Array, line: Float32Array, p: ModDelay, st: ModDelayState): boolean {
  const h = heap();
  const voices = p.voiceOffset.length;
  if (!h || line.length * 4 > CHUNK * 8 || p.sine.length * 8 > 65_536 || voices > 8) return false;
  const { k, f32, f64, i32 } = h;
  if (sinFor !== p.sine) {
    f64.set(p.sine, SIN / 8);
    sinFor = p.sine;
  }
  // Constants, then voices' offsets (R); state after them; LFO scratch after that.
  const par = R, st0 = R + 256, l = R + 512;
  f64.set([p.depth, p.cellStep, p.channelOffset], par / 8);
  f32.set([p.frac, p.dry, p.wet, p.feedback], par / 4 + 6);
  i32[par / 4 + 10] = p.whole;
  f64.set(p.voiceOffset, par / 8 + 6);
  f32.set(line, OUT / 4);
  const size = line.length / 2;
  f64[st0 / 8] = st.phase;
  i32[st0 / 4 + 2] = st.pos;
  i32[st0 / 4 + 3] = st.cell;
  for (let at = 0; at < x.length; at += CHUNK * 2) {
    const n = Math.min(CHUNK * 2, x.length - at);
    const px = input(h, x, at, n, IN);
    k.mod_delay(px, n, OUT, size, voices, par, st0, SIN, p.sineSize, l);
    output(h, x, at, n, IN, px);
  }
  line.set(f32.subarray(OUT / 4, OUT / 4 + line.length));
  st.phase = f64[st0 / 8];
  st.pos = i32[st0 / 4 + 2];
  st.cell = i32[st0 / 4 + 3];
  return true;
}

/**
 * Analysis's stereo mix-down (analysis/analyze.ts): mono = (l + r)·0.5 and energy = (l² + r²)·0.5 in f64 for the
 * first n frames, and the zero crossings of the mix: samples with a sign (not 0, not NaN) opposite to the last sign
 * seen, starting from `sign.last` (−1, 0 or 1), which is left at the block's last sign. Undefined when the kernels
 * are off (nothing done).
 */
export function mixStereo(l: Float32Array, r: Float32Array, n: number, mono: Float64Array, energy: Float64Array, sign: { last: number }): number | undefined {
  const h = heap();
  if (!h) return undefined;
  const { k, f64, i32 } = h;
  let crossings = 0;
  for (let at = 0; at < n; at += CHUNK) {
    const m = Math.min(CHUNK, n - at);
    i32[TPX / 4] = sign.last; // carried from piece to piece (TPX: scratch, as for true peak)
    crossings += k.mix2(input(h, l, at, m, L), input(h, r, at, m, R), m, IN, OUT, TPX);
    sign.last = i32[TPX / 4];
    mono.set(f64.subarray(IN / 8, IN / 8 + m), at);
    energy.set(f64.subarray(OUT / 8, OUT / 8 + m), at);
  }
  return crossings;
}

/**
 * Loudness's K-weighting of a stereo range (analysis/loudness.ts, filterEnergyStereo): frames [offset, offset + count)
 * of `l` and `r` through the two sections (coefficients `coef`: a0…a4, b0…b4), the filter `state` (z1, z2, y1, y2 of
 * left then right) carried on, and the squares of the output added one by one to `sums` (left, right): the
 * JavaScript's arithmetic, the channels as a vector's lanes. False when the kernels are off (nothing done).
 */
export function kFilterStereo(l: Float32Array, r: Float32Array, offset: number, count: number, coef: Float64Array, state: Float64Array, sums: Float64Array): boolean {
  const h = heap();
  if (!h) return false;
  const { k, f64 } = h;
  const C = OUT, ST = OUT + 128, S = OUT + 256;
  f64.set(coef.subarray(0, 10), C / 8);
  f64.set(state.subarray(0, 8), ST / 8);
  f64[S / 8] = sums[0];
  f64[S / 8 + 1] = sums[1];
  for (let at = 0; at < count; at += CHUNK) {
    const n = Math.min(CHUNK, count - at);
    k.kfilter2(input(h, l, offset + at, n, L), input(h, r, offset + at, n, R), n, C, ST, S);
  }
  sums[0] = f64[S / 8];
  sums[1] = f64[S / 8 + 1];
  state.set(f64.subarray(ST / 8, ST / 8 + 8));
  return true;
}

/**
 * A stereo biquad cascade in place (engine/biquad.ts, BiquadCascade): `coeffs` holds b0 b1 b2 a1 a2 per section,
 * `state` z1 z2 per section for the left channel then the right (carried on). Up to three sections per pass over
 * each piece, every section's output rounded to f32 as the JavaScript's passes store it: its results exactly.
 * False when the kernels are off (nothing done).
 */
export function biquadStereo(l: Float32Array, r: Float32Array, coeffs: Float64Array, state: Float64Array): boolean {
  const h = heap();
  if (!h) return false;
  const { k, f64 } = h;
  const nSec = coeffs.length / 5;
  const C = OUT, ST = OUT + 128;
  for (let at = 0; at < l.length; at += CHUNK) {
    const n = Math.min(CHUNK, l.length - at);
    const pl = input(h, l, at, n, L), pr = input(h, r, at, n, R);
    for (let s0 = 0; s0 < nSec; s0 += 3) {
      const m = Math.min(3, nSec - s0);
      f64.set(coeffs.subarray(s0 * 5, (s0 + m) * 5), C / 8);
      f64.set(state.subarray(s0 * 2, (s0 + m) * 2), ST / 8); // left
      f64.set(state.subarray((nSec + s0) * 2, (nSec + s0 + m) * 2), ST / 8 + 6); // right
      k.biquad3(pl, pr, n, m, C, ST);
      state.set(f64.subarray(ST / 8, ST / 8 + m * 2), s0 * 2);
      state.set(f64.subarray(ST / 8 + 6, ST / 8 + 6 + m * 2), (nSec + s0) * 2);
    }
    output(h, l, at, n, L, pl);
    output(h, r, at, n, R, pr);
  }
  return true;
}

/** The noise gate's constants (effects/dynamics/noise-gate.ts) and its per-stream state. */
export interface GateParams {
  readonly open: number;
  readonly close: number;
  readonly floor: number;
  readonly up: number;
  readonly down: number;
  readonly envRel: number;
  readonly hold: number;
}
export interface GateState {
  env: number;
  isOpen: boolean;
  held: number;
  gain: number;
}

/**
 * The noise gate over a mono or stereo block in place (`x1` = `x0` for mono), the state carried on: the
 * JavaScript loop's arithmetic without its branches. False when the kernels are off (nothing done).
 */
export function gateBlock(x0: Float32Array, x1: Float32Array, p: GateParams, st: GateState): boolean {
  const h = heap();
  if (!h || !(st.held < 2 ** 31) || !(p.hold < 2 ** 31)) return false;
  const { k, f64, i32 } = h;
  const P = OUT, ST = OUT + 64;
  const two = x1 !== x0;
  f64.set([p.open, p.close, p.floor, p.up, p.down, p.envRel, p.hold], P / 8);
  f64[ST / 8] = st.env;
  f64[ST / 8 + 1] = st.gain;
  i32[ST / 4 + 4] = st.isOpen ? 1 : 0;
  i32[ST / 4 + 5] = st.held;
  for (let at = 0; at < x0.length; at += CHUNK) {
    const n = Math.min(CHUNK, x0.length - at);
    const p0 = input(h, x0, at, n, L), p1 = two ? input(h, x1, at, n, R) : R;
    k.gate(p0, p1, two ? 1 : 0, n, P, ST);
    output(h, x0, at, n, L, p0);
    if (two) output(h, x1, at, n, R, p1);
  }
  st.env = f64[ST / 8];
  st.gain = f64[ST / 8 + 1];
  st.isOpen = i32[ST / 4 + 4] !== 0;
  st.held = i32[ST / 4 + 5];
  return true;
}

/**
 * The delay's echo without damping (effects/time/delay.ts) over frames [from, from + n) of `x`, at line positions
 * [pos, pos + n) (no wrap: pos + n ≤ line.length), in place: the JavaScript's arithmetic. False when the kernels are
 * off (nothing done).
 */
export function echoSegment(line: Float32Array, pos: number, x: Float32Array, from: number, n: number, fb: number, dry: number, wet: number): boolean {
  const h = heap();
  if (!h || pos + n > line.length) return false;
  const { k } = h;
  for (let at = 0; at < n; at += CHUNK) {
    const m = Math.min(CHUNK, n - at);
    const pl = input(h, line, pos + at, m, L), px = input(h, x, from + at, m, R);
    k.echo(pl, px, m, fb, dry, wet);
    output(h, line, pos + at, m, L, pl);
    output(h, x, from + at, m, R, px);
  }
  return true;
}

/** The compressor's constants (effects/dynamics/compressor.ts) and its per-stream state. */
export interface CompressorParams {
  readonly att: number;
  readonly rel: number;
  readonly rmsCoef: number;
  readonly makeup: number;
  readonly thresholdDb: number;
  readonly ratio: number;
  readonly kneeDb: number;
  readonly kneeStart: number;
  readonly rms: boolean;
  readonly lnToDb: number;
}
export interface CompressorState {
  held: number;
  reductionDb: number;
  meanSquare: number;
}

/**
 * The compressor over frames [from, to) of a mono or stereo block (`x1` = `x0` for mono), the state carried on: the
 * JavaScript loop's arithmetic (lnFast, the curve, dbToGainFast). Applies the gain in place, or, given `gains`,
 * writes frame i's gain to gains[i] and leaves the samples alone (for the lookahead's ring, or for a caller that
 * passed the peaks of more than two channels). Returns the frames done: 0 when the kernels are off, and it stops early
 * before a frame the JavaScript does otherwise (an infinite level, a gain outside dbToGainFast's range).
 */
export function compressorRun(x0: Float32Array, x1: Float32Array, from: number, to: number, p: CompressorParams, st: CompressorState, gains: Float64Array | null): number {
  const h = heap();
  if (!h) return 0;
  const { k, f32, f64 } = h;
  const P = IN, ST = IN + 256;
  const two = x1 !== x0;
  f64.set([p.att, p.rel, p.rmsCoef, p.makeup, p.thresholdDb, p.ratio, p.kneeDb, p.kneeStart, p.rms ? 1 : 0, p.lnToDb, DB_TO_LOG2, ...LN_FAST_CONSTANTS], P / 8);
  f64[ST / 8] = st.held;
  f64[ST / 8 + 1] = st.reductionDb;
  f64[ST / 8 + 2] = st.meanSquare;
  let done = 0;
  for (let at = from; at < to; ) {
    const n = Math.min(CHUNK, to - at);
    f32.set(x0.subarray(at, at + n), L / 4);
    if (two) f32.set(x1.subarray(at, at + n), R / 4);
    const did = k.compressor(L, R, two ? 1 : 0, n, P, ST, gains ? OUT : 0, CMP);
    if (gains) gains.set(f64.subarray(OUT / 8, OUT / 8 + did), at);
    else {
      x0.set(f32.subarray(L / 4, L / 4 + did), at);
      if (two) x1.set(f32.subarray(R / 4, R / 4 + did), at);
    }
    done += did;
    at += did;
    if (did < n) break;
  }
  st.held = f64[ST / 8];
  st.reductionDb = f64[ST / 8 + 1];
  st.meanSquare = f64[ST / 8 + 2];
  return done;
}
