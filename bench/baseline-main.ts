/**
 * `node dist/bench/baseline-main.js JOB.json`: runs the per-resource reader in its own process, so
 * its CPU and memory are measured the same way as ecfence's. Prints a BaselineResult as JSON.
 */
import { readFileSync } from 'node:fs';
import { readPerResource, type BaselineJob } from './baseline.js';

const file = process.argv[2];
if (file === undefined) {
  console.error('usage: baseline-main.js JOB.json');
  process.exitCode = 3;
} else {
  const job = JSON.parse(readFileSync(file, 'utf8')) as BaselineJob;
  readPerResource(job).then(
    (result) => console.log(JSON.stringify(result)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
