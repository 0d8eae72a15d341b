/**
 * Secrets (issue 6 §6): every command, on success paths, API error paths (401, 5xx) and at debug
 * log level, with canary credentials for ess, serverless and ece (HTTP Basic). The canaries —
 * raw, in part, or base64-encoded as Basic auth sends them — must appear in no stdout, no stderr
 * and no file ecfence writes.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli, writeProjectFiles, type CliResult } from '../support/cli.js';
import { filesUnder, forbiddenPieces, leaks } from './canaries.js';

const API_KEY = 'essu_CANARY_secrets_7f3a9c1e5b2d4f60';
const WRONG_KEY = 'essu_CANARY_wrong_key_0d8e6b4a2c9f1e37';
const ECE_USER = 'canary-admin';
const ECE_PASSWORD = 'CANARY-pass-w0rd-5e1c9a7b3d';
const DEP = 'a0000000000000000000000000000001';
const ECE_DEP = 'eceb0000000000000000000000000001';
const PROJECT = 'c0000000000000000000000000000001';

/** Every form in which a secret could leak (see canaries.ts). */
const FORBIDDEN = forbiddenPieces([API_KEY, WRONG_KEY, ECE_PASSWORD, `${ECE_USER}:${ECE_PASSWORD}`]);

function expectNoSecret(where: string, text: string): void {
  expect(leaks(text, FORBIDDEN), where).toEqual([]);
}

const config = (cloud: string, ece: string): string => `environments:
  prod:
    api: ess
    endpoint: ${cloud}
  sls:
    api: serverless
    endpoint: ${cloud}
  onprem:
    api: ece
    endpoint: ${ece}
    username_env: ECE_USER
    password_env: ECE_PASSWORD
`;

const policies = (description: string): string => `policies:
  - name: office
    environment: prod
    region: azure-japaneast
    type: ip
    description: ${description}
    rules:
      - source: 10.0.0.0/16
  - name: office
    environment: sls
    region: aws-us-east-1
    type: ip
    description: ${description}
    rules:
      - source: 10.0.0.0/16
  - name: office
    environment: onprem
    region: ece-region
    type: ip
    description: ${description}
    rules:
      - source: 10.0.0.0/16
associations:
  - environment: prod
    deployment: ${DEP}
    policies: [office]
  - environment: sls
    project: { type: elasticsearch, id: ${PROJECT} }
    policies: [office]
  - environment: onprem
    deployment: ${ECE_DEP}
    policies: [office]
`;

