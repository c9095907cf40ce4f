import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pollUntil } from '../src/use-cases/poll.ts';

describe('long polls', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('see a change within a few hundred ms at first, and cost about a dozen reads over 20 s', async () => {
    vi.setSystemTime(1_000_000); // a whole number of seconds: every tick lines up with the start
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
    // Read at 0, 125, 250 and 500 ms: the change at 300 ms is seen at the fourth read.
    expect(reads).toBe(4);

    reads = 0;
    doneAt = Infinity;
    const held = pollUntil(read, (v) => v, 20);
    await vi.advanceTimersByTimeAsync(21_000);
    expect(await held).toBe(false);
    expect(reads).toBeGreaterThanOrEqual(10);
    expect(reads).toBeLessThanOrEqual(16);
  });

  it('re-read at the same instants however far apart they began, so their reads can go out together', async () => {
    vi.setSystemTime(5_000_000);
    const at: number[][] = [[], [], []];
    const polls = [0, 37, 1_290].map(async (startAfter, i) => {
      await new Promise((r) => setTimeout(r, startAfter));
      return pollUntil(async () => void at[i].push(Date.now()), () => false, 10);
    });
    await vi.advanceTimersByTimeAsync(15_000);
    await Promise.all(polls);
    // Past the first few reads, each is on the 2 s grid, and all three read on the same ticks.
    const late = at.map((times) => times.filter((t) => t >= 5_004_000 && t < 5_010_000));
    for (const times of late) for (const t of times) expect(t % 2_000).toBe(0);
    expect(late[1]).toEqual(late[0]);
    expect(late[2]).toEqual(late[0]);
    expect(late[0].length).toBeGreaterThanOrEqual(2);
  });
});
