import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { parseIpv4Range } from '../model/ipv4.js';
import type { Ipv4Range } from '../model/ipv4.js';
import { targetKey, targetLabel } from '../model/types.js';
import type { DesiredPolicy, SourcePosition, Target } from '../model/types.js';
import type { LocatedAssociationEntry, LocatedPolicy } from './normalise.js';
import { positionAt } from './read-yaml.js';
import type { RuleOrigin } from './rule-origins.js';
import { isReference } from './sources.js';
import type { SourceSetDecl } from './sources.js';

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

/** `lint:` of ecfence.yaml, normalised (absent = empty lists). */
export interface LintSettings {
  errors: string[];
  ignore: string[];
}

export interface LintInput {
  policies: readonly LocatedPolicy[];
  associations: readonly LocatedAssociationEntry[];
  origins: readonly RuleOrigin[];
  decls: readonly SourceSetDecl[];
}

export function lintPolicies(input: LintInput): Diagnostic[] {
  const out: Diagnostic[] = lintEmptySets(input);
  // Each rule's range is parsed once and each policy's ranges sorted once: the checks within a
  // policy and across the policies of every target all start from these.
  const byPolicy = new Map<string, PolicyRules>();
  for (const origin of input.origins) {
    const key = policyKey(origin);
    let rules = byPolicy.get(key);
    if (rules === undefined) byPolicy.set(key, (rules = { ranges: [], exact: [] }));
    const range =
      origin.type === 'ip' || origin.type === 'egress_firewall' ? parseIpv4Range(origin.value) : undefined;
    const broad = lintBreadth(origin, range);
    if (broad !== undefined) out.push(broad);
    if (origin.type === 'ip') {
      if (range !== undefined && range.prefix >= BROAD_PREFIX)
        rules.ranges.push({ range, origin, group: key });
    } else if (origin.type !== 'egress_firewall' && origin.type !== 'remote_cluster') {
      rules.exact.push(origin);
    }
  }
  for (const rules of byPolicy.values()) rules.ranges.sort(byRange);
  for (const rules of byPolicy.values()) out.push(...lintOverlaps(rules.ranges, rules.exact, 'same', ''));
  out.push(...lintAcrossTargets(input, byPolicy));
  return out;
}

/** A policy's rules as the overlap checks read them. */
interface PolicyRules {
  /** IPv4 ranges no broader than BROAD_PREFIX, sorted by `byRange`. */
  ranges: Item[];
  /** Sources compared for equality (endpoint ids, GUIDs), in the order they were collected. */
  exact: RuleOrigin[];
}

/**
 * `lint.ignore` drops a code; `lint.errors` turns its warnings into errors (saying why, so nobody
 * hunts for the rule that made a warning fatal). Errors are never demoted.
 */
