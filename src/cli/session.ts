import { CAPABILITIES } from '../backends/capabilities.js';
import { createBackend } from '../backends/registry.js';
import type { Backend } from '../backends/types.js';
import { loadProject } from '../load/index.js';
import { createLogger, type Logger } from '../log.js';
import { formatDiagnostic, hasErrors } from '../model/diagnostics.js';
import { UserInputError } from '../model/errors.js';
import type { DesiredState, LiveEnvironment } from '../model/types.js';
import type { EnvironmentInput } from '../plan/build-plan.js';
import type { Io } from './io.js';

export type Flags = Record<string, string | boolean | string[] | undefined>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loggerFor(flags: Flags, io: Io): Logger {
  const level = (flags['log-level'] as string | undefined) ?? io.env['ECFENCE_LOG_LEVEL'] ?? 'warn';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UserInputError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got '${level}')`);
  }
  return createLogger(level);
}

/**
 * Loads config and policy files. Warnings go to stderr; any error throws UserInputError (exit 3)
 * before a single request is made.
 */
export function loadDesired(flags: Flags, io: Io, requireCredentials: boolean): DesiredState {
  const result = loadProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    environments: flags['env'] as string[] | undefined,
    requireCredentials,
  });
  for (const d of result.diagnostics) if (d.severity === 'warning') io.stderr(`${formatDiagnostic(d)}\n`);
  if (!result.desired || hasErrors(result.diagnostics)) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    throw new UserInputError(`${errors.length} error(s) in configuration; nothing was sent to any API`, errors);
  }
  return result.desired;
}

export interface LiveSession {
  inputs: EnvironmentInput[];
  backends: Map<string, Backend>;
  lives: Map<string, LiveEnvironment>;
}

/** One back end per environment, created before any request so credential errors stop everything. */
export function createBackends(desired: DesiredState, io: Io, logger: Logger): Map<string, Backend> {
  const backends = new Map<string, Backend>();
  for (const env of desired.environments) {
    backends.set(env.config.name, createBackend(env.config, { env: io.env, logger: logger.child({ env: env.config.name }) }));
  }
  return backends;
}

/** Reads every environment's live state in parallel (a constant number of requests each). */
export async function readLive(desired: DesiredState, backends: Map<string, Backend>): Promise<LiveSession> {
  const lives = new Map<string, LiveEnvironment>();
  const inputs = await Promise.all(
    desired.environments.map(async (env) => {
      const backend = backends.get(env.config.name);
      if (!backend) throw new Error(`no back end for ${env.config.name}`);
      const live = await backend.read();
      lives.set(env.config.name, live);
      return { desired: env, live, capabilities: CAPABILITIES[env.config.api] };
    }),
  );
  return { inputs, backends, lives };
}
