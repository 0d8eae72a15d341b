import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/render/report.js';

describe('apply progress', () => {
  it('names the phase and counts, and the time left at the pace so far', () => {
    expect(progressLine({ phase: undefined, finished: 0, failed: 0, total: 800, elapsedMs: 0 })).toBe(
      'applying: 0/800 finished',
    );
    expect(
      progressLine({ phase: 'associate', finished: 400, failed: 2, total: 800, elapsedMs: 10_000 }),
    ).toBe('associate: 400/800 finished, 2 failed or skipped, about 10s left');
    expect(progressLine({ phase: 'create', finished: 10, failed: 0, total: 800, elapsedMs: 1_000 })).toBe(
      'create: 10/800 finished, about 1m 19s left',
    );
    expect(progressLine({ phase: 'delete', finished: 800, failed: 0, total: 800, elapsedMs: 9_000 })).toBe(
      'delete: 800/800 finished',
    );
  });
});