describe('no credential in any output or written file', () => {
  let cloud: Emulator;
  let ece: Emulator;
  const results: { label: string; result: CliResult }[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    cloud = await startEmulator({
      flavor: 'cloud',
      port: 0,
      apiKeys: [API_KEY],
      seed: {
        deployments: [{ id: DEP, name: 'prod', region: 'azure-japaneast' }],
        projects: [{ type: 'elasticsearch', id: PROJECT, name: 'search', region_id: 'aws-us-east-1' }],
      },
    });
    ece = await startEmulator({
      flavor: 'ece',
      port: 0,
      basicAuth: { username: ECE_USER, password: ECE_PASSWORD },
      seed: { deployments: [{ id: ECE_DEP, name: 'onprem', region: 'ece-region' }] },
    });
  });
  afterAll(async () => {
    await Promise.all([cloud.close(), ece.close()]);
  });

  const env = { EC_API_KEY: API_KEY, ECE_USER, ECE_PASSWORD };
  const record = async (label: string, dir: string, args: string[], extraEnv = {}): Promise<CliResult> => {
    const result = await runCli(args, { cwd: dir, env: { ...env, ...extraEnv } });
    results.push({ label, result });
    return result;
  };

  it('success paths: validate, plan in every format, plan --out, apply, apply PLANFILE, debug logs', async () => {
    const dir = makeProject({
      'ecfence.yaml': config(cloud.url, ece.url),
      'policies/all.yaml': policies('first'),
    });
    dirs.push(dir);
    // Read-only commands can share the starting state.
    const [validate, text, json, markdown, out] = await Promise.all([
      record('validate', dir, ['validate']),
      record('plan text', dir, ['plan', '--log-level', 'debug']),
      record('plan json', dir, ['plan', '--format', 'json']),
      record('plan markdown', dir, ['plan', '--format', 'markdown']),
      record('plan --out', dir, ['plan', '--out', 'plan.json', '--log-level', 'trace']),
    ]);
    expect(validate.code).toBe(0);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('Plan: 3 to create');
    expect(json.code).toBe(0);
    expect(markdown.code).toBe(0);
    expect(markdown.stdout).toContain('office');
    expect(out.code).toBe(0);
    const applied = await record('apply PLANFILE', dir, ['apply', 'plan.json', '--log-level', 'debug']);
    expect(applied.stdout).toContain('Converged');
    expect(applied.code).toBe(0);

    writeProjectFiles(dir, { 'policies/all.yaml': policies('second') });
    expect((await record('plan --out (2)', dir, ['plan', '--out', 'stale.json'])).code).toBe(0);
    const apply = await record('apply', dir, ['apply', '--auto-approve', '--log-level', 'debug']);
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const stale = await record('apply stale PLANFILE', dir, ['apply', 'stale.json', '--log-level', 'debug']);
    expect(stale.code).toBe(4);

    // `export` belongs to another work stream; cover it once it exists.
    if ((await runCli(['export', '--help'], { cwd: dir })).code === 0) {
      for (const e of ['prod', 'sls', 'onprem']) {
        const exported = await record(`export ${e}`, dir, ['export', '--env', e, '--out', `exported-${e}`]);
        expect(exported.code).toBe(0);
      }
    }
  });

  it('API error paths: 401 with a wrong key, and 5xx on reads and writes, at debug level', async () => {
    const dir = makeProject({
      'ecfence.yaml': config(cloud.url, ece.url),
      'policies/all.yaml': policies('third'),
    });
    dirs.push(dir);
    const wrong = { EC_API_KEY: WRONG_KEY };
    const [denied, deniedApply, wrongPassword] = await Promise.all([
      record('plan 401', dir, ['plan', '--log-level', 'debug', '--env', 'prod'], wrong),
      record('apply 401', dir, ['apply', '--auto-approve', '--log-level', 'trace'], wrong),
      record('plan 401 ece', dir, ['plan', '--env', 'onprem', '--log-level', 'debug'], {
        ECE_PASSWORD: `${ECE_PASSWORD}-nope`,
      }),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('401');
    expect(deniedApply.code).toBe(1);
    expect(wrongPassword.code).toBe(1);
    expect(wrongPassword.stderr).toContain('401');

    const fast = { ECFENCE_RETRY_MAX_MS: '50' };
    cloud.setFaults({ rate5xx: 1 });
    const readFails = await record('plan 5xx', dir, ['plan', '--log-level', 'debug'], fast);
    expect(readFails.code).toBe(1);
    expect(readFails.stderr).toContain('503');
    cloud.setFaults({ rate5xx: 1, methods: ['POST', 'PUT', 'PATCH', 'DELETE'] });
    const writeFails = await record(
      'apply 5xx',
      dir,
      ['apply', '--auto-approve', '--log-level', 'debug'],
      fast,
    );
    cloud.setFaults({});
    expect([1, 5]).toContain(writeFails.code);
    expect(writeFails.stdout).toMatch(/failed\s+prod\s+update/);
  });

  it('nothing printed or written carries a canary', () => {
    expect(results.length).toBeGreaterThanOrEqual(14);
    for (const { label, result } of results) {
      expectNoSecret(`${label} stdout`, result.stdout);
      expectNoSecret(`${label} stderr`, result.stderr);
    }
    const written = dirs.flatMap(filesUnder);
    expect(written.some((f) => f.endsWith('plan.json'))).toBe(true);
    for (const file of written) expectNoSecret(file, readFileSync(file, 'latin1'));
  });
});
