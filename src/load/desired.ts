import { CAPABILITIES } from '../model/capabilities.js';
import { fingerprintOf, sortByCanonicalJson } from '../model/canonical.js';
import { defineLazy } from '../model/lazy.js';
import { targetKey } from '../model/types.js';
import type {
  DesiredAssociation,
  DesiredEnvironment,
  DesiredPolicy,
  DesiredState,
  EnvironmentConfig,
  Target,
} from '../model/types.js';
import type { ConfigModel } from './config.js';
import type { LocatedAssociationEntry, NormalisedFiles } from './normalise.js';
import { positionAt } from './read-yaml.js';

/**
 * Assembles the desired state of the selected environments (pure). Everything is sorted —
 * environments by name, policies by (region, name), associations by (target, policy) — so the
 * result, and its digest, do not depend on how entries are spread over files.
 */
export function buildDesiredState(
  config: ConfigModel,
  files: NormalisedFiles,
  selected: readonly string[],
): DesiredState {
  const environments: DesiredEnvironment[] = [...selected].sort(compare).flatMap((name) => {
    const envConfig = config.environments.get(name);
    if (envConfig === undefined) return [];
    const policies = files.policies
      .map((p) => p.policy)
      .filter((p) => p.environment === name)
      .sort((a, b) => compare(a.region, b.region) || compare(a.name, b.name));

    const { associations, allowUnfiltered } = environmentAssociations(files.associations, name);
    const unfiltered = [...allowUnfiltered.entries()].sort(([a], [b]) => compare(a, b)).map(([, t]) => t);
    return [{ config: envConfig, policies, associations, allowUnfiltered: unfiltered }];
  });

  // The digest is read only when a plan is saved or printed as JSON.
  const desired = { configDigest: '', environments };
  return defineLazy(desired, 'configDigest', () => computeConfigDigest(environments, config.writtenCaFiles));
}

/**
 * The association pairs of one environment, each (target, policy) once — the first written — sorted
 * by target and policy, and the targets allowed to stay unfiltered (by target key). Each entry's
 * target key is computed once: a large estate has tens of thousands of pairs, and the sort compares
 * each a dozen times or more.
 */
function environmentAssociations(
  entries: readonly LocatedAssociationEntry[],
  environment: string,
): { associations: DesiredAssociation[]; allowUnfiltered: Map<string, Target> } {
  const pairs: { key: string; association: DesiredAssociation }[] = [];
  const allowUnfiltered = new Map<string, Target>();
  // Policy names already paired, by target key.
  const paired = new Map<string, Set<string>>();
  for (const entry of entries) {
    if (entry.environment !== environment) continue;
    const key = targetKey(entry.target);
    if (entry.allow_unfiltered) allowUnfiltered.set(key, entry.target);
    let names = paired.get(key);
    if (names === undefined) paired.set(key, (names = new Set()));
    const { yaml, index } = entry;
    // Problems with the target are reported at its id: one position for every pair of the entry.
    const idPath = entry.targetField === 'project' ? ['project', 'id'] : ['deployment'];
    const targetPosition = positionAt(yaml, ['associations', index, ...idPath]);
    entry.policyNames.forEach((policyName, n) => {
      if (names.has(policyName)) return;
      names.add(policyName);
      const association: DesiredAssociation = {
        environment,
        target: entry.target,
        policyName,
        allow_unfiltered: entry.allow_unfiltered,
        position: positionAt(yaml, ['associations', index, 'policies', n]),
        targetPosition,
      };
      pairs.push({ key, association });
    });
  }
  pairs.sort((a, b) => compare(a.key, b.key) || compare(a.association.policyName, b.association.policyName));
  return { associations: pairs.map((p) => p.association), allowUnfiltered };
}

/**
 * sha256 of the canonical JSON of the desired state, without source positions (moving an entry to
 * another file or line is not a change) and with `ca_file` as written rather than absolute (the
 * digest must be the same on the machine that plans and the one that applies). Rules of APIs that
 * compare them as a set are sorted; where order matters (serverless) it is kept.
 */
export function computeConfigDigest(
  environments: readonly DesiredEnvironment[],
  writtenCaFiles: ReadonlyMap<string, string>,
): string {
  const canonical = environments.map((env) => ({
    config: withoutPosition({
      ...env.config,
      ca_file: writtenCaFiles.get(env.config.name),
    } satisfies EnvironmentConfig),
    policies: env.policies.map((p) => canonicalPolicy(p, env.config)),
    associations: env.associations.map(withoutPosition),
    allowUnfiltered: env.allowUnfiltered,
  }));
  return fingerprintOf({ version: 1, environments: canonical });
}

function canonicalPolicy(policy: DesiredPolicy, config: EnvironmentConfig): unknown {
  const rules =
    CAPABILITIES[config.api].ruleOrder === 'set' ? sortByCanonicalJson(policy.rules) : policy.rules;
  return { ...withoutPosition(policy), rules };
}

/** The fields but where they were written: moving an entry to another file or line is not a change. */
function withoutPosition<T extends { position?: unknown }>(value: T): Omit<T, 'position' | 'targetPosition'> {
  const rest: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    if (key !== 'position' && key !== 'targetPosition') rest[key] = value[key as keyof T];
  }
  return rest as Omit<T, 'position' | 'targetPosition'>;
}

/** Code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
