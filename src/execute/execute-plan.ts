import pLimit from 'p-limit';
import type { Backend } from '../backends/types.js';
import { ApiError } from '../model/errors.js';
import { targetKey, type LiveEnvironment, type LivePolicy, type LiveTarget } from '../model/types.js';
import type { Logger } from '../log.js';
import {
  PHASE_OF,
  type AssociateOperation,
  type DissociateOperation,
  type Operation,
  type Plan,
} from '../plan/types.js';

export type OperationStatus = 'done' | 'failed' | 'skipped';

export interface OperationResult {
  id: string;
  action: Operation['action'];
  environment: string;
  status: OperationStatus;
  /** Failure reason (API status, code, message) or the failed dependency that skipped it. */
  reason?: string;
  /** Id of the policy a create/replace made. */
  policyId?: string;
  durationMs: number;
}

export interface ExecutionReport {
  results: OperationResult[];
  done: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

/** What the executor needs per environment: its back end and the live state the plan was made from. */
export interface ExecutionTarget {
  backend: Backend;
  live: LiveEnvironment;
}

export interface ExecuteOptions {
  concurrency: number;
  logger: Logger;
  /** Called after every finished operation (progress display). */
  onResult?: (result: OperationResult, finished: number, total: number) => void;
}

/**
 * Runs the plan phase by phase (create/replace → update → associate → dissociate → delete), each
 * phase with bounded concurrency. An operation runs only when every operation it depends on is
 * done; a failure skips its dependents and nothing else. Never throws for an API failure: the
 * report says what happened to every operation.
 */
export async function executePlan(
  plan: Plan,
  environments: ReadonlyMap<string, ExecutionTarget>,
  options: ExecuteOptions,
): Promise<ExecutionReport> {
  const started = Date.now();
  const limit = pLimit(Math.max(1, options.concurrency));
  const results = new Map<string, OperationResult>();
  const total = plan.operations.length;
  const record = (result: OperationResult): void => {
    results.set(result.id, result);
    options.onResult?.(result, results.size, total);
  };

  // Back ends that write a target's whole list at once get one write per target, carrying the
  // dissociations of that target too (atomic swap, still make-before-break). The write runs in the
  // associate phase, or in the dissociate phase when the target only loses policies.
  const groups = perTargetGroups(plan, environments);
  const grouped = new Set<string>();
  for (const group of groups)
    for (const op of [...group.associates, ...group.dissociates]) grouped.add(op.id);

  const phases = [...new Set(plan.operations.map((o) => PHASE_OF[o.action]))].sort((a, b) => a - b);
  for (const phase of phases) {
    const ops = plan.operations.filter((o) => PHASE_OF[o.action] === phase);
    const tasks: Promise<void>[] = [];
    for (const group of groups) {
      if (phaseOfGroup(group) !== phase) continue;
      tasks.push(limit(() => runTargetGroup(group, environments, results, record, options.logger)));
    }
    for (const op of ops) {
      if (grouped.has(op.id) || results.has(op.id)) continue;
      tasks.push(limit(() => runOne(op, environments, results, record, options.logger)));
    }
    await Promise.all(tasks);
  }

  const list = plan.operations
    .map((o) => results.get(o.id))
    .filter((r): r is OperationResult => r !== undefined);
  return {
    results: list,
    done: list.filter((r) => r.status === 'done').length,
    failed: list.filter((r) => r.status === 'failed').length,
    skipped: list.filter((r) => r.status === 'skipped').length,
    durationMs: Date.now() - started,
  };
}

function blockedBy(
  op: Operation,
  results: ReadonlyMap<string, OperationResult>,
  ignore?: ReadonlySet<string>,
): string | undefined {
  for (const dep of op.depends_on) {
    if (ignore?.has(dep)) continue;
    const r = results.get(dep);
    if (!r || r.status !== 'done') return dep;
  }
  return undefined;
}

function failureReason(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function policyIdOf(op: Operation, results: ReadonlyMap<string, OperationResult>): string | undefined {
  if (op.policy.id) return op.policy.id;
  const from = op.action === 'associate' ? op.policy_from : undefined;
  return from ? results.get(from)?.policyId : undefined;
}

function resolvePolicyId(op: Operation, results: ReadonlyMap<string, OperationResult>): string {
  const id = policyIdOf(op, results);
  if (!id) throw new Error(`no policy id for ${op.id}`);
  return id;
}

async function runOne(
  op: Operation,
  environments: ReadonlyMap<string, ExecutionTarget>,
  results: ReadonlyMap<string, OperationResult>,
  record: (r: OperationResult) => void,
  log: Logger,
): Promise<void> {
  const base = { id: op.id, action: op.action, environment: op.environment };
  const dep = blockedBy(op, results);
  if (dep) {
    record({ ...base, status: 'skipped', reason: `depends on ${dep}, which did not succeed`, durationMs: 0 });
    return;
  }
  const env = environments.get(op.environment);
  const started = Date.now();
  try {
    if (!env) throw new Error(`environment ${op.environment} is not loaded`);
    const policyId = await perform(op, env, results);
    log.info({ op: op.id, ms: Date.now() - started }, 'operation done');
    record({ ...base, status: 'done', durationMs: Date.now() - started, ...(policyId ? { policyId } : {}) });
  } catch (error) {
    log.warn({ op: op.id, reason: failureReason(error) }, 'operation failed');
    record({ ...base, status: 'failed', reason: failureReason(error), durationMs: Date.now() - started });
  }
}

interface LiveIndex {
  byId: Map<string, LivePolicy>;
  /** Live ids per `region\0name`. */
  idsByName: Map<string, string[]>;
}

// Built once per live state, not scanned per operation (plans can hold thousands of ops).
const liveIndexes = new WeakMap<LiveEnvironment, LiveIndex>();

function indexOf(live: LiveEnvironment): LiveIndex {
  let index = liveIndexes.get(live);
  if (!index) {
    index = { byId: new Map(), idsByName: new Map() };
    for (const p of live.policies) {
      index.byId.set(p.id, p);
      const k = `${p.region}\u0000${p.name}`;
      const ids = index.idsByName.get(k);
      if (ids) ids.push(p.id);
      else index.idsByName.set(k, [p.id]);
    }
    liveIndexes.set(live, index);
  }
  return index;
}

async function perform(
  op: Operation,
  { backend, live }: ExecutionTarget,
  results: ReadonlyMap<string, OperationResult>,
): Promise<string | undefined> {
  switch (op.action) {
    case 'create':
    case 'replace': {
      // Live policies already carrying this name are not the one being made (unknown-outcome
      // resolution must not mistake the old half of a replacement for the new policy).
      const exclude = indexOf(live).idsByName.get(`${op.spec.region}\u0000${op.spec.name}`) ?? [];
      return (await backend.createPolicy(op.spec, exclude)).id;
    }
    case 'update': {
      const before = indexOf(live).byId.get(op.policy.id) ?? op.spec;
      await backend.updatePolicy(op.policy.id, op.spec, before);
      return undefined;
    }
    case 'associate':
      await backend.associate(resolvePolicyId(op, results), op.target);
      return undefined;
    case 'dissociate':
      await backend.dissociate(op.policy.id, op.target);
      return undefined;
    case 'delete':
      await backend.deletePolicy(op.policy.id);
      return undefined;
  }
}

interface TargetGroup {
  environment: string;
  key: string;
  /** The target as read (ETag for If-Match); absent when the plan names a target not read. */
  target?: LiveTarget;
  associates: AssociateOperation[];
  dissociates: DissociateOperation[];
}

const phaseOfGroup = (g: TargetGroup): number =>
  g.associates.length > 0 ? PHASE_OF.associate : PHASE_OF.dissociate;

function perTargetGroups(plan: Plan, environments: ReadonlyMap<string, ExecutionTarget>): TargetGroup[] {
  const groups = new Map<string, TargetGroup>();
  const indexes = new Map<string, Map<string, LiveTarget>>();
  const liveTarget = (env: ExecutionTarget, name: string, key: string): LiveTarget | undefined => {
    let index = indexes.get(name);
    if (!index) indexes.set(name, (index = new Map(env.live.targets.map((t) => [targetKey(t.target), t]))));
    return index.get(key);
  };
  for (const op of plan.operations) {
    if (op.action !== 'associate' && op.action !== 'dissociate') continue;
    const env = environments.get(op.environment);
    if (env?.backend.capabilities.associationWrites !== 'per-target') continue;
    const tk = targetKey(op.target);
    const key = `${op.environment}\u0000${tk}`;
    let g = groups.get(key);
    if (!g) {
      const target = liveTarget(env, op.environment, tk);
      g = {
        environment: op.environment,
        key: tk,
        ...(target ? { target } : {}),
        associates: [],
        dissociates: [],
      };
      groups.set(key, g);
    }
    if (op.action === 'associate') g.associates.push(op);
    else g.dissociates.push(op);
  }
  return [...groups.values()];
}

async function runTargetGroup(
  group: TargetGroup,
  environments: ReadonlyMap<string, ExecutionTarget>,
  results: ReadonlyMap<string, OperationResult>,
  record: (r: OperationResult) => void,
  log: Logger,
): Promise<void> {
  const started = Date.now();
  const base = (op: Operation) => ({ id: op.id, action: op.action, environment: op.environment });
  const env = environments.get(group.environment);
  const ready: Operation[] = [];
  const add: string[] = [];
  const remove: string[] = [];
  const skip = (op: Operation, dep: string): void =>
    record({
      ...base(op),
      status: 'skipped',
      reason: `depends on ${dep}, which did not succeed`,
      durationMs: 0,
    });
  for (const op of group.associates) {
    const dep = blockedBy(op, results);
    const id = dep ? undefined : policyIdOf(op, results);
    if (dep) skip(op, dep);
    else if (!id) skip(op, op.policy_from ?? op.id);
    else {
      ready.push(op);
      add.push(id);
    }
  }
  // Associations in this same write count as done for the dissociations (one atomic write).
  const inWrite = new Set(ready.map((o) => o.id));
  for (const op of group.dissociates) {
    const dep = blockedBy(op, results, inWrite);
    if (dep) skip(op, dep);
    else {
      ready.push(op);
      remove.push(op.policy.id);
    }
  }
  if (ready.length === 0) return;
  try {
    const target = group.target;
    if (!env || !target)
      throw new Error(`target ${group.key} is not in the live state of ${group.environment}`);
    await env.backend.writeTargetPolicies(target, add, remove);
    for (const op of ready) record({ ...base(op), status: 'done', durationMs: Date.now() - started });
  } catch (error) {
    log.warn({ target: group.key, reason: failureReason(error) }, 'target write failed');
    for (const op of ready) {
      record({
        ...base(op),
        status: 'failed',
        reason: failureReason(error),
        durationMs: Date.now() - started,
      });
    }
  }
}
