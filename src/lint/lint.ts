import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { ipv4CodeEnd, ipv4CodePrefix, ipv4CodeStart, ipv4RangeCode, parseIpv4Range } from '../model/ipv4.js';
import type { Ipv4Range } from '../model/ipv4.js';
import { targetKey, targetLabel } from '../model/types.js';
import type { DesiredPolicy, SourcePosition, Target } from '../model/types.js';
import type { LocatedAssociationEntry, LocatedPolicy } from '../load/normalise.js';
import { positionAt } from '../load/read-yaml.js';
import { forEachRuleValue, policyRuleOrigins } from '../load/rule-origins.js';
import type { RuleOrigin } from '../load/rule-origins.js';
import { isReference } from '../load/sources.js';
import type { SourceSetDecl, SourceTable } from '../load/sources.js';

/**
 * Network lint (pure): findings about what the declared rules let in, as warnings that
 * `lint.errors` in ecfence.yaml can promote to errors and `lint.ignore` can silence.
 *
 * Thresholds: `0.0.0.0/0` is W_OPEN_SOURCE; any other prefix shorter than /8 (more than 16.7
 * million addresses, wider than the largest block ever assigned to one organisation) is
 * W_BROAD_SOURCE. Ranges that broad are left out of the duplicate/containment checks, so one
 * `0.0.0.0/0` gives one warning rather than one per narrower rule beside it.
 */
export const LINT_CODES = [
  'W_DUPLICATE_SOURCE',
  'W_CONTAINED_SOURCE',
  'W_OPEN_SOURCE',
  'W_BROAD_SOURCE',
  'W_EGRESS_ALLOW_ALL',
  'W_EMPTY_SOURCE_SET',
] as const;
export type LintCode = (typeof LINT_CODES)[number];

/** Warning codes `lint.errors` and `lint.ignore` accept: the lint's and the loader's own. */
export const CONFIGURABLE_WARNINGS = [...LINT_CODES, 'W_CIDR_HOST_BITS', 'W_DUPLICATE_RULE'] as const;

/** Shortest prefix that is not "very broad". */
export const BROAD_PREFIX = 8;

export interface LintInput {
  policies: readonly LocatedPolicy[];
  associations: readonly LocatedAssociationEntry[];
  /** The expanded source sets, through which the rules are read. */
  sources: SourceTable;
  decls: readonly SourceSetDecl[];
}

export function lintPolicies(input: LintInput): Diagnostic[] {
  const out: Diagnostic[] = lintEmptySets(input);
  const rules = new Rules(input.policies, input.sources);
  // Each rule's range is parsed once and each policy's ranges sorted once: the checks within a
  // policy and across the policies of every target all start from these.
  const groups: PolicyRules[] = [];
  const groupOf: GroupIndex = new Map();
  input.policies.forEach((located, p) => {
    const { policy } = located;
    const scope = scopeKey(policy.environment, policy.region);
    let byName = groupOf.get(scope);
    if (byName === undefined) groupOf.set(scope, (byName = new Map()));
    let group = byName.get(policy.name);
    if (group === undefined) {
      group = groups.length;
      byName.set(policy.name, group);
      groups.push({ ranges: [], exact: [] });
    }
    const { ranges, exact } = groups[group] as PolicyRules;
    const { type } = policy;
    forEachRuleValue(located, input.sources, (value, ruleIndex) => {
      const id = rules.add(p, group, ruleIndex, value);
      if (type === 'ip' || type === 'egress_firewall') {
        const code = ipv4RangeCode(value);
        if (code < 0) return;
        const prefix = ipv4CodePrefix(code);
        // Broad ranges are rare: only they need the rule's origin (and egress protocol) to judge.
        if (prefix < BROAD_PREFIX) {
          const broad = lintBreadth(rules.origin(id), parseIpv4Range(value));
          if (broad !== undefined) out.push(broad);
        }
        if (type === 'ip' && prefix >= BROAD_PREFIX) {
          rules.setRange(id, ipv4CodeStart(code), ipv4CodeEnd(code));
          ranges.push(id);
        }
      } else if (type !== 'remote_cluster') {
        exact.push(id);
      }
    });
  });
  const byRange = rules.byRange;
  for (const group of groups) group.ranges.sort(byRange);
  for (const group of groups) out.push(...lintOverlaps(rules, group.ranges, group.exact, 'same', ''));
  out.push(...lintAcrossTargets(input, rules, groups, groupOf));
  return out;
}

