import { resolveChain } from './engine/chain.ts';
import { lookupById } from './suggest.ts';
import type { ChainStep } from './types.ts';

/**
 * A preset: a named chain with the loudness it delivers. Declared once here; the API's `GET /api/presets`, the
 * `preset` field of job requests, `david presets` and `--preset` all read this table.
 */
export interface PresetDeclaration {
  readonly id: string;
  readonly description: string;
  /** What the output aims at; the chain's normalize step reports whether it got there. */
  readonly target: { readonly integratedLufs: number; readonly truePeakDbtp: number };
  readonly chain: readonly ChainStep[];
}

/** The last step of every preset: R128 loudness to the target, peaks limited at the ceiling. */
const loudnessStep = (integratedLufs: number, truePeakDbtp: number): ChainStep => ({
  effect: 'normalize',
  parameters: { mode: 'lufs', targetDb: integratedLufs, truePeakCeilingDb: truePeakDbtp, peakControl: 'limit' },
});

const loudnessPreset = (id: string, description: string, integratedLufs: number, truePeakDbtp: number): PresetDeclaration => ({
  id,
  description,
  target: { integratedLufs, truePeakDbtp },
  chain: [loudnessStep(integratedLufs, truePeakDbtp)],
});

const all: PresetDeclaration[] = [
  loudnessPreset('podcast', 'Podcast loudness: −16 LUFS integrated, true peak at most −1 dBTP (Apple Podcasts, AES TD1004)', -16, -1),
  loudnessPreset('streaming', 'Music streaming loudness: −14 LUFS integrated, true peak at most −1 dBTP (Spotify, YouTube, Tidal)', -14, -1),
  loudnessPreset('ebu_r128', 'Broadcast loudness per EBU R128: −23 LUFS integrated, true peak at most −1 dBTP', -23, -1),
  loudnessPreset('atsc_a85', 'US broadcast loudness per ATSC A/85: −24 LKFS integrated, true peak at most −2 dBTP', -24, -2),
  {
    id: 'voice_cleanup',
    description: 'Spoken voice: rumble cut below 80 Hz, ML noise removal, a soft gate between phrases, a slow leveller, then podcast loudness (−16 LUFS, −1 dBTP)',
    target: { integratedLufs: -16, truePeakDbtp: -1 },
    chain: [
      { effect: 'equalizer', parameters: { bands: [{ type: 'highpass', frequencyHz: 80, gainDb: 0, q: 0.707 }] } },
      { effect: 'speech_denoise', parameters: { mix: 0.95 } },
      { effect: 'noise_gate', parameters: { thresholdDb: -55, rangeDb: -18, hysteresisDb: 6, attackMs: 2, holdMs: 150, releaseMs: 200 } },
      { effect: 'compressor', parameters: { thresholdDb: -30, ratio: 3, kneeDb: 12, attackMs: 20, releaseMs: 400, makeupDb: 0, detector: 'rms' } },
      loudnessStep(-16, -1),
    ],
  },
];

/** Every preset by id. */
export const presets: ReadonlyMap<string, PresetDeclaration> = new Map(all.map((p) => [p.id, p]));
if (presets.size !== all.length) throw new Error('duplicate preset id');
// A preset whose chain an effect declaration refuses is a bug here, found at load rather than at a user's request.
for (const p of all) resolveChain(p.chain);

export function presetIds(): string[] {
  return [...presets.keys()];
}

/**
 * A preset as the API and `david presets --json` show it: snake_case target, and its chain with every parameter
 * filled in, as a job on it records it.
 */
export function presetView(p: PresetDeclaration) {
  return {
    id: p.id,
    description: p.description,
    target: { integrated_lufs: p.target.integratedLufs, true_peak_dbtp: p.target.truePeakDbtp },
    chain: resolveChain(p.chain).map((s) => ({ effect: s.decl.id, parameters: s.params })),
  };
}

/** A preset by id, or an error with the closest id and the known ones. */
export function getPreset(id: string): PresetDeclaration {
  return lookupById(presets, id, 'Preset::UnknownPreset', 'preset');
}
