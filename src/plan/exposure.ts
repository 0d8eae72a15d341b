import { rulesEqual } from '../diff/rules.js';
import { canonicalJson } from '../model/canonical.js';
import { countAddresses, IPV4_TOTAL, mergeIntervals, parseIpv4Range } from '../model/ipv4.js';
import type { Ipv4Interval } from '../model/ipv4.js';
import { isIngressType, targetKey } from '../model/types.js';
import type { LiveEnvironment, PolicySpec, Target } from '../model/types.js';
import type { ExposureAccess, ExposureState, Operation, TargetExposure } from './types.js';

/**
 * A policy as the exposure sees it: the live policy before the plan, the spec of an operation
 * after it. Compared by identity: the same object before and after means unchanged.
 */
type PolicyView = Readonly<Pick<PolicySpec, 'name' | 'type' | 'rules'>>;

/** A policy the plan creates, attached by the id of the op that creates it (`policy_from`). */
interface NewPolicy {
  opId: string;
  policy: PolicyView | undefined;
}

/** One policy attached to a target: a live policy id, or a policy the plan creates. */
type Attachment = string | NewPolicy;

/**
 * The ingress policies attached to a target, by name; null = attached but not readable in this
 * scope (it filters, with rules we cannot see). For a name listed twice the last one counts.
 */
type IngressByName = Map<string, PolicyView | null>;

/** The policies before and after the plan, keeping for "after" only what the plan changes. */
interface PolicyStates {
  /** Live policies by id. */
  before: Map<string, PolicyView>;
  /** Live policies the plan rewrites (rules or type updated), or deletes (undefined). */
  rewritten: Map<string, PolicyView | undefined>;
  deleted: Set<string>;
  /** Policies the plan creates, by the id of the op that creates them. */
  created: Map<string, NewPolicy>;
  /**
   * Per policy, the addresses an `ip` policy allows as merged intervals: parsed on first use, once
   * however many targets the policy is on, and merged so that a target unions a few intervals
   * per policy rather than one per rule (the union, and so the count, is the same).
   */
  ranges: Map<PolicyView, Ipv4Interval[]>;
  /** Per policy, type and rules order-free (see `signatureOf`), built only when two versions meet. */
  signatures: Map<PolicyView, string>;
}

/** Targets whose ingress may change: touched by an op, or with a rewritten or deleted policy. */
interface AffectedTargets {
  keys: Set<string>;
  /** Their ids: most live associations are passed over on the id, without building a key. */
  ids: Set<string>;
}

/** Per affected target key: the target, its live name, and the policies attached before and after. */
interface Attachments {
  targets: Map<string, { target: Target; name: string | undefined }>;
  before: Map<string, Set<Attachment>>;
  /** Only targets the plan attaches to or detaches from, each with its own copy. */
  after: Map<string, Set<Attachment>>;
}

/**
 * What the plan does to who can reach each target (pure). Before = live associations and live
 * rules; after = the same with the plan's operations applied in order (created and updated
 * policies' rules, associations added and removed, deleted policies gone). Only targets whose
 * effective ingress changes are listed, sorted by target key.
 *
 * One function per step: each loop runs tens of thousands of times on a large estate's first
 * call, and small functions are optimised sooner than one large body.
 */
export function computeExposure(live: LiveEnvironment, operations: readonly Operation[]): TargetExposure[] {
  const env = live.environment;
  const ops = operations.filter((op) => op.environment === env);
  // No operation here: every target keeps its policies and their rules (the in-sync case at scale).
  if (ops.length === 0) return [];
  const policies = policyStatesOf(live, ops);
  // The target key of each op that attaches or detaches, built once for the two steps that use it.
  const opKeys = ops.map((op) =>
    op.action === 'associate' || op.action === 'dissociate' ? targetKey(op.target) : undefined,
  );
  const affected = affectedTargetsOf(live, ops, opKeys, policies);
  const attachments = liveAttachmentsOf(live, affected);
  applyAttachmentOps(ops, opKeys, policies, attachments);

  const out: { key: string; exposure: TargetExposure }[] = [];
  for (const key of affected.keys) {
    const exposure = exposureOf(env, key, policies, attachments);
    if (exposure !== undefined) out.push({ key, exposure });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => e.exposure);
}

/** The policy created by op `opId`; one no op creates (a dangling `policy_from`) stays unreadable. */
function newPolicy(created: Map<string, NewPolicy>, opId: string): NewPolicy {
  let p = created.get(opId);
  if (p === undefined) created.set(opId, (p = { opId, policy: undefined }));
  return p;
}

