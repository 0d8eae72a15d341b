import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/registry.js';
import { UserInputError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/log.js';
import { CANARY_KEY, envConfig } from './helpers.js';

const logger = silentLogger();
/** The ECE endpoint these tests use, listed as a CI workflow would list it. */
const ECE = 'https://ece.example.com:12443';
const ALLOW_ECE = { ECFENCE_ALLOWED_ENDPOINTS: ECE };

describe('createBackend', () => {
  it('names the missing variable, never a value', () => {
    expect(() =>
      createBackend(envConfig('ess', 'https://api.elastic-cloud.com'), { env: {}, logger }),
    ).toThrow(/environment variable EC_API_KEY is not set/);
    expect(() =>
      createBackend(envConfig('ece', ECE, { username_env: 'U', password_env: 'P' }), {
        env: { U: 'admin', ...ALLOW_ECE },
        logger,
      }),
    ).toThrow(/environment variable P is not set/);
  });

  it('refuses plain http except on loopback', () => {
    const env = { EC_API_KEY: CANARY_KEY };
    expect(() => createBackend(envConfig('ess', 'http://api.example.com'), { env, logger })).toThrow(
      UserInputError,
    );
    expect(() => createBackend(envConfig('ess', 'http://api.example.com'), { env, logger })).toThrow(
      /loopback/,
    );
    expect(() => createBackend(envConfig('serverless', 'http://127.0.0.1:9'), { env, logger })).not.toThrow();
    expect(() => createBackend(envConfig('ess', 'http://localhost:9'), { env, logger })).not.toThrow();
  });

  it('accepts basic auth only where the API does', () => {
    const env = { U: 'u', P: 'p' };
    expect(() =>
      createBackend(
        envConfig('ess', 'https://api.elastic-cloud.com', { username_env: 'U', password_env: 'P' }),
        { env, logger },
      ),
    ).toThrow(/does not accept username/);
    expect(() =>
      createBackend(envConfig('ece', ECE, { username_env: 'U', password_env: 'P' }), {
        env: { ...env, ...ALLOW_ECE },
        logger,
      }),
    ).not.toThrow();
  });

  it('reports an unreadable ca_file by name', () => {
    expect(() =>
      createBackend(envConfig('ece', ECE, { ca_file: '/nonexistent/ca.pem' }), {
        env: { EC_API_KEY: CANARY_KEY, ...ALLOW_ECE },
        logger,
      }),
    ).toThrow(/ca_file \/nonexistent\/ca.pem/);
  });

  it('is the last gate: a key goes only to the official API, loopback or a listed origin', () => {
    const env = { EC_API_KEY: CANARY_KEY };
    const attempt =
      (endpoint: string, extra: Record<string, string> = {}) =>
      () =>
        createBackend(envConfig('ece', endpoint), { env: { ...env, ...extra }, logger }).close();
    expect(attempt(ECE)).toThrow(UserInputError);
    expect(attempt(ECE)).toThrow(/ECFENCE_ALLOWED_ENDPOINTS/);
    expect(attempt(ECE, ALLOW_ECE)).not.toThrow();
    expect(attempt('https://api.elastic-cloud.com')).not.toThrow();
    expect(attempt('http://127.0.0.1:9')).not.toThrow();
    // Another port of a listed origin is another origin.
    expect(attempt('https://ece.example.com:443', ALLOW_ECE)).toThrow(/ECFENCE_ALLOWED_ENDPOINTS/);
  });
});
