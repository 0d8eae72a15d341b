import type { Capabilities } from '../backends/types.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import {
  targetKey,
  targetLabel,
  type DesiredEnvironment,
  type DesiredPolicy,
  type LiveEnvironment,
  type LivePolicy,
  type LiveTarget,
  type Target,
} from '../model/types.js';
import type { FieldChange, PlanNote, Refusal } from '../plan/types.js';
import { policyChanges } from './rules.js';

/** What must happen to one declared policy. */
export interface PolicyChange {
  desired: DesiredPolicy;
  /** The live policy this declaration is (identity match), when there is one. */
  live?: LivePolicy;
  /** none: in sync; create: new; update: in place; replace: new policy instead of `replaces[0]`. */
  action: 'none' | 'create' | 'update' | 'replace';
  changes: FieldChange[];
  /** Targets to attach this policy to. */
  associate: Target[];
  /** Targets to detach the matched live policy from. */
  dissociate: Target[];
}

/** A live policy to remove: undeclared with `prune: true`, or the old half of a replacement. */
export interface PolicyRemoval {
  live: LivePolicy;
  reason: 'pruned' | 'replaced';
  /** The declared policy that replaces it (reason 'replaced'). */
  replacedBy?: DesiredPolicy;
  dissociate: Target[];
}

export interface EnvironmentDiff {
  environment: string;
  changes: PolicyChange[];
  removals: PolicyRemoval[];
  notes: PlanNote[];
  refusals: Refusal[];
  /** Problems in the user's files found only against live state (unknown target, region mismatch). */
  diagnostics: Diagnostic[];
}

const keyOf = (p: { region: string; name: string }): string => `${p.region}\u0000${p.name}`;

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/**
 * Live policies by region, then name. Two levels rather than one joined key: the lookup runs for
 * every declared policy and needs no new string.
 */
function indexByRegionAndName<T extends { region: string; name: string }>(
  items: readonly T[],
): Map<string, Map<string, T[]>> {
  const out = new Map<string, Map<string, T[]>>();
  for (const item of items) {
    let byName = out.get(item.region);
    if (!byName) out.set(item.region, (byName = new Map()));
    const list = byName.get(item.name);
    if (list) list.push(item);
    else byName.set(item.name, [item]);
  }
  return out;
}

const NO_POLICIES: readonly LivePolicy[] = [];
const NO_TARGETS: ReadonlyMap<string, Target> = new Map();

function inScope(regions: readonly string[] | undefined, region: string): boolean {
  return !regions || regions.length === 0 || regions.includes(region);
}

/**
 * The targets of an auto-attaching (include_by_default) policy: the declared ones, then every
 * undeclared live association of the policies it is or replaces, each reported as kept.
 */
function withKeptAssociations(
  env: string,
  d: DesiredPolicy,
  inherited: readonly LivePolicy[],
  declared: ReadonlyMap<string, Target>,
  notes: PlanNote[],
): ReadonlyMap<string, Target> {
  const wanted = new Map(declared);
  for (const old of inherited) {
    for (const t of old.associations) {
      const k = targetKey(t);
      if (wanted.has(k)) continue;
      wanted.set(k, t);
      notes.push({
        environment: env,
        kind: 'auto_attached',
        message: `auto-attached (include_by_default): ${d.name} on ${targetLabel(t)}, kept`,
        policy: { region: d.region, name: d.name, id: old.id },
        target: t,
      });
    }
  }
  return wanted;
}

/**
 * Desired vs live for one environment (SPEC §2). Pure: every decision about identity, ownership,
 * replacement and associations is made here; the planner only orders and guards.
 *
 * Identity is (region, name). A live policy that shares its name with a declared one but is not
 * that declared policy — another region, or the same region with another type while the declared
 * type also exists — is the old half of a replacement: it is moved off its targets and deleted.
 * This is also what lets an interrupted replacement converge on the next run.
 */
