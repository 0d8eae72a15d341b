/**
 * Hostile and broken input (issue 6 §5): the built binary, each case against its own live
 * emulator, must exit 3 with a clear message (file:line where there is one), print no stack
 * trace, and send not a single request.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';
import { emulatorPerCase } from '../support/emulator-http.js';
import { BASE_FILES, CASES, DEPLOYMENT, KEY, REGION, type BadInputCase } from './cases.js';

const seed = { deployments: [{ id: DEPLOYMENT, name: 'prod', region: REGION }] };

function project(url: string, files: BadInputCase['files'] = {}): string {
  const dir = makeProject({});
  for (const [path, content] of Object.entries({ ...BASE_FILES, ...files })) {
    const full = join(dir, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, typeof content === 'string' ? content.replaceAll('${URL}', url) : content);
  }
  return dir;
}

function envFor(c: BadInputCase): Record<string, string> {
  return { ...(c.unsetKey ? {} : { EC_API_KEY: KEY }), ...c.env };
}

describe('bad-input corpus', () => {
  it('has at least 40 cases with distinct names', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((c) => c.name)).size).toBe(CASES.length);
  });

  // The harness must be able to see a request, or "zero requests" would prove nothing.
  it('the unbroken base project plans and is seen by the emulator', async () => {
    const emu = await startEmulator({ flavor: 'cloud', port: 0, seed });
    try {
      const r = await runCli(['plan'], { cwd: project(emu.url), env: { EC_API_KEY: KEY } });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(emu.requests().length).toBeGreaterThan(0);
    } finally {
      await emu.close();
    }
  });
});

describe.concurrent('bad input exits 3, says where, sends nothing', () => {
  const emulators = emulatorPerCase(CASES.length, { flavor: 'cloud', port: 0, seed });

  it.for(CASES.map((c, i) => [c.name, i] as const))('%s', async ([, index], { expect }) => {
    const c = CASES[index];
    const emu = emulators[index];
    if (!c || !emu) throw new Error(`no case ${index}`);
    const r = await runCli(c.args ?? ['plan'], { cwd: project(emu.url, c.files), env: envFor(c) });
    const shown = `exit ${r.code}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 1500)}`;
    expect(r.code, shown).toBe(3);
    expect(r.stderr, shown).toMatch(c.message);
    // file:line must be followed by ':' (the column) so that line 1 does not match line 10.
    if (c.where !== undefined)
      expect(r.stderr, shown).toContain(/:\d+$/.test(c.where) ? `${c.where}:` : c.where);
    expect(r.stderr, shown).not.toContain('    at ');
    expect(r.stderr, shown).not.toContain('internal error');
    expect(r.stdout + r.stderr).not.toContain(KEY);
    expect(emu.requests(), shown).toEqual([]);
  });
});