function policyStatesOf(live: LiveEnvironment, ops: readonly Operation[]): PolicyStates {
  const states: PolicyStates = {
    before: new Map(),
    rewritten: new Map(),
    deleted: new Set(),
    created: new Map(),
    ranges: new Map(),
    signatures: new Map(),
  };
  for (const p of live.policies) states.before.set(p.id, p);
  for (const op of ops) {
    if (op.action === 'create' || op.action === 'replace') {
      states.created.set(op.id, { opId: op.id, policy: op.spec });
    } else if (op.action === 'update') {
      // A change of description or include_by_default lets in no other traffic.
      if (op.changes.some((c) => c.field === 'rules' || c.field === 'type')) {
        states.rewritten.set(op.policy.id, op.spec);
      }
    } else if (op.action === 'delete') {
      // A deleted policy is attached nowhere; applied per target below rather than by a scan here.
      states.rewritten.set(op.policy.id, undefined);
      states.deleted.add(op.policy.id);
    }
  }
  return states;
}

function affectedTargetsOf(
  live: LiveEnvironment,
  ops: readonly Operation[],
  opKeys: readonly (string | undefined)[],
  policies: PolicyStates,
): AffectedTargets {
  const affected: AffectedTargets = { keys: new Set(), ids: new Set() };
  ops.forEach((op, i) => {
    const key = opKeys[i];
    if (key === undefined || (op.action !== 'associate' && op.action !== 'dissociate')) return;
    affected.keys.add(key);
    affected.ids.add(op.target.id);
  });
  if (policies.rewritten.size === 0) return affected;
  const add = (target: Target): void => {
    affected.keys.add(targetKey(target));
    affected.ids.add(target.id);
  };
  for (const t of live.targets) if (t.policyIds?.some((id) => policies.rewritten.has(id))) add(t.target);
  for (const p of live.policies) if (policies.rewritten.has(p.id)) for (const t of p.associations) add(t);
  return affected;
}

/** The live attachments of the affected targets, in the order the live state lists them. */
function liveAttachmentsOf(live: LiveEnvironment, affected: AffectedTargets): Attachments {
  const out: Attachments = { targets: new Map(), before: new Map(), after: new Map() };
  // The key of an affected target, else undefined (decided on the id alone for most targets).
  const affectedKey = (target: Target): string | undefined => {
    if (!affected.ids.has(target.id)) return undefined;
    const key = targetKey(target);
    return affected.keys.has(key) ? key : undefined;
  };
  for (const t of live.targets) {
    const key = affectedKey(t.target);
    if (key === undefined) continue;
    out.targets.set(key, { target: t.target, name: t.name });
    // Ids the target itself reports include policies out of scope: they still filter.
    for (const id of t.policyIds ?? []) attachedBefore(out, key, t.target).add(id);
  }
  for (const p of live.policies) {
    for (const t of p.associations) {
      const key = affectedKey(t);
      if (key !== undefined) attachedBefore(out, key, t).add(p.id);
    }
  }
  return out;
}

/** The live attachments of a target, registering a target met first here. */
function attachedBefore(out: Attachments, key: string, target: Target): Set<Attachment> {
  let set = out.before.get(key);
  if (set === undefined) {
    out.before.set(key, (set = new Set()));
    if (!out.targets.has(key)) out.targets.set(key, { target, name: undefined });
  }
  return set;
}

function applyAttachmentOps(
  ops: readonly Operation[],
  opKeys: readonly (string | undefined)[],
  policies: PolicyStates,
  out: Attachments,
): void {
  const attachedAfter = (key: string, target: Target): Set<Attachment> => {
    if (!out.targets.has(key)) out.targets.set(key, { target, name: undefined });
    let set = out.after.get(key);
    if (set === undefined) out.after.set(key, (set = new Set(out.before.get(key))));
    return set;
  };
  ops.forEach((op, i) => {
    const key = opKeys[i];
    if (key === undefined) return;
    if (op.action === 'associate') {
      attachedAfter(key, op.target).add(
        op.policy.id === undefined ? newPolicy(policies.created, op.policy_from ?? '') : op.policy.id,
      );
    } else if (op.action === 'dissociate') {
      attachedAfter(key, op.target).delete(op.policy.id);
    }
  });
}