/**
 * The expanded rules of the declared policies as numbers, one id per rule in the order they are
 * visited: a large estate has a hundred thousand of them, and the lint builds the origin (file,
 * line, label, description) of only those it reports.
 */
class Rules {
  /** Rules so far; the typed arrays below have room for `capacity`. */
  private count = 0;
  private capacity: number;
  /** Per rule id: the index of its policy in the input, its policy's group and its written rule index. */
  private policy: Int32Array;
  group: Int32Array;
  private rule: Int32Array;
  /** Per rule id, for `ip` rules in the overlap checks: the range, as unsigned integers. */
  start: Uint32Array;
  end: Uint32Array;
  /** Per rule id: the value (address, CIDR, endpoint id). */
  private readonly value: string[] = [];
  /** Per policy: its first rule id, and its origins once one was asked for. */
  private readonly first: Int32Array;
  private readonly origins: (RuleOrigin[] | undefined)[];
  /** Per policy: its place in written order (file, then place in the file). */
  private readonly rank: Int32Array;

  constructor(
    private readonly policies: readonly LocatedPolicy[],
    private readonly sources: SourceTable,
  ) {
    // Room for the normalised rules: as many as the expanded ones, give or take duplicates.
    let rules = 0;
    for (const located of policies) rules += located.policy.rules.length;
    this.capacity = Math.max(1024, rules);
    this.policy = new Int32Array(this.capacity);
    this.group = new Int32Array(this.capacity);
    this.rule = new Int32Array(this.capacity);
    this.start = new Uint32Array(this.capacity);
    this.end = new Uint32Array(this.capacity);
    this.first = new Int32Array(policies.length).fill(-1);
    this.origins = policies.map(() => undefined);
    const order = policies.map((_, p) => p);
    order.sort((a, b) => {
      const x = policies[a] as LocatedPolicy;
      const y = policies[b] as LocatedPolicy;
      return (x.yaml.file < y.yaml.file ? -1 : x.yaml.file > y.yaml.file ? 1 : 0) || x.index - y.index;
    });
    this.rank = new Int32Array(policies.length);
    order.forEach((p, rank) => (this.rank[p] = rank));
  }

  add(policy: number, group: number, ruleIndex: number, value: string): number {
    const id = this.count++;
    if (id === this.capacity) this.grow();
    if (this.first[policy] === -1) this.first[policy] = id;
    this.policy[id] = policy;
    this.group[id] = group;
    this.rule[id] = ruleIndex;
    this.value.push(value);
    return id;
  }

  setRange(id: number, start: number, end: number): void {
    this.start[id] = start;
    this.end[id] = end;
  }

  private grow(): void {
    this.capacity *= 2;
    const grown = <T extends Int32Array | Uint32Array>(from: T, to: T): T => {
      to.set(from);
      return to;
    };
    this.policy = grown(this.policy, new Int32Array(this.capacity));
    this.group = grown(this.group, new Int32Array(this.capacity));
    this.rule = grown(this.rule, new Int32Array(this.capacity));
    this.start = grown(this.start, new Uint32Array(this.capacity));
    this.end = grown(this.end, new Uint32Array(this.capacity));
  }

  /** The rule's origin: where it is written, its label, description and the set it came from. */
  origin(id: number): RuleOrigin {
    const p = this.policy[id] as number;
    const origins = (this.origins[p] ??= policyRuleOrigins(this.policies[p] as LocatedPolicy, this.sources));
    return origins[id - (this.first[p] as number)] as RuleOrigin;
  }

