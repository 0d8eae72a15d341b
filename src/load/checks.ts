import { CAPABILITIES } from '../model/capabilities.js';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { didYouMean, someOf } from '../model/suggest.js';
import { targetKey, targetLabel } from '../model/types.js';
import type { SourcePosition } from '../model/types.js';
import type { ConfigModel } from './config.js';
import type { LocatedAssociationEntry, LocatedPolicy, NormalisedFiles } from './normalise.js';
import { describePath, positionAt } from './read-yaml.js';
import type { PathSegment } from './read-yaml.js';

/**
 * Semantic checks across all entries (pure): what each environment's API supports (from
 * CAPABILITIES, never from the API's name), length limits, region scope, duplicate identities,
 * and associations against declared policies.
 */
export function checkSemantics(config: ConfigModel, files: NormalisedFiles): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const located of files.policies) diagnostics.push(...checkPolicy(config, located));
  diagnostics.push(...checkDuplicatePolicies(files.policies));
  diagnostics.push(...checkAssociations(config, files));
  return diagnostics;
}

/** The fields of a policy whose length an API may limit, in the order they are checked. */
const LIMITED_FIELDS = ['name', 'description', 'region'] as const;

function checkPolicy(config: ConfigModel, located: LocatedPolicy): Diagnostic[] {
  const { policy } = located;
  const env = config.environments.get(policy.environment);
  if (env === undefined) return [];
  const caps = CAPABILITIES[env.api];
  const out: Diagnostic[] = [];
  const field = (name: string) => {
    const path: PathSegment[] = ['policies', located.index, name];
    return { at: positionAt(located.yaml, path), label: describePath(located.yaml.value, path) };
  };

  if (!caps.policyTypes.includes(policy.type)) {
    const { at, label } = field('type');
    out.push(
      diagnostic(
        'error',
        'E_UNSUPPORTED_TYPE',
        `${label}: policy type '${policy.type}' is not supported by ${env.api} environment '${env.name}' (supported: ${caps.policyTypes.join(', ')})`,
        at,
      ),
    );
  }

  for (const name of LIMITED_FIELDS) {
    const value = policy[name];
    const limit = caps.limits[name];
    if (limit === undefined || value.length <= limit) continue;
    const { at, label } = field(name);
    out.push(
      diagnostic(
        'error',
        'E_LIMIT',
        `${label}: ${value.length} characters; the ${env.api} API allows at most ${limit}`,
        at,
      ),
    );
  }

  if (env.regions !== undefined && !env.regions.includes(policy.region)) {
    const { at, label } = field('region');
    out.push(
      diagnostic(
        'error',
        'E_REGION_SCOPE',
        `${label}: region '${policy.region}' is outside the regions of environment '${env.name}' (${env.regions.join(', ')})${didYouMean(policy.region, env.regions)}; add it to 'regions:' in ecfence.yaml or move the policy`,
        at,
      ),
    );
  }
  return out;
}

function checkDuplicatePolicies(policies: readonly LocatedPolicy[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const first = new Map<string, LocatedPolicy>();
  for (const located of policies) {
    const { environment, region, name } = located.policy;
    const key = JSON.stringify([environment, region, name]);
    const previous = first.get(key);
    if (previous === undefined) {
      first.set(key, located);
      continue;
    }
    const previousAt = positionAt(previous.yaml, ['policies', previous.index, 'name']);
    out.push(
      diagnostic(
        'error',
        'E_DUPLICATE_POLICY',
        `${describePath(located.yaml.value, ['policies', located.index, 'name'])}: policy '${name}' in region '${region}' of environment '${environment}' is already declared at ${where(previousAt)}`,
        positionAt(located.yaml, ['policies', located.index, 'name']),
      ),
    );
  }
  return out;
}

function checkAssociations(config: ConfigModel, files: NormalisedFiles): Diagnostic[] {
  const out: Diagnostic[] = [];
  const declared = new Map<string, Set<string>>();
  for (const { policy } of files.policies) {
    const names = declared.get(policy.environment) ?? new Set<string>();
    names.add(policy.name);
    declared.set(policy.environment, names);
  }
  // Where each pair was first written, as (entry, index), by environment and target, then by
  // policy name: positions are looked up only to report.
  const first = new Map<string, Map<string, { entry: LocatedAssociationEntry; j: number }>>();

  for (const entry of files.associations) {
    const env = config.environments.get(entry.environment);
    if (env === undefined) continue;
    const caps = CAPABILITIES[env.api];
    const path = (...rest: PathSegment[]): PathSegment[] => ['associations', entry.index, ...rest];

    if (entry.target.kind !== caps.targetKind) {
      out.push(
        diagnostic(
          'error',
          'E_TARGET_KIND',
          `${describePath(entry.yaml.value, path(entry.targetField))}: ${env.api} environment '${env.name}' attaches policies to ${caps.targetKind}s, not ${entry.target.kind}s (write '${caps.targetKind}:' instead)`,
          positionAt(entry.yaml, path(entry.targetField), { key: true }),
        ),
      );
      continue;
    }

    const names = declared.get(entry.environment) ?? new Set<string>();
    const targetId = JSON.stringify([entry.environment, targetKey(entry.target)]);
    let firstOfTarget = first.get(targetId);
    if (firstOfTarget === undefined) first.set(targetId, (firstOfTarget = new Map()));
    entry.policyNames.forEach((name, j) => {
      if (!names.has(name)) {
        if (files.incomplete || files.brokenPolicyNames.has(name)) return;
        const known = [...names].sort();
        out.push(
          diagnostic(
            'error',
            'E_UNKNOWN_POLICY',
            `${describePath(entry.yaml.value, path('policies', j))}: no policy named '${name}' is declared for environment '${entry.environment}'${didYouMean(name, known) || ` (declared: ${someOf(known) || 'none'})`}`,
            positionAt(entry.yaml, path('policies', j)),
          ),
        );
        return;
      }
      const previous = firstOfTarget.get(name);
      if (previous === undefined) {
        firstOfTarget.set(name, { entry, j });
        return;
      }
      const previousAt = positionAt(previous.entry.yaml, [
        'associations',
        previous.entry.index,
        'policies',
        previous.j,
      ]);
      out.push(
        diagnostic(
          'error',
          'E_DUPLICATE_ASSOCIATION',
          `${describePath(entry.yaml.value, path('policies', j))}: policy '${name}' is already associated with ${targetLabel(entry.target)} at ${where(previousAt)}`,
          positionAt(entry.yaml, path('policies', j)),
        ),
      );
    });
  }
  return out;
}

export function where(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}
