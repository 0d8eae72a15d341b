/**
 * Every policy type round-trips through `apply` on every API that supports it (issue 4): the
 * built binary against the emulator, from empty to applied, re-planned to zero changes, changed,
 * applied again and zero again. ess carries all six types; serverless ip, vpce, Azure Private Link
 * (written with its serverless alias) and PSC. The plan of the change shows its exposure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli, writeProjectFiles } from '../support/cli.js';

const DEP = 'a0000000000000000000000000000001';
const PRJ = 'b0000000000000000000000000000002';
const ESS_REGION = 'azure-japaneast';
const SLS_REGION = 'aws-us-east-1';
const GUID = '7c0f8a4e-3d5b-4c1a-9e2f-0b6d8c4a2e1f';

function essPolicies(version: 1 | 2): string {
  return `environment: hosted
policies:
  - name: office
    region: ${ESS_REGION}
    type: ip
    rules:
      - source: 192.168.131.0/24
${version === 2 ? '      - source: 10.20.0.0/24\n' : ''}  - name: link-aws
    region: ${ESS_REGION}
    type: vpce
    rules:
      - source: vpce-0a1b2c3d4e5f67890
  - name: link-azure
    region: ${ESS_REGION}
    type: azure_private_endpoint
    rules:
      - azure_endpoint_name: ${version === 1 ? 'app' : 'app-2'}
        azure_endpoint_guid: ${GUID}
  - name: link-gcp
    region: ${ESS_REGION}
    type: gcp_private_service_connect_endpoint
    rules:
      - source: '18446744072646845332'
  - name: ccs
    region: ${ESS_REGION}
    type: remote_cluster
    rules:
      - remote_cluster_id: 2d5a8c3e1f0b4a6d9e7c5b3a1f0e2d4c
        remote_cluster_org_id: '${version === 1 ? '1234567890' : '1234567899'}'
  - name: egress
    region: ${ESS_REGION}
    type: egress_firewall
    rules:
      - egress_rule: { target: 198.51.100.0/24, protocol: tcp, ports: [${version === 1 ? '443' : '443, 9200'}] }
associations:
  - deployment: ${DEP}
    policies: [office, link-aws, link-azure, link-gcp, ccs, egress]
`;
}

function slsPolicies(version: 1 | 2): string {
  return `environment: sls
policies:
  - name: office
    region: ${SLS_REGION}
    type: ip
    rules:
      - source: 192.168.131.0/24
  - name: link-aws
    region: ${SLS_REGION}
    type: vpce
    rules:
      - source: vpce-0a1b2c3d4e5f67890
${version === 2 ? '      - source: vpce-00112233445566778\n' : ''}  - name: link-azure
    region: ${SLS_REGION}
    type: private_endpoint
    rules:
      - azure_endpoint_name: ${version === 1 ? 'app' : 'app-2'}
        azure_endpoint_guid: ${GUID}
  - name: link-gcp
    region: ${SLS_REGION}
    type: psc_endpoint
    rules:
      - source: '${version === 1 ? '123456789' : '987654321'}'
associations:
  - project: { type: elasticsearch, id: ${PRJ} }
    policies: [office, link-aws, link-azure, link-gcp]
`;
}

describe('every policy type round-trips through apply (built binary, emulator)', () => {
  let emulator: Emulator;
  let dir: string;
  const env = { EC_API_KEY: 'essu_roundtrip_key' };
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env });

  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: {
        deployments: [{ id: DEP, name: 'prod-search', region: ESS_REGION }],
        projects: [{ type: 'elasticsearch', id: PRJ, name: 'search-sls', region_id: SLS_REGION }],
      },
    });
    dir = makeProject({
      'ecfence.yaml': `environments:
  hosted:
    api: ess
    endpoint: ${emulator.url}
  sls:
    api: serverless
    endpoint: ${emulator.url}
`,
      'policies/hosted.yaml': essPolicies(1),
      'policies/sls.yaml': slsPolicies(1),
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('applies from empty, converges, applies a change to every type, converges again', async () => {
    const first = await cli('apply', '--auto-approve');
    expect(first.code, first.stderr).toBe(0);
    expect((await cli('plan', '--detailed-exitcode')).code).toBe(0);

    const state = emulator.state();
    expect(state.rulesets.map((r) => r.type).sort()).toEqual([
      'azure_private_endpoint',
      'egress_firewall',
      'gcp_private_service_connect_endpoint',
      'ip',
      'remote_cluster',
      'vpce',
    ]);
    // Serverless wire names (SPEC §1.3).
    expect(state.traffic_filters.map((f) => f.type).sort()).toEqual([
      'ip',
      'private_endpoint',
      'psc_endpoint',
      'vpce',
    ]);
    expect(state.projects.find((p) => p.id === PRJ)?.traffic_filters).toHaveLength(4);
    expect(state.rulesets.every((r) => r.associations.length === 1)).toBe(true);

    writeProjectFiles(dir, { 'policies/hosted.yaml': essPolicies(2), 'policies/sls.yaml': slsPolicies(2) });
    const plan = await cli('plan', '--detailed-exitcode');
    expect(plan.code, plan.stderr).toBe(2);
    expect(plan.stdout).toContain(
      'Plan: 0 to create, 0 to replace, 7 to update, 0 to associate, 0 to dissociate, 0 to delete.',
    );
    expect(plan.stdout).toContain(
      `  Exposure:\n    prod-search (deployment ${DEP}): +256 IPv4 addresses (256 → 512) via ccs, link-azure, office\n`,
    );
    expect(plan.stdout).toContain(
      `    search-sls (project elasticsearch/${PRJ}): IPv4 addresses unchanged (256); private endpoints 3 → 4 via link-aws, link-azure, link-gcp\n`,
    );

    const second = await cli('apply', '--auto-approve');
    expect(second.code, second.stderr).toBe(0);
    const again = await cli('plan', '--detailed-exitcode');
    expect(again.code, again.stdout).toBe(0);
  });
});
