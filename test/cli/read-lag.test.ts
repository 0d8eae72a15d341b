/**
 * The three scenarios of issue 23, with the built binary against the emulator: each must converge
 * in one apply, make no duplicate and report convergence truthfully, also while the API's
 * listings lag behind its writes (the emulator's read-after-write lag).
 */
import { describe, it, type ExpectStatic } from 'vitest';
import { startEmulator, type FaultConfig, type SeedData } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

const KEY = 'essu_read_lag_test_key_0123456789';
const EU = 'eu-west-1';
const US = 'us-east-1';
const euDep = 'e'.repeat(32);
const usDep = 'a'.repeat(32);

const seed: SeedData = {
  deployments: [
    { id: euDep, name: 'eu', region: EU },
    { id: usDep, name: 'us', region: US },
  ],
  rulesets: [
    {
      name: 'office',
      region: EU,
      type: 'ip',
      include_by_default: true,
      rules: [{ source: '10.1.0.0/16' }],
      associations: [euDep],
    },
    { name: 'vpn', region: EU, type: 'ip', rules: [{ source: '10.2.0.0/16' }], associations: [euDep] },
  ],
};

/** office moves to us-east-1 (include_by_default) onto the us deployment; the eu one keeps vpn. */
const files = (url: string): Record<string, string> => ({
  'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${url}\n`,
  'policies/main.yaml': `environment: prod
policies:
  - name: office
    region: ${US}
    type: ip
    include_by_default: true
    rules:
      - source: 10.1.0.0/16
  - name: vpn
    region: ${EU}
    type: ip
    rules:
      - source: 10.2.0.0/16
associations:
  - deployment: ${usDep}
    policies: [office]
  - deployment: ${euDep}
    policies: [vpn]
`,
});

async function applyOnce(expect: ExpectStatic, faults: FaultConfig) {
  const emu = await startEmulator({ flavor: 'cloud', seed, faults });
  try {
    const dir = makeProject(files(emu.url));
    const env = { EC_API_KEY: KEY, ECFENCE_RETRY_MAX_MS: '1000' };
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stderr).not.toContain('internal error');
    expect(apply.stdout).toContain('Converged: live state matches the configuration.');
    expect(apply.code).toBe(0);
    const rulesets = emu.state().rulesets.map((r) => `${r.name} ${r.region} [${r.associations.join(',')}]`);
    expect(rulesets.sort()).toEqual([`office ${US} [${usDep}]`, `vpn ${EU} [${euDep}]`]);
    emu.setFaults({});
    expect((await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env })).code).toBe(0);
    return emu.requests();
  } finally {
    await emu.close();
  }
}

describe.concurrent('issue 23 scenarios (built CLI)', () => {
  it('an include_by_default policy moved to another region converges in one apply', async ({ expect }) => {
    await applyOnce(expect, {});
  });

  it('a lost create reply and lagging listings make no duplicate', async ({ expect }) => {
    const log = await applyOnce(expect, {
      readLag: 2,
      script: [{ method: 'POST', pathPattern: 'rulesets$', fault: 'reset_after_commit' }],
    });
    expect(log.filter((r) => r.method === 'POST' && r.path.endsWith('/rulesets'))).toHaveLength(1);
  });

  it('reports convergence truthfully while the re-read lags behind the writes', async ({ expect }) => {
    await applyOnce(expect, { readLag: 2 });
  });
});
