/**
 * Plain data of the emulator: its state (what `--state FILE` holds), its seed format, its fault
 * configuration and its request log. Everything here is JSON-serialisable.
 */

export type EmulatorFlavor = 'cloud' | 'ece';

/** Ruleset types the ESS (cloud flavor) emulator accepts. ECE accepts only `ip`. */
export const ESS_RULESET_TYPES = [
  'ip',
  'egress_firewall',
  'vpce',
  'azure_private_endpoint',
  'gcp_private_service_connect_endpoint',
  'remote_cluster',
] as const;

/** Serverless traffic-filter wire types (`psc_endpoint` is in the public docs, not the vendored spec). */
export const SERVERLESS_FILTER_TYPES = ['ip', 'vpce', 'private_endpoint', 'psc_endpoint'] as const;
export type ServerlessFilterType = (typeof SERVERLESS_FILTER_TYPES)[number];

export const SERVERLESS_PROJECT_TYPES = ['elasticsearch', 'observability', 'security'] as const;
export type ServerlessProjectType = (typeof SERVERLESS_PROJECT_TYPES)[number];

/** One stored ESS/ECE rule, verbatim as the client sent it plus the server-assigned `id`. */
export interface StoredRule {
  id: string;
  source?: string;
  description?: string;
  azure_endpoint_name?: string;
  azure_endpoint_guid?: string;
  remote_cluster_id?: string;
  remote_cluster_org_id?: string;
  egress_rule?: { target: string; protocol: string; ports?: number[] };
}

export interface StoredRuleset {
  id: string;
  name: string;
  description?: string;
  type: string;
  include_by_default: boolean;
  region: string;
  rules: StoredRule[];
  /** Deployment ids, in the order the associations were made. */
  associations: string[];
  /** Associations the caller cannot see: counted in `total_associations` and they block delete. */
  hidden_associations: number;
}

/** A deployment's user tag (`MetadataItem`). */
export interface DeploymentTag {
  key: string;
  value: string;
}

export interface StoredDeployment {
  id: string;
  name: string;
  region: string;
  /** Id of the deployment's single Elasticsearch resource. */
  resource_id: string;
  created_at: string;
  /** `metadata.tags`, in order, keys unique; absent when there are none. */
  tags?: DeploymentTag[];
}

/** One serverless rule as sent (serverless rules have no id). */
export interface StoredFilterRule {
  description?: string;
  source?: string;
  azure_endpoint_name?: string;
  azure_endpoint_guid?: string;
}

export interface StoredTrafficFilter {
  id: string;
  name: string;
  description?: string;
  type: string;
  include_by_default: boolean;
  region: string;
  rules: StoredFilterRule[];
  /** Quoted ETag value, changed on every write. */
  etag: string;
}

export interface StoredProject {
  id: string;
  type: ServerlessProjectType;
  name: string;
  /** Alias with the system suffix, as the API reports it. */
  alias: string;
  region_id: string;
  /** Associated traffic filter ids, in order. */
  traffic_filters: string[];
  created_at: string;
  /** `metadata.tags` (`ProjectTags`); absent when there are none. */
  tags?: Record<string, string>;
  /** Quoted ETag value, changed on every write. */
  etag: string;
}

/** PrivateLink metadata of one region, with the spec's field names (TrafficFilterRegionMetadata). */
export interface RegionMetadata {
  region: string;
  csp?: string;
  vpc_service_name: string;
  private_service_name?: string;
  private_hosted_zone_domain_name: string;
  availability_zones: { name: string; id: string }[];
}

/**
 * Force a non-empty `next_page` on serverless listings (to test fail-closed clients): `true` for
 * both the traffic-filter and project lists, or only one of them.
 */
export type ForceNextPage = boolean | 'traffic_filters' | 'projects';