  /** What makes two rules the same source when compared for equality (endpoint ids, GUIDs). */
  exactKey(id: number): string {
    return `${(this.policies[this.policy[id] as number] as LocatedPolicy).policy.type}\u0000${this.value[id]}`;
  }

  /** Written order: file, place of the policy in it, then of the rule in the policy. */
  readonly byPosition = (a: number, b: number): number =>
    (this.rank[this.policy[a] as number] as number) - (this.rank[this.policy[b] as number] as number) ||
    (this.rule[a] as number) - (this.rule[b] as number);

  /** Start ascending, then widest first; ties in the order written (then by value, as shown). */
  readonly byRange = (a: number, b: number): number => {
    const va = this.value[a] as string;
    const vb = this.value[b] as string;
    return (
      (this.start[a] as number) - (this.start[b] as number) ||
      (this.end[b] as number) - (this.end[a] as number) ||
      this.byPosition(a, b) ||
      (va < vb ? -1 : va > vb ? 1 : 0)
    );
  };
}

/** A policy's rules (all declarations of one environment/region/name) as the overlap checks read them. */
interface PolicyRules {
  /** Ids of its IPv4 ranges no broader than BROAD_PREFIX, sorted by `Rules.byRange`. */
  ranges: number[];
  /** Ids of its sources compared for equality (endpoint ids, GUIDs), in the order they were visited. */
  exact: number[];
}

/**
 * The regions a target's association can mean: a policy name is resolved in the target's region,
 * which is unknown offline, so these are the regions where every named policy that exists at all
 * is declared. One region in practice; several only when all the names exist in each.
 */
export function candidateRegions(
  environment: string,
  names: readonly string[],
  policies: readonly DesiredPolicy[],
): string[] {
  return regionsFitting(names, indexRegions(policies).get(environment));
}

/** environment → policy name → the regions where it is declared. */
type RegionIndex = Map<string, Map<string, Set<string>>>;

function indexRegions(policies: readonly DesiredPolicy[]): RegionIndex {
  const index: RegionIndex = new Map();
  for (const p of policies) {
    let byName = index.get(p.environment);
    if (byName === undefined) index.set(p.environment, (byName = new Map()));
    let regions = byName.get(p.name);
    if (regions === undefined) byName.set(p.name, (regions = new Set()));
    regions.add(p.region);
  }
  return index;
}

function regionsFitting(
  names: readonly string[],
  regionsOf: ReadonlyMap<string, ReadonlySet<string>> | undefined,
): string[] {
  // The regions of every name that is declared somewhere (a name listed twice intersects nothing away).
  let fitting: string[] | undefined;
  for (const name of names) {
    const regions = regionsOf?.get(name);
    if (regions === undefined) continue;
    fitting = fitting === undefined ? [...regions] : fitting.filter((r) => regions.has(r));
    if (fitting.length === 0) return fitting;
  }
  return fitting === undefined ? [] : fitting.sort();
}

// ------------------------------------------------------------------ single rules

function lintBreadth(origin: RuleOrigin, range: Ipv4Range | undefined): Diagnostic | undefined {
  if (range === undefined) return undefined;
  const what = (): string => `${origin.label}: ${shown(origin)}`;
  if (origin.type === 'egress_firewall') {
    if (range.prefix !== 0 || origin.egress?.protocol !== 'all' || origin.egress.ports.length > 0)
      return undefined;
    return diagnostic(
      'warning',
      'W_EGRESS_ALLOW_ALL',
      `${what()} with protocol all and no ports allows all outbound traffic: policy '${origin.policy}' restricts nothing`,
      origin.at,
    );
  }
  if (range.prefix === 0) {
    return diagnostic(
      'warning',
      'W_OPEN_SOURCE',
      `${what()} allows every IPv4 address: a target with policy '${origin.policy}' is as open as an unfiltered one`,
      origin.at,
    );
  }
  if (range.prefix < BROAD_PREFIX) {
    return diagnostic(
      'warning',
      'W_BROAD_SOURCE',
      `${what()} allows ${(range.end - range.start + 1).toLocaleString('en-US')} addresses (a prefix shorter than /${BROAD_PREFIX}); narrow it to the networks you mean`,
      origin.at,
    );
  }
  return undefined;
}

