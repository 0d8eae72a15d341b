import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { closest, didYouMean } from '../model/suggest.js';
import { POLICY_TYPE_ALIASES } from '../model/types.js';
import type { DesiredPolicy, PolicyType, Rule, Target } from '../model/types.js';
import type { ConfigModel } from './config.js';
import { checkAzureEndpointGuid, checkAzureEndpointName, checkTargetId, sourceCheckFor } from './formats.js';
import type { FormatProblem } from './formats.js';
import { describePath, isRecord, positionAt } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';
import { expandAddress, isReference } from './sources.js';
import type { SourceSetDecl, SourceTable } from './sources.js';
import type {
  WrittenAssociation,
  WrittenAzureRule,
  WrittenEgressFirewallRule,
  WrittenPolicy,
  WrittenPolicyFile,
  WrittenRemoteClusterRule,
  WrittenRule,
  WrittenSourceRule,
} from './written-types.js';

/** A parsed policy file and the data paths its schema validation rejected. */
export interface PolicyFileInput {
  yaml: YamlFile;
  invalidPaths: readonly PathSegment[][];
}

export interface LocatedPolicy {
  policy: DesiredPolicy;
  yaml: YamlFile;
  /** Index in the file's `policies:`. */
  index: number;
}

export interface LocatedAssociationEntry {
  environment: string;
  target: Target;
  /** Field path of the target (`deployment` or `project`), for messages about it. */
  targetField: 'deployment' | 'project';
  policyNames: readonly string[];
  allow_unfiltered: boolean;
  yaml: YamlFile;
  index: number;
}

export interface NormalisedFiles {
  policies: LocatedPolicy[];
  associations: LocatedAssociationEntry[];
  /** Names in policy entries that failed validation: associations naming them are not reported. */
  brokenPolicyNames: Set<string>;
  /**
   * True when some file could not be read completely (syntax error, bad top level): then a
   * reference to a missing policy or set may just be in the unreadable part, and is not reported.
   */
  incomplete: boolean;
  diagnostics: Diagnostic[];
}

/** The `sources:` sets of all files, and the names of those that failed validation. */
export function collectSourceDecls(files: readonly PolicyFileInput[]): {
  decls: SourceSetDecl[];
  brokenNames: Set<string>;
} {
  const decls: SourceSetDecl[] = [];
  const brokenNames = new Set<string>();
  for (const { yaml, invalidPaths } of files) {
    const sources = (yaml.value as WrittenPolicyFile).sources;
    if (!isRecord(sources) || invalidPaths.some((p) => p[0] === 'sources' && p.length === 1)) continue;
    for (const [name, items] of Object.entries(sources)) {
      if (invalidPaths.some((p) => p[0] === 'sources' && p[1] === name)) brokenNames.add(name);
      else decls.push({ name, yaml, items });
    }
  }
  return { decls, brokenNames };
}

/** True when a schema error is outside any single policy, association or set entry. */
export function isFileLevelError(path: readonly PathSegment[]): boolean {
  const [section, entry] = path;
  if (path.length < 2) return true;
  return (
    !(section === 'policies' || section === 'associations' || section === 'sources') || entry === undefined
  );
}

/**
 * Policy files → located policies and association entries: environments resolved, `$name`
 * sets expanded (one rule per address), formats checked, defaults applied, duplicate rules merged.
 * Entries that failed schema validation are skipped (their errors are already reported).
 */
