import { readFileSync } from 'node:fs';
import type { Logger } from '../log.js';
import { UserInputError } from '../model/errors.js';
import type { Redactor } from '../secrets/redactor.js';
import type { ApiKind, EnvironmentConfig } from '../model/types.js';
import { CAPABILITIES } from '../model/capabilities.js';
import type { BackendContext } from './context.js';
import { createDeploymentsBackend } from './deployments/backend.js';
import { ALLOWED_ENDPOINTS_VAR, endpointRefusal, readAllowedOrigins } from '../secrets/endpoint-policy.js';
import { HttpClient } from './http.js';
import type { Credentials, HttpCounters, RetryOptions } from './http.js';
import { createServerlessBackend } from './serverless/backend.js';
import type { Capabilities } from '../model/capabilities.js';
import type { Backend } from './types.js';

/**
 * The one list of back ends (STYLE.md: one registry; differences are data). ess and ece share the
 * deployments client; their differences (types, auth, default endpoint) live in CAPABILITIES.
 */
const REGISTRY: Readonly<Record<ApiKind, { basePath: string; create: (ctx: BackendContext) => Backend }>> = {
  ess: { basePath: '/api/v1', create: createDeploymentsBackend },
  ece: { basePath: '/api/v1', create: createDeploymentsBackend },
  // Serverless paths already start with /api/v1/serverless.
  serverless: { basePath: '', create: createServerlessBackend },
};

export interface BackendOptions {
  /** Where credentials are read from (normally `process.env`). */
  env: Record<string, string | undefined>;
  logger: Logger;
  retry?: Partial<RetryOptions>;
  /** The run's secrets: the credentials read are added to it before anything is sent. */
  redactor?: Redactor;
  /** Requests in flight at once, at most (see `HttpClientOptions.maxInFlight`). */
  maxInFlight?: number;
}

/** A back end with its transport's counters and a way to release its keep-alive sockets. */
export interface ConnectedBackend extends Backend {
  /** Requests sent (retries included) and retries, since creation. */
  counters(): HttpCounters;
  /** Resolves once every request started so far has left (see `HttpClient.allSent`). */
  allSent(): Promise<void>;
  close(): void;
}

/**
 * Creates the back end for one environment. Throws `UserInputError` (naming the variable or file,
 * never a secret) when credentials, endpoint or `ca_file` are missing or unusable, or when the
 * endpoint is not one a key may be sent to (endpoint-policy.ts). Sends nothing.
 */
export function createBackend(config: EnvironmentConfig, options: BackendOptions): ConnectedBackend {
  const entry = REGISTRY[config.api];
  const capabilities = CAPABILITIES[config.api];
  const http = createHttpClient(config, options);
  const backend = entry.create({
    config,
    capabilities,
    http,
    logger: options.logger,
    retry: http.retryOptions(),
  });
  return Object.assign(backend, {
    counters: () => http.counters(),
    allSent: () => http.allSent(),
    close: () => http.close(),
  });
}

/** Where an environment's API is: its `endpoint:`, else its API's default (undefined: none). */
export function endpointOf(config: EnvironmentConfig): string | undefined {
  return config.endpoint !== '' ? config.endpoint : CAPABILITIES[config.api].defaultEndpoint;
}

/** The configured HTTP client alone, e.g. for `readMetadata` (serverless/metadata.ts). */
export function createHttpClient(config: EnvironmentConfig, options: BackendOptions): HttpClient {
  const capabilities = CAPABILITIES[config.api];
  const endpoint = endpointOf(config);
  if (endpoint === undefined) {
    throw new UserInputError(`environment ${config.name}: api ${config.api} needs an endpoint`);
  }
  // The last gate before a key is attached: whatever path led here, a key goes only where the
  // run's environment allows (the loader reports the same refusal earlier, with its position).
  const refusal = endpointRefusal(endpoint, readAllowedOrigins(options.env[ALLOWED_ENDPOINTS_VAR]));
  if (refusal !== undefined) {
    throw new UserInputError(`environment ${config.name}: endpoint: ${refusal}`);
  }
  return new HttpClient({
    environment: config.name,
    endpoint,
    basePath: REGISTRY[config.api].basePath,
    credentials: readCredentials(config, capabilities, options.env),
    ...(config.ca_file !== undefined ? { caPem: readCaFile(config.name, config.ca_file) } : {}),
    logger: options.logger,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.redactor ? { redactor: options.redactor } : {}),
    ...(options.maxInFlight !== undefined ? { maxInFlight: options.maxInFlight } : {}),
  });
}

function readCredentials(
  config: EnvironmentConfig,
  capabilities: Capabilities,
  env: Record<string, string | undefined>,
): Credentials {
  const where = `environment ${config.name}`;
  const value = (name: string): string => {
    const v = env[name];
    if (v === undefined || v.trim() === '') {
      throw new UserInputError(`${where}: environment variable ${name} is not set`);
    }
    return v.trim();
  };
  if (config.username_env !== undefined || config.password_env !== undefined) {
    if (!capabilities.auth.includes('basic')) {
      throw new UserInputError(
        `${where}: api ${config.api} does not accept username/password; use api_key_env`,
      );
    }
    if (config.api_key_env !== undefined) {
      throw new UserInputError(`${where}: set either api_key_env or username_env/password_env, not both`);
    }
    if (config.username_env === undefined || config.password_env === undefined) {
      throw new UserInputError(`${where}: username_env and password_env must be set together`);
    }
    return { kind: 'basic', username: value(config.username_env), password: value(config.password_env) };
  }
  return { kind: 'api_key', apiKey: value(config.api_key_env ?? 'EC_API_KEY') };
}

function readCaFile(environment: string, file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new UserInputError(
      `environment ${environment}: cannot read ca_file ${file} (${String(code ?? err)})`,
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new UserInputError(`environment ${environment}: ca_file ${file} holds no PEM certificate`);
  }
  return pem;
}
