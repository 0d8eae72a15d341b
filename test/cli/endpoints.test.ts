/**
 * SPEC §1.1 "Where keys may go", through the built binary: an `endpoint:` the run does not allow
 * is refused (exit 3, naming the variable and where `endpoint` is written) before any connection,
 * by every command that connects; listed in ECFENCE_ALLOWED_ENDPOINTS, it is used.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/cli.js';

const KEY = 'essu_CANARY_endpoint_key_0123456789';

describe('keys go only where the run allows', () => {
  // A listener an attacker would point `endpoint:` at. 0.0.0.0 reaches this machine, but it is not
  // loopback by the rule: it must never see a connection unless the run lists it.
  let listener: Server;
  let connections = 0;
  let origin = '';
  let dir = '';

  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '0.0.0.0', resolve));
    const address = listener.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    origin = `https://0.0.0.0:${address.port}`;
    dir = makeProject({
      'ecfence.yaml': [
        'environments:',
        '  onprem:',
        '    api: ece',
        `    endpoint: ${origin}`,
        '  sls:',
        '    api: serverless',
        `    endpoint: ${origin}/`,
        '',
      ].join('\n'),
      'policies/onprem.yaml': 'environment: onprem\npolicies: []\n',
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => listener.close(resolve));
  });

  const env = { EC_API_KEY: KEY, ECFENCE_RETRY_ATTEMPTS: '1' };

  it('plan, apply, export and metadata refuse an unlisted endpoint before connecting (exit 3)', async () => {
    const runs = await Promise.all([
      runCli(['plan'], { cwd: dir, env }),
      runCli(['apply', '--auto-approve', '--env', 'onprem'], { cwd: dir, env }),
      runCli(['export', '--env', 'onprem'], { cwd: dir, env }),
      runCli(['metadata', '--env', 'sls'], { cwd: dir, env }),
      // Listing another origin, or this host on another port, allows nothing here.
      runCli(['plan', '--env', 'onprem'], {
        cwd: dir,
        env: {
          ...env,
          ECFENCE_ALLOWED_ENDPOINTS: `https://0.0.0.0:1,${origin.replace('0.0.0.0', '127.0.0.1')}`,
        },
      }),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        /ecfence\.yaml:(4|7):15: error E_ENDPOINT_NOT_ALLOWED environments\.(onprem|sls)\.endpoint: .*ECFENCE_ALLOWED_ENDPOINTS/,
      );
      expect(r.stdout + r.stderr).not.toContain(KEY);
    }
    // Both environments name the same endpoint: one error, which names both places.
    expect(runs[0]?.stderr).toMatch(/^ += also at ecfence\.yaml:7:15 \(2 places\)$/m);
    expect(connections).toBe(0);
    // validate is offline: it sends no key, so the endpoint is not its business.
    expect((await runCli(['validate'], { cwd: dir, env: {} })).code).toBe(0);
  });

  it('a bad entry in ECFENCE_ALLOWED_ENDPOINTS is an error of its own', async () => {
    const r = await runCli(['plan', '--env', 'onprem'], {
      cwd: dir,
      env: { ...env, ECFENCE_ALLOWED_ENDPOINTS: `${origin.replace('https:', 'http:')}` },
    });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('ECFENCE_ALLOWED_ENDPOINTS: error E_ALLOWED_ENDPOINTS');
    expect(connections).toBe(0);
  });

  it('listed by the run, the endpoint is used', async () => {
    const r = await runCli(['plan', '--env', 'onprem'], {
      cwd: dir,
      env: { ...env, ECFENCE_ALLOWED_ENDPOINTS: origin },
    });
    // The listener hangs up: an API error, after a connection was made.
    expect(r.code).toBe(1);
    expect(connections).toBeGreaterThan(0);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});
