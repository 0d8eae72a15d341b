import { escapeJsonText } from '../../secrets/untrusted-text.js';
import { readEnvironments } from '../adoption.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Flags } from '../session.js';

/**
 * `ecfence environments [--env NAME|GLOB]… [--format text|json]`: the environments of ecfence.yaml
 * (name, api), in declaration order, for a CI matrix with one job per environment. Reads only
 * ecfence.yaml: offline, no key needed, and a broken policy file does not hide the list (the
 * validate job reports it).
 */
export function runEnvironments(flags: Flags, io: Io): ExitCode {
  const configs = readEnvironments(flags, io, flags['env'] as string[] | undefined, { connect: false });
  const rows = configs.map((c) => ({ name: c.name, api: c.api }));
  if (flags['format'] === 'json') {
    // One line, so that a workflow can put it in an output as it is (`list=$(ecfence …)`).
    io.stdout(`${escapeJsonText(JSON.stringify(rows))}\n`);
    return EXIT.ok;
  }
  const width = Math.max(0, ...rows.map((r) => r.name.length));
  io.stdout(rows.map((r) => `${r.name.padEnd(width)}  ${r.api}\n`).join(''));
  return EXIT.ok;
}
