import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeFile } from '../src/codecs/decode.ts';
import { writeWavFile } from '../src/codecs/wav.ts';
import { applyChain, blocksOf, collect, renderChain, resolveChain, type StepReport } from '../src/engine/chain.ts';
import { DspError } from '../src/errors.ts';
import { getPreset, presetIds, presets } from '../src/presets.ts';
import type { AudioBlock, ChainStep, StreamFormat } from '../src/types.ts';
import { espeakSpeech, ffmpegEbur128, LMMS_SAMPLES } from './references.ts';

/**
 * Presets and normalize's report, measured by ffmpeg (`ebur128=peak=true`), never by our own meter alone: each
 * loudness preset reaches its integrated target within ±0.3 LU on speech and on real music, with the true peak no
 * more than 0.1 dB over its ceiling; normalize says what it reached and why it missed when it did.
 */
const dir = mkdtempSync(join(tmpdir(), 'david-presets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Clip = { name: string; audio: AudioBlock; format: StreamFormat };

async function recording(path: string): Promise<Clip> {
  const d = await decodeFile(path);
  return { name: path.slice(LMMS_SAMPLES.length + 1), audio: await collect(d.stream, d.format.channels), format: d.format };
}

function speechClip(): Clip {
  const text = 'Welcome back to the show. Today we talk about loudness, why every platform asks for a different level, and how a limiter keeps the peaks under the ceiling.';
  return { name: 'speech (espeak-ng)', audio: [espeakSpeech(text, 'en-us', 44_100, dir)], format: { sampleRate: 44_100, channels: 1 } };
}

/** Real music of four kinds: a drum break (mono), a synth loop (stereo, hot), an organ (mono), a bell choir (stereo, quiet). */
const MUSIC = ['beats/break01.ogg', 'bassloops/techno_synth01.ogg', 'instruments/church_organ01.ogg', 'stringsnpads/bell_choir01.ogg'];

async function run(clip: Clip, chain: readonly ChainStep[], tag: string) {
  const out = await renderChain(clip.audio, chain, clip.format, { tempDir: dir, blockSize: 3000 });
  const path = join(dir, `${tag}.wav`);
  await writeWavFile(blocksOf(out.audio, 8192), out.format, path, { bitDepth: 32, float: true });
  return { ...out, ffmpeg: ffmpegEbur128(path, dir) };
}

describe('the preset table', () => {
  it('declares each preset once, with a chain the effect declarations accept and a normalize step as the last', () => {
    expect(presetIds()).toEqual(['podcast', 'streaming', 'ebu_r128', 'atsc_a85', 'voice_cleanup']);
    for (const p of presets.values()) {
      const steps = resolveChain(p.chain);
      const last = steps.at(-1)!;
      expect(last.decl.id, p.id).toBe('normalize');
      expect(last.params, p.id).toMatchObject({ mode: 'lufs', targetDb: p.target.integratedLufs, truePeakCeilingDb: p.target.truePeakDbtp, peakControl: 'limit' });
    }
    expect(presets.get('atsc_a85')!.target).toEqual({ integratedLufs: -24, truePeakDbtp: -2 });
  });

  it('refuses an unknown preset with the closest id and the known ones', () => {
    let err: unknown;
    try {
      getPreset('podcst');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DspError);
    expect(err).toMatchObject({ code: 'Preset::UnknownPreset', details: { suggestion: 'podcast', known: presetIds() } });
    expect(() => getPreset('toString')).toThrow(/unknown preset 'toString'/);
  });
});

describe('loudness presets reach their target on speech and real music, as ffmpeg measures (±0.3 LU, ceiling +0.1 dB)', () => {
  const loudness = ['podcast', 'streaming', 'ebu_r128', 'atsc_a85'];
  it.each(loudness)('%s', async (id) => {
    const preset = getPreset(id);
    const clips = [speechClip(), ...(await Promise.all(MUSIC.map((m) => recording(join(LMMS_SAMPLES, m)))))];
    let limitedSomewhere = false;
    for (const [i, clip] of clips.entries()) {
      const out = await run(clip, preset.chain, `${id}-${i}`);
      const where = `${id} on ${clip.name}: ffmpeg I ${out.ffmpeg.I}, TP ${out.ffmpeg.TP.toFixed(2)}`;
      expect(Math.abs(out.ffmpeg.I - preset.target.integratedLufs), where).toBeLessThanOrEqual(0.3);
      expect(out.ffmpeg.TP, where).toBeLessThanOrEqual(preset.target.truePeakDbtp + 0.1);
      const [report] = out.reports;
      expect(report, where).toMatchObject({ effect: 'normalize', target: preset.target.integratedLufs, unit: 'LUFS', met: true });
      expect(Math.abs(report.reached! - out.ffmpeg.I), where).toBeLessThanOrEqual(0.1); // the report says what ffmpeg reads
      if (report.measurements.limited_db! > 0) limitedSomewhere = true;
    }
    // The hot targets cannot be reached by gain alone on this material: the limiter did work, and still the target holds.
    if (id === 'podcast' || id === 'streaming') expect(limitedSomewhere).toBe(true);
  }, 120_000);

  it('voice_cleanup brings speech in noise to podcast loudness', async () => {
    const clip = speechClip();
    // Add steady hum and hiss for the chain to work on.
    const noisy = clip.audio[0].map((v, i) => 0.6 * v + 0.004 * Math.sin((2 * Math.PI * 50 * i) / 44_100) + 0.002 * Math.sin(i * 12.9898) * Math.sin(i * 78.233));
    const out = await run({ ...clip, audio: [noisy] }, getPreset('voice_cleanup').chain, 'voice');
    expect(Math.abs(out.ffmpeg.I + 16)).toBeLessThanOrEqual(0.3);
    expect(out.ffmpeg.TP).toBeLessThanOrEqual(-1 + 0.1);
    expect(out.reports).toEqual([expect.objectContaining({ step: 4, effect: 'normalize', met: true })]);
  }, 120_000);
});

describe('normalize reports what it reached', () => {
  const speech = () => speechClip();
  const normalize = (parameters: Record<string, unknown>): ChainStep[] => [{ effect: 'normalize', parameters }];

  it('limits to reach a target the ceiling is in the way of (the default); lower_gain misses it and says why', async () => {
    const clip = speech();
    const limited = await run(clip, normalize({ targetDb: -14, truePeakCeilingDb: -1 }), 'limit');
    expect(Math.abs(limited.ffmpeg.I + 14)).toBeLessThanOrEqual(0.1);
    expect(limited.ffmpeg.TP).toBeLessThanOrEqual(-1 + 0.1);
    const [r] = limited.reports as StepReport[];
    expect(r).toMatchObject({ step: 0, target: -14, met: true, tolerance: 0.1 });
    expect(r.reason).toBeUndefined();
    expect(r.measurements.limited_db).toBeGreaterThan(3);
    expect(r.measurements.gain_db).toBeGreaterThan(-14 - r.measurements.input_lufs!); // raised past the plain gain

    const lowered = await run(clip, normalize({ targetDb: -14, truePeakCeilingDb: -1, peakControl: 'lower_gain' }), 'lower');
    const [l] = lowered.reports;
    expect(l.met).toBe(false);
    expect(l.reason).toMatch(/held back by the -1 dBTP true-peak ceiling: the gain was lowered by \d/);
    expect(Math.abs(l.reached! - lowered.ffmpeg.I)).toBeLessThanOrEqual(0.1); // what it says it reached is what it reached
    expect(lowered.ffmpeg.I).toBeLessThan(-14.5);
    expect(Math.abs(lowered.ffmpeg.TP + 1)).toBeLessThanOrEqual(0.1); // no limiter: the gain put the peak at the ceiling
    expect(l.measurements.limited_db).toBe(0);
    expect(l.measurements.measuring_passes).toBe(0); // no limiter, so no pass measuring one
    expect(r.measurements.measuring_passes).toBeGreaterThanOrEqual(1);

    // A target the peaks allow: one gain, no limiter, nothing measured twice.
    const plain = await run(clip, normalize({ targetDb: -30 }), 'plain');
    expect(plain.reports[0]).toMatchObject({ met: true, measurements: { limited_db: 0, measuring_passes: 0 } });
    expect(Math.abs(plain.ffmpeg.I + 30)).toBeLessThanOrEqual(0.1);
  }, 180_000);

  it('says when the ceiling leaves too little room, and what it reached instead', async () => {
    const out = await run(speech(), normalize({ targetDb: -6, truePeakCeilingDb: -3 }), 'impossible');
    const [r] = out.reports;
    expect(r.met).toBe(false);
    expect(r.reason).toMatch(/the -3 dBTP true-peak ceiling leaves too little room/);
    expect(Math.abs(r.reached! - out.ffmpeg.I)).toBeLessThanOrEqual(0.1);
    expect(out.ffmpeg.TP).toBeLessThanOrEqual(-3 + 0.1);
    // How far it limited: the input's true peak (as ffmpeg measures it) raised by the gain, over the ceiling; the
    // reason gives the same figure.
    const input = await run(speech(), [{ effect: 'gain', parameters: { gainDb: 0 } }], 'impossible-input'); // the input as it is
    expect(Math.abs(r.measurements.limited_db! - (input.ffmpeg.TP + r.measurements.gain_db! + 3))).toBeLessThanOrEqual(0.2);
    expect(r.reason).toContain(`with peaks limited by up to ${r.measurements.limited_db} dB`);
  }, 180_000);

  it('reaches a peak target, and reports silence as not measurable, leaving it unchanged', async () => {
    const out = await run(speech(), normalize({ mode: 'peak', targetDb: -6 }), 'peak');
    expect(out.reports[0]).toMatchObject({ unit: 'dBFS', target: -6, met: true });
    let peak = 0;
    for (const v of out.audio[0]) peak = Math.max(peak, Math.abs(v));
    expect(Math.abs(20 * Math.log10(peak) + 6)).toBeLessThanOrEqual(0.01);

    const silence = new Float32Array(44_100);
    const s = await renderChain([silence], normalize({ targetDb: -16 }), { sampleRate: 44_100, channels: 1 }, { tempDir: dir });
    expect(s.reports[0]).toMatchObject({ reached: null, met: false, reason: 'not measurable: digital silence; the audio was left unchanged' });
    expect(s.audio[0].every((v) => v === 0)).toBe(true);
    const short = new Float32Array(4410).map((_, i) => 0.5 * Math.sin(i / 3));
    const t = await renderChain([short], normalize({ targetDb: -16 }), { sampleRate: 44_100, channels: 1 }, { tempDir: dir });
    expect(t.reports[0].reason).toBe('not measurable: shorter than one 400 ms gating block; the audio was left unchanged');
    expect(t.audio[0]).toEqual(short);
    // Unchanged means unchanged: peaks over the ceiling are not limited either.
    const hot = new Float32Array(4410).map((_, i) => 0.999 * Math.sin(i / 3));
    const h = await renderChain([hot], normalize({ targetDb: -16, truePeakCeilingDb: -6 }), { sampleRate: 44_100, channels: 1 }, { tempDir: dir });
    expect(h.reports[0]).toMatchObject({ reached: null, met: false, tolerance: 0.1, measurements: { gain_db: 0 } });
    expect(h.audio[0]).toEqual(hot);
    const none = await renderChain([new Float32Array(0)], normalize({ targetDb: -16 }), { sampleRate: 44_100, channels: 1 }, { tempDir: dir });
    expect(none.reports[0]).toMatchObject({ reached: null, met: false, reason: 'not measurable: no audio; the audio was left unchanged', measurements: { gain_db: 0 } });
  }, 180_000);

  it('has no report before its output has ended, and leaves nothing in the temp directory', async () => {
    const own = mkdtempSync(join(dir, 'spill-'));
    const clip = speechClip();
    const applied = applyChain(blocksOf(clip.audio, 4096), normalize({ targetDb: -14 }), clip.format, own);
    expect(() => applied.reports()).toThrow(/report asked before its output ended/);
    await collect(applied.stream, 1);
    expect(applied.reports()[0].met).toBe(true);
    expect(readdirSync(own)).toEqual([]);
  }, 60_000);

  it('gives the same output and report for any block size while limiting', async () => {
    const clip = speech();
    const a = await renderChain(clip.audio, normalize({ targetDb: -12 }), clip.format, { tempDir: dir, blockSize: 257 });
    const b = await renderChain(clip.audio, normalize({ targetDb: -12 }), clip.format, { tempDir: dir, blockSize: 65536 });
    expect(a.reports).toEqual(b.reports);
    let diff = 0;
    for (let i = 0; i < a.audio[0].length; i++) diff = Math.max(diff, Math.abs(a.audio[0][i] - b.audio[0][i]));
    expect(a.audio[0].length).toBe(clip.audio[0].length);
    expect(diff).toBeLessThan(1e-6);
  }, 180_000);
});
