import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/registry.js';
import { UserInputError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/log.js';
import { CANARY_KEY, envConfig } from './helpers.js';

const logger = silentLogger();

describe('createBackend', () => {
  it('names the missing variable, never a value', () => {
    expect(() => createBackend(envConfig('ess', 'https://api.example.com'), { env: {}, logger })).toThrow(
      /environment variable EC_API_KEY is not set/,
    );
    expect(() =>
      createBackend(
        envConfig('ece', 'https://ece.example.com:12443', { username_env: 'U', password_env: 'P' }),
        {
          env: { U: 'admin' },
          logger,
        },
      ),
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
      createBackend(envConfig('ess', 'https://api.example.com', { username_env: 'U', password_env: 'P' }), {
        env,
        logger,
      }),
    ).toThrow(/does not accept username/);
    expect(() =>
      createBackend(envConfig('ece', 'https://ece.example.com', { username_env: 'U', password_env: 'P' }), {
        env,
        logger,
      }),
    ).not.toThrow();
  });

  it('reports an unreadable ca_file by name', () => {
    expect(() =>
      createBackend(envConfig('ece', 'https://ece.example.com', { ca_file: '/nonexistent/ca.pem' }), {
        env: { EC_API_KEY: CANARY_KEY },
        logger,
      }),
    ).toThrow(/ca_file \/nonexistent\/ca.pem/);
  });
});
