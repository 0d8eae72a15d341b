import { CAPABILITIES } from '../backends/capabilities.js';
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
import { associationPairs } from './checks.js';
import type { ConfigModel } from './config.js';
import type { NormalisedFiles } from './normalise.js';
import { lazyPositionAt } from './read-yaml.js';

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

    const seen = new Set<string>();
    const associations: DesiredAssociation[] = [];
    const allowUnfiltered = new Map<string, Target>();
    for (const entry of files.associations) {
      if (entry.environment !== name) continue;
      if (entry.allow_unfiltered) allowUnfiltered.set(targetKey(entry.target), entry.target);
    }
    for (const { entry, policyName, index } of associationPairs(files.associations)) {
      if (entry.environment !== name) continue;
      const key = JSON.stringify([targetKey(entry.target), policyName]);
      if (seen.has(key)) continue;
      seen.add(key);
      associations.push({
        environment: name,
        target: entry.target,
        policyName,
        allow_unfiltered: entry.allow_unfiltered,
        position: lazyPositionAt(entry.yaml, ['associations', entry.index, 'policies', index]),
      });
    }
    associations.sort(
      (a, b) => compare(targetKey(a.target), targetKey(b.target)) || compare(a.policyName, b.policyName),
    );
    const unfiltered = [...allowUnfiltered.entries()].sort(([a], [b]) => compare(a, b)).map(([, t]) => t);
    return [{ config: envConfig, policies, associations, allowUnfiltered: unfiltered }];
  });

  // The digest is read only when a plan is saved or printed as JSON.
  const desired = { configDigest: '', environments };
  return defineLazy(desired, 'configDigest', () => computeConfigDigest(environments, config.writtenCaFiles));
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

function withoutPosition<T extends { position?: unknown }>(value: T): Omit<T, 'position'> {
  const { position: _position, ...rest } = value;
  return rest;
}

/** Code-unit order: the same on every machine, whatever the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