/** The exposure entry of one affected target, or undefined when its effective ingress is unchanged. */
function exposureOf(
  env: string,
  key: string,
  policies: PolicyStates,
  attachments: Attachments,
): TargetExposure | undefined {
  const info = attachments.targets.get(key);
  if (info === undefined) return undefined;
  const { before, rewritten, deleted } = policies;
  const policyBefore = (a: Attachment): PolicyView | undefined =>
    typeof a === 'string' ? before.get(a) : undefined;
  const policyAfter = (a: Attachment): PolicyView | undefined =>
    typeof a !== 'string' ? a.policy : rewritten.has(a) ? rewritten.get(a) : before.get(a);

  const from = attachments.before.get(key);
  const to = withoutDeleted(attachments.after.get(key) ?? from, deleted);
  // Same policies, none of them rewritten: nothing to compute.
  if (sameAttachments(from, to) && everyAttachment(from, (a) => policyBefore(a) === policyAfter(a))) {
    return undefined;
  }
  const was = ingressOf(from, policyBefore);
  const will = ingressOf(to, policyAfter);
  if (sameIngress(was, will, policies)) return undefined;
  const via = [...new Set([...was.keys(), ...will.keys()])]
    .filter((name) => !samePolicyIngress(was.get(name), will.get(name), policies))
    .sort();
  const wasState = stateOf(was, from, policyBefore, policies);
  const willState = stateOf(will, to, policyAfter, policies);
  return {
    environment: env,
    target: info.target,
    ...(info.name === undefined ? {} : { name: info.name }),
    before: wasState,
    after: willState,
    delta_ipv4: willState.ipv4_addresses - wasState.ipv4_addresses,
    via,
    opens_to_internet: wasState.access !== 'unfiltered' && willState.access === 'unfiltered',
  };
}

/** The attachments without deleted policies; the same set when none of them is deleted. */
function withoutDeleted(
  attached: ReadonlySet<Attachment> | undefined,
  deleted: ReadonlySet<string>,
): ReadonlySet<Attachment> | undefined {
  if (attached === undefined || deleted.size === 0) return attached;
  const kept = (a: Attachment): boolean => typeof a !== 'string' || !deleted.has(a);
  if (everyAttachment(attached, kept)) return attached;
  return new Set([...attached].filter(kept));
}

/** `every` over a set without copying it into an array (this runs for every affected target). */
function everyAttachment(
  attached: ReadonlySet<Attachment> | undefined,
  test: (a: Attachment) => boolean,
): boolean {
  for (const a of attached ?? []) if (!test(a)) return false;
  return true;
}

function sameAttachments(
  a: ReadonlySet<Attachment> | undefined,
  b: ReadonlySet<Attachment> | undefined,
): boolean {
  if (a === b) return true;
  if ((a?.size ?? 0) !== (b?.size ?? 0)) return false;
  return everyAttachment(a, (k) => b?.has(k) === true);
}

/** The ingress policies attached, by name (see `IngressByName`). */
function ingressOf(
  attached: ReadonlySet<Attachment> | undefined,
  policyOf: (a: Attachment) => PolicyView | undefined,
): IngressByName {
  const byName: IngressByName = new Map();
  for (const a of attached ?? []) {
    const policy = policyOf(a);
    if (policy === undefined) byName.set(typeof a === 'string' ? a : `op:${a.opId}`, null);
    else if (isIngressType(policy.type)) byName.set(policy.name, policy);
  }
  return byName;
}

/** Same names, each letting in the same traffic: the target's effective ingress is unchanged. */
function sameIngress(a: IngressByName, b: IngressByName, memo: PolicyStates): boolean {
  if (a.size !== b.size) return false;
  for (const [name, policy] of a) {
    if (!b.has(name) || !samePolicyIngress(policy, b.get(name), memo)) return false;
  }
  return true;
}

/** Equal signatures, without building them when the answer is already known. */
function samePolicyIngress(
  a: PolicyView | null | undefined,
  b: PolicyView | null | undefined,
  memo: PolicyStates,
): boolean {
  if (a === b) return true;
  if (!a || !b || a.type !== b.type || a.rules.length !== b.rules.length) return false;
  // Rules that differ in meaning (as a multiset of rule keys) differ in canonical text too, and
  // that is decided without a text for the rules equal in place: the usual rewritten policy.
  if (!rulesEqual(a.rules, b.rules, 'set')) return false;
  return signatureOf(a, memo) === signatureOf(b, memo);
}

