import { canonicalJson } from '../model/canonical.js';
import { isIngressType, targetKey, targetLabel } from '../model/types.js';
import type { LivePolicy, PolicyType, Target } from '../model/types.js';
import type { AmbiguousPolicy, EnvironmentDiff } from '../diff/types.js';
import type { EnvironmentInput, Operation, Plan, PlanOptions, Refusal } from './types.js';

/**
 * The safety guards (SPEC §1.1, §2): each refusal names the numbers and how to override it. Pure;
 * evaluated at plan time, so a pull request shows a refusal before anyone applies.
 */

/** Guards checked only once an environment has this many managed policies (SPEC §1.1). */
const PERCENT_GUARD_MIN_POLICIES = 10;

/** A declared policy several differing live policies claim: only its own operations are refused. */
export function ambiguityRefusals(environment: string, ambiguous: readonly AmbiguousPolicy[]): Refusal[] {
  return ambiguous.map((a) => ({
    environment,
    guard: 'ambiguous_policy',
    message: `policy '${a.name}' in ${a.region} matches ${a.liveIds.length} live policies (${a.liveIds.join(', ')}) that are not identical copies; nothing is planned for it`,
    blocking: false,
    override: 'delete or rename the duplicates so that exactly one live policy has this region and name',
  }));
}

/** Safety guards of one environment (SPEC §2, §1.1): each refusal names the numbers and the override. */
export function guardEnvironment(
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

/** Live objects an operation reads or writes, as fingerprint keys. */
function touchedKeys(op: Operation): string[] {
  const keys: string[] = [];
  if (op.policy.id) keys.push(`policy:${op.policy.id}`);
  if (op.action === 'replace') keys.push(`policy:${op.replaces.id}`);
  if (op.action === 'associate' || op.action === 'dissociate') keys.push(targetKey(op.target));
  return keys;
}

/**
 * Why a saved plan may no longer be applied: the config changed, an object it touches changed
 * (or vanished), or planning now gives different operations (someone changed live state, or the
 * plan was already applied). Empty when the saved plan is exactly what would be done now.
 */
export function findStaleness(saved: Plan, fresh: Plan): string[] {
  const problems: string[] = [];
  if (saved.config_digest !== fresh.config_digest) {
    problems.push('the configuration (ecfence.yaml or policy files) changed since the plan was made');
  }
  const seen = new Set<string>();
  for (const op of saved.operations) {
    for (const key of touchedKeys(op)) {
      const id = `${op.environment}\u0000${key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const before = saved.fingerprints[op.environment]?.[key];
      const now = fresh.fingerprints[op.environment]?.[key];
      if (before !== now) {
        const what = key.startsWith('policy:')
          ? `policy ${op.policy.name} (${key.slice(7)})`
          : key.replace(':', ' ');
        problems.push(
          now === undefined
            ? `${op.environment}: ${what} no longer exists`
            : `${op.environment}: ${what} changed`,
        );
      }
    }
  }
  const freshById = new Map(fresh.operations.map((o) => [o.id, o]));
  const savedIds = new Set<string>();
  for (const op of saved.operations) {
    if (savedIds.has(op.id)) {
      problems.push(`operation ${op.id} is in the plan file twice`);
      continue;
    }
    savedIds.add(op.id);
    const now = freshById.get(op.id);
    if (now === undefined) problems.push(`operation ${op.id} is no longer needed (already applied?)`);
    // Same id, other content: a file edited by hand (a rule widened to 0.0.0.0/0 keeps its id),
    // or a planner that now decides otherwise. Either way the file is not what would be done now.
    else if (canonicalJson(op) !== canonicalJson(now))
      problems.push(`operation ${op.id} differs from what planning now gives (the plan file was changed?)`);
  }
  for (const id of freshById.keys())
    if (!savedIds.has(id)) problems.push(`operation ${id} is now needed but not in the plan`);
  return problems;
}
