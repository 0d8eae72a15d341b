import type { Capabilities } from '../model/capabilities.js';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import {
  targetKey,
  targetLabel,
  type DesiredAssociation,
  type DesiredEnvironment,
  type DesiredPolicy,
  type LiveEnvironment,
  type LivePolicy,
  type LiveTarget,
  type SourcePosition,
  type Target,
} from '../model/types.js';
import { policyChanges } from './rules.js';
import type { AmbiguousPolicy, EnvironmentDiff, Note, PolicyChange, PolicyRemoval } from './types.js';

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
 * undeclared live association of the policies it is or replaces in its own region, each reported
 * as kept. A policy in another region (the old half of a move) can only be on targets of that
 * region, to which the new policy cannot be attached: its associations go with it.
 */
function withKeptAssociations(
  env: string,
  d: DesiredPolicy,
  inherited: readonly LivePolicy[],
  declared: ReadonlyMap<string, Target>,
  notes: Note[],
): ReadonlyMap<string, Target> {
  const wanted = new Map(declared);
  for (const old of inherited) {
    if (old.region !== d.region) continue;
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

/** Who is who: declared policies matched to live ones, and what the undeclared live ones are. */
interface Identities {
  /** Declared policy → the live policy it is (absent: new). */
  matches: Map<DesiredPolicy, LivePolicy | undefined>;
  /** Live ids a declaration claims, or that are left alone beside an ambiguous one. */
  claimed: Set<string>;
  /** Live id → old half of a replacement, and the declared policy replacing it. */
  oldHalves: Map<string, { live: LivePolicy; by: DesiredPolicy }>;
  /** The same halves per declared policy: looked up once per declared policy (no scan per policy). */
  oldHalvesBy: Map<DesiredPolicy, LivePolicy[]>;
  /** Identical copies of a declared policy's matched live policy, to merge into it and delete. */
  extrasBy: Map<DesiredPolicy, LivePolicy[]>;
  /** `keyOf` of the declared policies refused as ambiguous. */
  ambiguous: Set<string>;
  /** Undeclared live policies neither pruned nor replaced (reported, left untouched). */
  unmanaged: LivePolicy[];
  /** Undeclared live policies to prune (with `prune: true`), as found in step 2. */
  toPrune: LivePolicy[];
}

function addOldHalf(ids: Identities, l: LivePolicy, by: DesiredPolicy): void {
  ids.oldHalves.set(l.id, { live: l, by });
  const list = ids.oldHalvesBy.get(by);
  if (list) list.push(l);
  else ids.oldHalvesBy.set(by, [l]);
}

/** Sorted: a message must not depend on the API's listing order. */
const sortedIdsOf = (policies: readonly LivePolicy[]): string =>
  policies
    .map((p) => p.id)
    .sort()
    .join(', ');

const KEEPER_RULE = 'the copy with the most associations, then the smallest id';

/**
 * Which of several identical copies is kept (first): the one with the most associations, hidden
 * ones included (fewest to move, and a copy this key cannot fully see is not one to delete), then
 * the smallest id. Deterministic, so two runs that merge at once keep the same copy.
 */
function keeperOrder(a: LivePolicy, b: LivePolicy): number {
  const byAssociations =
    b.associations.length + b.hiddenAssociations - (a.associations.length + a.hiddenAssociations);
  return byAssociations || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

const isAmbiguous = (ids: Identities, d: DesiredPolicy): boolean =>
  ids.ambiguous.size > 0 && ids.ambiguous.has(keyOf(d));

/**
 * Desired vs live for one environment (SPEC §2). Pure: every decision about identity, ownership,
 * replacement and associations is made here; the planner only orders and guards.
 *
 * Identity is (region, name). A live policy that shares its name with a declared one but is not
 * that declared policy — another region, or the same region with another type while the declared
 * type also exists — is the old half of a replacement: it is moved off its targets and deleted.
 * This is also what lets an interrupted replacement converge on the next run.
 *
 * Each step is its own function: besides reading better, a large estate runs every step's loop
 * tens of thousands of times on the first call, and small functions are optimised sooner.
 */
export function diffEnvironment(
  desired: DesiredEnvironment,
  live: LiveEnvironment,
  capabilities: Capabilities,
): EnvironmentDiff {
  const env = desired.config.name;
  const scope = desired.config.regions;
  const notes: Note[] = [];
  const ambiguous: AmbiguousPolicy[] = [];
  const diagnostics: Diagnostic[] = [];
  const livePolicies = live.policies.filter((p) => inScope(scope, p.region));
  const policiesByName = groupBy(desired.policies, (p) => p.name);
  const ids: Identities = {
    matches: new Map(),
    claimed: new Set(),
    oldHalves: new Map(),
    oldHalvesBy: new Map(),
    extrasBy: new Map(),
    ambiguous: new Set(),
    unmanaged: [],
    toPrune: [],
  };
  // 1. Identity: exact (region, name) matches.
  const liveByKey = indexByRegionAndName(livePolicies);
  matchDeclared(env, desired.policies, liveByKey, capabilities.ruleOrder, ids, ambiguous, notes);
  // 2. Undeclared live policies: old halves of replacements, pruned, or unmanaged.
  classifyUndeclared(env, desired, livePolicies, policiesByName, ids, notes);
  // 3. Targets and declared associations.
  const declaredTargets = declaredTargetsOf(env, desired, live, policiesByName, diagnostics);
  // 4. Changes per declared policy.
  const changes: PolicyChange[] = [];
  const removals: PolicyRemoval[] = [];
  for (const d of desired.policies) {
    if (isAmbiguous(ids, d)) continue;
    const declared = declaredTargets.get(d) ?? NO_TARGETS;
    changes.push(changeOf(env, d, ids, declared, capabilities.ruleOrder, removals, notes));
  }
  // 5. Pruned policies.
  if (desired.config.prune) for (const r of prunedPolicies(desired, ids)) removals.push(r);
  // 6. Associations of unmanaged policies on targets we touch are shown, never changed.
  for (const note of unmanagedAssociations(env, ids, changes, removals)) notes.push(note);

  return { environment: env, changes, removals, notes, ambiguous, diagnostics };
}

/**
 * Identity. One live policy of the declared (region, name) is that policy. Several: the one of the
 * declared type is, and the others are old halves of a replacement; several of the declared type
 * that are identical copies (what two concurrent applies leave) are merged into one, chosen by
 * `keeperOrder`; several that differ are ambiguous, and nothing is planned for that policy.
 */
function matchDeclared(
  env: string,
  policies: readonly DesiredPolicy[],
  liveByKey: Map<string, Map<string, LivePolicy[]>>,
  ruleOrder: Capabilities['ruleOrder'],
  ids: Identities,
  ambiguous: AmbiguousPolicy[],
  notes: Note[],
): void {
  for (const d of policies) {
    const candidates = liveByKey.get(d.region)?.get(d.name) ?? NO_POLICIES;
    if (candidates.length <= 1) {
      ids.matches.set(d, candidates[0]);
      if (candidates[0]) ids.claimed.add(candidates[0].id);
      continue;
    }
    const sameType = candidates.filter((c) => c.type === d.type);
    const [keeper, ...extras] = [...sameType].sort(keeperOrder);
    if (keeper && extras.every((e) => policyChanges(keeper, e, ruleOrder).length === 0)) {
      ids.matches.set(d, keeper);
      ids.claimed.add(keeper.id);
      for (const c of candidates) if (c.type !== d.type) addOldHalf(ids, c, d);
      if (extras.length === 0) continue;
      ids.extrasBy.set(d, extras);
      for (const e of extras) ids.claimed.add(e.id);
      notes.push({
        environment: env,
        kind: 'duplicate',
        message:
          `duplicate: ${sameType.length} identical live policies named '${d.name}' in ${d.region}; ` +
          `keeping ${keeper.id} (${KEEPER_RULE}), moving the associations of ${sortedIdsOf(extras)} to it and deleting them`,
        policy: { region: d.region, name: d.name, id: keeper.id },
      });
      continue;
    }
    ids.ambiguous.add(keyOf(d));
    for (const c of candidates) ids.claimed.add(c.id);
    const sortedIds = sortedIdsOf(candidates);
    ambiguous.push({ region: d.region, name: d.name, liveIds: candidates.map((c) => c.id).sort() });
    notes.push({
      environment: env,
      kind: 'ambiguous',
      message: `ambiguous: ${candidates.length} live policies named '${d.name}' in ${d.region}: ${sortedIds}`,
      policy: { region: d.region, name: d.name },
    });
  }
}

function classifyUndeclared(
  env: string,
  desired: DesiredEnvironment,
  livePolicies: readonly LivePolicy[],
  policiesByName: ReadonlyMap<string, DesiredPolicy[]>,
  ids: Identities,
  notes: Note[],
): void {
  const prune = desired.config.prune;
  const protect = new Set(desired.config.protect);
  for (const l of livePolicies) {
    if (ids.claimed.has(l.id) || ids.oldHalves.has(l.id)) continue;
    const named = policiesByName.get(l.name) ?? [];
    if (ids.ambiguous.size > 0 && named.some((d) => ids.ambiguous.has(keyOf(d)))) {
      // Possibly the old half of a policy that is refused as ambiguous: nothing is planned for
      // that policy, so its other half is left alone too (never pruned).
      ids.claimed.add(l.id);
      continue;
    }
    if (named.length === 1 && named[0]) {
      addOldHalf(ids, l, named[0]);
      continue;
    }
    if (prune && !protect.has(l.name)) {
      ids.toPrune.push(l); // removed in step 5
      continue;
    }
    ids.unmanaged.push(l);
    notes.push({
      environment: env,
      kind: 'unmanaged',
      message: prune
        ? `protected, not pruned: ${l.name} (${l.region}, ${l.type}, ${l.id})`
        : `unmanaged: ${l.name} (${l.region}, ${l.type}, ${l.id}), left untouched`,
      policy: { region: l.region, name: l.name, id: l.id },
    });
  }
}

/** Declared policy → the live targets declared for it, by target key; diagnostics for the rest. */
function declaredTargetsOf(
  env: string,
  desired: DesiredEnvironment,
  live: LiveEnvironment,
  policiesByName: ReadonlyMap<string, DesiredPolicy[]>,
  diagnostics: Diagnostic[],
): Map<DesiredPolicy, Map<string, Target>> {
  const targets = new Map<string, LiveTarget>(live.targets.map((t) => [targetKey(t.target), t]));
  const declaredTargets = new Map<DesiredPolicy, Map<string, Target>>();
  // One error per missing target, at its id, naming the policies declared for it.
  const missing = new Map<string, { first: DesiredAssociation; policies: string[] }>();
  for (const a of desired.associations) {
    const key = targetKey(a.target);
    const liveTarget = targets.get(key);
    if (!liveTarget) {
      const seen = missing.get(key);
      if (seen) seen.policies.push(a.policyName);
      else missing.set(key, { first: a, policies: [a.policyName] });
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
          declaredAt(a),
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
          declaredAt(a),
        ),
      );
      continue;
    }
    let set = declaredTargets.get(policy);
    if (!set) declaredTargets.set(policy, (set = new Map()));
    set.set(key, a.target);
  }
  for (const { first, policies } of missing.values()) {
    diagnostics.push(
      diagnostic(
        'error',
        'E_UNKNOWN_TARGET',
        `${targetLabel(first.target)} does not exist in environment '${env}' (or is not visible to this API key); declared for it: ${policies.join(', ')}`,
        first.targetPosition ?? declaredAt(first),
      ),
    );
  }
  return declaredTargets;
}

/** Where an association was declared, for a diagnostic about it. */
function declaredAt(a: DesiredAssociation): SourcePosition | { file: string } {
  return a.position ?? { file: '<config>' };
}

/** The change of one declared policy; the live policies it replaces go to `removals`. */
function changeOf(
  env: string,
  d: DesiredPolicy,
  ids: Identities,
  declared: ReadonlyMap<string, Target>,
  ruleOrder: Capabilities['ruleOrder'],
  removals: PolicyRemoval[],
  notes: Note[],
): PolicyChange {
  const matched = ids.matches.get(d);
  const replaced = ids.oldHalvesBy.get(d) ?? NO_POLICIES;
  const extras = ids.extrasBy.get(d) ?? NO_POLICIES;
  const associate: Target[] = [];
  const dissociate: Target[] = [];
  for (const old of replaced) {
    removals.push({ live: old, reason: 'replaced', replacedBy: d, dissociate: [...old.associations] });
  }

  // An auto-attaching policy keeps (and, when replaced, inherits) undeclared live associations,
  // also those of an old half still live after an interrupted replacement, or of a duplicate
  // merged into it; any other policy is detached from the targets no file declares for it.
  const wanted = d.include_by_default
    ? withKeptAssociations(env, d, [...(matched ? [matched] : []), ...replaced, ...extras], declared, notes)
    : declared;
  // A duplicate goes once the kept copy is on every target it should be on (make before break:
  // those attachments come first, and a detach waits for every attach to its target).
  if (matched) {
    for (const extra of extras) {
      removals.push({
        live: extra,
        reason: 'duplicate',
        keeperTargets: wanted,
        dissociate: [...extra.associations],
      });
    }
  }
  const have = new Set<string>();
  let kept = 0; // wanted targets the matched policy is on already
  for (const t of matched?.associations ?? []) {
    const k = targetKey(t);
    if (!have.has(k)) {
      have.add(k);
      if (wanted.has(k)) kept++;
    }
    if (!d.include_by_default && !declared.has(k)) dissociate.push(t);
  }
  // Usually every wanted target is attached already (a policy in sync): nothing to look for.
  if (kept < wanted.size) for (const [k, t] of wanted) if (!have.has(k)) associate.push(t);

  if (matched) {
    const changes = policyChanges(matched, d, ruleOrder);
    if (changes.some((c) => c.field === 'type' || c.field === 'region')) {
      // Same region and name, other type, no duplicate: the matched policy itself is replaced.
      removals.push({
        live: matched,
        reason: 'replaced',
        replacedBy: d,
        dissociate: [...matched.associations],
      });
      return {
        desired: d,
        action: 'replace',
        changes,
        associate: [...wanted.values()],
        dissociate: [],
        live: matched,
      };
    }
    const action = changes.length > 0 ? 'update' : 'none';
    return { desired: d, live: matched, action, changes, associate, dissociate };
  }
  if (replaced.length === 1 && replaced[0]) {
    const changes = policyChanges(replaced[0], d, ruleOrder);
    return { desired: d, live: matched, action: 'replace', changes, associate, dissociate };
  }
  return { desired: d, live: matched, action: 'create', changes: [], associate, dissociate };
}

/**
 * Only the policies step 2 set aside for pruning can be pruned (every other one was claimed, made
 * an old half, or is protected or unmanaged); the check is repeated as a live id may appear twice.
 */
function prunedPolicies(desired: DesiredEnvironment, ids: Identities): PolicyRemoval[] {
  const protect = new Set(desired.config.protect);
  return ids.toPrune
    .filter((l) => !ids.claimed.has(l.id) && !ids.oldHalves.has(l.id) && !protect.has(l.name))
    .map((l) => ({ live: l, reason: 'pruned', dissociate: [...l.associations] }));
}

/**
 * Notes for the associations of unmanaged policies with targets the plan touches. Only the
 * policies left unmanaged in step 2 can have any (every other one was claimed, made an old half or
 * pruned); usually there are none, and then the touched targets need not be collected at all.
 */
function unmanagedAssociations(
  env: string,
  ids: Identities,
  changes: readonly PolicyChange[],
  removals: readonly PolicyRemoval[],
): Note[] {
  const removed = ids.unmanaged.length > 0 ? new Set(removals.map((r) => r.live.id)) : new Set<string>();
  const shown = ids.unmanaged.filter(
    (l) =>
      l.associations.length > 0 && !ids.claimed.has(l.id) && !ids.oldHalves.has(l.id) && !removed.has(l.id),
  );
  if (shown.length === 0) return [];
  const touched = new Set<string>();
  for (const c of changes) for (const t of [...c.associate, ...c.dissociate]) touched.add(targetKey(t));
  for (const r of removals) for (const t of r.dissociate) touched.add(targetKey(t));
  const notes: Note[] = [];
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
  return notes;
}
