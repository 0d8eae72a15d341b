import { CAPABILITIES } from '../../src/model/capabilities.js';
import type {
  ApiKind,
  DesiredAssociation,
  DesiredEnvironment,
  DesiredPolicy,
  DesiredState,
  LiveEnvironment,
  LivePolicy,
  LiveTarget,
  ProjectType,
  Rule,
  Target,
} from '../../src/model/types.js';
import { buildPlan, type PlanResult } from '../../src/plan/build-plan.js';
import type { EnvironmentInput, Operation, Plan, PlanOptions } from '../../src/plan/types.js';

/**
 * Builders of plain core data (desired and live state) for diff, plan and execute tests. Defaults:
 * environment `prod`, region `us-east-1`, type `ip`, one rule.
 */

export const ENV = 'prod';
export const REGION = 'us-east-1';
export const FIXED_NOW = new Date('2025-01-02T03:04:05.000Z');

export const rule = (source: string, description?: string): Rule =>
  description === undefined ? { source } : { source, description };

export const deployment = (id: string): Target => ({ kind: 'deployment', id });

export const project = (id: string, projectType: ProjectType = 'elasticsearch'): Target => ({
  kind: 'project',
  projectType,
  id,
});

export function policy(name: string, overrides: Partial<DesiredPolicy> = {}): DesiredPolicy {
  return {
    environment: ENV,
    region: REGION,
    name,
    type: 'ip',
    description: '',
    include_by_default: false,
    rules: [rule('10.0.0.0/8')],
    ...overrides,
  };
}

export function livePolicy(
  id: string,
  name: string,
  overrides: Partial<Omit<LivePolicy, 'id' | 'name'>> = {},
): LivePolicy {
  return {
    id,
    region: REGION,
    name,
    type: 'ip',
    description: '',
    include_by_default: false,
    rules: [rule('10.0.0.0/8')],
    associations: [],
    hiddenAssociations: 0,
    fingerprint: `fp-${id}`,
    ...overrides,
  };
}

export function liveTarget(target: Target, overrides: Partial<Omit<LiveTarget, 'target'>> = {}): LiveTarget {
  return { target, region: REGION, fingerprint: `fp-${target.id}`, ...overrides };
}

export function association(
  target: Target,
  policyName: string,
  overrides: Partial<Omit<DesiredAssociation, 'target' | 'policyName'>> = {},
): DesiredAssociation {
  return { environment: ENV, target, policyName, allow_unfiltered: false, ...overrides };
}

export interface DesiredEnvOptions {
  name?: string;
  api?: ApiKind;
  policies?: DesiredPolicy[];
  associations?: DesiredAssociation[];
  allowUnfiltered?: Target[];
  regions?: string[];
  prune?: boolean;
  protect?: string[];
  maxDeletePercent?: number;
  maxDissociatePercent?: number;
}

export function desiredEnv(options: DesiredEnvOptions = {}): DesiredEnvironment {
  const api = options.api ?? 'ess';
  return {
    config: {
      name: options.name ?? ENV,
      api,
      endpoint: 'https://api.example.test',
      ...(options.regions ? { regions: options.regions } : {}),
      prune: options.prune ?? false,
      protect: options.protect ?? [],
      safety: {
        max_delete_percent: options.maxDeletePercent ?? 30,
        max_dissociate_percent: options.maxDissociatePercent ?? 30,
      },
    },
    policies: options.policies ?? [],
    associations: options.associations ?? [],
    allowUnfiltered: options.allowUnfiltered ?? [],
  };
}

export function liveEnv(
  policies: LivePolicy[] = [],
  targets: LiveTarget[] = [],
  overrides: Partial<Omit<LiveEnvironment, 'policies' | 'targets'>> = {},
): LiveEnvironment {
  return { environment: ENV, policies, targets, complete: true, requests: 1, ...overrides };
}

/** Live targets for every target any live policy or desired association mentions (region REGION). */
export function targetsOf(
  live: readonly LivePolicy[],
  associations: readonly DesiredAssociation[] = [],
): LiveTarget[] {
  const seen = new Map<string, LiveTarget>();
  for (const t of [...live.flatMap((p) => p.associations), ...associations.map((a) => a.target)]) {
    if (!seen.has(t.id)) seen.set(t.id, liveTarget(t));
  }
  return [...seen.values()];
}

export function envInput(desired: DesiredEnvironment, live: LiveEnvironment): EnvironmentInput {
  return { desired, live, capabilities: CAPABILITIES[desired.config.api] };
}

export function desiredState(environments: DesiredEnvironment[], configDigest = 'digest-1'): DesiredState {
  return { configDigest, environments };
}

/** Plan one environment with a fixed clock. */
export function planOne(
  desired: DesiredEnvironment,
  live: LiveEnvironment,
  options: PlanOptions = {},
): PlanResult {
  return buildPlan(desiredState([desired]), [envInput(desired, live)], { now: () => FIXED_NOW, ...options });
}

/** `action id` of every operation, in plan order: the shape a reviewer reads. */
export const opList = (plan: Plan): string[] => plan.operations.map((o) => o.id);

export function opById(plan: Plan, id: string): Operation {
  const op = plan.operations.find((o) => o.id === id);
  if (!op) throw new Error(`no operation ${id} in plan: ${opList(plan).join(', ')}`);
  return op;
}

export const guardsOf = (plan: Plan): string[] => plan.refusals.map((r) => r.guard);
