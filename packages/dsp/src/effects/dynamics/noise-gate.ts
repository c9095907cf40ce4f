import { dbToGain, framePeak, msToFrames, scaleFrame, timeCoef } from '../../engine/util.ts';
import { gateBlock } from '../../engine/wasm/index.ts';
import { defineEffect, type AudioBlock } from '../../types.ts';

/**
 * Noise gate: a stereo-linked peak detector opens the gate above the threshold and closes it once the level has
 * stayed below threshold − hysteresis for the hold time. The gain moves between 0 dB and the range in straight
 * lines in dB: fully open in attackMs, fully closed in releaseMs, as the parameters say (an exponential with the
 * release as its time constant took 0.9 s to close to −80 dB at releaseMs = 100).
 */
export const noiseGate = defineEffect({
  id: 'noise_gate',
  description: 'Noise gate: attenuates the signal while its level stays below a threshold',
  parameters: {
    thresholdDb: { kind: 'number', min: -90, max: 0, default: -50, unit: 'dB', doc: 'Level that opens the gate' },
    rangeDb: { kind: 'number', min: -90, max: 0, default: -80, unit: 'dB', doc: 'Gain while the gate is closed' },
    hysteresisDb: { kind: 'number', min: 0, max: 20, default: 3, unit: 'dB', doc: 'How far below the threshold the level must fall to close' },
    attackMs: { kind: 'number', min: 0.1, max: 100, default: 1, unit: 'ms', doc: 'Time to open fully (from the range to 0 dB)' },
    holdMs: { kind: 'number', min: 0, max: 2000, default: 50, unit: 'ms', doc: 'Time the gate stays open after the level falls' },
    releaseMs: { kind: 'number', min: 1, max: 5000, default: 100, unit: 'ms', doc: 'Time to close fully (from 0 dB to the range)' },
  },
  create(p, { format }) {
    const channels = format.channels;
    const open = dbToGain(p.thresholdDb);
    const close = dbToGain(p.thresholdDb - p.hysteresisDb);
    const floor = dbToGain(p.rangeDb);
    // Per-sample gain factors: the range's dB in attackMs (opening) or releaseMs (closing), a constant step in dB.
    const up = dbToGain(-p.rangeDb / Math.max(1, (p.attackMs / 1000) * format.sampleRate));
    const down = dbToGain(p.rangeDb / Math.max(1, (p.releaseMs / 1000) * format.sampleRate));
    const hold = msToFrames(p.holdMs, format.sampleRate);
    const envRel = timeCoef(10, format.sampleRate);
    // Per-stream state; the loop works on locals (captured doubles written per sample would be boxed each time).
    const state = { env: 0, isOpen: false, held: 0, gain: floor };
    const constants = { open, close, floor, up, down, envRel, hold };
    return {
      outputChannels: channels,
      process(block: AudioBlock): AudioBlock {
        const n = block[0]?.length ?? 0;
        const x0 = block[0];
        const x1 = channels > 1 ? block[1] : x0;
        // One or two channels: the WebAssembly kernel (the same arithmetic, without a branch per frame).
        if (channels <= 2 && n > 0) {
          const a = x0.subarray(0, n);
          if (gateBlock(a, channels > 1 ? x1.subarray(0, n) : a, constants, state)) return block;
        }
        let { env, isOpen, held, gain } = state;
        for (let i = 0; i < n; i++) {
          const level = framePeak(block, x0, x1, i);
          env = level > env ? level : envRel * env + (1 - envRel) * level;
          if (env >= open) {
            isOpen = true;
            held = 0;
          } else if (isOpen && env < close && ++held > hold) isOpen = false;
          gain = isOpen ? (gain * up < 1 ? gain * up : 1) : gain * down > floor ? gain * down : floor;
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