/** The whole emulator state. `--state FILE` holds exactly this object. */
export interface EmulatorState {
  format: 'ecfence-emulator-state/1';
  deployments: StoredDeployment[];
  rulesets: StoredRuleset[];
  projects: StoredProject[];
  traffic_filters: StoredTrafficFilter[];
  metadata: RegionMetadata[];
  force_next_page: ForceNextPage;
  /** Monotonic counter mixed into ETags so that every write yields a new one. */
  etag_counter: number;
}

/** A deep copy of the state, safe for callers to inspect or mutate. */
export type EmulatorStateSnapshot = EmulatorState;

/**
 * Seed file format (JSON or YAML). Ids are generated when absent. Rulesets associate with
 * deployments by id; projects reference traffic filters by id, so give ids to filters that
 * projects reference. Tags take each API's shape: a `{key, value}` list on deployments, a map on
 * projects.
 */
export interface SeedData {
  deployments?: { id?: string; name: string; region: string; tags?: DeploymentTag[] }[];
  projects?: {
    type: ServerlessProjectType;
    id?: string;
    name: string;
    region_id: string;
    traffic_filters?: string[];
    tags?: Record<string, string>;
  }[];
  rulesets?: {
    id?: string;
    name: string;
    region: string;
    type: string;
    description?: string;
    include_by_default?: boolean;
    rules: Omit<StoredRule, 'id'>[];
    associations?: string[];
    hidden_associations?: number;
  }[];
  traffic_filters?: {
    id?: string;
    name: string;
    region: string;
    type: string;
    description?: string;
    include_by_default?: boolean;
    rules?: StoredFilterRule[];
  }[];
  /** Replaces the built-in region metadata when given. */
  metadata?: RegionMetadata[];
  force_next_page?: ForceNextPage;
}

export type FaultKind = '429' | '500' | '503' | 'reset' | 'reset_after_commit';

/** One entry of the fault script: the next `times` matching API requests get `fault`. */
export interface ScriptedFault {
  /** HTTP method to match (case-insensitive); any when absent. */
  method?: string;
  /** Regular expression (source text) tested against the request path (no query); any when absent. */
  pathPattern?: string;
  fault: FaultKind;
  /** How many matching requests this entry applies to (default 1). */
  times?: number;
}

/**
 * Fault injection for API paths (never `/_emulator/`). Rates are probabilities in [0, 1], drawn
 * from one deterministic PRNG (`seed`) per request; the script is consulted first, in order.
 */
export interface FaultConfig {
  /** Delay before every API request is handled. */
  latencyMs?: number;
  rate429?: number;
  /** `Retry-After` value (seconds) sent with 429; default 1. */
  retryAfterSeconds?: number;
  /** 503 with a proper error body. */
  rate5xx?: number;
  /** Drop the connection before the request is processed (nothing committed). */
  rateReset?: number;
  /** Process and commit the request, then drop the connection without a response. */
  rateResetAfterCommit?: number;
  /**
   * Read-after-write lag (API.md gotcha 7): a policy (ruleset or traffic filter) created while this
   * is set is missing from the next `readLag` reads that would show it. A listing leaves it out and
   * a GET of its id answers 404; each such read counts once. Writes to it work at once.
   */
  readLag?: number;
  seed?: number;
  /**
   * A rate limit (API.md §7): a token bucket of this many requests per second, holding one
   * second's worth; a request that finds it empty answers 429 with `Retry-After` in whole seconds
   * (at least 1) until a token is back. Refused requests take no token.
   */
  rateLimit?: number;
  /** Random faults only hit these methods (e.g. `['POST','PUT','PATCH','DELETE']`); script entries have their own. */
  methods?: string[];
  script?: ScriptedFault[];
}

/** One API request as the emulator answered it. Admin (`/_emulator/`) requests are not logged. */
export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Status sent, the would-be status for `reset_after_commit`, 0 for `reset`. */
  status: number;
  fault?: FaultKind;
  /** Parsed JSON bodies, only when the emulator was started with `recordBodies`. */
  requestBody?: unknown;
  responseBody?: unknown;
}
