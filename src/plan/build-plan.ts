import { defineLazy } from '../model/lazy.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { targetKey, type DesiredPolicy, type DesiredState, type LivePolicy } from '../model/types.js';
import { diffEnvironment } from '../diff/diff-environment.js';
import type { EnvironmentDiff } from '../diff/types.js';
import { computeExposure } from './exposure.js';
import { ambiguityRefusals, guardEnvironment } from './guards.js';
import {
  ACTIONS,
  PHASE_OF,
  type AssociateOperation,
  type EnvironmentInput,
  type Operation,
  PLAN_FORMAT_VERSION,
  type Plan,
  type PlanEnvironment,
  type PlanNote,
  type PlanOptions,
  type PlanSummary,
  type PolicyRef,
  type Refusal,
} from './types.js';

export interface PlanResult {
  plan: Plan;
  /** Errors in the user's files found against live state: exit 3, nothing may be applied. */
  diagnostics: Diagnostic[];
}

const policyPath = (env: string, p: { region: string; name: string }): string =>
  `${env}/${p.region}/${p.name}`;

/**
 * Changes → the ordered, guarded plan. Pure.
 *
 * Dependencies encode make-before-break: an association waits for the policy's create/replace and
 * update; a dissociation waits for every association to the same target (so a failed attach never
 * leaves a target with fewer policies than both its start and end); a delete waits for every
 * dissociation of that policy.
 */
export function buildPlan(
  desired: DesiredState,
  inputs: readonly EnvironmentInput[],
  options: PlanOptions = {},
): PlanResult {
  const operations: Operation[] = [];
  const notes: PlanNote[] = [];
  const refusals: Refusal[] = [];
  const diagnostics: Diagnostic[] = [];
  const fingerprints: Plan['fingerprints'] = {};

  for (const input of inputs) {
    const diff = diffEnvironment(input.desired, input.live, input.capabilities);
    notes.push(...diff.notes);
    refusals.push(...ambiguityRefusals(diff.environment, diff.ambiguous));
    diagnostics.push(...diff.diagnostics);
    const ops = operationsFor(diff, options);
    operations.push(...ops);
    refusals.push(...guardEnvironment(input, diff, ops, options));
    if (!input.live.complete) {
      notes.push({
        environment: input.desired.config.name,
        kind: 'incomplete',
        message: `live listing incomplete (${input.live.incompleteReason ?? 'next_page set'}): deletes and dissociations refused`,
      });
    }
    // Computed when the plan is saved or printed as JSON (a text plan lists only the names).
    defineLazy(fingerprints, input.desired.config.name, () => {
      const fp: Record<string, string> = {};
      for (const p of input.live.policies) fp[`policy:${p.id}`] = p.fingerprint;
      for (const t of input.live.targets) fp[targetKey(t.target)] = t.fingerprint;
      return fp;
    });
  }

  operations.sort(compareOperations);
  const exposure = inputs.flatMap((input) => computeExposure(input.live, operations));
  // Notes follow the API's listing order as generated; sort them so that the same live state read
  // in another order gives the same plan file.
  notes.sort(compareNotes);
  const environments: PlanEnvironment[] = [
    ...inputs.map(({ desired: { config }, capabilities }): PlanEnvironment => ({
      name: config.name,
      api: config.api,
      endpoint: config.endpoint !== '' ? config.endpoint : (capabilities.defaultEndpoint ?? ''),
      status: 'planned',
    })),
    ...(options.unreadable ?? []).map((u): PlanEnvironment => ({ ...u, status: 'unreadable' })),
  ].sort((a, b) => compareText(a.name, b.name));
  const plan: Plan = {
    format_version: PLAN_FORMAT_VERSION,
    created_at: (options.now ?? (() => new Date()))().toISOString(),
    config_digest: '',
    fingerprints,
    operations,
    notes,
    refusals,
    summary: summarise(operations, refusals),
    exposure,
    environments,
  };
  return { plan: defineLazy(plan, 'config_digest', () => desired.configDigest), diagnostics };
}

