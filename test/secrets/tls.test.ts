/**
 * TLS for ece (issue 6 §7), end to end with the built binary: an ECE emulator served over HTTPS
 * with a self-signed certificate made at test time. With `ca_file` naming that certificate the
 * plan works; without it the connection is refused (never silently unverified) with a message
 * that names `ca_file`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { selfSignedCert } from '../backends/helpers.js';
import { makeProject, runCli } from '../support/cli.js';

const KEY = 'essu_tls_test_key_0123456789';
const DEP = 'eceb0000000000000000000000000001';

const files = (url: string, caFile?: string): Record<string, string> => ({
  'ecfence.yaml': `environments:\n  onprem:\n    api: ece\n    endpoint: ${url}\n${caFile ? `    ca_file: ${caFile}\n` : ''}`,
  'policies/main.yaml': `environment: onprem
policies:
  - name: office
    region: ece-region
    type: ip
    rules:
      - source: 10.0.0.0/16
associations:
  - deployment: ${DEP}
    policies: [office]
`,
});

describe('ece over HTTPS with a private CA (built binary)', () => {
  let emu: Emulator;
  let certFile: string;

  beforeAll(async () => {
    const cert = selfSignedCert();
    certFile = cert.certFile;
    emu = await startEmulator({
      flavor: 'ece',
      port: 0,
      tls: { cert: cert.cert, key: cert.key },
      seed: { deployments: [{ id: DEP, name: 'onprem', region: 'ece-region' }] },
    });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('serves https', () => {
    expect(emu.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('plans and applies with ca_file (relative to ecfence.yaml)', async () => {
    const dir = makeProject(files(emu.url, 'certs/ece-ca.pem'));
    mkdirSync(join(dir, 'certs'));
    copyFileSync(certFile, join(dir, 'certs', 'ece-ca.pem'));
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env: { EC_API_KEY: KEY } });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    expect(emu.state().rulesets.map((r) => r.name)).toEqual(['office']);
  });

  it('without ca_file: exit 1, naming ca_file, and no request is answered', async () => {
    emu.resetRequests();
    const dir = makeProject(files(emu.url));
    const r = await runCli(['plan'], { cwd: dir, env: { EC_API_KEY: KEY, ECFENCE_RETRY_MAX_MS: '50' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TLS verification failed .*set ca_file for environment onprem/);
    expect(r.stderr).not.toContain('    at ');
    expect(emu.requests()).toEqual([]);
  });
});
