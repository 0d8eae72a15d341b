#!/usr/bin/env node
import { processIo } from './io.js';
import { run } from './run.js';

const io = processIo();
run(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.stderr(`internal error: ${String(error)}\nThis is a bug in ecfence; please report it.\n`);
    process.exitCode = 1;
  },
);