export function normalisePolicyFiles(
  files: readonly PolicyFileInput[],
  config: ConfigModel,
  sources: SourceTable,
  brokenSources: ReadonlySet<string>,
  /** See `NormalisedFiles.incomplete`; computed by the caller with `isFileLevelError`. */
  incomplete: boolean,
): NormalisedFiles {
  const out: NormalisedFiles = {
    policies: [],
    associations: [],
    brokenPolicyNames: new Set(),
    incomplete,
    diagnostics: [],
  };
  for (const { yaml, invalidPaths } of files) {
    const written = yaml.value as WrittenPolicyFile;
    const broken = (section: string, index: number) =>
      invalidPaths.some((p) => p[0] === section && String(p[1]) === String(index));
    const fileEnv = resolveFileEnvironment(yaml, config, invalidPaths, out.diagnostics);

    (Array.isArray(written.policies) ? written.policies : []).forEach((policy, index) => {
      // A broken rule only drops that rule: the policy's other rules are still checked.
      const underRules = (p: readonly PathSegment[]) => p[2] === 'rules' && p.length >= 4;
      const mine = invalidPaths.filter((p) => p[0] === 'policies' && String(p[1]) === String(index));
      if (mine.some((p) => !underRules(p))) {
        if (isRecord(policy) && typeof policy.name === 'string') out.brokenPolicyNames.add(policy.name);
        return;
      }
      const environment = resolveEntryEnvironment(
        yaml,
        config,
        fileEnv,
        'policies',
        index,
        policy.environment,
        out.diagnostics,
      );
      if (environment === undefined) return;
      out.policies.push({
        policy: normalisePolicy(
          yaml,
          index,
          policy,
          environment,
          new Set(mine.map((p) => String(p[3]))),
          sources,
          brokenSources,
          out.diagnostics,
        ),
        yaml,
        index,
      });
    });

    (Array.isArray(written.associations) ? written.associations : []).forEach((entry, index) => {
      if (broken('associations', index)) return;
      const environment = resolveEntryEnvironment(
        yaml,
        config,
        fileEnv,
        'associations',
        index,
        entry.environment,
        out.diagnostics,
      );
      if (environment === undefined) return;
      const located = normaliseAssociation(yaml, index, entry, environment, out.diagnostics);
      if (located !== undefined) out.associations.push(located);
    });
  }
  return out;
}

// ------------------------------------------------------------------ environments

type FileEnvironment =
  | { kind: 'named'; name: string }
  | { kind: 'none' }
  /** Named, but unknown (already reported) or broken: skip the entries that rely on it. */
  | { kind: 'skip' };

function resolveFileEnvironment(
  yaml: YamlFile,
  config: ConfigModel,
  invalidPaths: readonly PathSegment[][],
  diagnostics: Diagnostic[],
): FileEnvironment {
  const name = (yaml.value as WrittenPolicyFile).environment;
  if (name === undefined) return { kind: 'none' };
  if (invalidPaths.some((p) => p[0] === 'environment')) return { kind: 'skip' };
  return checkEnvironmentName(yaml, config, name, ['environment'], diagnostics)
    ? { kind: 'named', name }
    : { kind: 'skip' };
}

/** The entry's environment, or undefined (with a diagnostic where one is due) when it has none usable. */
function resolveEntryEnvironment(
  yaml: YamlFile,
  config: ConfigModel,
  fileEnv: FileEnvironment,
  section: 'policies' | 'associations',
  index: number,
  explicit: string | undefined,
  diagnostics: Diagnostic[],
): string | undefined {
  if (explicit !== undefined) {
    return checkEnvironmentName(yaml, config, explicit, [section, index, 'environment'], diagnostics)
      ? explicit
      : undefined;
  }
  if (fileEnv.kind === 'named') return fileEnv.name;
  if (fileEnv.kind === 'skip' || !config.usable) return undefined;
  const declared = [...config.environments.keys(), ...config.brokenEnvironments].sort();
  if (declared.length === 1) {
    const only = declared[0];
    return only !== undefined && config.environments.has(only) ? only : undefined;
  }
  diagnostics.push(
    diagnostic(
      'error',
      'E_NO_ENV',
      `${describePath(yaml.value, [section, index])}: no environment: add 'environment:' to the entry or at the top of the file (ecfence.yaml declares ${declared.length === 0 ? 'none' : declared.join(', ')})`,
      positionAt(yaml, [section, index]),
    ),
  );
  return undefined;
}

function checkEnvironmentName(
  yaml: YamlFile,
  config: ConfigModel,
  name: string,
  path: PathSegment[],
  diagnostics: Diagnostic[],
): boolean {
  if (config.environments.has(name)) return true;
  if (!config.usable || config.brokenEnvironments.has(name)) return false;
  const declared = [...config.environments.keys(), ...config.brokenEnvironments].sort();
  diagnostics.push(
    diagnostic(
      'error',
      'E_UNKNOWN_ENV',
      `${describePath(yaml.value, path)}: environment '${name}' is not declared in ecfence.yaml${didYouMean(name, declared) || ` (declared: ${declared.join(', ') || 'none'})`}`,
      positionAt(yaml, path),
    ),
  );
  return false;
}

