import { canonicalJson, fingerprintOf } from '../../model/canonical.js';
import { InternalError } from '../../model/errors.js';
import type {
  LivePolicy,
  LiveTarget,
  PolicySpec,
  PolicyType,
  ProjectType,
  Rule,
  Target,
} from '../../model/types.js';
import { lazyFingerprint } from '../lazy-fingerprint.js';
import { asArray, asObject, optionalString, requireString, sourceRule } from '../wire.js';
import type { WireContext, WireObject } from '../wire.js';

/**
 * The one place where serverless wire JSON (API.md §4.3) becomes the neutral model and back.
 * Serverless rules have no ids and keep their order; filters carry no associations (they are read
 * from the projects' `traffic_filters`); type names differ from ess (SPEC §1.3).
 */

/** Canonical policy type → serverless wire type. Types missing here do not exist on serverless. */
const WIRE_TYPES: Partial<Record<PolicyType, string>> = {
  ip: 'ip',
  vpce: 'vpce',
  azure_private_endpoint: 'private_endpoint',
  gcp_private_service_connect_endpoint: 'psc_endpoint',
};

const MODEL_TYPES: Readonly<Record<string, PolicyType>> = Object.fromEntries(
  Object.entries(WIRE_TYPES).map(([model, wire]) => [wire, model as PolicyType]),
);

export function typeToWire(type: PolicyType): string {
  const wire = WIRE_TYPES[type];
  // The loader rejects these against the capabilities, so reaching here is a bug.
  if (wire === undefined) throw new InternalError(`policy type ${type} has no serverless equivalent`);
  return wire;
}

/** Unknown wire types pass through unchanged so the filter stays visible (the enum grows). */
export function typeFromWire(wire: string): PolicyType {
  return MODEL_TYPES[wire] ?? (wire as PolicyType);
}

const RULE_FIELDS = ['source', 'description', 'azure_endpoint_name', 'azure_endpoint_guid'] as const;

/** Named reads, not a loop over RULE_FIELDS: a read maps 100,000 rules (see the ess mapping). */
export function ruleFromWire(ctx: WireContext, raw: unknown): Rule {
  const obj: WireRule = asObject(ctx, raw, 'rule');
  if (isSet(obj.source) && !isSet(obj.azure_endpoint_name) && !isSet(obj.azure_endpoint_guid)) {
    return sourceRule(obj.source, obj.description);
  }
  const rule: Rule = {};
  if (isSet(obj.source)) rule.source = obj.source;
  if (isSet(obj.description)) rule.description = obj.description;
  if (isSet(obj.azure_endpoint_name)) rule.azure_endpoint_name = obj.azure_endpoint_name;
  if (isSet(obj.azure_endpoint_guid)) rule.azure_endpoint_guid = obj.azure_endpoint_guid;
  return rule;
}

/** A wire rule as read: any field may hold anything. */
type WireRule = { [K in (typeof RULE_FIELDS)[number]]?: unknown };

