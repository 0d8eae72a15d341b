import { describe, expect, it } from 'vitest';
import { AdaptiveLimit } from '../../src/backends/adaptive-limit.js';

describe('AdaptiveLimit (AIMD)', () => {
  it('halves under 429 once per overload, holds new requests for Retry-After, and climbs back on successes', async () => {
    let now = 0;
    const limit = new AdaptiveLimit(8, () => now);
    const epochs = Array.from({ length: 8 }, () => limit.tryAcquire());
    expect(epochs.every((e) => e === 0)).toBe(true);
    expect(limit.tryAcquire()).toBeUndefined(); // the ceiling

    // Every request in flight answers 429 for the same overload: one halving, not three.
    for (const epoch of epochs.slice(0, 3)) {
      limit.throttle(epoch ?? -1, 50);
      limit.release(false);
    }
    expect(limit.stats()).toEqual({ throttled: 3, ceiling: 8, lowest: 4, current: 4 });
    for (let i = 0; i < 5; i++) limit.release(true);
    // Retry-After holds every new request, not only the refused one.
    expect(limit.tryAcquire()).toBeUndefined();
    let started = false;
    const waiting = limit.acquire().then(() => (started = true));
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(started).toBe(false);
    now = 50;
    await waiting;
    limit.release(true);

    // A second overload after the first was met halves again; successes raise it by about one a round.
    const next = limit.tryAcquire();
    limit.throttle(next ?? -1, undefined);
    limit.release(false);
    expect(limit.stats()).toMatchObject({ lowest: 2, current: 2 });
    for (let i = 0; i < 40; i++) {
      limit.tryAcquire();
      limit.release(true);
    }
    expect(limit.stats()).toEqual({ throttled: 4, ceiling: 8, lowest: 2, current: 8 });
  });
});
