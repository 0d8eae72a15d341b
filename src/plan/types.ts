import type { Capabilities } from '../model/capabilities.js';
import type {
  ApiKind,
  DesiredEnvironment,
  LiveEnvironment,
  PolicySpec,
  PolicyType,
  Target,
} from '../model/types.js';
import type { FieldChange, Note } from '../diff/types.js';

export type { FieldChange, Note as PlanNote };

/**
 * The plan is data (STYLE.md): a discriminated union on `action`, serialisable to the plan file
 * (SPEC §5), reviewed as is, and executed by `executePlan` without re-deciding anything.
 *
 * Order contract: operations are sorted by phase — create/replace → update → associate →
 * dissociate → delete — then by environment, region, policy name and target key. Within a phase
 * operations are independent except through `depends_on`.
 */

export const ACTIONS = ['create', 'replace', 'update', 'associate', 'dissociate', 'delete'] as const;
export type Action = (typeof ACTIONS)[number];

/** Execution phase of each action: make before break. `replace` creates the new policy. */
export const PHASE_OF: Readonly<Record<Action, number>> = {
  create: 0,
  replace: 0,
  update: 1,
  associate: 2,
  dissociate: 3,
  delete: 4,
};

export interface PolicyRef {
  region: string;
  name: string;
  type: PolicyType;
  /** Live id; absent for a policy this plan creates (see `policy_from`). */
  id?: string;
}

interface OperationBase {
  /** Stable across runs for the same change, e.g. `associate:prod/us-east-1/office→deployment:abc`. */
  id: string;
  environment: string;
  policy: PolicyRef;
  /** Ops that must have succeeded first; a failed or skipped dependency skips this op. */
  depends_on: string[];
}

export interface CreateOperation extends OperationBase {
  action: 'create';
  spec: PolicySpec;
}

/** Create the new policy that replaces `replaces` (type or region changed); the old one is deleted later. */
export interface ReplaceOperation extends OperationBase {
  action: 'replace';
  spec: PolicySpec;
  replaces: PolicyRef & { id: string };
  changes: FieldChange[];
}

export interface UpdateOperation extends OperationBase {
  action: 'update';
  policy: PolicyRef & { id: string };
  /** The whole desired policy (ess/ece PUT the whole object). */
  spec: PolicySpec;
  changes: FieldChange[];
}

export interface AssociateOperation extends OperationBase {
  action: 'associate';
  target: Target;
  /** When `policy.id` is absent: the op (create/replace) whose result carries the id. */
  policy_from?: string;
}

export interface DissociateOperation extends OperationBase {
  action: 'dissociate';
  policy: PolicyRef & { id: string };
  target: Target;
}

export interface DeleteOperation extends OperationBase {
  action: 'delete';
  policy: PolicyRef & { id: string };
  /**
   * pruned: no longer declared (prune); replaced: the old half of a replacement; duplicate: an
   * identical copy of a declared policy (two concurrent applies), merged into the copy kept.
   */
  reason: 'pruned' | 'replaced' | 'duplicate';
}

export type Operation =
  | CreateOperation
  | ReplaceOperation
  | UpdateOperation
  | AssociateOperation
  | DissociateOperation
  | DeleteOperation;

/** A guard that refused (part of) the plan. Any refusal makes plan/apply exit 4. */
export interface Refusal {
  environment: string;
  guard:
    | 'ambiguous_policy'
    | 'protected_policy'
    | 'unfiltered_target'
    | 'max_delete_percent'
    | 'max_dissociate_percent'
    | 'incomplete_listing'
    | 'hidden_associations';
  message: string;
  /** How to override, if anything can. */
  override?: string;
  /**
   * Blocking refusals stop the whole apply before any write. A non-blocking one (an ambiguous
   * policy) only removes its own operations; the rest is applied and the run still exits 4.
   */
  blocking: boolean;
}

export interface PlanSummary {
  create: number;
  replace: number;
  update: number;
  associate: number;
  dissociate: number;
  delete: number;
  total: number;
  /**
   * Refusals in the plan. Above 0, the plan does not bring live state to the configuration, even
   * when `total` is 0. Absent in plan files written before it existed.
   */
  refused?: number;
}

/**
 * One environment of the run and what became of it (SPEC §2: environments are independent).
 * `unreadable`: its live state could not be read, so nothing is planned for it, and a run that
 * has one exits 1; `apply` of a plan file never touches it.
 */
export interface PlanEnvironment {
  name: string;
  api: ApiKind;
  /** The API's origin, as configured or the API's default. */
  endpoint: string;
  status: 'planned' | 'unreadable';
  /** Why it could not be read: the API error, as a person reads it. */
  error?: string;
}

/** What `buildPlan` writes; a reader also takes 1.0 (no `environments`). */
export const PLAN_FORMAT_VERSION = '1.1';

export interface Plan {
  format_version: '1.0' | '1.1';
  created_at: string;
  config_digest: string;
  /** Per environment: fingerprint of every live object read, keyed by `policy:ID` / target key. */
  fingerprints: Record<string, Record<string, string>>;
  operations: Operation[];
  notes: Note[];
  refusals: Refusal[];
  summary: PlanSummary;
  /**
   * Targets whose effective ingress the plan changes, by environment then target key (see
   * `computeExposure`). Absent in plan files written before it existed.
   */
  exposure?: TargetExposure[];
  /** Every environment of the run, by name (format 1.1; absent in 1.0 files). */
  environments?: PlanEnvironment[];
}

/** What kind of ingress a target has, from the types of the ingress policies attached to it. */
export type ExposureAccess =
  | 'unfiltered' // no ingress policy: open to the whole internet
  | 'public_allow_list' // ip policies only
  | 'public_allow_list_and_private_link'
  | 'private_link_only' // vpce / Azure / PSC policies only
  | 'other_filters'; // remote_cluster policies, or policies this read cannot see

export interface ExposureState {
  access: ExposureAccess;
  /** Distinct IPv4 addresses the attached `ip` policies allow (union of ranges); 2^32 when unfiltered. */
  ipv4_addresses: number;
  /** Rules of attached private-link policies (vpce, Azure, PSC). */
  private_endpoints: number;
  /** Names of the attached ingress policies (ids for those this read cannot see), sorted. */
  policies: string[];
}

export interface TargetExposure {
  environment: string;
  target: Target;
  /** Live name of the deployment or project, when the API gives one. */
  name?: string;
  before: ExposureState;
  after: ExposureState;
  /** after.ipv4_addresses − before.ipv4_addresses. */
  delta_ipv4: number;
  /** Ingress policies whose association with the target, or whose rules, the plan changes. */
  via: string[];
  /** Filtered before, unfiltered after: flagged, since the target opens to the whole internet. */
  opens_to_internet: boolean;
}

/** One environment to plan: what is declared, what is live, and what its API can do. */
export interface EnvironmentInput {
  desired: DesiredEnvironment;
  live: LiveEnvironment;
  capabilities: Capabilities;
}

export interface PlanOptions {
  /** Override the percentage guards (max_delete_percent, max_dissociate_percent) only. */
  force?: boolean;
  /** Additive only: no delete and no dissociate is planned (incident recovery). */
  noDelete?: boolean;
  /** Clock for `created_at` (tests pass a fixed one). */
  now?: () => Date;
  /**
   * Environments whose live state could not be read: listed in `Plan.environments` with the
   * reason, and nothing is planned for them (SPEC §2: the others are planned as if they were absent).
   */
  unreadable?: readonly Omit<PlanEnvironment, 'status'>[];
}
