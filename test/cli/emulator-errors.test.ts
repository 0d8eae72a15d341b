/**
 * `ecfence emulator` given what a user can get wrong: never "This is a bug", never a stack trace.
 * A bad seed or state file is bad input (exit 3, the file and where in it); a port in use is one
 * line and exit 1.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

const dir = makeProject({
  'bad.json': '{\n  "deployments": [}\n',
  'bad.yaml': 'deployments:\n  - id: a\n   name: x\n',
  'list.yaml': '- a\n',
  'dup.yaml': 'deployments: []\ndeployments: []\n',
  'garbage-state.json': 'not json\n',
  'bad-entry.yaml': 'deployments:\n  - { name: d }\n',
});
mkdirSync(join(dir, 'a-directory'));
writeFileSync(join(dir, 'trailing.json'), '{"deployments": [],}\n');

const cases: [name: string, args: string[], stderr: RegExp][] = [
  ['a JSON seed with a syntax error', ['--seed', 'bad.json'], /bad\.json:2:\d+: .*not valid JSON/],
  ['a JSON seed that is YAML, not JSON', ['--seed', 'trailing.json'], /trailing\.json.*not valid JSON/],
  ['a YAML seed with an indentation slip', ['--seed', 'bad.yaml'], /bad\.yaml:3:\d+: error E_YAML/],
  ['a YAML seed that is a list', ['--seed', 'list.yaml'], /list\.yaml:1:1: error E_NOT_MAPPING/],
  ['a YAML seed with a duplicate key', ['--seed', 'dup.yaml'], /dup\.yaml:2:1: error E_DUPLICATE_KEY/],
  [
    'a seed entry the API would refuse',
    ['--seed', 'bad-entry.yaml'],
    /invalid emulator seed at deployments\[0\]/,
  ],
  ['a seed that does not exist', ['--seed', 'missing.yaml'], /missing\.yaml.*does not exist/],
  ['a seed that is a directory', ['--seed', 'a-directory'], /a-directory.*a directory/],
  [
    'a state file that is not JSON',
    ['--state', 'garbage-state.json'],
    /garbage-state\.json is not valid JSON/,
  ],
  ['a state file that is a directory', ['--state', 'a-directory'], /a-directory.*a directory/],
  ['a latency that is not a number', ['--latency', 'soon'], /--latency must be a number/],
  ['a flavor that does not exist', ['--flavor', 'gcp'], /--flavor must be one of cloud, ece/],
  ['a host that is not loopback', ['--host', '0.0.0.0'], /--host must be a loopback address/],
  ['an unknown flag', ['--seeds', 'x'], /unknown option '--seeds'/],
];

describe.concurrent('bad emulator input exits 3 with the file and where', () => {
  it.for(cases)('%s', async ([, args, stderr], { expect }) => {
    const r = await runCli(['emulator', '--port', '0', ...args], { cwd: dir });
    const shown = `exit ${r.code}\n${r.stderr}`;
    expect(r.code, shown).toBe(3);
    expect(r.stderr, shown).toMatch(stderr);
    expect(r.stderr, shown).not.toMatch(/internal error|This is a bug| {4}at /);
  });
});

it('a port in use is one line and exit 1', async () => {
  const busy = await startEmulator({ flavor: 'cloud', port: 0 });
  try {
    const port = new URL(busy.url).port;
    const r = await runCli(['emulator', '--port', port], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: cannot listen on 127.0.0.1:${port}: the port is in use (give another with --port, or --port 0 for any free one)\n`,
    );
  } finally {
    await busy.close();
  }
});
