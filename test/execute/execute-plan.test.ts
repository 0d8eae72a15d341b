import { describe, expect, it } from 'vitest';
import { CAPABILITIES } from '../../src/model/capabilities.js';
import { executePlan, type OperationResult } from '../../src/execute/execute-plan.js';
import { silentLogger } from '../../src/log.js';
import type { DesiredEnvironment } from '../../src/model/types.js';
import { PHASE_OF, type Plan } from '../../src/plan/types.js';
import {
  association,
  deployment,
  desiredEnv,
  planOne,
  policy,
  project,
  rule,
} from '../support/core-fixtures.js';
import { MemoryBackend, type BackendCall } from './memory-backend.js';

const T = deployment('t1');
const T2 = deployment('t2');

async function planAndRun(
  backend: MemoryBackend,
  desired: DesiredEnvironment,
  concurrency = 4,
): Promise<{ plan: Plan; report: Awaited<ReturnType<typeof executePlan>>; seen: OperationResult[] }> {
  const live = await backend.read();
  const { plan, diagnostics } = planOne(desired, live);
  expect(diagnostics).toEqual([]);
  expect(plan.refusals).toEqual([]);
  const seen: OperationResult[] = [];
  const report = await executePlan(plan, new Map([['prod', { backend, live }]]), {
    concurrency,
    logger: silentLogger(),
    onResult: (r) => seen.push(r),
  });
  return { plan, report, seen };
}

const phaseOfCall = (c: BackendCall): number =>
  ({
    createPolicy: PHASE_OF.create,
    updatePolicy: PHASE_OF.update,
    associate: PHASE_OF.associate,
    writeTargetPolicies: PHASE_OF.associate,
    dissociate: PHASE_OF.dissociate,
    deletePolicy: PHASE_OF.delete,
  })[c.method];

