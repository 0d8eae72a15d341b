#!/usr/bin/env node
import { processIo } from './io.js';
import { run } from './run.js';
import { internalErrorText } from './stack.js';

const io = processIo();
run(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.stderr(internalErrorText(error));
    process.exitCode = 1;
  },
);
