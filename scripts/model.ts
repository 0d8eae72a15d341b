/**
 * `npm run test:model -- [--minutes N] [--seed S] [--api ess|ece|serverless]... [--commands N]`:
 * a long campaign of the model-based test (issue 23; scripts/model/scenario.ts). It checks
 * batches of rounds, each batch from its own fast-check seed, until the time is up; a failure is
 * printed with its seed, replay path, shrunk counterexample and broken invariants, and the
 * campaign goes on with the next seed. Exits 1 when any round failed.
 *
 * `--seed S --path P` replays one failure (the path fast-check printed) and stops there.
 */
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { modelProperty } from './model/scenario.js';
import { MODEL_APIS, type ModelApi } from './model/world.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    api: { type: 'string', multiple: true },
    commands: { type: 'string' },
  },
});

function whole(name: string, raw: string | undefined, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${name} must be a whole number ≥ ${min} (got '${raw}')`);
    process.exit(3);
  }
  return n;
}

const minutes = whole('minutes', values.minutes, 1, 1);
const commands = whole('commands', values.commands, 6, 0);
const apis = (values.api ?? [...MODEL_APIS]) as ModelApi[];
if (apis.some((a) => !MODEL_APIS.includes(a))) {
  console.error(`--api must be one of ${MODEL_APIS.join(', ')}`);
  process.exit(3);
}
const property = modelProperty({ apis, maxCommands: commands });
const firstSeed = whole('seed', values.seed, Math.floor(Math.random() * 2 ** 31));

function report<T>(details: fc.RunDetails<T>): string {
  const error =
    details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
  return `${fc.defaultReportMessage(details) ?? ''}\n\n${error}`;
}

if (values.path !== undefined) {
  const details = await fc.check(property, { seed: firstSeed, path: values.path, endOnFailure: true });
  console.log(details.failed ? report(details) : `seed ${firstSeed} path ${values.path}: passes`);
  process.exit(details.failed ? 1 : 0);
}

/** Rounds per seed: small enough that a batch ends soon after the deadline. */
const BATCH = 25;
const started = Date.now();
const deadline = started + minutes * 60_000;
let rounds = 0;
const seeds: number[] = [];
const failures: string[] = [];
console.error(
  `model campaign: ${minutes} min, apis ${apis.join(', ')}, up to ${commands} commands per round`,
);
for (let seed = firstSeed; Date.now() < deadline; seed++) {
  seeds.push(seed);
  const details = await fc.check(property, {
    seed,
    numRuns: BATCH,
    interruptAfterTimeLimit: Math.max(1, deadline - Date.now()),
    markInterruptAsFailure: false,
  });
  rounds += details.numRuns;
  if (details.failed) {
    failures.push(`seed ${seed} path ${details.counterexamplePath ?? '?'}`);
    console.log(`\n=== failure ${failures.length} ===\n${report(details)}\n`);
  }
  console.error(
    `seed ${seed}: ${details.numRuns} rounds${details.failed ? ', FAILED' : ''} (total ${rounds}, ${((Date.now() - started) / 60_000).toFixed(1)} min)`,
  );
}
console.log(
  [
    `rounds: ${rounds}`,
    `seeds: ${seeds[0]}–${seeds[seeds.length - 1]} (${seeds.length})`,
    `failures: ${failures.length}${failures.length > 0 ? ` (${failures.join('; ')})` : ''}`,
    `time: ${((Date.now() - started) / 60_000).toFixed(1)} min`,
  ].join('\n'),
);
process.exitCode = failures.length > 0 ? 1 : 0;
