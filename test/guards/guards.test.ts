/**
 * Safety guards end to end (SPEC §1.1, §2, §4): the built binary against the emulator. Every
 * refusal names the guard, the numbers and the override, exits 4 from `plan` and from `apply`,
 * and sends no write. `--force` lifts the percentage guards and nothing else.
 */
import { describe, it, type ExpectStatic } from 'vitest';
import { startEmulator, type Emulator, type SeedData } from '../../src/emulator/index.js';
import { makeProject, runCli, type CliResult } from '../support/cli.js';

const KEY = 'essu_guards_test_key_0123456789';
const REGION = 'azure-japaneast';
const COUNT = 12;
const pad = (i: number): string => String(i).padStart(2, '0');
const dep = (i: number): string => `d${pad(i)}`.padEnd(32, '0');
const name = (i: number): string => `p${pad(i)}`;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/**
 * 12 deployments; policy pNN on deployment dNN, and `base` on every deployment, so that removing
 * one pNN never leaves a deployment unfiltered.
 */
const seed: SeedData = {
  deployments: range(COUNT).map((i) => ({ id: dep(i), name: `dep-${pad(i)}`, region: REGION })),
  rulesets: [
    ...range(COUNT).map((i) => ({
      name: name(i),
      region: REGION,
      type: 'ip',
      rules: [{ source: `10.${i}.0.0/16` }],
      associations: [dep(i)],
    })),
    {
      name: 'base',
      region: REGION,
      type: 'ip',
      rules: [{ source: '192.168.0.0/16' }],
      associations: range(COUNT).map(dep),
    },
  ],
};

interface Layout {
  /** Policies declared (by index); `base` is always declared. */
  declared?: number[];
  /** Deployments that keep `base`. */
  baseOn?: number[];
  /** Deployments that keep their own pNN. */
  ownOn?: number[];
  extraPolicies?: string;
  extraAssociations?: string;
  protect?: string[];
  /** Type of p02 (a change is a replacement). */
  p02Type?: 'ip' | 'vpce';
}

function files(url: string, layout: Layout = {}): Record<string, string> {
  const declared = layout.declared ?? range(COUNT);
  const baseOn = new Set(layout.baseOn ?? range(COUNT));
  const ownOn = new Set(layout.ownOn ?? declared);
  const policy = (n: string, source: string, type = 'ip'): string =>
    `  - name: ${n}\n    region: ${REGION}\n    type: ${type}\n    rules:\n      - source: ${source}\n`;
  const policies = [
    policy('base', '192.168.0.0/16'),
    ...declared.map((i) =>
      i === 2 && layout.p02Type === 'vpce'
        ? policy(name(i), 'vpce-0a1b2c3d4e5f60718', 'vpce')
        : policy(name(i), `10.${i}.0.0/16`),
    ),
  ].join('');
  const associations = range(COUNT)
    .map((i) => {
      const list = [
        ...(baseOn.has(i) ? ['base'] : []),
        ...(ownOn.has(i) && declared.includes(i) ? [name(i)] : []),
      ];
      return list.length > 0 ? `  - deployment: ${dep(i)}\n    policies: [${list.join(', ')}]\n` : '';
    })
    .join('');
  return {
    'ecfence.yaml': `environments:
  prod:
    api: ess
    endpoint: ${url}
    prune: true
    protect: [${(layout.protect ?? []).join(', ')}]
safety:
  max_delete_percent: 30
  max_dissociate_percent: 30
`,
    'policies/main.yaml': `environment: prod\npolicies:\n${policies}${layout.extraPolicies ?? ''}associations:\n${associations}${layout.extraAssociations ?? ''}`,
  };
}

async function withEmulator<T>(fn: (emu: Emulator) => Promise<T>): Promise<T> {
  const emu = await startEmulator({ flavor: 'cloud', port: 0, seed });
  try {
    return await fn(emu);
  } finally {
    await emu.close();
  }
}

const writes = (emu: Emulator): number => emu.requests().filter((r) => r.method !== 'GET').length;
const run = (dir: string, args: string[]): Promise<CliResult> =>
  runCli(args, { cwd: dir, env: { EC_API_KEY: KEY } });

/** Exit 4 from plan and from apply, the refusal on stdout with its override, and no write sent. */
async function expectRefused(
  expect: ExpectStatic,
  emu: Emulator,
  dir: string,
  extraArgs: string[],
  refusal: RegExp,
  override: string,
): Promise<void> {
  const plan = await run(dir, ['plan', ...extraArgs]);
  expect(plan.stdout).toMatch(refusal);
  expect(plan.stdout).toContain(`to override: ${override}`);
  expect(plan.code).toBe(4);
  const apply = await run(dir, ['apply', '--auto-approve', ...extraArgs]);
  expect(apply.stdout).toMatch(refusal);
  expect(apply.stderr).toMatch(
    /^refused \[\w+\]: \d+ safety guard\(s\) refused this plan; nothing was changed/m,
  );
  expect(apply.code).toBe(4);
  expect(writes(emu)).toBe(0);
}

