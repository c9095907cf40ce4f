import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** ffmpeg's own measurement (`ebur128=peak=true`), from the per-frame metadata (three decimals) of its last frame. */
export function ffmpegEbur128(path: string, scratchDir: string) {
  const meta = join(scratchDir, `meta-${process.pid}.txt`);
  const r = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-nostats', '-i', path, '-af', `ebur128=peak=true:metadata=1,ametadata=print:file=${meta}`, '-f', 'null', '-'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(r.status, r.stderr).toBe(0);
  const text = readFileSync(meta, 'utf8');
  const last = (key: string) => {
    const all = [...text.matchAll(new RegExp(`lavfi\\.r128\\.${key}=(-?[0-9.]+|-?inf)`, 'g'))];
    return all.length > 0 ? Number(all[all.length - 1][1]) : Number.NaN;
  };
  const peaks = [0, 1].map((c) => last(`true_peaks_ch${c}`)).filter((v) => Number.isFinite(v));
  return { I: last('I'), LRA: last('LRA'), TP: 20 * Math.log10(Math.max(...peaks)) };
}

/**
 * Real recordings: the sample library of LMMS (Debian's lmms-common, GPL-2+, installed by .ci/run): drum loops,
 * instruments and effects recorded at 22.05 and 44.1 kHz, OGG Vorbis.
 */
export const LMMS_SAMPLES = '/usr/share/lmms/samples';

export function lmmsSamples(folder: string): string[] {
  const dir = join(LMMS_SAMPLES, folder);
  if (!existsSync(dir)) throw new Error(`${dir} is missing: apt-get install --no-install-recommends lmms-common (.ci/run does)`);
  return readdirSync(dir).filter((f) => f.endsWith('.ogg')).sort().map((f) => join(dir, f));
}

/** Mono float samples of a file, decoded by ffmpeg at a given rate. */
export function ffmpegDecode(path: string, rate: number): Float32Array {
  const raw = execFileSync('ffmpeg', ['-nostdin', '-v', 'error', '-i', path, '-f', 'f32le', '-ac', '1', '-ar', String(rate), '-'], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4).slice();
}

/** Speech by a formant synthesiser (espeak-ng), as a stand-in for a recording: real phonemes, pauses, intonation. */
export function espeakSpeech(text: string, voice: string, rate: number, scratchDir: string): Float32Array {
  const wav = join(scratchDir, `say-${voice}-${text.length}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-w', wav, text], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return ffmpegDecode(wav, rate);
}
