/**
 * Serverless input checks end to end (issue 3, SPEC §1.3): policy types serverless does not have
 * and the serverless length limits are errors at validate time, with file:line:col and exit 3,
 * before anything is sent; the serverless wire type names are accepted as aliases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

const env = { EC_API_KEY: 'essu_CANARY_serverless_validate_77aa' };
const AWS = 'aws-us-east-1';

const config = (url: string): string =>
  `environments:\n  sls:\n    api: serverless\n    endpoint: ${url}\n  hosted:\n    api: ess\n    endpoint: ${url}\n`;

/** Line numbers below are asserted: keep this text's layout in step with them. */
const BAD = `environment: sls
policies:
  - name: out
    region: ${AWS}
    type: egress_firewall
    rules: [{ egress_rule: { target: 8.8.8.8, protocol: tcp } }]
  - name: ccs
    region: ${AWS}
    type: remote_cluster
    rules: [{ remote_cluster_id: abc, remote_cluster_org_id: '123' }]
  - name: ${'n'.repeat(129)}
    region: ${AWS}
    type: ip
    rules: [{ source: 10.0.0.0/8 }]
  - name: long-description
    region: ${AWS}
    type: ip
    description: ${'d'.repeat(513)}
    rules: [{ source: 10.0.0.0/8 }]
  - name: long-region
    region: aws-${'r'.repeat(29)}
    type: ip
    rules: [{ source: 10.0.0.0/8 }]
`;

const GOOD = `environment: sls
policies:
  - name: ${'n'.repeat(128)}
    region: aws-${'r'.repeat(28)}
    type: ip
    description: ${'d'.repeat(512)}
    rules: [{ source: 10.0.0.0/8 }]
  - name: azure
    region: azure-eastus
    type: private_endpoint
    rules: [{ azure_endpoint_name: pe, azure_endpoint_guid: 0c5e1d2a-3b4f-4a6b-8c9d-0e1f2a3b4c5d }]
  - name: gcp
    region: gcp-us-central1
    type: psc_endpoint
    rules: [{ source: '18446744073709551615' }]
  # The same limits do not apply to ess.
  - environment: hosted
    name: ${'h'.repeat(200)}
    region: us-east-1
    type: egress_firewall
    rules: [{ egress_rule: { target: 8.8.8.8, protocol: tcp } }]
`;

describe('serverless input checks (built binary)', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({ flavor: 'cloud' });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('reports unsupported types and over-long fields at once, with file:line:col, exit 3, sending nothing', async () => {
    const dir = makeProject({ 'ecfence.yaml': config(emu.url), 'policies/bad.yaml': BAD });
    const [validate, plan] = await Promise.all([
      runCli(['validate'], { cwd: dir, env }),
      runCli(['plan'], { cwd: dir, env }),
    ]);
    for (const r of [validate, plan]) {
      expect(r.code).toBe(3);
      expect(r.stderr).not.toContain('    at ');
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('policies/bad.yaml:'));
      const lines = errors.map((l) => Number(l.split(':')[1]));
      // One error per bad policy, each pointing into that policy's entry.
      expect(errors.join('\n')).toMatch(
        /:5:\d+: error E_UNSUPPORTED_TYPE .*'egress_firewall' is not supported by serverless/,
      );
      expect(errors.join('\n')).toMatch(
        /:9:\d+: error E_UNSUPPORTED_TYPE .*'remote_cluster' is not supported by serverless/,
      );
      expect(errors.join('\n')).toMatch(/:11:\d+: error E_LIMIT .*name: 129 characters.*128/);
      expect(errors.join('\n')).toMatch(/:18:\d+: error E_LIMIT .*description: 513 characters.*512/);
      expect(errors.join('\n')).toMatch(/:21:\d+: error E_LIMIT .*region: 33 characters.*32/);
      expect(lines).toHaveLength(5);
    }
    expect(emu.requests()).toEqual([]);
  });

  it('accepts the limits exactly, the serverless wire type names, and longer names on ess', async () => {
    const dir = makeProject({ 'ecfence.yaml': config(emu.url), 'policies/good.yaml': GOOD });
    const r = await runCli(['validate'], { cwd: dir, env });
    expect(r.stderr).toMatch(/^valid: /m);
    expect(r.code).toBe(0);
  });
});
