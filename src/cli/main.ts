#!/usr/bin/env node
import { processIo } from './io.js';
import { run } from './run.js';

run(process.argv.slice(2), processIo()).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`internal error: ${String(error)}\nThis is a bug in ecfence; please report it.\n`);
    process.exitCode = 1;
  },
);
