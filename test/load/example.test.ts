import { resolve } from 'node:path';
import { expect, test } from 'vitest';
import { loadProject } from '../../src/load/index.js';
import { show } from './helpers.js';

// Other environments (serverless) may be added to the example; these tests pin only what the
// hosted-prod and onprem parts promise.
const EXAMPLE = resolve('policies.example');

test('policies.example/ validates with no errors and no warnings', () => {
  const result = loadProject({ cwd: EXAMPLE, env: {} });
  expect(result.diagnostics, show(result)).toEqual([]);
  expect(result.files).toEqual(
    expect.arrayContaining([
      'policies/hosted-prod.yaml',
      'policies/onprem.yaml',
      'policies/shared-sources.yaml',
    ]),
  );
  const env = (name: string) => result.desired?.environments.find((e) => e.config.name === name);
  const hosted = env('hosted-prod');
  expect(hosted?.config.api).toBe('ess');
  expect(hosted?.policies.map((p) => `${p.region}/${p.name}/${p.type}`)).toEqual([
    'aws-us-east-1/office-ingress/ip',
    'aws-us-east-1/privatelink-app/vpce',
    'azure-japaneast/egress-monitoring/egress_firewall',
    'azure-japaneast/office-ingress/ip',
  ]);
  expect(new Set(hosted?.associations.map((a) => a.target.id))).toEqual(
    new Set([
      '5470a0010ebf437bb9294ea9fcba0ba0',
      '8b3ed8d5a6c44a5c9f1c3a2ab51c2f10',
      'c0ffee00c0ffee00c0ffee00c0ffee00',
    ]),
  );
  const onprem = env('onprem');
  expect(onprem?.config).toMatchObject({
    api: 'ece',
    api_key_env: 'ECE_API_KEY',
    endpoint: 'https://ece-coordinator.example.com:12443',
  });
  expect(onprem?.policies.map((p) => p.type)).toEqual(['ip']);
  expect(onprem?.associations.map((a) => a.target.id)).toEqual(['eceb0000000000000000000000000001']);
});

test('policies.example/ with credentials required names the variables when unset', () => {
  const result = loadProject({ cwd: EXAMPLE, env: {}, requireCredentials: true });
  expect(new Set(result.diagnostics.map((d) => d.code))).toEqual(
    new Set(['E_MISSING_CREDENTIALS', 'E_ENDPOINT_NOT_ALLOWED']),
  );
  const messages = result.diagnostics.map((d) => d.message).join('\n');
  expect(messages).toContain("'hosted-prod' needs credentials in the environment variable EC_API_KEY");
  expect(messages).toContain("'onprem' needs credentials in the environment variable ECE_API_KEY");
  // The on-premises ECE endpoint must be listed by the run (README: where keys may go).
  const keys = { EC_API_KEY: 'k', ECE_API_KEY: 'k' };
  const unlisted = loadProject({ cwd: EXAMPLE, env: keys, requireCredentials: true });
  expect(unlisted.diagnostics.map((d) => d.code)).toEqual(['E_ENDPOINT_NOT_ALLOWED']);
  const ok = loadProject({
    cwd: EXAMPLE,
    env: { ...keys, ECFENCE_ALLOWED_ENDPOINTS: 'https://ece-coordinator.example.com:12443' },
    requireCredentials: true,
  });
  expect(ok.diagnostics).toEqual([]);
});
