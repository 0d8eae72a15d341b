import { defineLazy } from '../model/lazy.js';
import type { Capabilities } from '../model/capabilities.js';
import type { Diagnostic } from '../model/diagnostics.js';
import {
  isIngressType,
  targetKey,
  targetLabel,
  type DesiredEnvironment,
  type DesiredPolicy,
  type DesiredState,
  type LiveEnvironment,
  type LivePolicy,
  type PolicyType,
  type Target,
} from '../model/types.js';
import { diffEnvironment, type EnvironmentDiff } from '../diff/diff-environment.js';
import { computeExposure } from './exposure.js';
import {
  ACTIONS,
  PHASE_OF,
  type AssociateOperation,
  type Operation,
  type Plan,
  type PlanNote,
  type PlanSummary,
  type PolicyRef,
  type Refusal,
} from './types.js';

export interface PlanOptions {
  /** Override the percentage guards (max_delete_percent, max_dissociate_percent) only. */
  force?: boolean;
  /** Additive only: no delete and no dissociate is planned (incident recovery). */
  noDelete?: boolean;
  /** Clock for `created_at` (tests pass a fixed one). */
  now?: () => Date;
}

export interface EnvironmentInput {
  desired: DesiredEnvironment;
  live: LiveEnvironment;
  capabilities: Capabilities;
}

export interface PlanResult {
  plan: Plan;
  /** Errors in the user's files found against live state: exit 3, nothing may be applied. */
  diagnostics: Diagnostic[];
}