// ------------------------------------------------------------------ policies and rules

function normalisePolicy(
  yaml: YamlFile,
  index: number,
  written: WrittenPolicy,
  environment: string,
  brokenRules: ReadonlySet<string>,
  sources: SourceTable,
  brokenSources: ReadonlySet<string>,
  diagnostics: Diagnostic[],
): DesiredPolicy {
  const type: PolicyType = POLICY_TYPE_ALIASES[written.type] ?? (written.type as PolicyType);
  const policy: PolicyContext = {
    yaml,
    index,
    type,
    check: sourceCheckFor(type),
    sources,
    brokenSources,
    diagnostics,
  };
  const distinct = new DistinctRules();
  const keep = (rule: Rule, ruleIndex: number): void => {
    const first = distinct.add(rule, ruleIndex);
    if (first !== undefined) diagnostics.push(duplicateRule(yaml, index, ruleIndex, first, rule));
  };
  written.rules.forEach((rule, ruleIndex) => {
    if (brokenRules.size > 0 && brokenRules.has(String(ruleIndex))) return;
    normaliseRule(policy, rule, ruleIndex, keep);
  });

  return {
    environment,
    region: written.region,
    name: written.name,
    type,
    description: written.description ?? '',
    include_by_default: written.include_by_default ?? false,
    rules: distinct.rules,
    position: positionAt(yaml, ['policies', index]),
  };
}

/** What normalising a policy's rules needs besides the rule. */
interface PolicyContext {
  yaml: YamlFile;
  /** The policy's index in its file's `policies:`. */
  index: number;
  type: PolicyType;
  /** The check of a `source` or egress `target`. */
  check: ((value: string) => FormatProblem | undefined) | undefined;
  sources: SourceTable;
  brokenSources: ReadonlySet<string>;
  diagnostics: Diagnostic[];
}

const SOURCE_FIELD = ['source'];
const EGRESS_TARGET_FIELD = ['egress_rule', 'target'];
const AZURE_NAME_FIELD = ['azure_endpoint_name'];
const AZURE_GUID_FIELD = ['azure_endpoint_guid'];

/**
 * Gives `keep` each rule a written rule stands for (itself, or one per address of the `$set` it
 * names) and reports its format problems. The common case — a literal value without a problem —
 * builds nothing but the rule: a large estate has a hundred thousand of them.
 */
function normaliseRule(
  policy: PolicyContext,
  rule: WrittenRule,
  ruleIndex: number,
  keep: (rule: Rule, ruleIndex: number) => void,
): void {
  const description =
    rule.description === undefined || rule.description === '' ? undefined : rule.description;
  if (policy.type === 'azure_private_endpoint') {
    const r = rule as WrittenAzureRule;
    reportField(policy, checkAzureEndpointName(r.azure_endpoint_name), ruleIndex, AZURE_NAME_FIELD);
    reportField(policy, checkAzureEndpointGuid(r.azure_endpoint_guid), ruleIndex, AZURE_GUID_FIELD);
    const fields = { azure_endpoint_name: r.azure_endpoint_name, azure_endpoint_guid: r.azure_endpoint_guid };
    keep(withDescription(fields, description), ruleIndex);
  } else if (policy.type === 'remote_cluster') {
    const r = rule as WrittenRemoteClusterRule;
    const fields = { remote_cluster_id: r.remote_cluster_id, remote_cluster_org_id: r.remote_cluster_org_id };
    keep(withDescription(fields, description), ruleIndex);
  } else if (policy.type === 'egress_firewall') {
    const { egress_rule: egress } = rule as WrittenEgressFirewallRule;
    const ports = [...new Set(egress.ports ?? [])].sort((a, b) => a - b);
    const egressRule = (target: string): Rule =>
      withDescription(
        { egress_rule: { target, protocol: egress.protocol, ...(ports.length > 0 ? { ports } : {}) } },
        description,
      );
    if (!isReference(egress.target)) {
      reportField(policy, policy.check?.(egress.target), ruleIndex, EGRESS_TARGET_FIELD);
      keep(egressRule(egress.target), ruleIndex);
    } else {
      for (const target of expandReference(policy, egress.target, ruleIndex, EGRESS_TARGET_FIELD)) {
        keep(egressRule(target), ruleIndex);
      }
    }
  } else {
    const { source } = rule as WrittenSourceRule;
    if (!isReference(source)) {
      reportField(
        policy,
        withSetHint(policy.check?.(source), source, policy.sources),
        ruleIndex,
        SOURCE_FIELD,
      );
      keep(sourceRule(source, description), ruleIndex);
    } else {
      for (const address of expandReference(policy, source, ruleIndex, SOURCE_FIELD)) {
        keep(sourceRule(address, description), ruleIndex);
      }
    }
  }
}

