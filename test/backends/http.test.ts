import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/registry.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ApiError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/log.js';
import { CANARY_KEY, FAST_RETRY, envConfig, memoryLogger, selfSignedCert } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('http layer', () => {
  it('treats 403 as an error, never as "gone"', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-cloud-error-codes': 'root.forbidden' });
      res.end(JSON.stringify({ errors: [{ code: 'root.forbidden', message: 'not allowed' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const backend = createBackend(envConfig('ess', `http://127.0.0.1:${port}`), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
    cleanups.push(() => backend.close());
    for (const call of [
      () => backend.deletePolicy('x'),
      () => backend.dissociate('x', { kind: 'deployment', id: 'd' }),
      () => backend.read(),
    ]) {
      const err = (await call().catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.details).toMatchObject({ status: 403, code: 'root.forbidden', retryable: false });
      expect(err.message).toContain('403 root.forbidden: not allowed');
    }
    expect(backend.counters().retries).toBe(0);
  });

  it('retries 429 even on a non-idempotent create', async () => {
    const emu = await startEmulator({ flavor: 'cloud' });
    cleanups.push(() => emu.close());
    const backend = createBackend(envConfig('serverless', emu.url), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
    cleanups.push(() => backend.close());
    emu.setFaults({ retryAfterSeconds: 0, script: [{ method: 'POST', fault: '429', times: 2 }] });
    await backend.createPolicy({
      region: 'aws-us-east-1',
      name: 'x',
      type: 'ip',
      description: '',
      include_by_default: false,
      rules: [{ source: '1.1.1.1' }],
    });
    expect(emu.requests().map((r) => r.status)).toEqual([429, 429, 201]);
  });

  it('authenticates with HTTP Basic on ece and rejects a wrong key with 401', async () => {
    const emu = await startEmulator({
      flavor: 'ece',
      basicAuth: { username: 'admin', password: 'CANARY-pass-0001' },
      apiKeys: ['right-key'],
      seed: { rulesets: [{ name: 'a', region: 'ece-region', type: 'ip', rules: [{ source: '1.1.1.1' }] }] },
    });
    cleanups.push(() => emu.close());
    const basic = createBackend(envConfig('ece', emu.url, { username_env: 'U', password_env: 'P' }), {
      env: { U: 'admin', P: 'CANARY-pass-0001' },
      logger: silentLogger(),
    });
    cleanups.push(() => basic.close());
    expect((await basic.read()).policies.map((p) => p.name)).toEqual(['a']);

    const { logger, lines } = memoryLogger();
    const wrong = createBackend(envConfig('ece', emu.url), { env: { EC_API_KEY: CANARY_KEY }, logger });
    cleanups.push(() => wrong.close());
    const err = (await wrong.read().catch((e: unknown) => e)) as ApiError;
    expect(err.details).toMatchObject({ status: 401, retryable: false });
    expect(JSON.stringify(err) + err.message + lines.join('')).not.toContain(CANARY_KEY);
  });

  describe('TLS', () => {
    it('names ca_file when the certificate is not trusted, and works with it', async () => {
      const { cert, key, certFile } = selfSignedCert();
      const emu = await startEmulator({ flavor: 'cloud', tls: { cert, key } });
      cleanups.push(() => emu.close());
      const url = emu.url.replace(/^http:/, 'https:');
      const untrusted = createBackend(envConfig('ess', url), {
        env: { EC_API_KEY: CANARY_KEY },
        logger: silentLogger(),
        retry: FAST_RETRY,
      });
      cleanups.push(() => untrusted.close());
      const err = (await untrusted.read().catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.message).toMatch(/TLS verification failed/);
      expect(err.message).toContain('set ca_file for environment test-ess');
      expect(err.details.retryable).toBe(false);
      expect(untrusted.counters().retries).toBe(0);

      const trusted = createBackend(envConfig('ess', url, { ca_file: certFile }), {
        env: { EC_API_KEY: CANARY_KEY },
        logger: silentLogger(),
      });
      cleanups.push(() => trusted.close());
      expect((await trusted.read()).complete).toBe(true);
    });
  });
});
