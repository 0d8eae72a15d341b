/**
 * The pure core alone: `buildPlan` (diff + plan) over an estate already in the neutral model, no
 * YAML and no HTTP. Shows whether the core stays linear in N (no quadratic rule or association
 * matching).
 */
import { CAPABILITIES } from '../src/model/capabilities.js';
import { fingerprintOf } from '../src/model/canonical.js';
import type {
  DesiredState,
  LiveEnvironment,
  LivePolicy,
  LiveTarget,
  Rule,
  Target,
} from '../src/model/types.js';
import { buildPlan } from '../src/plan/build-plan.js';
import { changeEstate, ENVIRONMENT, generateEstate, type Estate, type EstateFlavor } from './estate.js';

function targetOf(estate: Estate, index: number): Target {
  const t = estate.targets[index];
  if (!t) throw new Error(`no target ${index}`);
  return estate.flavor === 'ess'
    ? { kind: 'deployment', id: t.id }
    : { kind: 'project', projectType: t.projectType ?? 'elasticsearch', id: t.id };
}

function rulesOf(p: Estate['policies'][number]): Rule[] {
  return p.rules.map((r) => ({ ...r }));
}

export function desiredStateOf(estate: Estate): DesiredState {
  const api = estate.flavor;
  return {
    configDigest: 'bench',
    environments: [
      {
        config: {
          name: ENVIRONMENT,
          api,
          endpoint: 'http://127.0.0.1:1',
          api_key_env: 'EC_API_KEY',
          prune: true,
          protect: [],
          safety: { max_delete_percent: 30, max_dissociate_percent: 30 },
        },
        policies: estate.policies.map((p) => ({
          environment: ENVIRONMENT,
          region: p.region,
          name: p.name,
          type: 'ip' as const,
          description: p.description,
          include_by_default: false,
          rules: rulesOf(p),
        })),
        associations: estate.policies.flatMap((p) =>
          p.targets.map((t) => ({
            environment: ENVIRONMENT,
            target: targetOf(estate, t),
            policyName: p.name,
            allow_unfiltered: false,
          })),
        ),
        allowUnfiltered: [],
      },
    ],
  };
}

/** Live state of the estate; `withPolicies: false` = its targets only (apply from empty). */
export function liveEnvironmentOf(estate: Estate, withPolicies = true): LiveEnvironment {
  const policyIds = new Map<number, string[]>();
  const policies: LivePolicy[] = (withPolicies ? estate.policies : []).map((p) => {
    for (const t of p.targets) policyIds.set(t, [...(policyIds.get(t) ?? []), p.id]);
    const spec = {
      region: p.region,
      name: p.name,
      type: 'ip' as const,
      description: p.description,
      include_by_default: false,
      rules: rulesOf(p),
    };
    return {
      ...spec,
      id: p.id,
      associations: p.targets.map((t) => targetOf(estate, t)),
      hiddenAssociations: 0,
      fingerprint: fingerprintOf({ id: p.id, ...spec }),
    };
  });
  const targets: LiveTarget[] = estate.targets.map((t, i) => ({
    target: targetOf(estate, i),
    region: t.region,
    name: t.name,
    ...(estate.flavor === 'serverless' ? { etag: `"${i}"`, policyIds: policyIds.get(i) ?? [] } : {}),
    fingerprint: fingerprintOf({ id: t.id, region: t.region }),
  }));
  return { environment: ENVIRONMENT, policies, targets, complete: true, requests: 0 };
}

export interface CoreMeasure {
  flavor: EstateFlavor;
  size: number;
  scenario: 'no changes' | '10% changed' | 'from empty';
  operations: number;
  /** CPU of the first call in this process (what one CLI run pays). */
  firstCpuMs: number;
  /** Best CPU of the repeated calls (warm JIT). */
  bestCpuMs: number;
}

function cpuMsOf(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

/** buildPlan CPU for the three scenarios at one size; `repeat` warm runs after the first. */
export function measureCore(flavor: EstateFlavor, size: number, repeat = 3): CoreMeasure[] {
  const base = generateEstate(flavor, size);
  const live = liveEnvironmentOf(base);
  const empty = liveEnvironmentOf(base, false);
  const scenarios = [
    { scenario: 'no changes' as const, desired: desiredStateOf(base), live },
    { scenario: '10% changed' as const, desired: desiredStateOf(changeEstate(base).estate), live },
    { scenario: 'from empty' as const, desired: desiredStateOf(base), live: empty },
  ];
  return scenarios.map(({ scenario, desired, live: l }) => {
    const inputs = desired.environments.map((env) => ({
      desired: env,
      live: l,
      capabilities: CAPABILITIES[flavor],
    }));
    let operations = 0;
    const run = (): void => {
      const { plan, diagnostics } = buildPlan(desired, inputs, { force: true });
      if (diagnostics.length > 0) throw new Error(`core bench: ${diagnostics[0]?.message ?? ''}`);
      operations = plan.operations.length;
    };
    const firstCpuMs = cpuMsOf(run);
    let bestCpuMs = firstCpuMs;
    for (let i = 0; i < repeat; i++) bestCpuMs = Math.min(bestCpuMs, cpuMsOf(run));
    return { flavor, size, scenario, operations, firstCpuMs, bestCpuMs };
  });
}