/** Where a rule names its source set: one array for all rules. */
const SOURCE_FIELD = ['source'] as const;
const EGRESS_TARGET_FIELD = ['egress_rule', 'target'] as const;

function lintEmptySets(input: LintInput): Diagnostic[] {
  const declOf = new Map<string, SourceSetDecl>();
  for (const decl of input.decls) if (!declOf.has(decl.name)) declOf.set(decl.name, decl);
  const memo = new Map<string, boolean>();
  // Empty only when provably so: a set naming a missing set or in a cycle already has an error.
  const isEmpty = (name: string, stack: readonly string[]): boolean => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const decl = declOf.get(name);
    if (decl === undefined || stack.includes(name)) return false;
    const empty = decl.items.every(
      (item) => isReference(item) && declOf.has(item.slice(1)) && isEmpty(item.slice(1), [...stack, name]),
    );
    memo.set(name, empty);
    return empty;
  };

  // Usually no set is empty, and then no rule can name one: the walk over every rule is skipped.
  if (!input.decls.some((decl) => isEmpty(decl.name, []))) return [];
  const out: Diagnostic[] = [];
  for (const { policy, yaml, index } of input.policies) {
    const written: unknown = (yaml.value as { policies?: unknown }).policies;
    const entry = Array.isArray(written) ? (written[index] as { rules?: unknown }) : undefined;
    if (!Array.isArray(entry?.rules)) continue;
    const field = policy.type === 'egress_firewall' ? EGRESS_TARGET_FIELD : SOURCE_FIELD;
    (entry.rules as unknown[]).forEach((rule, ruleIndex) => {
      let value: unknown = rule;
      for (const f of field)
        value =
          typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[f] : undefined;
      if (typeof value !== 'string' || !isReference(value) || !isEmpty(value.slice(1), [])) return;
      const decl = declOf.get(value.slice(1));
      const setAt =
        decl === undefined ? undefined : positionAt(decl.yaml, ['sources', decl.name], { key: true });
      const nested = decl !== undefined && decl.items.length > 0 ? ' (it includes only empty sets)' : '';
      out.push(
        diagnostic(
          'warning',
          'W_EMPTY_SOURCE_SET',
          `policies[${index}].rules[${ruleIndex}].${field.join('.')}: source set '${value}' is empty${nested}${setAt === undefined ? '' : ` (defined at ${where(setAt)})`}, so this rule allows nothing`,
          positionAt(yaml, ['policies', index, 'rules', ruleIndex, ...field]),
        ),
      );
    });
  }
  return out;
}

// ------------------------------------------------------------------ duplicates and containment

/**
 * Duplicate and contained ranges among `items` (rule ids sorted by `byRange`), by one sweep: each
 * rule is compared with the widest range seen so far (and, across policies, the widest of another
 * policy), so a rule gets at most one finding however many rules cover it. CIDR blocks never
 * partly overlap — two blocks are disjoint or one contains the other — so "overlapping" sources
 * are exactly the contained ones. Non-IP sources (endpoint ids, GUIDs) are compared for equality.
 */
