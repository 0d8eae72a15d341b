/**
 * ess + ece + serverless in one configuration, one `plan` and one `apply` (issue 3): one cloud
 * emulator serves ess and serverless on one port, one ece emulator serves ece; the run converges,
 * the plan text is grouped by environment, and each API gets only its own requests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

const env = { EC_API_KEY: 'essu_CANARY_mixed_cloud_1234abcd', ECE_API_KEY: 'CANARY_mixed_ece_5678efgh' };
const id = (c: string): string => c.repeat(32);
const [DEP_ESS, DEP_ECE, PROJECT, FOREIGN] = [id('a'), id('b'), id('c'), id('f')];

describe('ess + ece + serverless in one run (built binary)', () => {
  let cloud: Emulator;
  let ece: Emulator;
  let dir: string;

  beforeAll(async () => {
    [cloud, ece] = await Promise.all([
      startEmulator({
        flavor: 'cloud',
        seed: {
          deployments: [{ id: DEP_ESS, name: 'hosted', region: 'azure-japaneast' }],
          traffic_filters: [
            {
              id: FOREIGN,
              name: 'foreign',
              region: 'aws-us-east-1',
              type: 'ip',
              rules: [{ source: '9.9.9.9' }],
            },
          ],
          projects: [
            {
              type: 'security',
              id: PROJECT,
              name: 'siem',
              region_id: 'aws-us-east-1',
              traffic_filters: [FOREIGN],
            },
          ],
        },
      }),
      startEmulator({
        flavor: 'ece',
        seed: { deployments: [{ id: DEP_ECE, name: 'onprem', region: 'ece-region' }] },
      }),
    ]);
    dir = makeProject({
      'ecfence.yaml': `environments:
  hosted:
    api: ess
    endpoint: ${cloud.url}
  onprem:
    api: ece
    endpoint: ${ece.url}
    api_key_env: ECE_API_KEY
  sls:
    api: serverless
    endpoint: ${cloud.url}
`,
      // One file for all three: the environment is given per entry.
      'policies/office.yaml': `sources:
  office: [192.168.131.0, 10.20.0.0/16]
policies:
  - { environment: hosted, name: office, region: azure-japaneast, type: ip, rules: [{ source: $office }] }
  - { environment: onprem, name: office, region: ece-region, type: ip, rules: [{ source: $office }] }
  - environment: sls
    name: office
    region: aws-us-east-1
    type: ip
    rules: [{ source: 10.20.0.0/16, description: second }, { source: 192.168.131.0 }]
associations:
  - { environment: hosted, deployment: ${DEP_ESS}, policies: [office] }
  - { environment: onprem, deployment: ${DEP_ECE}, policies: [office] }
  - { environment: sls, project: { type: security, id: ${PROJECT} }, policies: [office] }
`,
    });
  });
  afterAll(async () => {
    await Promise.all([cloud?.close(), ece?.close()]);
  });

  it('plans grouped by environment, applies, converges, and plans no changes after', async () => {
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(2);
    const sections = plan.stdout.split(/\n(?=\S)/).map((s) => s.split('\n'));
    const section = (name: string): string =>
      (sections.find((lines) => lines[0]?.startsWith(`${name}:`)) ?? []).join('\n');
    expect(section('hosted')).toContain(`associate  azure-japaneast/office → deployment ${DEP_ESS}`);
    expect(section('onprem')).toContain(`associate  ece-region/office → deployment ${DEP_ECE}`);
    expect(section('sls')).toContain(`associate  aws-us-east-1/office → project security/${PROJECT}`);
    expect(section('sls')).toContain('create     aws-us-east-1/office (ip, 2 rules)');
    expect(section('hosted')).not.toContain('project');
    expect(plan.stdout).toContain('Plan: 3 to create, 0 to replace, 0 to update, 3 to associate');

    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const state = cloud.state();
    expect(state.rulesets.map((r) => [r.name, r.associations])).toEqual([['office', [DEP_ESS]]]);
    expect(ece.state().rulesets.map((r) => [r.name, r.associations])).toEqual([['office', [DEP_ECE]]]);
    const sls = state.traffic_filters.find((f) => f.name === 'office');
    expect(sls?.rules).toEqual([
      { source: '10.20.0.0/16', description: 'second' },
      { source: '192.168.131.0' },
    ]);
    expect(state.projects[0]?.traffic_filters).toEqual([FOREIGN, sls?.id]);
    // Each API only heard about its own environments.
    expect(ece.requests().every((r) => r.path.startsWith('/api/v1/deployments'))).toBe(true);
    expect(cloud.requests().some((r) => r.path.startsWith('/api/v1/serverless/'))).toBe(true);

    const again = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(again.stdout).toContain('No changes');
    expect(again.code).toBe(0);
  });
});
