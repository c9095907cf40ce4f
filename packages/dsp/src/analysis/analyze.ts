import { decodeFile, type DecodeOptions } from '../codecs/decode.ts';
import { DspError } from '../errors.ts';
import { createRealFft, hann } from '../engine/fft.ts';
import { channelStats, mixStereo, type ChannelStats } from '../engine/wasm/index.ts';
import type { AudioBlock, StreamFormat } from '../types.ts';
import { LoudnessMeter, whyNotMeasurable } from './loudness.ts';
import { TempoTracker } from './tempo.ts';
import { tap, VisualsBuilder, type BlockSink, type Visuals } from './waveform.ts';

export interface AnalysisResult {
  duration_s: number;
  sample_rate: number;
  channels: number;
  /** Levels and loudness: null where the audio gives nothing to measure, with the reason in `not_measurable`. */
  peak_dbfs: number | null;
  true_peak_dbtp: number | null;
  rms_dbfs: number | null;
  integrated_lufs: number | null;
  max_momentary_lufs: number | null;
  max_short_term_lufs: number | null;
  loudness_range_lu: number | null;
  /** Why each null level above is null (silence, shorter than a gating block or window); empty when all were measured. */
  not_measurable: Partial<Record<'peak_dbfs' | 'true_peak_dbtp' | 'rms_dbfs' | 'integrated_lufs' | 'max_momentary_lufs' | 'max_short_term_lufs' | 'loudness_range_lu', string>>;
  dc_offset: number[];
  clipped_samples: number;
  silent_spans: { start_s: number; end_s: number }[];
  spectral_centroid_hz: number;
  spectral_rolloff_hz: number;
  spectral_flatness: number;
  /** Sign changes per second of the mono mix. */
  zero_crossing_rate: number;
  tempo_bpm: number | null;
}

export interface AnalyzeOptions {
  /** A 10 ms window quieter than this (dBFS RMS) counts as silent. */
  silenceThresholdDb?: number;
  /** Shortest silent span reported. */
  minSilenceMs?: number;
  /** Skip true-peak oversampling (faster). */
  truePeak?: boolean;
}

const FFT_SIZE = 2048;
const SPECTRAL_HOP = 8192; // one spectrum every ~0.19 s at 44.1 kHz: features are averages, so sparse frames suffice
const MAX_SPANS = 1000;
const CLIP_LEVEL = 0.9999;

/** JSON has no −Infinity: report silence as −120 dB, rounded to 0.01. */

/**
 * Analyse a stream in one pass with bounded memory: loudness (BS.1770 / R128), peaks, RMS, DC, clipping,
 * silent spans, spectral centroid/rolloff/flatness (averaged over sparse 2048-point frames of the mono mix),
 * zero-crossing rate and a tempo estimate (analysis/tempo.ts: three-band onset envelope, autocorrelation, loops).
 */