export function diffEnvironment(
  desired: DesiredEnvironment,
  live: LiveEnvironment,
  capabilities: Capabilities,
): EnvironmentDiff {
  const env = desired.config.name;
  const scope = desired.config.regions;
  const notes: PlanNote[] = [];
  const refusals: Refusal[] = [];
  const diagnostics: Diagnostic[] = [];
  const protect = new Set(desired.config.protect);
  const livePolicies = live.policies.filter((p) => inScope(scope, p.region));
  const liveByKey = indexByRegionAndName(livePolicies);
  const policiesByName = groupBy(desired.policies, (p) => p.name);
  const claimed = new Set<string>();
  const oldHalves = new Map<string, { live: LivePolicy; by: DesiredPolicy }>();
  // The same halves per declared policy: looked up once per declared policy (no scan per policy).
  const oldHalvesBy = new Map<DesiredPolicy, LivePolicy[]>();
  const addOldHalf = (l: LivePolicy, by: DesiredPolicy): void => {
    oldHalves.set(l.id, { live: l, by });
    const list = oldHalvesBy.get(by);
    if (list) list.push(l);
    else oldHalvesBy.set(by, [l]);
  };
  const ambiguous = new Set<string>();

  // 1. Identity: exact (region, name) matches.
  const matches = new Map<DesiredPolicy, LivePolicy | undefined>();
  for (const d of desired.policies) {
    const candidates = liveByKey.get(d.region)?.get(d.name) ?? NO_POLICIES;
    if (candidates.length <= 1) {
      matches.set(d, candidates[0]);
      if (candidates[0]) claimed.add(candidates[0].id);
      continue;
    }
    const sameType = candidates.filter((c) => c.type === d.type);
    if (sameType.length === 1 && sameType[0]) {
      matches.set(d, sameType[0]);
      claimed.add(sameType[0].id);
      for (const c of candidates) if (c !== sameType[0]) addOldHalf(c, d);
      continue;
    }
    ambiguous.add(keyOf(d));
    for (const c of candidates) claimed.add(c.id);
    // Sorted: the message must not depend on the API's listing order.
    const ids = candidates
      .map((c) => c.id)
      .sort()
      .join(', ');
    refusals.push({
      environment: env,
      guard: 'ambiguous_policy',
      message: `policy '${d.name}' in ${d.region} matches ${candidates.length} live policies (${ids}); nothing is planned for it`,
      blocking: false,
      override: 'delete or rename the duplicates so that exactly one live policy has this region and name',
    });
    notes.push({
      environment: env,
      kind: 'ambiguous',
      message: `ambiguous: ${candidates.length} live policies named '${d.name}' in ${d.region}: ${ids}`,
      policy: { region: d.region, name: d.name },
    });
  }

  // 2. Undeclared live policies: old halves of replacements, pruned, or unmanaged.
  const unmanaged: LivePolicy[] = [];
  for (const l of livePolicies) {
    if (claimed.has(l.id) || oldHalves.has(l.id)) continue;
    const named = policiesByName.get(l.name) ?? [];
    if (ambiguous.size > 0 && named.some((d) => ambiguous.has(keyOf(d)))) {
      // Possibly the old half of a policy that is refused as ambiguous: nothing is planned for
      // that policy, so its other half is left alone too (never pruned).
      claimed.add(l.id);
      continue;
    }
    if (named.length === 1 && named[0]) {
      addOldHalf(l, named[0]);
      continue;
    }
    if (desired.config.prune && !protect.has(l.name)) continue; // removed below
    unmanaged.push(l);
    notes.push({
      environment: env,
      kind: 'unmanaged',
      message: desired.config.prune
        ? `protected, not pruned: ${l.name} (${l.region}, ${l.type}, ${l.id})`
        : `unmanaged: ${l.name} (${l.region}, ${l.type}, ${l.id}), left untouched`,
      policy: { region: l.region, name: l.name, id: l.id },
    });
  }

  // 3. Targets and declared associations.
  const targets = new Map<string, LiveTarget>(live.targets.map((t) => [targetKey(t.target), t]));
  const declaredTargets = new Map<DesiredPolicy, Map<string, Target>>();
  for (const a of desired.associations) {
    const at = a.position ?? { file: '<config>' };
    const key = targetKey(a.target);
    const liveTarget = targets.get(key);
    if (!liveTarget) {
      diagnostics.push(
        diagnostic(
          'error',
          'E_UNKNOWN_TARGET',
          `${targetLabel(a.target)} does not exist in environment '${env}' (or is not visible to this API key)`,
          at,
        ),
      );
      continue;
    }
    const named = policiesByName.get(a.policyName) ?? [];
    const policy = named.length === 1 ? named[0] : named.find((p) => p.region === liveTarget.region);
    if (!policy) {
      diagnostics.push(
        diagnostic(
          'error',
          'E_UNKNOWN_POLICY',
          `policy '${a.policyName}' is not declared in environment '${env}' for region ${liveTarget.region}`,
          at,
        ),
      );
      continue;
    }
    if (policy.region !== liveTarget.region) {
      diagnostics.push(
        diagnostic(
          'error',
          'E_REGION_MISMATCH',
          `policy '${policy.name}' is in region ${policy.region} but ${targetLabel(a.target)} is in ${liveTarget.region}; a policy can only apply to targets in its region`,
          at,
        ),
      );
      continue;
    }
    let set = declaredTargets.get(policy);
    if (!set) declaredTargets.set(policy, (set = new Map()));
    set.set(key, a.target);
  }

  // 4. Changes per declared policy.
  const changes: PolicyChange[] = [];
  const removals: PolicyRemoval[] = [];
  for (const d of desired.policies) {
    if (ambiguous.size > 0 && ambiguous.has(keyOf(d))) continue;
    const matched = matches.get(d);
    const replaced = oldHalvesBy.get(d) ?? NO_POLICIES;
    const declared = declaredTargets.get(d) ?? NO_TARGETS;
    const associate: Target[] = [];
    const dissociate: Target[] = [];
    for (const old of replaced) {
      removals.push({ live: old, reason: 'replaced', replacedBy: d, dissociate: [...old.associations] });
    }

    // An auto-attaching policy keeps (and, when replaced, inherits) undeclared live associations,
    // also those of an old half still live after an interrupted replacement; any other policy
    // is detached from the targets no file declares for it.
    const wanted = d.include_by_default
      ? withKeptAssociations(env, d, matched ? [matched, ...replaced] : replaced, declared, notes)
      : declared;
    const have = new Set<string>();
    for (const t of matched?.associations ?? []) {
      const k = targetKey(t);
      have.add(k);
      if (!d.include_by_default && !declared.has(k)) dissociate.push(t);
    }
    for (const [k, t] of wanted) if (!have.has(k)) associate.push(t);

    let action: PolicyChange['action'];
    let fieldChanges: FieldChange[] = [];
    if (matched) {
      fieldChanges = policyChanges(matched, d, capabilities.ruleOrder);
      const immutable = fieldChanges.some((c) => c.field === 'type' || c.field === 'region');
      if (immutable) {
        // Same region and name, other type, no duplicate: the matched policy itself is replaced.
        removals.push({
          live: matched,
          reason: 'replaced',
          replacedBy: d,
          dissociate: [...matched.associations],
        });
        changes.push({
          desired: d,
          action: 'replace',
          changes: fieldChanges,
          associate: [...wanted.values()],
          dissociate: [],
          live: matched,
        });
        continue;
      }
      action = fieldChanges.length > 0 ? 'update' : 'none';
    } else if (replaced.length === 1 && replaced[0]) {
      action = 'replace';
      fieldChanges = policyChanges(replaced[0], d, capabilities.ruleOrder);
    } else {
      action = 'create';
    }
    changes.push({ desired: d, live: matched, action, changes: fieldChanges, associate, dissociate });
  }

  // 5. Pruned policies.
  if (desired.config.prune) {
    for (const l of livePolicies) {
      if (claimed.has(l.id) || oldHalves.has(l.id) || protect.has(l.name)) continue;
      removals.push({ live: l, reason: 'pruned', dissociate: [...l.associations] });
    }
  }

  // 6. Associations of unmanaged policies on targets we touch are shown, never changed.
  // Only those left unmanaged in step 2 can be (every other one was claimed, made an old half or
  // pruned); usually none, and then the touched targets need not be collected at all.
  const removed = unmanaged.length > 0 ? new Set(removals.map((r) => r.live.id)) : new Set<string>();
  const shown = unmanaged.filter(
    (l) => l.associations.length > 0 && !claimed.has(l.id) && !oldHalves.has(l.id) && !removed.has(l.id),
  );
  if (shown.length > 0) {
    const touched = new Set<string>();
    for (const c of changes) for (const t of [...c.associate, ...c.dissociate]) touched.add(targetKey(t));
    for (const r of removals) for (const t of r.dissociate) touched.add(targetKey(t));
    for (const l of shown) {
      for (const t of l.associations) {
        if (!touched.has(targetKey(t))) continue;
        notes.push({
          environment: env,
          kind: 'unmanaged_association',
          message: `unmanaged policy ${l.name} (${l.id}) stays on ${targetLabel(t)}`,
          policy: { region: l.region, name: l.name, id: l.id },
          target: t,
        });
      }
    }
  }

  return { environment: env, changes, removals, notes, refusals, diagnostics };
}
