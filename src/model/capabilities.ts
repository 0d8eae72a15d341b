import type { ApiKind, PolicyType, Target } from './types.js';

/**
 * What differs between the three APIs, declared as data (STYLE.md). The loader and the planner read
 * capabilities; they never branch on the API name.
 */
export interface Capabilities {
  api: ApiKind;
  /** Policy types the API accepts; others are a validation error (SPEC §1.3). */
  policyTypes: readonly PolicyType[];
  /** What associations attach to. */
  targetKind: Target['kind'];
  /** How rules compare: `set` (ess/ece: unordered, ids ignored) or `list` (serverless: ordered). */
  ruleOrder: 'set' | 'list';
  /**
   * `per-pair`: one call per (policy, target) association (ess/ece POST/DELETE).
   * `per-target`: a target's whole policy list written at once (serverless project PATCH), so all
   * associate/dissociate ops of one target are executed as one write.
   */
  associationWrites: 'per-pair' | 'per-target';
  /** Length limits checked at validate time (serverless only). */
  limits: { name?: number; description?: number; region?: number };
  /** Endpoint used when the config gives none; undefined = endpoint required. */
  defaultEndpoint?: string;
  /** Auth schemes the API accepts. */
  auth: readonly ('api_key' | 'basic')[];
  /** The API serves private-connectivity metadata (`ecfence metadata`). */
  metadata: boolean;
}

/**
 * The one table of what each API supports (SPEC §1.3, API.md §2.3, §3, §4). Read by the loader
 * (validation) and the planner; back ends are created in `registry.ts`.
 */
export const CAPABILITIES: Readonly<Record<ApiKind, Capabilities>> = {
  ess: {
    api: 'ess',
    policyTypes: [
      'ip',
      'egress_firewall',
      'vpce',
      'azure_private_endpoint',
      'gcp_private_service_connect_endpoint',
      'remote_cluster',
    ],
    targetKind: 'deployment',
    ruleOrder: 'set',
    associationWrites: 'per-pair',
    limits: {},
    defaultEndpoint: 'https://api.elastic-cloud.com',
    auth: ['api_key'],
    metadata: false,
  },
  ece: {
    api: 'ece',
    policyTypes: ['ip'],
    targetKind: 'deployment',
    ruleOrder: 'set',
    associationWrites: 'per-pair',
    limits: {},
    auth: ['api_key', 'basic'],
    metadata: false,
  },
  serverless: {
    api: 'serverless',
    policyTypes: ['ip', 'vpce', 'azure_private_endpoint', 'gcp_private_service_connect_endpoint'],
    targetKind: 'project',
    ruleOrder: 'list',
    associationWrites: 'per-target',
    limits: { name: 128, description: 512, region: 32 },
    defaultEndpoint: 'https://api.elastic-cloud.com',
    auth: ['api_key'],
    metadata: true,
  },
};
