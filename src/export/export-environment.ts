import { ruleKey } from '../diff/rules.js';
import { yamlLib } from '../yaml-lib.js';
import {
  targetKey,
  type LiveEnvironment,
  type LivePolicy,
  type LiveTarget,
  type PolicyType,
  type Rule,
  type Target,
} from '../model/types.js';
import { oneLine } from '../secrets/untrusted-text.js';

/**
 * Adoption (`ecfence export`): live state → policy files that declare exactly that state, so that
 * `plan` right after shows no operations. Pure: the command reads the live state and writes files.
 *
 * Layout: one file per region, `<env>-<region>.yaml`, holding that region's policies, the
 * associations of the targets in that region, and the named address sets first used there.
 */

export interface ExportOptions {
  /** Environment name as in ecfence.yaml; written as the file's `environment:`. */
  environment: string;
  /** `list` where the API keeps rule order (serverless): written as is; `set`: sorted for stable output. */
  ruleOrder: 'set' | 'list';
  /** Environment `regions:` scope; policies and targets outside it are not exported. */
  regions?: readonly string[];
}

export interface ExportedFile {
  /** File name, `<env>-<region>.yaml`. */
  name: string;
  region: string;
  text: string;
}

export interface ExportResult {
  /** Sorted by file name. */
  files: ExportedFile[];
  /** Human-readable problems (ambiguous names); the files say the same in comments. */
  warnings: string[];
  policies: number;
  associations: number;
}

/**
 * Every string on one line, whatever a live name or description holds: JSON-style double quotes
 * (`"a\nb"`), never a block scalar, so no line of a file (or of stdout) starts with server text.
 */
const YAML_OPTIONS = { lineWidth: 0, blockQuote: false, doubleQuotedAsJSON: true } as const;

/** Address-list types whose rules can share a named `sources:` set. */
const SET_TYPES: ReadonlySet<PolicyType> = new Set(['ip', 'vpce', 'gcp_private_service_connect_endpoint']);

function safeName(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/^[^a-z0-9_]+|-+$/g, '');
  return s === '' ? 'x' : s;
}

export function exportFileName(environment: string, region: string): string {
  return `${safeName(environment)}-${safeName(region)}.yaml`;
}

function ipv4Number(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text);
  if (!m) return undefined;
  const [a, b, c, d] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  return ((a * 256 + b) * 256 + c) * 256 + d + Number(m[5] ?? 32) / 100;
}

function ruleAddress(rule: Rule): string {
  return rule.source ?? rule.azure_endpoint_name ?? rule.remote_cluster_id ?? rule.egress_rule?.target ?? '';
}

/** Addresses in numeric order where they are IPv4, then text order; ties by the whole rule. */
function compareRules(a: Rule, b: Rule): number {
  const aa = ruleAddress(a);
  const ab = ruleAddress(b);
  const na = ipv4Number(aa);
  const nb = ipv4Number(ab);
  if (na !== undefined && nb !== undefined && na !== nb) return na - nb;
  if (aa !== ab) return aa < ab ? -1 : 1;
  const ka = ruleKey(a);
  const kb = ruleKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

function orderedRules(policy: LivePolicy, order: 'set' | 'list'): Rule[] {
  return order === 'list' ? [...policy.rules] : [...policy.rules].sort(compareRules);
}

/** The rule as written in YAML: only meaningful fields, egress ports sorted (absent ≡ all ports). */
function writtenRule(rule: Rule): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (rule.source) out['source'] = rule.source;
  if (rule.azure_endpoint_name) out['azure_endpoint_name'] = rule.azure_endpoint_name;
  if (rule.azure_endpoint_guid) out['azure_endpoint_guid'] = rule.azure_endpoint_guid;
  if (rule.remote_cluster_id) out['remote_cluster_id'] = rule.remote_cluster_id;
  if (rule.remote_cluster_org_id) out['remote_cluster_org_id'] = rule.remote_cluster_org_id;
  if (rule.egress_rule) {
    const e = rule.egress_rule;
    const ports = [...new Set(e.ports ?? [])].sort((x, y) => x - y);
    out['egress_rule'] =
      ports.length > 0
        ? { target: e.target, protocol: e.protocol, ports }
        : { target: e.target, protocol: e.protocol };
  }
  if (rule.description) out['description'] = rule.description;
  return out;
}

/**
 * A policy whose rules are all plain addresses with one common description (or none) can be
 * written as a single `source: $set` rule, which the loader expands back to the same rules in the
 * same order. Returns that address list, or undefined.
 */