/** Guards checked only once an environment has this many managed policies (SPEC §1.1). */
const PERCENT_GUARD_MIN_POLICIES = 10;

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
    refusals.push(...diff.refusals);
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
  const plan: Plan = {
    format_version: '1.0',
    created_at: (options.now ?? (() => new Date()))().toISOString(),
    config_digest: '',
    fingerprints,
    operations,
    notes,
    refusals,
    summary: summarise(operations, refusals),
    exposure,
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

/** Safety guards of one environment (SPEC §2, §1.1): each refusal names the numbers and the override. */
function guardEnvironment(
  input: EnvironmentInput,
  diff: EnvironmentDiff,
  ops: readonly Operation[],
  options: PlanOptions,
): Refusal[] {
  const env = input.desired.config.name;
  const refusals: Refusal[] = [];
  const deletes = ops.filter((o) => o.action === 'delete');
  const dissociates = ops.filter((o) => o.action === 'dissociate');

  // With noDelete nothing is deleted or detached, so the guards about deleting do not apply.
  for (const r of options.noDelete ? [] : diff.removals) {
    if (r.reason === 'replaced' && input.desired.config.protect.includes(r.live.name)) {
      refusals.push({
        environment: env,
        guard: 'protected_policy',
        message: `policy '${r.live.name}' (${r.live.id}) is protected, but replacing it would delete it`,
        blocking: true,
        override: `remove '${r.live.name}' from environments.${env}.protect to allow the replacement`,
      });
    }
    if (r.live.hiddenAssociations > 0) {
      refusals.push({
        environment: env,
        guard: 'hidden_associations',
        message: `policy '${r.live.name}' (${r.live.id}) has ${r.live.hiddenAssociations} association(s) this API key cannot see, so it cannot be deleted`,
        blocking: true,
        override: 'remove those associations with a key that can see them, then plan again',
      });
    }
  }

  if (!input.live.complete && (deletes.length > 0 || dissociates.length > 0)) {
    refusals.push({
      environment: env,
      guard: 'incomplete_listing',
      message: `the live listing is incomplete (${input.live.incompleteReason ?? 'next_page set'}); refusing ${deletes.length} delete(s) and ${dissociates.length} dissociation(s)`,
      blocking: true,
      override: 'run with --no-delete to apply only additive changes',
    });
  }

  // --force overrides these two only, so their counts are not even taken.
  if (!options.force) refusals.push(...percentGuards(input, diff, deletes, dissociates));
  refusals.push(...unfilteredTargets(input, ops));
  return refusals;
}

/** max_delete_percent and max_dissociate_percent (SPEC §1.1), checked at ≥ 10 managed policies. */
function percentGuards(
  input: EnvironmentInput,
  diff: EnvironmentDiff,
  deletes: readonly Operation[],
  dissociates: readonly Operation[],
): Refusal[] {
  const env = input.desired.config.name;
  const refusals: Refusal[] = [];
  const safety = input.desired.config.safety;
  // Live managed policies: the declared ones found live, old halves of replacements, and (with
  // prune) the undeclared ones. A policy being replaced in place is both; count it once. Merged
  // duplicates are copies of a policy counted already: counting them would dilute both guards.
  const managedLive = new Map<string, LivePolicy>();
  for (const c of diff.changes) if (c.live) managedLive.set(c.live.id, c.live);
  for (const r of diff.removals) if (r.reason !== 'duplicate') managedLive.set(r.live.id, r.live);
  const managed = managedLive.size;
  if (managed < PERCENT_GUARD_MIN_POLICIES) return refusals;
  // Replacements and merged duplicates are not losses: only pruned policies count, and of the
  // associations, those no policy keeps (a duplicate's association moves to the copy kept).
  const pruned = deletes.filter((o) => o.action === 'delete' && o.reason === 'pruned').length;
  const pct = (100 * pruned) / managed;
  if (pct > safety.max_delete_percent) {
    refusals.push({
      environment: env,
      guard: 'max_delete_percent',
      message: `plan deletes ${pruned} of ${managed} managed policies (${pct.toFixed(0)}%), above max_delete_percent ${safety.max_delete_percent}%`,
      blocking: true,
      override: 'apply with --force, or raise safety.max_delete_percent',
    });
  }
  const replacedIds = new Set(diff.removals.filter((r) => r.reason === 'replaced').map((r) => r.live.id));
  const keeperTargets = new Map<string, ReadonlyMap<string, Target>>();
  for (const r of diff.removals) if (r.keeperTargets) keeperTargets.set(r.live.id, r.keeperTargets);
  const moved = (o: Operation): boolean =>
    o.action === 'dissociate' && keeperTargets.get(o.policy.id)?.has(targetKey(o.target)) === true;
  const counted = dissociates.filter((o) => !replacedIds.has(o.policy.id ?? '') && !moved(o)).length;
  let base = 0;
  for (const p of managedLive.values()) if (!replacedIds.has(p.id)) base += p.associations.length;
  if (base > 0) {
    const dpct = (100 * counted) / base;
    if (dpct > safety.max_dissociate_percent) {
      refusals.push({
        environment: env,
        guard: 'max_dissociate_percent',
        message: `plan removes ${counted} of ${base} associations of managed policies (${dpct.toFixed(0)}%), above max_dissociate_percent ${safety.max_dissociate_percent}%`,
        blocking: true,
        override: 'apply with --force, or raise safety.max_dissociate_percent',
      });
    }
  }
  return refusals;
}

/**
 * A target that has at least one ingress policy before the plan must have one after it, unless
 * its association entry says `allow_unfiltered: true` (no ingress policy = open to the internet).
 */
function unfilteredTargets(input: EnvironmentInput, ops: readonly Operation[]): Refusal[] {
  const env = input.desired.config.name;
  // Only a target an operation detaches a policy from (or re-attaches a live policy to as a
  // non-ingress one) can lose its last ingress policy: the others keep all they have, so their
  // attachments are not even collected.
  const detachedFrom = new Set<string>();
  // Their ids: most live associations are passed over on the id, without building a key.
  const detachedIds = new Set<string>();
  for (const op of ops) {
    const mayRemoveIngress =
      op.action === 'dissociate' ||
      (op.action === 'associate' && op.policy.id !== undefined && !isIngressType(op.policy.type));
    if (mayRemoveIngress) {
      detachedFrom.add(targetKey(op.target));
      detachedIds.add(op.target.id);
    }
  }
  if (detachedFrom.size === 0) return [];
  const detachedKey = (t: Target): string | undefined => {
    if (!detachedIds.has(t.id)) return undefined;
    const key = targetKey(t);
    return detachedFrom.has(key) ? key : undefined;
  };

  // Per such target (in the order first met, which is the order of the refusals): live policy id →
  // whether that policy is an ingress policy.
  const attached = new Map<string, Map<string, boolean>>();
  const ensure = (key: string): Map<string, boolean> => {
    let m = attached.get(key);
    if (!m) attached.set(key, (m = new Map()));
    return m;
  };
  let typeById: Map<string, PolicyType> | undefined;
  for (const t of input.live.targets) {
    if (!t.policyIds || t.policyIds.length === 0) continue;
    const key = detachedKey(t.target);
    if (key === undefined) continue;
    typeById ??= new Map(input.live.policies.map((p) => [p.id, p.type]));
    // Ids the target reports that this read cannot type (out of scope) still filter: count them.
    for (const id of t.policyIds) ensure(key).set(id, isIngressType(typeById.get(id) ?? 'ip'));
  }
  for (const p of input.live.policies) {
    for (const t of p.associations) {
      const key = detachedKey(t);
      if (key !== undefined) ensure(key).set(p.id, isIngressType(p.type));
    }
  }
  const before = new Map([...attached].map(([k, m]) => [k, [...m.values()].some(Boolean)]));

  // A policy the plan creates has no id yet: it counts once attached, whatever ids say later.
  const gainsIngress = new Set<string>();
  for (const op of ops) {
    if (op.action !== 'associate' && op.action !== 'dissociate') continue;
    const key = detachedKey(op.target);
    if (key === undefined) continue;
    if (op.action === 'dissociate') attached.get(key)?.delete(op.policy.id);
    else if (op.policy.id !== undefined) attached.get(key)?.set(op.policy.id, isIngressType(op.policy.type));
    else if (isIngressType(op.policy.type)) gainsIngress.add(key);
  }
  const allowed = new Set(input.desired.allowUnfiltered.map(targetKey));
  for (const a of input.desired.associations) if (a.allow_unfiltered) allowed.add(targetKey(a.target));

  const refused = [...attached]
    .filter(
      ([k, m]) => before.get(k) && ![...m.values()].some(Boolean) && !gainsIngress.has(k) && !allowed.has(k),
    )
    .map(([k]) => k);
  if (refused.length === 0) return [];
  const liveTargets = new Map(input.live.targets.map((t) => [targetKey(t.target), t.target]));
  return refused.map((k) => {
    const target = liveTargets.get(k);
    const label = target ? targetLabel(target) : k;
    return {
      environment: env,
      guard: 'unfiltered_target',
      message: `${label} would be left with no ingress policy, open to the whole internet`,
      blocking: true,
      override: `declare an ingress policy for it, or set allow_unfiltered: true on its association entry`,
    };
  });
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
