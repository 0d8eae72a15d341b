import type { ApiKind, EgressProtocol, PolicyType, ProjectType } from '../model/types.js';

/**
 * TypeScript types of the files as written (YAML), mirroring `schemas/*.schema.json`, which are
 * the source of truth. `test/load/written-types.test.ts` fails when the two drift apart.
 * Values of these types have passed schema validation; nothing else is assumed.
 */

// ------------------------------------------------------------------ ecfence.yaml

export interface WrittenConfig {
  policies?: string | string[];
  environments: Record<string, WrittenEnvironment>;
  safety?: WrittenSafety;
  lint?: WrittenLint;
}

/** Warning codes as listed in `lint:`; the schema enumerates the accepted ones. */
export interface WrittenLint {
  errors?: string[];
  ignore?: string[];
}

export interface WrittenEnvironment {
  api: ApiKind;
  endpoint?: string;
  api_key_env?: string;
  username_env?: string;
  password_env?: string;
  ca_file?: string;
  regions?: string[];
  prune?: boolean;
  protect?: string[];
  safety?: WrittenSafety;
}

export interface WrittenSafety {
  max_delete_percent?: number;
  max_dissociate_percent?: number;
}

// ------------------------------------------------------------------ policy files

export interface WrittenPolicyFile {
  environment?: string;
  sources?: Record<string, string[]>;
  policies?: WrittenPolicy[];
  associations?: WrittenAssociation[];
}

/** Canonical names plus the serverless wire names accepted as aliases. */
export type WrittenPolicyType = PolicyType | 'private_endpoint' | 'psc_endpoint';

export interface WrittenPolicy {
  name: string;
  region: string;
  type: WrittenPolicyType;
  environment?: string;
  description?: string;
  include_by_default?: boolean;
  rules: WrittenRule[];
}

/** `ip`, `vpce` and `gcp_private_service_connect_endpoint` rules: an address or a `$name` set. */
export interface WrittenSourceRule {
  source: string;
  description?: string;
}

export interface WrittenAzureRule {
  azure_endpoint_name: string;
  azure_endpoint_guid: string;
  description?: string;
}

export interface WrittenRemoteClusterRule {
  remote_cluster_id: string;
  remote_cluster_org_id: string;
  description?: string;
}

export interface WrittenEgressFirewallRule {
  egress_rule: WrittenEgressRule;
  description?: string;
}

export interface WrittenEgressRule {
  target: string;
  protocol: EgressProtocol;
  ports?: number[];
}

/** Which fields a rule has is decided by its policy's `type` (schema `allOf` of `if/then`). */
export type WrittenRule =
  WrittenSourceRule | WrittenAzureRule | WrittenRemoteClusterRule | WrittenEgressFirewallRule;

export interface WrittenAssociation {
  environment?: string;
  /** Exactly one of `deployment` and `project`. */
  deployment?: string;
  project?: WrittenProject;
  policies: string[];
  allow_unfiltered?: boolean;
}

export interface WrittenProject {
  type: ProjectType;
  id: string;
}
