import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pollUntil } from '../src/use-cases/poll.ts';

describe('long polls', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('see a change within a few hundred ms at first, and cost about a dozen reads over 20 s', async () => {
    let reads = 0;
    let doneAt = Infinity;
    const read = async () => {
      reads++;
      return Date.now() >= doneAt;
    };
    const t0 = Date.now();
    doneAt = t0 + 300;
    const quick = pollUntil(read, (v) => v, 20);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(await quick).toBe(true);
    // Read at 0, 100, 260, 516 ms: the change at 300 ms is seen at the fourth read.
    expect(reads).toBe(4);

    reads = 0;
    doneAt = Infinity;
    const held = pollUntil(read, (v) => v, 20);
    await vi.advanceTimersByTimeAsync(21_000);
    expect(await held).toBe(false);
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(reads).toBeLessThanOrEqual(16);
  });
});
