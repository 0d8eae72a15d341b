import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { defineConfig } from 'vitest/config';

/**
 * The files that take longest (each spawns the built binary many times), longest first. Started
 * first, they overlap with the many short files instead of running alone at the end. Vitest's own
 * order (by the durations it cached last run) applies to the rest, and decides nothing on a fresh
 * CI checkout, which has no cache.
 */
const SLOW_FIRST = [
  'test/bad-input/bad-input.test.ts',
  'test/bench/bench-smoke.test.ts',
  'test/faults/faults.test.ts',
  'test/model-based/model-based.test.ts',
  'test/cli/workflow.test.ts',
  'test/guards/guards.test.ts',
  'test/secrets/secrets.test.ts',
  'test/secrets/canary.test.ts',
  'test/cli/cli.test.ts',
  'test/cli/serverless-associations.test.ts',
  'test/cli/serverless.test.ts',
  'test/interrupt/interrupt.test.ts',
  'test/cli/types-roundtrip.test.ts',
  'test/cli/explain.test.ts',
  'test/github/action.test.ts',
  'test/cli/metadata.test.ts',
];

class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (spec: TestSpecification): number => {
      const i = SLOW_FIRST.indexOf(relative(spec.project.config.root, spec.moduleId).replaceAll('\\', '/'));
      return i === -1 ? SLOW_FIRST.length : i;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file in its own child process. Vitest's default on 2 CPUs is 1 worker; most of a
    // file's time is spent waiting on the built binary in child processes, so 2 workers keep both
    // cores busy.
    pool: 'forks',
    maxWorkers: Number(process.env['ECFENCE_TEST_WORKERS'] ?? 2),
    sequence: { sequencer: SlowFirstSequencer },
    reporters: ['default', 'json'],
    outputFile: { json: './dist/test-results.json' },
  },
});