/**
 * The addresses of the `$set` a rule's field names, each checked; unknown sets are reported at
 * the field (unless the set exists but is broken).
 */
function expandReference(
  policy: PolicyContext,
  value: string,
  ruleIndex: number,
  names: readonly string[],
): string[] {
  const path: PathSegment[] = ['policies', policy.index, 'rules', ruleIndex, ...names];
  const expanded = expandAddress(
    policy.sources,
    policy.brokenSources,
    value,
    () => positionAt(policy.yaml, path),
    () => describePath(policy.yaml.value, path),
  );
  policy.diagnostics.push(...expanded.diagnostics);
  return expanded.addresses.map((a) => {
    const problem = policy.check?.(a.value);
    if (problem !== undefined) {
      policy.diagnostics.push(
        diagnostic(problem.severity, problem.code, `${a.label}: ${problem.message}`, a.at),
      );
    }
    return a.value;
  });
}

/** An address that is not one but names a set (`source: vpn`): the `$` was left out. */
function withSetHint(
  problem: FormatProblem | undefined,
  value: string,
  sources: SourceTable,
): FormatProblem | undefined {
  if (problem?.severity !== 'error') return problem;
  const set = sources.get(value) !== undefined ? value : closest(value, sources.names);
  return set === undefined ? problem : { ...problem, message: `${problem.message}; did you mean '$${set}'?` };
}

/** Reports a problem with a field of a rule; where it was written is looked up only then. */
function reportField(
  policy: PolicyContext,
  problem: FormatProblem | undefined,
  ruleIndex: number,
  names: readonly string[],
): void {
  if (problem === undefined) return;
  const path: PathSegment[] = ['policies', policy.index, 'rules', ruleIndex, ...names];
  policy.diagnostics.push(
    diagnostic(
      problem.severity,
      problem.code,
      `${describePath(policy.yaml.value, path)}: ${problem.message}`,
      positionAt(policy.yaml, path),
    ),
  );
}

function duplicateRule(
  yaml: YamlFile,
  index: number,
  ruleIndex: number,
  first: number,
  rule: Rule,
): Diagnostic {
  const path: PathSegment[] = ['policies', index, 'rules', ruleIndex];
  const what = ruleSummary(rule);
  return diagnostic(
    'warning',
    'W_DUPLICATE_RULE',
    first === ruleIndex
      ? `${describePath(yaml.value, path)}: ${what} appears twice after expanding source sets; it is kept once`
      : `${describePath(yaml.value, path)}: ${what} duplicates rules[${first}] after expanding source sets; it is kept once`,
    positionAt(yaml, path),
  );
}

/**
 * A `source` rule with its description, if it has one. Written as one literal: adding the
 * description afterwards would put it in a separate properties array, on each of a large
 * estate's hundred thousand rules.
 */
function sourceRule(source: string, description: string | undefined): Rule {
  return description === undefined ? { source } : { source, description };
}

/** The rule with its description, if it has one (absent and empty are the same). */
function withDescription(rule: Rule, description: string | undefined): Rule {
  if (description !== undefined) rule.description = description;
  return rule;
}

/**
 * A policy's distinct rules in the order first written, each with the index of the written rule
 * it came from. Rules are told apart by their address, target, GUID or cluster id first: only
 * rules that share one are compared in full, by `ruleIdentity`, which builds a string per rule.
 */