export async function analyze(stream: AsyncIterable<AudioBlock>, format: StreamFormat, opts: AnalyzeOptions = {}): Promise<AnalysisResult> {
  const { sampleRate: sr, channels } = format;
  const meter = new LoudnessMeter(format, { truePeak: opts.truePeak ?? true });
  const silenceThr = Math.pow(10, (opts.silenceThresholdDb ?? -60) / 10); // mean square
  const minSilence = Math.round(((opts.minSilenceMs ?? 500) / 1000) * sr);
  const win = Math.max(1, Math.round(sr / 100));
  const sums = new Float64Array(channels);
  let sumSq = 0;
  let clipped = 0;
  let frames = 0;
  // silence tracking
  let winFill = 0, winSq = 0, silentStart = -1;
  const spans: { start_s: number; end_s: number }[] = [];
  // zero crossings
  let crossings = 0;
  const sign = { last: 0 }; // the last sign seen (−1, 0 before any, 1)
  // spectral
  const fft = createRealFft(FFT_SIZE);
  const windowed = new Float64Array(FFT_SIZE);
  const window = hann(FFT_SIZE);
  const frame = new Float64Array(FFT_SIZE);
  const re = new Float64Array(FFT_SIZE), im = new Float64Array(FFT_SIZE);
  let hopCount = 0;
  let centroidSum = 0, rolloffSum = 0, flatnessSum = 0, spectra = 0;
  const tempo = new TempoTracker(sr);

  const endSilence = (endFrame: number) => {
    if (silentStart >= 0 && endFrame - silentStart >= minSilence && spans.length < MAX_SPANS) {
      spans.push({ start_s: silentStart / sr, end_s: endFrame / sr });
    }
    silentStart = -1;
  };

  const spectrum = () => {
    for (let i = 0; i < FFT_SIZE; i++) {
      windowed[i] = frame[i] * window[i];
    }
    fft.forward(windowed, re, im);
    const bins = FFT_SIZE / 2;
    let total = 0, weighted = 0, logSum = 0;
    const mag = re; // reuse: magnitudes into re[0..bins)
    // The log of a product of up to 16 magnitudes instead of 16 logs. A factor is at least 1e-12 and at most
    // FFT_SIZE × the largest float sample (< 1e42): taken as soon as it leaves [1e-250, 1e250], the product never
    // leaves f64's range.
    let product = 1;
    for (let k = 1; k < bins; k++) {
      const m = Math.sqrt(re[k] * re[k] + im[k] * im[k]);
      mag[k] = m;
      total += m;
      weighted += m * ((k * sr) / FFT_SIZE);
      product *= m + 1e-12;
      if ((k & 15) === 0 || !(product < 1e250 && product > 1e-250)) {
        logSum += Math.log(product);
        product = 1;
      }
    }
    logSum += Math.log(product);
    if (total < 1e-6) return; // silence says nothing about spectral shape
    centroidSum += weighted / total;
    let acc = 0, roll = bins - 1;
    for (let k = 1; k < bins; k++) {
      acc += mag[k];
      if (acc >= 0.85 * total) {
        roll = k;
        break;
      }
    }
    rolloffSum += (roll * sr) / FFT_SIZE;
    flatnessSum += Math.exp(logSum / (bins - 1)) / (total / (bins - 1));
    spectra++;
  };

  let mono = new Float64Array(0);
  let energy = new Float64Array(0);
  const stats: ChannelStats = { sEven: 0, sOdd: 0, qEven: 0, qOdd: 0, clips: 0, done: 0 };
  for await (const block of stream) {
    const n = block[0]?.length ?? 0;
    if (n === 0) continue;
    meter.push(block);
    for (let c = 0; c < channels; c++) {
      const x = block[c];
      // Two accumulators each: the additions of odd and even samples do not wait for one another.
      // The SIMD kernel does the first multiple of 4 samples with the same accumulators; this loop goes on from there.
      const st = channelStats(x, CLIP_LEVEL, stats);
      let s0 = st.sEven, s1 = st.sOdd, q0 = st.qEven, q1 = st.qOdd, clips = st.clips;
      let i = st.done;
      for (; i + 1 < n; i += 2) {
        const v = x[i], w = x[i + 1];
        s0 += v;
        s1 += w;
        q0 += v * v;
        q1 += w * w;
        clips += (Math.abs(v) >= CLIP_LEVEL ? 1 : 0) + (Math.abs(w) >= CLIP_LEVEL ? 1 : 0);
      }
      if (i < n) {
        const v = x[i];
        s0 += v;
        q0 += v * v;
        clips += Math.abs(v) >= CLIP_LEVEL ? 1 : 0;
      }
      clipped += clips;
      sums[c] += s0 + s1;
      sumSq += q0 + q1;
    }
    // The mono mix and its energy once per frame, then each feature as a tight loop over runs of frames
    // between its own events (window ends, hop ends), rather than one branchy loop doing everything per frame.
    if (mono.length < n) {
      mono = new Float64Array(n);
      energy = new Float64Array(n);
    }
    // The kernel mixes stereo and counts its crossings in one pass (the same arithmetic and rule as below).
    const counted = channels === 2 ? mixStereo(block[0], block[1], n, mono, energy, sign) : undefined;
    if (counted === undefined) mixDown(block, channels, n, mono, energy);
    // silence: mean energy per 10 ms window
    for (let i = 0; i < n; ) {
      const end = Math.min(n, i + win - winFill);
      // Four partial sums: one chain of additions waits on itself every sample (the window's mean is compared with
      // a threshold: the order of the additions changes nothing measurable).
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      let j = i;
      for (; j + 3 < end; j += 4) {
        a0 += energy[j];
        a1 += energy[j + 1];
        a2 += energy[j + 2];
        a3 += energy[j + 3];
      }
      for (; j < end; j++) a0 += energy[j];
      winSq += a0 + a1 + (a2 + a3);
      winFill += end - i;
      i = end;
      if (winFill === win) {
        const start = frames + i - win;
        if (winSq / win < silenceThr) {
          if (silentStart < 0) silentStart = start;
        } else endSilence(start);
        winFill = 0;
        winSq = 0;
      }
    }
    // zero crossings of the mono mix (exact zeros ignored)
    if (counted !== undefined) crossings += counted;
    else {
      for (let i = 0; i < n; i++) {
        const m = mono[i];
        const s = m > 0 ? 1 : m < 0 ? -1 : 0;
        if (s !== 0) {
          crossings += (s * sign.last) >>> 31; // −1 (a crossing) → 1; 0 or 1 → 0
          sign.last = s;
        }
      }
    }
    // spectral frames: the first FFT_SIZE samples of every SPECTRAL_HOP
    for (let i = 0; i < n; ) {
      if (hopCount < FFT_SIZE) {
        const take = Math.min(n - i, FFT_SIZE - hopCount);
        frame.set(mono.subarray(i, i + take), hopCount);
        hopCount += take;
        i += take;
        if (hopCount === FFT_SIZE) spectrum();
      } else {
        const skip = Math.min(n - i, SPECTRAL_HOP - hopCount);
        hopCount += skip;
        i += skip;
      }
      if (hopCount === SPECTRAL_HOP) hopCount = 0;
    }
    tempo.push(mono, n);
    frames += n;
  }
  endSilence(frames);
  const loud = meter.summary();
  const total = frames * channels;
  // A level that cannot be measured is null with its reason, never a sentinel number (−70 LUFS, −120 dB).
  const notMeasurable: AnalysisResult['not_measurable'] = {};
  const seconds = frames / sr;
  const silence = frames === 0 ? 'no audio' : 'digital silence';
  const level = (field: keyof AnalysisResult['not_measurable'], v: number, why: string) => {
    if (Number.isFinite(v)) return Math.round(v * 100) / 100;
    notMeasurable[field] = why;
    return null;
  };
  const block = whyNotMeasurable(frames, sr, 'momentary');
  const shortTerm = whyNotMeasurable(frames, sr, 'short_term');
  return {
    duration_s: seconds,
    sample_rate: sr,
    channels,
    peak_dbfs: level('peak_dbfs', loud.sample_peak_dbfs, silence),
    true_peak_dbtp: level('true_peak_dbtp', loud.true_peak_dbtp, silence),
    rms_dbfs: level('rms_dbfs', total > 0 ? 10 * Math.log10(sumSq / total) : -Infinity, silence),
    integrated_lufs: level('integrated_lufs', loud.integrated_lufs, block),
    max_momentary_lufs: level('max_momentary_lufs', loud.max_momentary_lufs, block),
    max_short_term_lufs: level('max_short_term_lufs', loud.max_short_term_lufs, shortTerm),
    loudness_range_lu: level('loudness_range_lu', loud.loudness_range_lu, shortTerm),
    not_measurable: notMeasurable,
    dc_offset: Array.from(sums, (s) => (frames > 0 ? s / frames : 0)),
    clipped_samples: clipped,
    silent_spans: spans,
    spectral_centroid_hz: spectra ? Math.round(centroidSum / spectra) : 0,
    spectral_rolloff_hz: spectra ? Math.round(rolloffSum / spectra) : 0,
    spectral_flatness: spectra ? flatnessSum / spectra : 0,
    zero_crossing_rate: frames > 0 ? crossings / (frames / sr) : 0,
    tempo_bpm: tempo.estimate(frames),
  };
}

