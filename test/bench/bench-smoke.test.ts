/**
 * Smoke test of the benchmark (bench/): the generator, one small run of every scenario against the
 * built CLI and the emulator in a child process, and the report. Times are never asserted; request
 * counts are deterministic and are.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselinePaths } from '../../bench/baseline.js';
import { measureCore } from '../../bench/core.js';
import { associationCount, changeEstate, generateEstate, seedOf, yamlFilesOf } from '../../bench/estate.js';
import { judgeEnvironments, renderEnvironments, runEnvironments } from '../../bench/environments.js';
import { judgeTargets, PLAN_REQUEST_LIMIT, renderReport } from '../../bench/report.js';
import { runEstate, writesInPhaseOrder, type EstateOptions } from '../../bench/scenarios.js';

const quiet: EstateOptions = {
  latencyMs: 0,
  concurrency: 8,
  applyChanged: true,
  applyFromEmpty: true,
  baseline: true,
  planRuns: 2,
  progress: () => undefined,
};

describe('bench estate generator', () => {
  it('makes N policies of 20 rules, 3 associations each, in the targets’ regions', () => {
    const estate = generateEstate('ess', 40);
    expect(estate.policies).toHaveLength(40);
    expect(estate.targets).toHaveLength(20);
    expect(estate.policies.every((p) => p.rules.length === 20)).toBe(true);
    expect(associationCount(estate)).toBe(120);
    for (const p of estate.policies) {
      expect(new Set(p.targets).size).toBe(3);
      for (const t of p.targets) expect(estate.targets[t]?.region).toBe(p.region);
    }
    expect(seedOf(estate).rulesets).toHaveLength(40);
    expect(seedOf(estate, false).rulesets).toHaveLength(0);
    expect(baselinePaths(estate)).toHaveLength(40 + 120);
  });

  it('makes the largest estate of an organisation: 128 distinct networks per policy, in its /24', () => {
    const estate = generateEstate('ess', 12, 128);
    for (const p of estate.policies) {
      const sources = p.rules.map((r) => r.source);
      expect(new Set(sources).size).toBe(128);
      expect(sources.every((x) => /^\d+\.\d+\.\d+\.\d+\/31$/.test(x))).toBe(true);
    }
    const changed = changeEstate(estate).estate.policies[0]?.rules[0]?.source;
    expect(changed).toMatch(/\/32$/);
    expect(() => generateEstate('ess', 1, 129)).toThrow(/1 to 128/);
  });

  it('changes every tenth policy and keeps the policy count', () => {
    const base = generateEstate('serverless', 100);
    const { estate, summary } = changeEstate(base);
    expect(summary).toEqual({ updated: 4, moved: 4, deleted: 2, created: 2 });
    expect(estate.policies).toHaveLength(100);
    expect(new Set(base.targets.map((t) => t.projectType))).toEqual(
      new Set(['elasticsearch', 'observability', 'security']),
    );
    expect([...yamlFilesOf(estate).keys()]).toContain('policies/associations.yaml');
  });
});

describe('phase order check', () => {
  it('accepts writes in phase order and refuses a step back', () => {
    const create = { method: 'POST', path: '/api/v1/deployments/traffic-filter/rulesets', status: 201 };
    const associate = { ...create, path: `${create.path}/a1/associations` };
    const remove = { method: 'DELETE', path: `${create.path}/a1`, status: 200 };
    expect(writesInPhaseOrder([create, associate, remove])).toBe(true);
    expect(writesInPhaseOrder([associate, create])).toBe(false);
  });
});

describe('emulator process of the bench', () => {
  it('does not outlive a bench process that exits without closing it', { timeout: 60_000 }, async () => {
    const script = `
      const { startEmulatorProcess } = await import(${JSON.stringify(join(process.cwd(), 'dist', 'bench', 'emulator-process.js'))});
      const emulator = await startEmulatorProcess({ flavor: 'cloud', seed: {}, latencyMs: 0 });
      console.log(emulator.url);
      process.exit(1);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const url = run.stdout.trim();
    expect(url, run.stderr).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await expect(fetch(`${url}/_emulator/requests`)).rejects.toThrow();
  });
});

// Each run has its own emulator process and directories, and times are not asserted: the runs
// can share the machine.
describe.concurrent('bench scenarios (built CLI, emulator in a child process)', () => {
  it('runs every scenario of a small ess estate and reports it', { timeout: 180_000 }, async ({ expect }) => {
    const result = await runEstate('ess', 20, quiet);
    expect(result.scenarios.map((s) => s.scenario)).toEqual([
      'plan, no changes',
      'plan, 10% changed',
      'baseline read',
      'apply, 10% changed',
      'apply, from empty',
    ]);
    const by = (name: string) => result.scenarios.find((s) => s.scenario === name);
    expect(by('plan, no changes')?.requests.total).toBe(2);
    // Plans are measured twice after a warm-up: the median and the range are reported.
    expect(by('plan, no changes')?.runs).toBe(2);
    const range = by('plan, no changes')?.wallRangeMs ?? [0, 0];
    expect(range[0]).toBeLessThanOrEqual(by('plan, no changes')?.wallMs ?? -1);
    expect(range[1]).toBeGreaterThanOrEqual(by('plan, no changes')?.wallMs ?? Infinity);
    expect(by('plan, no changes')?.operations).toBe(0);
    expect(by('plan, 10% changed')?.operations).toBeGreaterThan(0);
    expect(by('baseline read')?.requests.total).toBe(20 + 60);
    for (const name of ['apply, 10% changed', 'apply, from empty']) {
      const apply = by(name);
      expect(apply?.converged).toBe(true);
      expect(apply?.ordered).toBe(true);
      expect(apply?.requests.errors).toBe(0);
      expect(apply?.executeMs).toBeDefined();
    }
    // From empty: one create per policy and one association per pair, plus two reads.
    expect(by('apply, from empty')?.requests.writes).toBe(20 + 60);
    for (const s of result.scenarios) {
      expect(s.wallMs).toBeGreaterThan(0);
      expect(s.cpuMs).toBeGreaterThan(0);
      expect(s.peakRssMb).toBeGreaterThan(0);
    }

    const core = measureCore('ess', 50, 1);
    expect(core.map((c) => c.operations)).toEqual([0, 14, 200]);
    const startup = { runs: 1, medianMs: 1, minMs: 1, nodeMedianMs: 1 };
    const options = { sizes: [20], latencyMs: 0, concurrency: 8, coreSize: 50 };
    const targets = judgeTargets([result], core, startup, options);
    expect(targets.find((t) => t.name.startsWith('plan requests do not grow with N (ess'))?.met).toBe(true);
    const markdown = renderReport({
      machine: { cpus: 1, cpuModel: 'test', memoryGb: 1, node: '20', platform: 'test', date: '2000-01-01' },
      options,
      estates: [result],
      core,
      startup,
      targets,
    });
    for (const heading of ['## Targets', '## Reading an estate', '## Every scenario', '## The pure core']) {
      expect(markdown).toContain(heading);
    }
  });

  for (const flavor of ['ess', 'serverless'] as const) {
    it(
      `plans ${flavor} estates of 10 and 200 policies in the same few requests`,
      { timeout: 180_000 },
      async ({ expect }) => {
        const results = await Promise.all(
          [10, 200].map((size) =>
            runEstate(flavor, size, {
              ...quiet,
              applyChanged: false,
              applyFromEmpty: false,
              baseline: false,
            }),
          ),
        );
        const counts = results.flatMap((result) => result.scenarios.map((s) => s.requests.total));
        expect(counts).toHaveLength(4);
        if (flavor === 'ess') expect(counts).toEqual([2, 2, 2, 2]);
        else for (const c of counts) expect(c).toBeLessThanOrEqual(PLAN_REQUEST_LIMIT.serverless);
        expect(new Set(counts).size).toBe(1);
      },
    );
  }
});

describe('many-environments bench (built CLI, emulators in one child process)', () => {
  it(
    'measures a plan, an apply and a rate-limited apply, and judges them',
    { timeout: 120_000 },
    async () => {
      const result = await runEnvironments(
        {
          latencyMs: 0,
          concurrency: 8,
          parallel: 8,
          planEnvironments: 6,
          applyEnvironments: 2,
          policies: 4,
          planRuns: 1,
          rateLimit: 20,
          rateLimitPolicies: 5,
          progress: () => undefined,
        },
        { plan: true, apply: true, rateLimit: true },
      );
      expect(result.plan?.byApi).toEqual({ ess: 2, ece: 2, serverless: 2 });
      expect(result.plan?.requests).toMatchObject({ ess: [2, 2], ece: [2, 2] });
      expect(result.plan?.requests.serverless?.[1]).toBeLessThanOrEqual(6);
      expect(result.apply).toMatchObject({ exitCode: 0, converged: true, failed: 0, operations: 2 * 16 });
      expect(result.rateLimited).toMatchObject({ exitCode: 0, converged: true, failed: 0, operations: 20 });
      const verdicts = judgeEnvironments(result);
      expect(verdicts.map((t) => t.met)).toHaveLength(4);
      expect(verdicts[1]?.met).toBe(true);
      expect(renderEnvironments(result).join('\n')).toContain('## Many environments in one run');
    },
  );
});
