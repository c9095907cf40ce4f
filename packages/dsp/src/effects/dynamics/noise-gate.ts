import { dbToGain, framePeak, msToFrames, scaleFrame, timeCoef } from '../../engine/util.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * Noise gate: a stereo-linked peak detector opens the gate above the threshold and closes it once the level has
 * stayed below threshold − hysteresis for the hold time; the gain moves between 1 and the range with
 * attack/release smoothing.
 */
export const noiseGate = defineEffect({
  id: 'noise_gate',
  description: 'Noise gate: attenuates the signal while its level stays below a threshold',
  parameters: {
    thresholdDb: { kind: 'number', min: -90, max: 0, default: -50, unit: 'dB', doc: 'Level that opens the gate' },
    rangeDb: { kind: 'number', min: -90, max: 0, default: -80, unit: 'dB', doc: 'Gain while the gate is closed' },
    hysteresisDb: { kind: 'number', min: 0, max: 20, default: 3, unit: 'dB', doc: 'How far below the threshold the level must fall to close' },
    attackMs: { kind: 'number', min: 0.1, max: 100, default: 1, unit: 'ms', doc: 'Time to open' },
    holdMs: { kind: 'number', min: 0, max: 2000, default: 50, unit: 'ms', doc: 'Time the gate stays open after the level falls' },
    releaseMs: { kind: 'number', min: 1, max: 5000, default: 100, unit: 'ms', doc: 'Time to close' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const open = dbToGain(p.thresholdDb);
    const close = dbToGain(p.thresholdDb - p.hysteresisDb);
    const floor = dbToGain(p.rangeDb);
    const att = timeCoef(p.attackMs, format.sampleRate);
    const rel = timeCoef(p.releaseMs, format.sampleRate);
    const hold = msToFrames(p.holdMs, format.sampleRate);
    const envRel = timeCoef(10, format.sampleRate);
    // Per-stream state; the loop works on locals (captured doubles written per sample would be boxed each time).
    const state = { env: 0, isOpen: false, held: 0, gain: floor };
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        const n = block[0]?.length ?? 0;
        const x0 = block[0];
        const x1 = channels > 1 ? block[1] : x0;
        let { env, isOpen, held, gain } = state;
        for (let i = 0; i < n; i++) {
          const level = framePeak(block, x0, x1, i);
          env = level > env ? level : envRel * env + (1 - envRel) * level;
          if (env >= open) {
            isOpen = true;
            held = 0;
          } else if (isOpen && env < close && ++held > hold) isOpen = false;
          gain = isOpen ? att * gain + (1 - att) : rel * gain + (1 - rel) * floor;
          scaleFrame(block, x0, x1, i, gain);
        }
        state.env = env;
        state.isOpen = isOpen;
        state.held = held;
        state.gain = gain;
        return block;
      },
      flush: () => [],
    };
  },
});