/** Type and rules, order-free: equal signatures mean the policy lets in the same traffic. */
function signatureOf(policy: PolicyView, memo: PolicyStates): string {
  let signature = memo.signatures.get(policy);
  if (signature === undefined) {
    signature = canonicalJson([policy.type, policy.rules.map((r) => canonicalJson(r)).sort()]);
    memo.signatures.set(policy, signature);
  }
  return signature;
}

function rangesOf(policy: PolicyView, memo: PolicyStates): Ipv4Interval[] {
  let merged = memo.ranges.get(policy);
  if (merged === undefined) {
    const ranges: Ipv4Interval[] = [];
    for (const rule of policy.rules) {
      const range = rule.source === undefined ? undefined : parseIpv4Range(rule.source);
      if (range !== undefined) ranges.push(range);
    }
    merged = mergeIntervals(ranges);
    memo.ranges.set(policy, merged);
  }
  return merged;
}

/** The ingress a target gets from the policies attached to it. */
function stateOf(
  byName: IngressByName,
  attached: ReadonlySet<Attachment> | undefined,
  policyOf: (a: Attachment) => PolicyView | undefined,
  memo: PolicyStates,
): ExposureState {
  const ranges: Ipv4Interval[] = [];
  let ip = false;
  let privateLink = false;
  let privateEndpoints = 0;
  // Every attached ingress policy counts, also one whose name another shadows in `byName`.
  for (const a of attached ?? []) {
    const policy = policyOf(a);
    if (policy === undefined || !isIngressType(policy.type)) continue;
    if (policy.type === 'ip') {
      ip = true;
      for (const range of rangesOf(policy, memo)) ranges.push(range);
    } else if (policy.type !== 'remote_cluster') {
      privateLink = true;
      privateEndpoints += policy.rules.length;
    }
  }
  const filtered = byName.size > 0;
  const access: ExposureAccess = !filtered
    ? 'unfiltered'
    : ip && privateLink
      ? 'public_allow_list_and_private_link'
      : ip
        ? 'public_allow_list'
        : privateLink
          ? 'private_link_only'
          : 'other_filters';
  return {
    access,
    ipv4_addresses: filtered ? countAddresses(ranges) : IPV4_TOTAL,
    private_endpoints: privateEndpoints,
    policies: [...byName.keys()].sort(),
  };
}

const ACCESS_LABELS: Readonly<Record<ExposureAccess, string>> = {
  unfiltered: 'unfiltered',
  public_allow_list: 'public allow-list',
  public_allow_list_and_private_link: 'public allow-list + private link',
  private_link_only: 'private link only',
  other_filters: 'remote clusters or other filters only',
};

export function accessLabel(access: ExposureAccess): string {
  return ACCESS_LABELS[access];
}

/**
 * One line a reviewer reads, e.g. `prod-search (deployment 5470…): +1,024 IPv4 addresses
 * (256 → 1,280) via office-ingress` or `… filtered → UNFILTERED: open to the whole internet`.
 */
export function describeExposure(e: TargetExposure): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const id =
    e.target.kind === 'deployment'
      ? `deployment ${e.target.id}`
      : `project ${e.target.projectType}/${e.target.id}`;
  const who = e.name === undefined ? id : `${e.name} (${id})`;
  const parts: string[] = [];
  if (e.opens_to_internet) {
    parts.push(`${accessLabel(e.before.access)} → UNFILTERED: open to the whole internet`);
  } else if (e.before.access !== e.after.access) {
    parts.push(`${accessLabel(e.before.access)} → ${accessLabel(e.after.access)}`);
  }
  const counts = `(${n(e.before.ipv4_addresses)} → ${n(e.after.ipv4_addresses)})`;
  if (e.delta_ipv4 > 0) parts.push(`+${n(e.delta_ipv4)} IPv4 addresses ${counts}`);
  else if (e.delta_ipv4 < 0) parts.push(`−${n(-e.delta_ipv4)} IPv4 addresses ${counts}`);
  else parts.push(`IPv4 addresses unchanged (${n(e.after.ipv4_addresses)})`);
  if (e.before.private_endpoints !== e.after.private_endpoints) {
    parts.push(`private endpoints ${e.before.private_endpoints} → ${e.after.private_endpoints}`);
  }
  const via = e.via.length > 0 ? ` via ${e.via.join(', ')}` : '';
  return `${who}: ${parts.join('; ')}${via}`;
}