function operationsFor(diff: EnvironmentDiff, options: PlanOptions): Operation[] {
  const env = diff.environment;
  const ops: Operation[] = [];
  const creatorOf = new Map<string, string>();
  const oldHalfOf = new Map<DesiredPolicy, LivePolicy>();
  for (const r of diff.removals)
    if (r.replacedBy && !oldHalfOf.has(r.replacedBy)) oldHalfOf.set(r.replacedBy, r.live);

  for (const c of diff.changes) {
    // In sync: nothing to write (most policies of a large estate), so nothing to build either.
    if (c.action === 'none' && c.associate.length === 0 && c.dissociate.length === 0) continue;
    const d = c.desired;
    const path = policyPath(env, d);
    const ref: PolicyRef = { region: d.region, name: d.name, type: d.type };
    const spec = {
      region: d.region,
      name: d.name,
      type: d.type,
      description: d.description,
      include_by_default: d.include_by_default,
      rules: d.rules,
    };
    const before: string[] = [];
    if (c.action === 'create') {
      const id = `create:${path}`;
      ops.push({ id, action: 'create', environment: env, policy: ref, spec, depends_on: [] });
      before.push(id);
      creatorOf.set(path, id);
    } else if (c.action === 'replace') {
      const old = c.live ?? oldHalfOf.get(d);
      if (!old) continue;
      const id = `replace:${path}#${d.type}`;
      ops.push({
        id,
        action: 'replace',
        environment: env,
        policy: ref,
        spec,
        replaces: { region: old.region, name: old.name, type: old.type, id: old.id },
        changes: c.changes,
        depends_on: [],
      });
      before.push(id);
      creatorOf.set(path, id);
    } else if (c.action === 'update' && c.live) {
      const id = `update:${path}`;
      ops.push({
        id,
        action: 'update',
        environment: env,
        policy: { ...ref, id: c.live.id },
        spec,
        changes: c.changes,
        depends_on: [],
      });
      before.push(id);
    }
    const liveId = c.action === 'replace' ? undefined : c.live?.id;
    for (const t of c.associate) {
      const id = `associate:${path}→${targetKey(t)}`;
      const op: AssociateOperation = {
        id,
        action: 'associate',
        environment: env,
        policy: liveId ? { ...ref, id: liveId } : ref,
        target: t,
        depends_on: before.slice(),
      };
      if (!liveId) op.policy_from = creatorOf.get(path);
      ops.push(op);
    }
    if (!options.noDelete && c.live && c.action !== 'replace') {
      for (const t of c.dissociate) {
        ops.push({
          id: `dissociate:${path}@${c.live.id}→${targetKey(t)}`,
          action: 'dissociate',
          environment: env,
          policy: { ...ref, id: c.live.id },
          target: t,
          depends_on: [],
        });
      }
    }
  }

  if (!options.noDelete) {
    for (const r of diff.removals) {
      const l = r.live;
      const ref = { region: l.region, name: l.name, type: l.type, id: l.id };
      const path = `${policyPath(env, l)}@${l.id}`;
      const detach: string[] = [];
      // The old half of a replacement goes only once its successor exists: a failed create must
      // not leave the user with neither policy.
      const successor = r.replacedBy ? creatorOf.get(policyPath(env, r.replacedBy)) : undefined;
      if (successor) detach.push(successor);
      for (const t of r.dissociate) {
        const id = `dissociate:${path}→${targetKey(t)}`;
        detach.push(id);
        ops.push({
          id,
          action: 'dissociate',
          environment: env,
          policy: { ...ref },
          target: t,
          depends_on: [],
        });
      }
      ops.push({
        id: `delete:${path}`,
        action: 'delete',
        environment: env,
        policy: ref,
        reason: r.reason,
        depends_on: detach,
      });
    }
  }

  // Make before break: every dissociation waits for all attachments to the same target.
  if (ops.some((op) => op.action === 'dissociate')) {
    const associateByTarget = new Map<string, string[]>();
    for (const op of ops) {
      if (op.action !== 'associate') continue;
      const list = associateByTarget.get(targetKey(op.target));
      if (list) list.push(op.id);
      else associateByTarget.set(targetKey(op.target), [op.id]);
    }
    for (const op of ops) {
      if (op.action !== 'dissociate') continue;
      op.depends_on.push(...(associateByTarget.get(targetKey(op.target)) ?? []));
    }
  }
  for (const op of ops) if (op.depends_on.length > 1) op.depends_on.sort();
  return ops;
}

/** Code-unit order, not `localeCompare`: the plan must not depend on the machine's locale. */
const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Phase (make before break), then environment, region, policy name, and the unique op id. */
function compareOperations(a: Operation, b: Operation): number {
  return (
    PHASE_OF[a.action] - PHASE_OF[b.action] ||
    compareText(a.environment, b.environment) ||
    compareText(a.policy.region, b.policy.region) ||
    compareText(a.policy.name, b.policy.name) ||
    compareText(a.id, b.id)
  );
}

function compareNotes(a: PlanNote, b: PlanNote): number {
  return (
    compareText(a.environment, b.environment) ||
    compareText(a.kind, b.kind) ||
    compareText(a.policy?.region ?? '', b.policy?.region ?? '') ||
    compareText(a.policy?.name ?? '', b.policy?.name ?? '') ||
    compareText(a.message, b.message)
  );
}

export function summarise(operations: readonly Operation[], refusals: readonly Refusal[]): PlanSummary {
  const summary = Object.fromEntries(ACTIONS.map((a) => [a, 0])) as Record<(typeof ACTIONS)[number], number>;
  for (const op of operations) summary[op.action] += 1;
  return { ...summary, total: operations.length, refused: refusals.length };
}