class DistinctRules {
  readonly rules: Rule[] = [];
  /** For each kept rule, the index of the written rule it came from. */
  private readonly writtenIndex: number[] = [];
  /** Kept rules by main value: the one rule's place in `rules`, or the places of several by identity. */
  private readonly byValue = new Map<string, number | Map<string, number>>();

  /** Keeps `rule` and returns undefined, or returns the written index of the equal rule kept before. */
  add(rule: Rule, writtenIndex: number): number | undefined {
    const value = mainValue(rule);
    const seen = this.byValue.get(value);
    if (seen === undefined) {
      this.byValue.set(value, this.keep(rule, writtenIndex));
      return undefined;
    }
    const byIdentity = typeof seen === 'number' ? this.split(value, seen) : seen;
    const identity = ruleIdentity(rule);
    const equal = byIdentity.get(identity);
    if (equal !== undefined) return this.writtenIndex[equal];
    byIdentity.set(identity, this.keep(rule, writtenIndex));
    return undefined;
  }

  private keep(rule: Rule, writtenIndex: number): number {
    this.rules.push(rule);
    this.writtenIndex.push(writtenIndex);
    return this.rules.length - 1;
  }

  /** The first rule with `value` was alone: from now on, the rules with it are kept by identity. */
  private split(value: string, place: number): Map<string, number> {
    const byIdentity = new Map([[ruleIdentity(this.rules[place] as Rule), place]]);
    this.byValue.set(value, byIdentity);
    return byIdentity;
  }
}

/** The field that tells most rules of a policy apart (every rule has exactly one of these). */
function mainValue(rule: Rule): string {
  return rule.source ?? rule.egress_rule?.target ?? rule.azure_endpoint_guid ?? rule.remote_cluster_id ?? '';
}

/**
 * Equal for rules with the same fields and values (what `canonicalJson` would compare), without
 * its sorted copy: every rule has at most these fields, each is length-prefixed (or marked absent)
 * so that no two different rules give the same key.
 */
function ruleIdentity(rule: Rule): string {
  const e = rule.egress_rule;
  return (
    part(rule.source) +
    (e === undefined ? '-' : `${part(e.target)}${part(e.protocol)}${part(e.ports?.join(','))}`) +
    part(rule.azure_endpoint_name) +
    part(rule.azure_endpoint_guid) +
    part(rule.remote_cluster_id) +
    part(rule.remote_cluster_org_id) +
    part(rule.description)
  );
}

function part(value: string | undefined): string {
  return value === undefined ? '-' : `${value.length}:${value}`;
}

function ruleSummary(rule: Rule): string {
  if (rule.source !== undefined) return `source '${rule.source}'`;
  if (rule.egress_rule !== undefined) return `egress target '${rule.egress_rule.target}'`;
  if (rule.azure_endpoint_guid !== undefined) return `azure endpoint '${rule.azure_endpoint_guid}'`;
  return `remote cluster '${rule.remote_cluster_id ?? ''}'`;
}

// ------------------------------------------------------------------ associations

function normaliseAssociation(
  yaml: YamlFile,
  index: number,
  entry: WrittenAssociation,
  environment: string,
  diagnostics: Diagnostic[],
): LocatedAssociationEntry | undefined {
  const targetField = entry.project !== undefined ? 'project' : 'deployment';
  const idPath: PathSegment[] =
    targetField === 'project'
      ? ['associations', index, 'project', 'id']
      : ['associations', index, 'deployment'];
  const target: Target =
    entry.project !== undefined
      ? { kind: 'project', projectType: entry.project.type, id: entry.project.id }
      : { kind: 'deployment', id: entry.deployment ?? '' };
  const problem = checkTargetId(target.id);
  if (problem !== undefined) {
    diagnostics.push(
      diagnostic(
        problem.severity,
        problem.code,
        `${describePath(yaml.value, idPath)}: ${problem.message}`,
        positionAt(yaml, idPath),
      ),
    );
    return undefined;
  }
  return {
    environment,
    target,
    targetField,
    policyNames: entry.policies,
    allow_unfiltered: entry.allow_unfiltered ?? false,
    yaml,
    index,
  };
}
