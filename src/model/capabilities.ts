import type { ApiKind } from '../model/types.js';
import type { Capabilities } from './types.js';

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