describe('executePlan', () => {
  it('runs phases in order and converges: re-plan is empty', async () => {
    const backend = new MemoryBackend(CAPABILITIES.ess)
      .addTarget(T)
      .addTarget(T2)
      .addPolicy('A', { ...policy('a'), description: 'old' }, [T])
      .addPolicy('P', policy('pruned'), [T2]);
    const desired = desiredEnv({
      prune: true,
      policies: [policy('a'), policy('b')],
      associations: [association(T, 'b'), association(T2, 'b')],
    });
    const { plan, report } = await planAndRun(backend, desired);
    expect(plan.operations.map((o) => o.action)).toEqual([
      'create',
      'update',
      'associate',
      'associate',
      'dissociate',
      'dissociate',
      'delete',
    ]);
    const phases = backend.calls.map(phaseOfCall);
    expect(phases).toEqual([...phases].sort((a, b) => a - b));
    expect(report).toMatchObject({ done: 7, failed: 0, skipped: 0 });
    expect(report.results.map((r) => r.id)).toEqual(plan.operations.map((o) => o.id));
    // The created policy's id flowed into its associations.
    const created = report.results.find((r) => r.action === 'create')?.policyId;
    expect(created).toMatch(/^NEW/);
    expect(backend.associationsOf(created!)).toEqual(['deployment:t1', 'deployment:t2']);
    expect(backend.policyIds()).toEqual(['A', created!].sort());
    expect(planOne(desired, await backend.read()).plan.operations).toEqual([]);
  });

  it('never has more than N writes in flight', async () => {
    const backend = new MemoryBackend(CAPABILITIES.ess, { delayMs: 5 });
    const desired = desiredEnv({ policies: Array.from({ length: 20 }, (_, i) => policy(`p${i}`)) });
    const { report } = await planAndRun(backend, desired, 3);
    expect(report.done).toBe(20);
    expect(backend.maxInFlight).toBe(3);
  });

  it('a failed create skips its associations and what depends on them, nothing else', async () => {
    const backend = new MemoryBackend(CAPABILITIES.ess, {
      fail: (c) => c.method === 'createPolicy' && c.policy === 'b',
    })
      .addTarget(T)
      .addTarget(T2)
      .addPolicy('A', policy('a'), [T])
      .addPolicy('P', policy('pruned'), [T2])
      .addPolicy('U', policy('unmanaged-but-declared', { description: 'x' }));
    const desired = desiredEnv({
      prune: true,
      policies: [policy('a'), policy('b'), policy('c'), policy('unmanaged-but-declared')],
      associations: [association(T, 'b'), association(T2, 'c')],
    });
    const { report, seen } = await planAndRun(backend, desired);
    const status = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
    expect(status).toEqual({
      'create:prod/us-east-1/b': 'failed',
      'create:prod/us-east-1/c': 'done',
      'update:prod/us-east-1/unmanaged-but-declared': 'done',
      'associate:prod/us-east-1/b→deployment:t1': 'skipped',
      'associate:prod/us-east-1/c→deployment:t2': 'done',
      'dissociate:prod/us-east-1/a@A→deployment:t1': 'skipped',
      'dissociate:prod/us-east-1/pruned@P→deployment:t2': 'done',
      'delete:prod/us-east-1/pruned@P': 'done',
    });
    expect(report).toMatchObject({ done: 5, failed: 1, skipped: 2 });
    expect(report.results.find((r) => r.status === 'failed')?.reason).toContain('injected failure');
    expect(report.results.find((r) => r.id.startsWith('associate:prod/us-east-1/b'))?.reason).toContain(
      'create:prod/us-east-1/b',
    );
    // Make before break held: t1 still has its old policy.
    expect(backend.associationsOf('A')).toEqual(['deployment:t1']);
    expect(seen).toHaveLength(8);
  });

  it('a failed replacement keeps the old policy (its delete is skipped)', async () => {
    const backend = new MemoryBackend(CAPABILITIES.ess, {
      fail: (c) => c.method === 'createPolicy',
    }).addPolicy('OLD', policy('office'));
    const desired = desiredEnv({ policies: [policy('office', { type: 'vpce', rules: [rule('vpce-1')] })] });
    const { report } = await planAndRun(backend, desired);
    expect(report.results.map((r) => [r.action, r.status])).toEqual([
      ['replace', 'failed'],
      ['delete', 'skipped'],
    ]);
    expect(backend.policyIds()).toEqual(['OLD']);
  });

  describe('per-target back ends', () => {
    const p1 = project('p1');
    const p2 = project('p2');
    const p3 = project('p3');

    it('write each target once, carrying its adds and removes; targets that only lose policies too', async () => {
      const backend = new MemoryBackend(CAPABILITIES.serverless)
        .addTarget(p1)
        .addTarget(p2)
        .addTarget(p3)
        .addPolicy('A', policy('a'), [p1, p2, p3])
        .addPolicy('E', policy('extra'), [p3]);
      const desired = desiredEnv({
        api: 'serverless',
        // 'extra' stays undeclared: unmanaged, kept on p3 by the write (which only removes 'A').
        policies: [policy('a'), policy('b')],
        associations: [association(p1, 'b'), association(p2, 'b'), association(p2, 'a')],
      });
      const { report } = await planAndRun(backend, desired);
      expect(report).toMatchObject({ failed: 0, skipped: 0 });
      const created = report.results.find((r) => r.action === 'create')?.policyId;
      const writes = backend.calls.filter((c) => c.method === 'writeTargetPolicies');
      expect(writes).toEqual([
        { method: 'writeTargetPolicies', target: 'project:elasticsearch:p1', add: [created], remove: ['A'] },
        { method: 'writeTargetPolicies', target: 'project:elasticsearch:p2', add: [created], remove: [] },
        { method: 'writeTargetPolicies', target: 'project:elasticsearch:p3', add: [], remove: ['A'] },
      ]);
      expect(backend.calls.some((c) => c.method === 'associate' || c.method === 'dissociate')).toBe(false);
      expect(backend.associationsOf('A')).toEqual(['project:elasticsearch:p2']);
      expect(backend.associationsOf('E')).toEqual(['project:elasticsearch:p3']);
      expect(planOne(desired, await backend.read()).plan.operations).toEqual([]);
    });

    it('a plan that only removes policies still writes each target once', async () => {
      const backend = new MemoryBackend(CAPABILITIES.serverless)
        .addTarget(p1)
        .addPolicy('A', policy('a'), [p1])
        .addPolicy('P', policy('pruned'), [p1]);
      const desired = desiredEnv({
        api: 'serverless',
        prune: true,
        policies: [policy('a')],
        associations: [association(p1, 'a')],
      });
      const { report } = await planAndRun(backend, desired);
      expect(report.results.map((r) => [r.action, r.status])).toEqual([
        ['dissociate', 'done'],
        ['delete', 'done'],
      ]);
      expect(backend.calls).toEqual([
        { method: 'writeTargetPolicies', target: 'project:elasticsearch:p1', add: [], remove: ['P'] },
        { method: 'deletePolicy', policy: 'P' },
      ]);
    });

    it('a failed create skips the target write parts that depend on it', async () => {
      const backend = new MemoryBackend(CAPABILITIES.serverless, { fail: (c) => c.method === 'createPolicy' })
        .addTarget(p1)
        .addTarget(p2)
        .addPolicy('A', policy('a'), [p1])
        .addPolicy('C', policy('c'), [p2]);
      const desired = desiredEnv({
        api: 'serverless',
        policies: [policy('a'), policy('b'), policy('c')],
        associations: [association(p1, 'b'), association(p2, 'c'), association(p2, 'a')],
      });
      const { report } = await planAndRun(backend, desired);
      const status = Object.fromEntries(report.results.map((r) => [r.id, r.status]));
      expect(status).toEqual({
        'create:prod/us-east-1/b': 'failed',
        'associate:prod/us-east-1/a→project:elasticsearch:p2': 'done',
        'associate:prod/us-east-1/b→project:elasticsearch:p1': 'skipped',
        'dissociate:prod/us-east-1/a@A→project:elasticsearch:p1': 'skipped',
      });
      expect(backend.calls.filter((c) => c.method === 'writeTargetPolicies')).toEqual([
        { method: 'writeTargetPolicies', target: 'project:elasticsearch:p2', add: ['A'], remove: [] },
      ]);
      expect(backend.associationsOf('A').sort()).toEqual([
        'project:elasticsearch:p1',
        'project:elasticsearch:p2',
      ]);
    });
  });

  it('reports an environment with no back end as failed operations, not a throw', async () => {
    const backend = new MemoryBackend(CAPABILITIES.ess);
    const live = await backend.read();
    const { plan } = planOne(desiredEnv({ policies: [policy('a')] }), live);
    const report = await executePlan(plan, new Map(), { concurrency: 2, logger: silentLogger() });
    expect(report).toMatchObject({ done: 0, failed: 1, skipped: 0 });
    expect(report.results[0]?.reason).toContain('not loaded');
  });
});
