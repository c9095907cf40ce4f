import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyze } from '../src/analysis/analyze.ts';
import { decodeFile } from '../src/codecs/decode.ts';
import { blocksOf, collect } from '../src/engine/chain.ts';
import { LMMS_SAMPLES } from './references.ts';

/**
 * Tempo on drum loops of known tempo: real one-shots (Debian's lmms-common: kicks, snares, claps, hats recorded as
 * samples) placed on a 16-step grid at a given tempo, cut to 1, 2 or 8 bars as loops are. The tempo is the
 * quarter note. Tempos here are not the ones the estimator was tuned on (72, 85, 96, 110, 120, 128, 140, 160, 174).
 */
const SR = 44_100;
type Kit = Record<'kick' | 'snare' | 'hat' | 'ohat' | 'clap' | 'kick2' | 'snare2', Float32Array>;
let kit: Kit;

beforeAll(async () => {
  const load = async (name: string) => {
    const d = await decodeFile(join(LMMS_SAMPLES, 'drums', name));
    return (await collect(d.stream, d.format.channels))[0];
  };
  const names = { kick: 'kick01', snare: 'snare01', hat: 'hihat_closed01', ohat: 'hihat_opened01', clap: 'clap01', kick2: 'bassdrum_acoustic01', snare2: 'snare_acoustic01' };
  kit = Object.fromEntries(await Promise.all(Object.entries(names).map(async ([k, f]) => [k, await load(`${f}.ogg`)]))) as Kit;
});

/** Each pattern: instrument, 16th steps in the bar, level. Backbeats, four on the floor, a break, 16th hats. */
const PATTERNS: Record<string, [keyof Kit, number[], number][]> = {
  rock: [['kick', [0, 8], 1], ['snare', [4, 12], 0.9], ['hat', [0, 2, 4, 6, 8, 10, 12, 14], 0.4]],
  four: [['kick', [0, 4, 8, 12], 1], ['clap', [4, 12], 0.8], ['ohat', [2, 6, 10, 14], 0.35]],
  break: [['kick2', [0, 6, 10], 1], ['snare2', [4, 12], 0.9], ['hat', [...Array(16).keys()], 0.25]],
  sixteenths: [['kick', [0, 10], 1], ['snare', [4, 12], 0.9], ['hat', [...Array(16).keys()], 0.3]],
};

function loop(bpm: number, bars: number, pattern: string): Float32Array {
  const bar = ((4 * 60) / bpm) * SR;
  const n = Math.round(bar * bars);
  const x = new Float32Array(n);
  for (let b = 0; b < bars; b++) {
    for (const [inst, steps, level] of PATTERNS[pattern]) {
      for (const step of steps) {
        const at = Math.round(b * bar + (step * bar) / 16);
        const hit = kit[inst];
        for (let i = 0; i < hit.length; i++) x[(at + i) % n] += 0.5 * level * hit[i]; // a loop: tails wrap to the start
      }
    }
  }
  return x;
}

describe('tempo', () => {
  it('finds the tempo of drum loops within 1 BPM for at least nine in ten, loops of 1.4–3.4 s included', async () => {
    const misses: string[] = [];
    let cases = 0;
    for (const pattern of Object.keys(PATTERNS)) {
      for (const bpm of [70, 84, 98, 112, 126, 150, 172]) {
        for (const bars of [1, 2, 8]) {
          const x = loop(bpm, bars, pattern);
          const { tempo_bpm } = await analyze(blocksOf([x], 4096), { sampleRate: SR, channels: 1 });
          cases++;
          if (tempo_bpm === null || Math.abs(tempo_bpm - bpm) > 1) misses.push(`${pattern} ${bpm} BPM ${bars} bar(s) (${(x.length / SR).toFixed(2)} s): ${tempo_bpm}`);
        }
      }
    }
    // Measured: 80 of 84 (95 %); the misses are octave readings of the syncopated patterns (kick on the "and").
    // Before the octave was settled by the loud accents: 69 of 84, every 70 BPM loop read as 140.
    expect(1 - misses.length / cases, misses.join('\n')).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  /**
   * The beat loops LMMS ships, as recorded. A loop is cut to whole bars, so its tempo is bars × 4 beats over its
   * length; the bar count is the one that puts the tempo where the style sits (a two-bar 909 pattern at 121.5 rather
   * than one bar at 60.7; jungle at 172.7, not 86.3).
   */
  it('finds the tempo of the real beat loops LMMS ships within 1 BPM, with no octave or other wrong reading', async () => {
    const LOOPS: [string, number][] = [
      ['909beat01', 2], ['break01', 1], ['break02', 1], ['break03', 1],
      ['electro_beat01', 2], ['electro_beat02', 1], ['house_loop01', 1], ['jungle01', 2],
    ];
    const found: string[] = [];
    let right = 0;
    for (const [name, bars] of LOOPS) {
      const d = await decodeFile(join(LMMS_SAMPLES, 'beats', `${name}.ogg`));
      const audio = await collect(d.stream, d.format.channels);
      const bpm = (bars * 4 * 60) / (audio[0].length / d.format.sampleRate);
      const { tempo_bpm } = await analyze(blocksOf(audio, 4096), d.format);
      found.push(`${name} (${bpm.toFixed(1)} BPM): ${tempo_bpm}`);
      if (tempo_bpm !== null && Math.abs(tempo_bpm - bpm) <= 1) right++;
      // Not found is allowed (break01's syncopation is too weak a pulse in 1.4 s); a wrong tempo is not.
      else expect(tempo_bpm, found.join('\n')).toBeNull();
    }
    // Measured: 7 of 8 (break01: null). Before this estimator: 2 of 8, and null for every loop as shipped.
    expect(right, found.join('\n')).toBeGreaterThanOrEqual(7);
  }, 60_000);

  it('reads the same tempo whatever the block size', async () => {
    const x = loop(126, 8, 'rock');
    const read = async (size: number) => (await analyze(blocksOf([x], size), { sampleRate: SR, channels: 1 })).tempo_bpm;
    const whole = await read(x.length);
    expect(whole).not.toBeNull();
    for (const size of [1, 777, 65536]) expect(await read(size)).toBe(whole);
  }, 60_000);

  it('says there is no tempo for a held tone or steady noise', async () => {
    const sine = Float32Array.from({ length: 3 * SR }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / SR));
    const given: string[] = [];
    expect((await analyze(blocksOf([sine], 4096), { sampleRate: SR, channels: 1 })).tempo_bpm).toBeNull();
    // White and red (integrated) noise, clips of 2 to 12 s, seeds other than the ones the threshold was set on.
    for (let seed = 101; seed <= 110; seed++) {
      for (const seconds of [2, 4.5, 12]) {
        let s = seed;
        const white = Float32Array.from({ length: seconds * SR }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32 - 0.5) * 0.5);
        let y = 0;
        const red = white.map((v) => (y = 0.98 * y + v));
        for (const [kind, x] of [['white', white], ['red', red]] as const) {
          const { tempo_bpm } = await analyze(blocksOf([x], 4096), { sampleRate: SR, channels: 1 });
          if (tempo_bpm !== null) given.push(`${kind} noise, seed ${seed}, ${seconds} s: ${tempo_bpm} BPM`);
        }
      }
    }
    // Before the beat-and-two-beats check, about one noise clip in six was given a tempo.
    expect(given).toEqual([]);
  }, 60_000);
});
