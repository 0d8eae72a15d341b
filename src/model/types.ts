/**
 * The neutral data model shared by the loader, the differ, the planner and the back ends.
 *
 * Everything here is plain, serialisable data. Back ends translate API JSON to and from these types
 * in exactly one place each (their `mapping.ts`), so the differ never sees wire JSON.
 */

/** Which Elastic API an environment talks to. */
export const API_KINDS = ['ess', 'ece', 'serverless'] as const;
export type ApiKind = (typeof API_KINDS)[number];

/**
 * Policy types, named as the Elastic Cloud Hosted API names them (SPEC §1.3). Serverless wire names
 * (`private_endpoint`, `psc_endpoint`) are accepted in YAML as aliases and normalised to these.
 */
export const POLICY_TYPES = [
  'ip',
  'egress_firewall',
  'vpce',
  'azure_private_endpoint',
  'gcp_private_service_connect_endpoint',
  'remote_cluster',
] as const;
export type PolicyType = (typeof POLICY_TYPES)[number];

/** Serverless wire names accepted as aliases in YAML, mapped to the canonical policy type. */
export const POLICY_TYPE_ALIASES: Readonly<Record<string, PolicyType>> = {
  private_endpoint: 'azure_private_endpoint',
  psc_endpoint: 'gcp_private_service_connect_endpoint',
};

/** Policy types that control who may connect *to* a target (everything except egress). */
export function isIngressType(type: PolicyType): boolean {
  return type !== 'egress_firewall';
}

export const EGRESS_PROTOCOLS = ['all', 'tcp', 'udp'] as const;
export type EgressProtocol = (typeof EGRESS_PROTOCOLS)[number];

export interface EgressRule {
  target: string;
  protocol: EgressProtocol;
  /** Sorted ascending, duplicates removed; absent ≡ empty (all ports). */
  ports?: number[];
}

/**
 * One rule of a policy, normalised: optional fields are either absent or non-empty, `$name`
 * references are already expanded, and there is never a rule `id` (ids are server-assigned and
 * re-issued on every write, so they must never take part in a comparison).
 */
export interface Rule {
  source?: string;
  description?: string;
  azure_endpoint_name?: string;
  azure_endpoint_guid?: string;
  remote_cluster_id?: string;
  remote_cluster_org_id?: string;
  egress_rule?: EgressRule;
}

/** The string fields of a rule, in `Rule` order (`egress_rule` is the one object). */
export const RULE_STRING_FIELDS = [
  'source',
  'description',
  'azure_endpoint_name',
  'azure_endpoint_guid',
  'remote_cluster_id',
  'remote_cluster_org_id',
] as const;

/** The fields a rule of each policy type must have; besides `description` it has no other. */
export const RULE_FIELDS_BY_TYPE: Readonly<Record<PolicyType, readonly (keyof Rule)[]>> = {
  ip: ['source'],
  vpce: ['source'],
  gcp_private_service_connect_endpoint: ['source'],
  azure_private_endpoint: ['azure_endpoint_name', 'azure_endpoint_guid'],
  remote_cluster: ['remote_cluster_id', 'remote_cluster_org_id'],
  egress_firewall: ['egress_rule'],
};

export const PROJECT_TYPES = ['elasticsearch', 'observability', 'security'] as const;
export type ProjectType = (typeof PROJECT_TYPES)[number];

/** What a policy can be associated with: an ess/ece deployment or a serverless project. */
export type Target =
  { kind: 'deployment'; id: string } | { kind: 'project'; projectType: ProjectType; id: string };

/** A stable string key for a target: `deployment:ID` or `project:TYPE:ID`. */
export function targetKey(target: Target): string {
  return target.kind === 'deployment'
    ? `deployment:${target.id}`
    : `project:${target.projectType}:${target.id}`;
}

/** Human-readable label for a target: `deployment ID` or `project TYPE/ID`. */
export function targetLabel(target: Target): string {
  return target.kind === 'deployment'
    ? `deployment ${target.id}`
    : `project ${target.projectType}/${target.id}`;
}

/** Where something was written in a user's file (1-based line and column). */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** The fields of a policy that ecfence manages and compares. */
export interface PolicySpec {
  region: string;
  name: string;
  type: PolicyType;
  /** '' when absent: absent and empty are the same. */
  description: string;
  include_by_default: boolean;
  rules: Rule[];
}

// ---------------------------------------------------------------------------------------------
// Desired state (from YAML)
// ---------------------------------------------------------------------------------------------

export interface SafetySettings {
  /** Percent of live managed policies in one environment a plan may delete (checked at ≥ 10). */
  max_delete_percent: number;
  max_dissociate_percent: number;
}

export interface EnvironmentConfig {
  name: string;
  api: ApiKind;
  endpoint: string;
  api_key_env?: string;
  username_env?: string;
  password_env?: string;
  ca_file?: string;
  /** Only these regions are read and managed; absent = all regions. */
  regions?: string[];
  prune: boolean;
  protect: string[];
  safety: SafetySettings;
  position?: SourcePosition;
}

export interface DesiredPolicy extends PolicySpec {
  environment: string;
  position?: SourcePosition;
}

/** One declared (target, policy) pair. Policy is named; its region is resolved against the target's. */
export interface DesiredAssociation {
  environment: string;
  target: Target;
  policyName: string;
  /** The association entry allows the target to end up with no ingress policy. */
  allow_unfiltered: boolean;
  /** Where the policy's name is written in the entry. */
  position?: SourcePosition;
  /** Where the target's id is written in the entry (problems with the target are reported there). */
  targetPosition?: SourcePosition;
}

export interface DesiredEnvironment {
  config: EnvironmentConfig;
  policies: DesiredPolicy[];
  associations: DesiredAssociation[];
  /**
   * Targets whose association entry says `allow_unfiltered: true` (possibly with `policies: []`):
   * the plan may leave them with no ingress policy.
   */
  allowUnfiltered: Target[];
}

export interface DesiredState {
  /** sha256 over the canonical desired state: what a saved plan was made from. */
  configDigest: string;
  environments: DesiredEnvironment[];
}

// ---------------------------------------------------------------------------------------------
// Live state (from an API), already mapped to the neutral model by the back end
// ---------------------------------------------------------------------------------------------

export interface LivePolicy extends PolicySpec {
  id: string;
  /** Visible associations. */
  associations: Target[];
  /** Associations the caller cannot see (ess/ece `total_associations` > visible count). */
  hiddenAssociations: number;
  /** Hash of the canonical form (or the API's ETag): detects changes since a plan was made. */
  fingerprint: string;
}

export interface LiveTarget {
  target: Target;
  /** Region the target lives in: ess/ece deployment resource region, serverless `region_id`. */
  region: string;
  name?: string;
  /** Serverless project ETag as read, for If-Match. */
  etag?: string;
  /**
   * Policy ids attached to this target as the target itself reports them (serverless project
   * `traffic_filters`), including ids of policies out of scope or invisible. Absent on ess/ece.
   */
  policyIds?: string[];
  fingerprint: string;
}

export interface LiveEnvironment {
  environment: string;
  policies: LivePolicy[];
  targets: LiveTarget[];
  /**
   * False when a listing said it was incomplete (serverless `next_page`): then no delete and no
   * dissociation may be planned in this environment.
   */
  complete: boolean;
  incompleteReason?: string;
  /** How many HTTP requests the read cost (reported, and asserted by tests to be constant). */
  requests: number;
}