function addressList(policy: LivePolicy, rules: readonly Rule[]): string[] | undefined {
  if (!SET_TYPES.has(policy.type) || rules.length < 2) return undefined;
  const description = rules[0]?.description ?? '';
  for (const r of rules) {
    const keys = Object.keys(writtenRule(r)).filter((k) => k !== 'description');
    if (keys.length !== 1 || keys[0] !== 'source' || (r.description ?? '') !== description) return undefined;
  }
  return rules.map((r) => r.source ?? '');
}

function inScope(regions: readonly string[] | undefined, region: string): boolean {
  return !regions || regions.length === 0 || regions.includes(region);
}

function targetEntry(target: Target): Record<string, unknown> {
  return target.kind === 'deployment'
    ? { deployment: target.id }
    : { project: { type: target.projectType, id: target.id } };
}

/** Turns the live state of one environment into policy files (see the module comment). */
export function exportEnvironment(live: LiveEnvironment, options: ExportOptions): ExportResult {
  const { Document, isMap, isSeq } = yamlLib();
  const env = options.environment;
  const warnings: string[] = [];
  const policies = live.policies
    .filter((p) => inScope(options.regions, p.region))
    .sort((a, b) => cmp(a.region, b.region) || cmp(a.name, b.name) || cmp(a.type, b.type) || cmp(a.id, b.id));

  // Identity is (region, name). Two live policies with one identity cannot both be declared (the
  // loader rejects duplicates) and declaring one would make the plan refuse it, so every policy of
  // such a name is written commented out for a person to resolve. The name is left out in every
  // region: a declared namesake elsewhere would make the plan treat these as its old halves.
  const byKey = new Map<string, LivePolicy[]>();
  for (const p of policies) {
    const k = `${p.region}\u0000${p.name}`;
    byKey.set(k, [...(byKey.get(k) ?? []), p]);
  }
  const ambiguousNames = new Set<string>();
  for (const group of byKey.values()) {
    const first = group[0];
    if (group.length < 2 || !first) continue;
    ambiguousNames.add(first.name);
    warnings.push(
      `${env}: ${group.length} live policies are named '${first.name}' in ${first.region} (${group.map((p) => p.id).join(', ')}); exported commented out: rename or delete the duplicates, then export again`,
    );
  }
  const managed = policies.filter((p) => !ambiguousNames.has(p.name));
  const skipped = policies.filter((p) => ambiguousNames.has(p.name));

  // Named sets: an address list written verbatim by at least two policies.
  const rulesOf = new Map(managed.map((p) => [p, orderedRules(p, options.ruleOrder)]));
  const listsOf = new Map<LivePolicy, string[]>();
  const sharers = new Map<string, LivePolicy[]>();
  for (const p of managed) {
    const list = addressList(p, rulesOf.get(p) ?? []);
    if (!list) continue;
    listsOf.set(p, list);
    const k = JSON.stringify(list);
    sharers.set(k, [...(sharers.get(k) ?? []), p]);
  }
  const setNames = new Map<string, string>();
  const setHome = new Map<string, string>();
  const used = new Set<string>();
  for (const [k, group] of sharers) {
    const first = group[0];
    if (group.length < 2 || !first) continue;
    const descriptions = new Set(group.map((p) => rulesOf.get(p)?.[0]?.description ?? ''));
    const [only] = descriptions;
    const base = `${safeName(env)}.${safeName(descriptions.size === 1 && only ? only : first.name)}`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}-${i}`;
    used.add(name);
    setNames.set(k, name);
    setHome.set(k, first.region);
  }

  // Associations per target, in the target's region; only to exported policies.
  const targets = new Map<string, LiveTarget>(live.targets.map((t) => [targetKey(t.target), t]));
  const assoc = new Map<
    string,
    { target: Target; region: string; names: Set<string>; skipped: Set<string> }
  >();
  for (const p of policies) {
    for (const t of p.associations) {
      const key = targetKey(t);
      const region = targets.get(key)?.region ?? p.region;
      let entry = assoc.get(key);
      if (!entry) assoc.set(key, (entry = { target: t, region, names: new Set(), skipped: new Set() }));
      (ambiguousNames.has(p.name) ? entry.skipped : entry.names).add(p.name);
    }
  }

  const regions = [...new Set([...policies.map((p) => p.region)])].sort();
  const files: ExportedFile[] = [];
  let associations = 0;
  for (const region of regions) {
    const doc = new Document({ environment: env });
    doc.commentBefore = [
      ` Generated by \`ecfence export --env ${env}\` from the live state of region ${region}.`,
      ' Every policy below is now managed by ecfence: `ecfence plan` should report no changes.',
    ].join('\n');

    const sets: Record<string, string[]> = {};
    for (const [k, name] of setNames) if (setHome.get(k) === region) sets[name] = JSON.parse(k) as string[];
    if (Object.keys(sets).length > 0) doc.set('sources', doc.createNode(sets));

    const here = managed.filter((p) => p.region === region);
    if (here.length > 0) {
      const policiesValue = here.map((p) => {
        const list = listsOf.get(p);
        const setName = list ? setNames.get(JSON.stringify(list)) : undefined;
        const rules = rulesOf.get(p) ?? [];
        const description = rules[0]?.description;
        const written =
          setName !== undefined
            ? [description ? { source: `$${setName}`, description } : { source: `$${setName}` }]
            : rules.map(writtenRule);
        const out: Record<string, unknown> = { name: p.name, region: p.region, type: p.type };
        if (p.description) out['description'] = p.description;
        out['include_by_default'] = p.include_by_default;
        out['rules'] = written;
        return out;
      });
      const seq = doc.createNode(policiesValue);
      doc.set('policies', seq);
      here.forEach((p, i) => {
        const node = seq.items[i];
        if (!isMap(node)) return;
        const rulesNode = node.get('rules', true);
        if (isSeq(rulesNode)) {
          for (const r of rulesNode.items) {
            const egress = isMap(r) ? r.get('egress_rule', true) : undefined;
            const ports = isMap(egress) ? egress.get('ports', true) : undefined;
            if (isSeq(ports)) ports.flow = true;
          }
        }
        const lines = [` live id ${oneLine(p.id)}`];
        if (p.hiddenAssociations > 0) {
          lines.push(
            ` ${p.hiddenAssociations} association(s) are not visible to this API key and were not exported`,
          );
        }
        node.commentBefore = lines.join('\n');
      });
    }

    const entries = [...assoc.values()]
      .filter((a) => a.region === region && a.names.size > 0)
      .sort((a, b) => cmp(targetKey(a.target), targetKey(b.target)));
    if (entries.length > 0) {
      const seq = doc.createNode(
        entries.map((a) => ({ ...targetEntry(a.target), policies: [...a.names].sort() })),
      );
      doc.set('associations', seq);
      entries.forEach((a, i) => {
        associations += a.names.size;
        const node = seq.items[i];
        const policiesNode = isMap(node) ? node.get('policies', true) : undefined;
        if (isSeq(policiesNode)) policiesNode.flow = true;
        const lines: string[] = [];
        const name = targets.get(targetKey(a.target))?.name;
        if (name) lines.push(` ${oneLine(name)}`);
        if (a.skipped.size > 0) {
          lines.push(
            ` also attached, not exported (ambiguous name): ${oneLine([...a.skipped].sort().join(', '))}`,
          );
        }
        if (isMap(node) && lines.length > 0) node.commentBefore = lines.join('\n');
      });
    }

    const commented = skipped.filter((p) => p.region === region);
    if (commented.length > 0) {
      const block = new Document({
        policies: commented.map((p) => ({
          name: p.name,
          region: p.region,
          type: p.type,
          ...(p.description ? { description: p.description } : {}),
          include_by_default: p.include_by_default,
          rules: orderedRules(p, options.ruleOrder).map(writtenRule),
        })),
      }).toString(YAML_OPTIONS);
      doc.comment = [
        ` Not exported: live policies whose name is ambiguous in this environment (${oneLine([...new Set(commented.map((p) => `${p.name} ${p.id}`))].join(', '))}).`,
        ' Rename or delete the duplicates in Elastic Cloud, then export again.',
        ...block
          .trimEnd()
          .split('\n')
          .map((line) => ` ${line}`),
      ].join('\n');
    }
    files.push({
      name: exportFileName(env, region),
      region,
      text: doc.toString({ ...YAML_OPTIONS, flowCollectionPadding: false }),
    });
  }
  files.sort((a, b) => cmp(a.name, b.name));
  return { files, warnings, policies: managed.length, associations };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Several files as one YAML stream (stdout without `--out`): documents separated by `---`, each
 * headed by a comment naming the file it would be written to.
 */
export function joinExportedFiles(files: readonly ExportedFile[]): string {
  return files.map((f) => `# file: ${f.name}\n${f.text}`).join('---\n');
}