export function applyLintSettings(diagnostics: readonly Diagnostic[], settings: LintSettings): Diagnostic[] {
  const ignore = new Set(settings.ignore);
  const errors = new Set(settings.errors);
  return diagnostics.flatMap((d) => {
    if (d.severity !== 'warning') return [d];
    if (ignore.has(d.code)) return [];
    if (errors.has(d.code))
      return [
        { ...d, severity: 'error' as const, message: `${d.message} (an error: lint.errors lists ${d.code})` },
      ];
    return [d];
  });
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
  const sets = [...new Set(names)].flatMap((name) => {
    const regions = regionsOf?.get(name);
    return regions === undefined ? [] : [regions];
  });
  const [first, ...rest] = sets;
  if (first === undefined) return [];
  return [...first].filter((r) => rest.every((s) => s.has(r))).sort();
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

  const out: Diagnostic[] = [];
  for (const { policy, yaml, index } of input.policies) {
    const written: unknown = (yaml.value as { policies?: unknown }).policies;
    const entry = Array.isArray(written) ? (written[index] as { rules?: unknown }) : undefined;
    if (!Array.isArray(entry?.rules)) continue;
    (entry.rules as unknown[]).forEach((rule, ruleIndex) => {
      const field =
        policy.type === 'egress_firewall' ? (['egress_rule', 'target'] as const) : (['source'] as const);
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

interface Item {
  range: Ipv4Range;
  origin: RuleOrigin;
  /** The policy it belongs to: in `cross` mode only pairs from different policies count. */
  group: string;
}

/**
 * Duplicate and contained ranges among `items` (sorted by `byRange`), by one sweep: each rule
 * is compared with the widest range seen so far (and, across policies, the widest of another
 * policy), so a rule gets at most one finding however many rules cover it. CIDR blocks never
 * partly overlap — two blocks are disjoint or one contains the other — so "overlapping" sources
 * are exactly the contained ones. Non-IP sources (endpoint ids, GUIDs) are compared for equality.
 */
function lintOverlaps(
  items: readonly Item[],
  exact: readonly RuleOrigin[],
  mode: 'same' | 'cross',
  context: string,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const report = (item: RuleOrigin, other: RuleOrigin, kind: 'duplicate' | 'contained') => {
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
  const pick = (first: Item | undefined, other: Item | undefined, item: Item): Item | undefined =>
    mode === 'same' || first === undefined || first.group !== item.group ? first : other;

  // Widest range so far, and the widest of a policy other than its.
  let best: Item | undefined;
  let bestOther: Item | undefined;
  // The current run of equal ranges: its first item, and its first item of another policy.
  let runFirst: Item | undefined;
  let runOther: Item | undefined;
  for (const item of items) {
    const sameRun =
      runFirst !== undefined &&
      runFirst.range.start === item.range.start &&
      runFirst.range.end === item.range.end;
    if (!sameRun) {
      runFirst = item;
      runOther = undefined;
    }
    const twin = sameRun ? pick(runFirst, runOther, item) : undefined;
    const cover = pick(best, bestOther, item);
    if (twin !== undefined) report(item.origin, twin.origin, 'duplicate');
    else if (cover !== undefined && cover.range.end >= item.range.end) {
      const equal = cover.range.start === item.range.start && cover.range.end === item.range.end;
      report(item.origin, cover.origin, equal ? 'duplicate' : 'contained');
    }
    if (sameRun && runOther === undefined && item.group !== runFirst?.group) runOther = item;
    ({ best, bestOther } = advance(best, bestOther, item));
  }

  const firstOf = new Map<string, RuleOrigin[]>();
  for (const origin of duplicatedInWrittenOrder(exact)) {
    const key = exactKey(origin);
    const seen = firstOf.get(key) ?? [];
    const twin = mode === 'same' ? seen[0] : seen.find((s) => policyKey(s) !== policyKey(origin));
    if (twin !== undefined) report(origin, twin, 'duplicate');
    seen.push(origin);
    firstOf.set(key, seen);
  }
  return out;
}

/** Same value and type: the same source. */
function exactKey(origin: RuleOrigin): string {
  return `${origin.type}\u0000${origin.value}`;
}

/**
 * The origins whose source occurs more than once, in the order they are written. Only these can
 * be or have a twin, and only their positions are read (reading one parses its file for positions).
 */
function duplicatedInWrittenOrder(exact: readonly RuleOrigin[]): RuleOrigin[] {
  const count = new Map<string, number>();
  for (const origin of exact) count.set(exactKey(origin), (count.get(exactKey(origin)) ?? 0) + 1);
  return exact
    .filter((origin) => (count.get(exactKey(origin)) ?? 0) > 1)
    .sort((a, b) => comparePositions(a.at, b.at));
}

/** Start ascending, then widest first; ties in the order written. */
function byRange(a: Item, b: Item): number {
  return (
    a.range.start - b.range.start ||
    b.range.end - a.range.end ||
    comparePositions(a.origin.at, b.origin.at) ||
    (a.origin.value < b.origin.value ? -1 : a.origin.value > b.origin.value ? 1 : 0)
  );
}

/**
 * Sorted lists merged into one sorted list; on ties the earlier list first, so the result is what
 * a stable sort of their concatenation gives.
 */
function mergeSorted(lists: readonly (readonly Item[])[]): Item[] {
  let merged: Item[] = [];
  for (const list of lists) {
    const out: Item[] = [];
    let i = 0;
    let j = 0;
    while (i < merged.length && j < list.length) {
      const left = merged[i] as Item;
      const right = list[j] as Item;
      if (byRange(right, left) < 0) {
        out.push(right);
        j++;
      } else {
        out.push(left);
        i++;
      }
    }
    while (i < merged.length) out.push(merged[i++] as Item);
    while (j < list.length) out.push(list[j++] as Item);
    merged = out;
  }
  return merged;
}

function advance(
  best: Item | undefined,
  bestOther: Item | undefined,
  item: Item,
): { best: Item | undefined; bestOther: Item | undefined } {
  if (best === undefined || item.range.end > best.range.end) {
    return { best: item, bestOther: best !== undefined && best.group !== item.group ? best : bestOther };
  }
  if (item.group !== best.group && (bestOther === undefined || item.range.end > bestOther.range.end)) {
    return { best, bestOther: item };
  }
  return { best, bestOther };
}

/**
 * Rules of different policies that apply to the same target. Targets with the same set of
 * policies are checked once, and the finding names one of them and how many more share it.
 */
function lintAcrossTargets(input: LintInput, byPolicy: ReadonlyMap<string, PolicyRules>): Diagnostic[] {
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

  const groups = new Map<string, { policies: string[]; targets: Target[] }>();
  for (const { environment, target, names } of namesByTarget.values()) {
    const regions = regionsFitting(names, regionIndex.get(environment));
    // Offline the target's region is unknown; when the names fit several regions, do not guess.
    if (regions.length !== 1) continue;
    const keys = [...new Set(names)]
      .map((name) => policyKey({ environment, region: regions[0] ?? '', policy: name }))
      .filter((k) => byPolicy.has(k))
      .sort();
    if (keys.length < 2) continue;
    const groupKey = keys.join('\u0001');
    const group = groups.get(groupKey) ?? { policies: keys, targets: [] };
    group.targets.push(target);
    groups.set(groupKey, group);
  }

  const out: Diagnostic[] = [];
  for (const { policies, targets } of groups.values()) {
    const sorted = [...targets].sort((a, b) => (targetKey(a) < targetKey(b) ? -1 : 1));
    const first = sorted[0];
    if (first === undefined) continue;
    const more = sorted.length > 1 ? ` and ${sorted.length - 1} more target(s)` : '';
    const context = `both apply to ${targetLabel(first)}${more}`;
    const rules = policies.flatMap((k) => byPolicy.get(k) ?? []);
    out.push(
      ...lintOverlaps(
        mergeSorted(rules.map((r) => r.ranges)),
        rules.flatMap((r) => r.exact),
        'cross',
        context,
      ),
    );
  }
  return out;
}

// ------------------------------------------------------------------ helpers

function policyKey(o: { environment: string; region: string; policy: string }): string {
  return `${o.environment}/${o.region}/${o.policy}`;
}

function shown(origin: RuleOrigin): string {
  return origin.via === undefined ? origin.value : `${origin.value} (from $${origin.via.set})`;
}

function where(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}

function comparePositions(a: SourcePosition, b: SourcePosition): number {
  return (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col;
}
