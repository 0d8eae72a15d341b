/**
 * Two writers converge (SPEC §2): two `apply --auto-approve` at once on one environment may each
 * create every new policy. Neither may claim convergence while duplicates exist, and the next
 * apply merges the identical copies: one policy per declared name, every declared association.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import type { RequestLogEntry } from '../../src/emulator/types.js';
import { makeProject, runCli, type CliResult } from '../support/cli.js';

const REGION = 'us-east-1';
const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const DEPLOYMENTS = ['d0', 'd1', 'd2'].map((d) => d.padEnd(32, '0'));
const EU = ['e0', 'e1'].map((d) => d.padEnd(32, '0'));
const NAMES = Array.from({ length: 60 }, (_, i) => `p${String(i).padStart(2, '0')}`);
const CONVERGED = 'Converged: live state matches the configuration.';
const env = { EC_API_KEY: 'concurrent-apply-key' };

const policyFile = (): string =>
  [
    'environment: prod',
    'policies:',
    ...NAMES.flatMap((n, i) => [
      `  - name: ${n}`,
      `    region: ${REGION}`,
      '    type: ip',
      '    rules:',
      `      - source: 10.${i}.0.0/16`,
    ]),
    'associations:',
    ...NAMES.flatMap((n, i) => [`  - deployment: ${DEPLOYMENTS[i % 3]}`, `    policies: [${n}]`]),
    '',
  ].join('\n');

/** Names in REGION with more than one live ruleset (in a listing, or in the emulator's state). */
function duplicatedNames(rulesets: readonly { name: string; region: string }[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const r of rulesets) {
    if (r.region !== REGION) continue;
    const key = `${r.region}/${r.name}`;
    if (seen.has(key)) dups.add(key);
    seen.add(key);
  }
  return [...dups];
}

const listed = (e: RequestLogEntry): { name: string; region: string }[] =>
  (e.responseBody as { rulesets: { name: string; region: string }[] }).rulesets;

describe('two applies at once, then one more', () => {
  let emulator: Emulator;
  let dir: string;

  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      recordBodies: true,
      seed: {
        deployments: [
          ...DEPLOYMENTS.map((id, i) => ({ id, name: `prod-${i}`, region: REGION })),
          ...EU.map((id, i) => ({ id, name: `eu-${i}`, region: 'eu-west-1' })),
        ],
        // What an interrupted pair of applies can leave in another region: identical copies of
        // 'same' (each on one of its targets), and two 'differs' that are not copies.
        rulesets: [
          {
            name: 'same',
            region: 'eu-west-1',
            type: 'ip',
            rules: [{ source: '10.1.0.0/16' }],
            associations: [EU[0] ?? ''],
          },
          {
            name: 'same',
            region: 'eu-west-1',
            type: 'ip',
            rules: [{ source: '10.1.0.0/16' }],
            associations: [EU[1] ?? ''],
          },
          {
            name: 'differs',
            region: 'eu-west-1',
            type: 'ip',
            rules: [{ source: '10.2.0.0/16' }],
            associations: [EU[0] ?? ''],
          },
          { name: 'differs', region: 'eu-west-1', type: 'ip', rules: [{ source: '10.3.0.0/16' }] },
        ],
      },
    });
    dir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'policies/main.yaml': policyFile(),
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('no run claims convergence while duplicates exist; the next apply leaves one policy per name', async () => {
    // Some latency, so that the two runs' reads and creates overlap.
    emulator.setFaults({ latencyMs: 40 });
    const runs: CliResult[] = await Promise.all([
      runCli(['apply', '--auto-approve'], { cwd: dir, env }),
      runCli(['apply', '--auto-approve'], { cwd: dir, env }),
    ]);
    for (const r of runs) {
      // 0 with the claim, or 5 (every operation done, not converged) without it.
      expect([0, 5], r.stdout + r.stderr).toContain(r.code);
      expect(r.stdout.includes(CONVERGED)).toBe(r.code === 0);
      if (r.code === 5) expect(r.stdout).toMatch(/Not converged: .*more than one live copy/);
    }
    // A run's claim rests on its own re-read, which came after its own writes: there must be at
    // least as many listings without duplicates, answered after the first write, as claims.
    const log = emulator.requests();
    const firstWrite = log.findIndex((e) => e.method === 'POST');
    const cleanReads = log
      .slice(firstWrite)
      .filter((e) => e.method === 'GET' && e.path === RULESETS && duplicatedNames(listed(e)).length === 0);
    const claims = runs.filter((r) => r.stdout.includes(CONVERGED)).length;
    expect(claims).toBeLessThanOrEqual(cleanReads.length);
    const duplicatesLeft = duplicatedNames(emulator.state().rulesets);

    emulator.setFaults({});
    const again = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain(CONVERGED);
    if (duplicatesLeft.length > 0) {
      // Merged under the usual guards: not refused as a mass deletion, said so in the plan.
      expect(again.stdout).toMatch(/duplicate: 2 identical live policies named 'p\d\d'/);
      expect(again.stdout).toMatch(/delete +us-east-1\/p\d\d \(ip, \w+, duplicate\)/);
    }

    const rulesets = emulator.state().rulesets.filter((r) => r.region === REGION);
    expect(rulesets.map((r) => r.name).sort()).toEqual(NAMES);
    for (const [i, name] of NAMES.entries()) {
      expect(rulesets.find((r) => r.name === name)?.associations, name).toEqual([DEPLOYMENTS[i % 3]]);
    }
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('No changes. Live state matches the configuration.');
  });

  it('merges identical copies but never reports convergence while copies that differ remain', async () => {
    const eu = makeProject({
      'ecfence.yaml': `environments:\n  eu:\n    api: ess\n    endpoint: ${emulator.url}\n    regions: [eu-west-1]\n`,
      'policies/eu.yaml': [
        'environment: eu',
        'policies:',
        ...['same', 'differs'].flatMap((n, i) => [
          `  - name: ${n}`,
          '    region: eu-west-1',
          '    type: ip',
          '    rules:',
          `      - source: 10.${i + 1}.0.0/16`,
        ]),
        'associations:',
        ...EU.flatMap((d) => [`  - deployment: ${d}`, '    policies: [same]']),
        '',
      ].join('\n'),
    });
    const r = await runCli(['apply', '--auto-approve'], { cwd: eu, env });
    // The refusal of 'differs' (exit 4) does not block merging 'same'.
    expect(r.code, r.stdout + r.stderr).toBe(4);
    expect(r.stdout).toContain(
      "refused [ambiguous_policy] eu: policy 'differs' in eu-west-1 matches 2 live policies",
    );
    expect(r.stdout).not.toMatch(/No changes|matches the configuration/);
    expect(r.stdout).toMatch(/Not converged: 1 declared policy\(ies\) have more than one live copy;/);
    const same = emulator.state().rulesets.filter((x) => x.name === 'same');
    expect(same).toHaveLength(1);
    expect([...(same[0]?.associations ?? [])].sort()).toEqual(EU);
  });
});