function lintOverlaps(
  rules: Rules,
  items: ArrayLike<number>,
  exact: readonly number[],
  mode: 'same' | 'cross',
  context: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (itemId: number, otherId: number, kind: 'duplicate' | 'contained') => {
    const item = rules.origin(itemId);
    const other = rules.origin(otherId);
    // Same value and description in one policy is W_DUPLICATE_RULE of the loader already.
    if (mode === 'same' && item.value === other.value && item.description === other.description) return;
    const relation =
      kind === 'contained'
        ? 'is inside'
        : item.type === 'ip'
          ? 'is the same range as'
          : 'is the same source as';
    const otherPolicy = mode === 'cross' ? ` of policy '${other.policy}'` : '';
    const itemPolicy = mode === 'cross' ? ` in policy '${item.policy}'` : '';
    const tail =
      kind === 'duplicate'
        ? mode === 'cross'
          ? `; ${context}`
          : '; one of them can go'
        : mode === 'cross'
          ? `; ${context}, so it allows nothing more`
          : ', so it allows nothing more';
    out.push(
      diagnostic(
        'warning',
        kind === 'duplicate' ? 'W_DUPLICATE_SOURCE' : 'W_CONTAINED_SOURCE',
        `${item.label}: ${shown(item)}${itemPolicy} ${relation} ${shown(other)}${otherPolicy} at ${where(other.at)}${tail}`,
        item.at,
      ),
    );
  };
  const { start, end, group } = rules;
  const NONE = -1;
  // In `cross` mode a cover or twin must be of another policy than the item's.
  const pick = (first: number, other: number, item: number): number =>
    mode === 'same' || first === NONE || group[first] !== group[item] ? first : other;

  // Widest range so far, and the widest of a policy other than its.
  let best = NONE;
  let bestOther = NONE;
  // The current run of equal ranges: its first item, and its first item of another policy.
  let runFirst = NONE;
  let runOther = NONE;
  for (let n = 0; n < items.length; n++) {
    const item = items[n] as number;
    const itemStart = start[item] as number;
    const itemEnd = end[item] as number;
    const sameRun = runFirst !== NONE && start[runFirst] === itemStart && end[runFirst] === itemEnd;
    if (!sameRun) {
      runFirst = item;
      runOther = NONE;
    }
    const twin = sameRun ? pick(runFirst, runOther, item) : NONE;
    const cover = pick(best, bestOther, item);
    if (twin !== NONE) report(item, twin, 'duplicate');
    else if (cover !== NONE && (end[cover] as number) >= itemEnd) {
      const equal = start[cover] === itemStart && end[cover] === itemEnd;
      report(item, cover, equal ? 'duplicate' : 'contained');
    }
    if (sameRun && runOther === NONE && group[item] !== group[runFirst]) runOther = item;
    // Advance the widest so far, and the widest of another policy than the widest's.
    if (best === NONE || itemEnd > (end[best] as number)) {
      if (best !== NONE && group[best] !== group[item]) bestOther = best;
      best = item;
    } else if (group[item] !== group[best] && (bestOther === NONE || itemEnd > (end[bestOther] as number))) {
      bestOther = item;
    }
  }

  const firstOf = new Map<string, number[]>();
  for (const id of duplicatedInWrittenOrder(rules, exact)) {
    const key = rules.exactKey(id);
    const seen = firstOf.get(key) ?? [];
    const twin = mode === 'same' ? seen[0] : seen.find((s) => group[s] !== group[id]);
    if (twin !== undefined) report(id, twin, 'duplicate');
    seen.push(id);
    firstOf.set(key, seen);
  }
  return out;
}

/**
 * The rules whose source occurs more than once, in the order they are written: only these can be
 * or have a twin.
 */
function duplicatedInWrittenOrder(rules: Rules, exact: readonly number[]): number[] {
  const count = new Map<string, number>();
  for (const id of exact) count.set(rules.exactKey(id), (count.get(rules.exactKey(id)) ?? 0) + 1);
  return exact.filter((id) => (count.get(rules.exactKey(id)) ?? 0) > 1).sort(rules.byPosition);
}

/**
 * Sorted lists merged into one sorted list; on ties the earlier list first, so the result is what
 * a stable sort of their concatenation gives. Merged list by list between two buffers of the final
 * size: every target's policies are merged, and growing arrays by push made this the lint's
 * largest allocation.
 */