/** Present, a string and not empty (absent ≡ empty). */
function isSet(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

export function ruleToWire(rule: Rule): WireObject {
  if (rule.egress_rule || rule.remote_cluster_id || rule.remote_cluster_org_id) {
    throw new InternalError('serverless rules have no egress or remote-cluster fields');
  }
  const out: WireObject = {};
  for (const key of RULE_FIELDS) {
    const v = rule[key];
    if (v !== undefined && v !== '') out[key] = v;
  }
  return out;
}

/** S2 create body. `description` is omitted when empty (absent ≡ unset, gotcha 3). */
export function createFilterBody(spec: PolicySpec): WireObject {
  return {
    name: spec.name,
    type: typeToWire(spec.type),
    region: spec.region,
    include_by_default: spec.include_by_default,
    ...(spec.description !== '' ? { description: spec.description } : {}),
    rules: spec.rules.map(ruleToWire),
  };
}

/**
 * S4 patch body: only the top-level fields that changed (gotcha 19); `rules` as the whole ordered
 * list. Empty when nothing changed. `type` and `region` cannot be patched: a change there is a
 * replacement, planned elsewhere.
 */
export function patchFilterBody(spec: PolicySpec, before: PolicySpec): WireObject {
  if (spec.type !== before.type || spec.region !== before.region) {
    throw new InternalError(`${spec.name}: type and region cannot be patched; plan a replacement`);
  }
  const body: WireObject = {};
  if (spec.name !== before.name) body['name'] = spec.name;
  // '' is how a description is cleared: PATCH leaves absent fields untouched.
  if (spec.description !== before.description) body['description'] = spec.description;
  if (spec.include_by_default !== before.include_by_default)
    body['include_by_default'] = spec.include_by_default;
  const rules = spec.rules.map(ruleToWire);
  if (canonicalJson(rules) !== canonicalJson(before.rules.map(ruleToWire))) body['rules'] = rules;
  return body;
}

/** The managed fields in canonical form (rules ordered): equal text ⇔ nothing to update. */
export function canonicalSpec(spec: PolicySpec): string {
  return canonicalJson({
    region: spec.region,
    name: spec.name,
    type: spec.type,
    description: spec.description,
    include_by_default: spec.include_by_default,
    rules: spec.rules.map(ruleToWire),
  });
}

/**
 * A `TrafficFilterInfo` (S1 item, S2/S3/S4 response), with the associations read from projects.
 * Built in its final shape in one literal (a read maps thousands).
 */
export function filterToLivePolicy(
  ctx: WireContext,
  raw: unknown,
  associations: readonly Target[],
): LivePolicy {
  const obj = asObject(ctx, raw, 'traffic filter');
  const id = requireString(ctx, obj, 'id', 'traffic filter');
  const what = `traffic filter ${id}`;
  return withPolicyFingerprint({
    id,
    region: requireString(ctx, obj, 'region', what),
    name: requireString(ctx, obj, 'name', what),
    type: typeFromWire(requireString(ctx, obj, 'type', what)),
    description: optionalString(obj, 'description') ?? '',
    include_by_default: obj['include_by_default'] === true,
    rules: asArray(ctx, obj['rules'], `${what} rules`).map((r) => ruleFromWire(ctx, r)),
    associations: [...associations],
    hiddenAssociations: 0,
  });
}

// Only a saved or JSON plan reads fingerprints: computed then. Rules keep their order (a list).
const withPolicyFingerprint = lazyFingerprint<LivePolicy>((p) =>
  fingerprintOf({
    id: p.id,
    region: p.region,
    name: p.name,
    type: p.type,
    description: p.description,
    include_by_default: p.include_by_default,
    rules: p.rules,
    associations: p.associations,
  }),
);

/** The ids in a project's `traffic_filters` (absent ≡ []), in the order the API gives them. */
export function projectFilterIds(ctx: WireContext, project: WireObject, what: string): string[] {
  const label = `${what} traffic filter`;
  return asArray(ctx, project['traffic_filters'], `${what} traffic_filters`).map((f) =>
    requireString(ctx, asObject(ctx, f, label), 'id', label),
  );
}

/**
 * A project from a P1 list. The list carries no per-project ETag, so `etag` stays undefined and the
 * fingerprint is a hash of what ecfence depends on: id, region and association list.
 */
export function projectToLiveTarget(ctx: WireContext, projectType: ProjectType, raw: unknown): LiveTarget {
  const obj = asObject(ctx, raw, 'project');
  const id = requireString(ctx, obj, 'id', 'project');
  const what = `project ${projectType}/${id}`;
  const region = requireString(ctx, obj, 'region_id', what);
  const policyIds = projectFilterIds(ctx, obj, what);
  const name = optionalString(obj, 'name');
  const target: Target = { kind: 'project', projectType, id };
  return withTargetFingerprint(
    name !== undefined ? { target, region, name, policyIds } : { target, region, policyIds },
  );
}

const withTargetFingerprint = lazyFingerprint<LiveTarget>((t) =>
  fingerprintOf({ id: t.target.id, region_id: t.region, traffic_filters: t.policyIds }),
);

/** Project PATCH body for associations: only `traffic_filters` (the schema rejects extra keys). */
export function trafficFiltersBody(ids: readonly string[]): WireObject {
  return { traffic_filters: ids.map((id) => ({ id })) };
}