/** Decode a file (streaming) and analyse it. */
/**
 * Analyse a file; with `deadline` (epoch ms) the analysis gives up at that time with `Analysis::TimedOut`
 * (stopping its decoder), so a caller with a time limit — ingest inside its function timeout — is never overrun.
 */
export async function analyzeFile(
  path: string,
  opts: AnalyzeOptions & DecodeOptions & { deadline?: number; tap?: (format: StreamFormat) => BlockSink } = {},
): Promise<AnalysisResult> {
  const { deadline } = opts;
  const decoded = await decodeFile(path, {
    reuseBlocks: true,
    ...opts,
    ...(deadline !== undefined ? { timeoutMs: Math.max(1, deadline - Date.now()) } : {}),
  });
  // Another consumer of the same decode (the visuals at ingest) sees every block the analysis sees.
  const stream = opts.tap ? tap(decoded.stream, opts.tap(decoded.format)) : decoded.stream;
  return analyze(deadline === undefined ? stream : untilDeadline(stream, deadline), decoded.format, opts);
}

/** The analysis, and the waveform and spectrogram drawn from the same decode (what ingest stores for a file). */
export async function analyzeFileWithVisuals(
  path: string,
  opts: AnalyzeOptions & DecodeOptions & { deadline?: number } = {},
): Promise<{ analysis: AnalysisResult; visuals: Visuals }> {
  let builder: VisualsBuilder | undefined;
  const analysis = await analyzeFile(path, { ...opts, tap: (format) => (builder = new VisualsBuilder(format)) });
  return { analysis, visuals: builder!.finish() };
}

async function* untilDeadline(stream: AsyncIterable<AudioBlock>, deadline: number): AsyncIterable<AudioBlock> {
  for await (const block of stream) {
    if (Date.now() > deadline) throw new DspError('Analysis::TimedOut', 'the analysis did not finish in the time it had');
    yield block;
  }
}

/** Mono mix and mean energy per frame of a planar block. */
function mixDown(block: AudioBlock, channels: number, n: number, mono: Float64Array, energy: Float64Array): void {
  if (channels === 2) {
    const l = block[0], r = block[1];
    for (let i = 0; i < n; i++) {
      const a = l[i], b = r[i];
      mono[i] = (a + b) * 0.5;
      energy[i] = (a * a + b * b) * 0.5;
    }
    return;
  }
  const x0 = block[0];
  for (let i = 0; i < n; i++) {
    mono[i] = x0[i];
    energy[i] = x0[i] * x0[i];
  }
  for (let c = 1; c < channels; c++) {
    const x = block[c];
    for (let i = 0; i < n; i++) {
      mono[i] += x[i];
      energy[i] += x[i] * x[i];
    }
  }
  if (channels > 1) {
    const k = 1 / channels;
    for (let i = 0; i < n; i++) {
      mono[i] *= k;
      energy[i] *= k;
    }
  }
}
