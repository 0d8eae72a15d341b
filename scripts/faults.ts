/**
 * `npm run test:faults`: the full-size fault suite. Applies plans of 300+ operations through the
 * built CLI against the emulator with 5% 503, 5% 429, 2% resets and 2% resets after commit
 * (seeded, so a rerun sees the same faults), then with writes that always fail, and prints the
 * figures. Exits 1 when any step misses its expectation.
 *
 * Options: --seed N (fault seed), --api ess|serverless (repeatable; default both).
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FULL_SIZE, formatFigures, runFaultSuite, stepPassed, type FaultApi } from './fault-scenario.js';

const { values } = parseArgs({
  options: { seed: { type: 'string' }, api: { type: 'string', multiple: true } },
});
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !Number.isInteger(seed)) {
  console.error(`--seed must be an integer (got '${values.seed}')`);
  process.exit(3);
}
const apis = (values.api ?? ['ess', 'serverless']) as FaultApi[];
if (apis.some((a) => a !== 'ess' && a !== 'serverless')) {
  console.error('--api must be ess or serverless');
  process.exit(3);
}

// dist/scripts/faults.js → dist/bin/ecfence.js (the bundle npm run build makes)
const cliPath = fileURLToPath(new URL('../bin/ecfence.js', import.meta.url));
const started = Date.now();
const figures = await runFaultSuite({
  cliPath,
  size: FULL_SIZE,
  apis,
  ...(seed !== undefined ? { seed } : {}),
  progress: (line) => console.error(line),
});

console.log(formatFigures(figures));
for (const f of figures) {
  if (f.detail) console.log(`\n${f.api} / ${f.step}:\n${f.detail}`);
  // Failures are expected while every write fails; anywhere else they explain a FAIL.
  if (f.failures && !f.step.includes('every write failing'))
    console.log(`\n${f.api} / ${f.step}: failed operations\n  ${f.failures.join('\n  ')}`);
}

const flaky = figures.filter((f) => !f.step.includes('every write failing') && f.step.startsWith('round'));
const sum = (pick: (f: (typeof figures)[number]) => number): number => flaky.reduce((n, f) => n + pick(f), 0);
const duplicates = figures.reduce((n, f) => n + f.duplicates, 0);
const passed = figures.every(stepPassed);
console.log(
  [
    '',
    `operations under faults: ${sum((f) => f.operations)} (largest plan: ${Math.max(...flaky.map((f) => f.operations))})`,
    `retries: ${sum((f) => f.retries)} (faults injected: ${sum((f) => f.faultsInjected)})`,
    `duplicates: ${duplicates}`,
    `converged: ${flaky.every((f) => f.converged) ? 'yes' : 'no'}`,
    `faults that never clear: exit ${figures
      .filter((f) => f.step.includes('every write failing'))
      .map((f) => `${f.exitCode} (${f.api})`)
      .join(', ')}; rerun after they stop converged: ${
      figures.filter((f) => f.step.startsWith('rerun')).every((f) => f.converged) ? 'yes' : 'no'
    }`,
    `result: ${passed ? 'PASS' : 'FAIL'} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  ].join('\n'),
);
process.exitCode = passed ? 0 : 1;