function mergeSorted(lists: readonly (readonly number[])[], rules: Rules): Int32Array {
  // `byRange`, deciding on the range alone where it differs: the usual case, without a call.
  const { start, end, byRange } = rules;
  let total = 0;
  for (const list of lists) total += list.length;
  let merged = new Int32Array(total);
  let out = new Int32Array(total);
  let size = 0;
  for (const list of lists) {
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < size && j < list.length) {
      const left = merged[i] as number;
      const right = list[j] as number;
      const rightStart = start[right] as number;
      const leftStart = start[left] as number;
      const rightEnd = end[right] as number;
      const leftEnd = end[left] as number;
      const rightFirst =
        rightStart !== leftStart
          ? rightStart < leftStart
          : rightEnd !== leftEnd
            ? rightEnd > leftEnd
            : byRange(right, left) < 0;
      if (rightFirst) {
        out[k++] = right;
        j++;
      } else {
        out[k++] = left;
        i++;
      }
    }
    while (i < size) out[k++] = merged[i++] as number;
    while (j < list.length) out[k++] = list[j++] as number;
    [merged, out] = [out, merged];
    size = k;
  }
  return merged;
}

/**
 * Rules of different policies that apply to the same target. Targets with the same set of
 * policies are checked once, and the finding names one of them and how many more share it.
 */
function lintAcrossTargets(
  input: LintInput,
  rules: Rules,
  groups: readonly PolicyRules[],
  groupOf: GroupIndex,
): Diagnostic[] {
  // One index for all targets: a lookup per name rather than a pass over every policy per target.
  const regionIndex = indexRegions(input.policies.map((p) => p.policy));
  const namesByTarget = new Map<string, { environment: string; target: Target; names: string[] }>();
  for (const entry of input.associations) {
    const key = `${entry.environment}\u0000${targetKey(entry.target)}`;
    const found = namesByTarget.get(key) ?? {
      environment: entry.environment,
      target: entry.target,
      names: [],
    };
    found.names.push(...entry.policyNames);
    namesByTarget.set(key, found);
  }

  const shared = new Map<string, { policies: PolicyRules[]; targets: Target[] }>();
  for (const { environment, target, names } of namesByTarget.values()) {
    const unique = [...new Set(names)];
    const regions = regionsFitting(unique, regionIndex.get(environment));
    // Offline the target's region is unknown; when the names fit several regions, do not guess.
    if (regions.length !== 1) continue;
    const byName = groupOf.get(scopeKey(environment, regions[0] ?? ''));
    // In name order, as a policy's key (environment/region/name) sorts within one scope.
    const declared = unique.filter((name) => byName?.has(name) === true).sort();
    if (byName === undefined || declared.length < 2) continue;
    const ids = declared.map((name) => byName.get(name) as number);
    const sharedKey = ids.join(',');
    const found = shared.get(sharedKey) ?? {
      policies: ids.map((id) => groups[id] as PolicyRules),
      targets: [],
    };
    found.targets.push(target);
    shared.set(sharedKey, found);
  }

  const out: Diagnostic[] = [];
  for (const { policies, targets } of shared.values()) {
    const sorted = [...targets].sort((a, b) => (targetKey(a) < targetKey(b) ? -1 : 1));
    const first = sorted[0];
    if (first === undefined) continue;
    const more = sorted.length > 1 ? ` and ${sorted.length - 1} more target(s)` : '';
    const context = `both apply to ${targetLabel(first)}${more}`;
    out.push(
      ...lintOverlaps(
        rules,
        mergeSorted(
          policies.map((p) => p.ranges),
          rules,
        ),
        policies.flatMap((p) => p.exact),
        'cross',
        context,
      ),
    );
  }
  return out;
}

// ------------------------------------------------------------------ helpers

/** Policy groups by environment and region (see `scopeKey`), then by policy name. */
type GroupIndex = Map<string, Map<string, number>>;

function scopeKey(environment: string, region: string): string {
  return `${environment}\u0000${region}`;
}

function shown(origin: RuleOrigin): string {
  return origin.via === undefined ? origin.value : `${origin.value} (from $${origin.via.set})`;
}

function where(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}