describe.concurrent('safety guards (built binary)', () => {
  it('max_delete_percent refuses pruning 5 of 13 managed policies until --force', ({ expect }) =>
    withEmulator(async (emu) => {
      const dir = makeProject(files(emu.url, { declared: range(COUNT).slice(5) }));
      await expectRefused(
        expect,
        emu,
        dir,
        [],
        /refused \[max_delete_percent\] prod: plan deletes 5 of 13 managed policies \(38%\), above max_delete_percent 30%/,
        'apply with --force, or raise safety.max_delete_percent',
      );
      const forcedPlan = await run(dir, ['plan', '--force', '--detailed-exitcode']);
      expect(forcedPlan.stdout).not.toContain('refused');
      expect(forcedPlan.stdout).toContain('5 to delete');
      expect(forcedPlan.code).toBe(2);
      const forced = await run(dir, ['apply', '--auto-approve', '--force']);
      expect(forced.stdout).toContain('Converged');
      expect(forced.code).toBe(0);
      expect(
        emu
          .state()
          .rulesets.map((r) => r.name)
          .sort(),
      ).toEqual(['base', ...range(COUNT).slice(5).map(name)]);
    }));

  it('max_dissociate_percent refuses removing 8 of 24 associations until --force', ({ expect }) =>
    withEmulator(async (emu) => {
      const dir = makeProject(files(emu.url, { baseOn: range(COUNT).slice(8) }));
      await expectRefused(
        expect,
        emu,
        dir,
        [],
        /refused \[max_dissociate_percent\] prod: plan removes 8 of 24 associations of managed policies \(33%\), above max_dissociate_percent 30%/,
        'apply with --force, or raise safety.max_dissociate_percent',
      );
      const forced = await run(dir, ['apply', '--auto-approve', '--force']);
      expect(forced.code).toBe(0);
      const base = emu.state().rulesets.find((r) => r.name === 'base');
      expect(base?.associations.sort()).toEqual(range(COUNT).slice(8).map(dep));
    }));

  it('the unfiltered-target guard holds even with --force', ({ expect }) =>
    withEmulator(async (emu) => {
      // d01 loses both base and p01: nothing would filter it any more.
      const dir = makeProject(
        files(emu.url, { baseOn: range(COUNT).slice(1), ownOn: range(COUNT).slice(1) }),
      );
      await expectRefused(
        expect,
        emu,
        dir,
        ['--force'],
        new RegExp(
          `refused \\[unfiltered_target\\] prod: deployment ${dep(1)}.* would be left with no ingress policy`,
        ),
        'declare an ingress policy for it, or set allow_unfiltered: true on its association entry',
      );
    }));

  it('protect: a protected policy is never pruned, and replacing it is refused even with --force', ({
    expect,
  }) =>
    withEmulator(async (emu) => {
      const dir = makeProject(files(emu.url, { protect: ['p02'], p02Type: 'vpce' }));
      await expectRefused(
        expect,
        emu,
        dir,
        ['--force'],
        /refused \[protected_policy\] prod: policy 'p02' \([0-9a-f]+\) is protected, but replacing it would delete it/,
        "remove 'p02' from environments.prod.protect to allow the replacement",
      );

      // Removed from the YAML with prune on: shown, kept, not an error.
      const removed = makeProject(
        files(emu.url, { protect: ['p02'], declared: range(COUNT).filter((i) => i !== 2) }),
      );
      const plan = await run(removed, ['plan']);
      expect(plan.stdout).toMatch(/protected, not pruned: p02 /);
      expect(plan.stdout).not.toMatch(/delete .*p02/);
      const apply = await run(removed, ['apply', '--auto-approve']);
      expect(apply.code).toBe(0);
      expect(emu.state().rulesets.some((r) => r.name === 'p02')).toBe(true);
      expect(writes(emu)).toBe(0);
    }));

  it('apply --no-delete is additive only: creates and attaches, never deletes or detaches', ({ expect }) =>
    withEmulator(async (emu) => {
      const dir = makeProject(
        files(emu.url, {
          declared: range(COUNT).slice(5),
          baseOn: range(COUNT).slice(8),
          extraPolicies: `  - name: vpn\n    region: ${REGION}\n    type: ip\n    rules:\n      - source: 172.16.0.0/12\n`,
          extraAssociations: `  - deployment: ${dep(1)}\n    policies: [vpn]\n`,
        }),
      );
      // The same change without --no-delete trips both percentage guards.
      expect((await run(dir, ['plan'])).code).toBe(4);

      const plan = await run(dir, ['plan', '--no-delete', '--detailed-exitcode']);
      expect(plan.stdout).not.toContain('refused');
      expect(plan.stdout).toContain(
        'Plan: 1 to create, 0 to replace, 0 to update, 1 to associate, 0 to dissociate, 0 to delete',
      );
      expect(plan.code).toBe(2);
      const apply = await run(dir, ['apply', '--auto-approve', '--no-delete']);
      expect(apply.stdout).toContain('Converged');
      expect(apply.code).toBe(0);
      expect(emu.requests().filter((r) => r.method === 'DELETE')).toEqual([]);
      const state = emu.state();
      expect(state.rulesets).toHaveLength(COUNT + 2);
      expect(state.rulesets.find((r) => r.name === 'base')?.associations).toHaveLength(COUNT);
      expect(state.rulesets.find((r) => r.name === 'vpn')?.associations).toEqual([dep(1)]);
    }));
});
