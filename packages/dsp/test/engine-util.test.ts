import { describe, expect, it } from 'vitest';
import { dbToGain, dbToGainFast } from '../src/engine/util.ts';

describe('dbToGainFast', () => {
  it('matches 10^(dB/20) within 1e-6 dB from −380 to +380 dB, and falls back beyond', () => {
    let worst = 0;
    for (let db = -380; db <= 380; db += 0.0137) {
      const err = Math.abs(20 * Math.log10(dbToGainFast(db) / dbToGain(db)));
      worst = Math.max(worst, err);
    }
    expect(worst).toBeLessThan(1e-6);
    expect(dbToGainFast(0)).toBe(1);
    expect(dbToGainFast(-1000)).toBe(dbToGain(-1000));
    expect(dbToGainFast(Number.NEGATIVE_INFINITY)).toBe(0);
  });
});
