import { CAPABILITIES } from '../model/capabilities.js';
import { createBackend, type ConnectedBackend } from '../backends/registry.js';
import type { RetryOptions } from '../backends/http.js';
import { loadProject } from '../load/index.js';
import { lintCanFail, lintProject, withLint } from '../lint/index.js';
import { createLogger, type LogFormat, type Logger } from '../log.js';
import { GLOBAL_OPTIONS } from './command-table.js';

import { printDiagnostics } from './diagnostics-output.js';
import { UserInputError } from '../model/errors.js';
import type { DesiredState, LiveEnvironment } from '../model/types.js';
import type { EnvironmentInput } from '../plan/types.js';
import type { Io } from './io.js';

import type { Flags } from './parse-args.js';

export type { Flags };

/**
 * The run's logger: `--log-level` / `--log-format` (checked by the parser), else
 * ECFENCE_LOG_LEVEL / ECFENCE_LOG_FORMAT (checked here), else warn, as text.
 */
export function loggerFor(flags: Flags, io: Io): Logger {
  const setting = (name: 'log-level' | 'log-format', variable: string, fallback: string): string => {
    const value = (flags[name] as string | undefined) ?? io.env[variable] ?? fallback;
    const { choices } = GLOBAL_OPTIONS[name];
    if (!(choices as readonly string[]).includes(value)) {
      throw new UserInputError(`${variable} must be one of ${choices.join(', ')} (got '${value}')`);
    }
    return value;
  };
  const level = setting('log-level', 'ECFENCE_LOG_LEVEL', 'warn');
  const format = setting('log-format', 'ECFENCE_LOG_FORMAT', 'text') as LogFormat;
  return createLogger(level, io.redactor, format);
}

/**
 * Loads config and policy files. Warnings go to stderr; any error throws UserInputError (exit 3)
 * before a single request is made.
 */
export function loadDesired(flags: Flags, io: Io, requireCredentials: boolean): DesiredState {
  const loaded = loadDesiredDeferringLint(flags, io, requireCredentials, false);
  loaded.lintAndWarn();
  return loaded.desired;
}

export interface LoadedDesired {
  desired: DesiredState;
  /**
   * Runs the network lint if it was left for later, then prints every warning, sorted, to stderr.
   * Its findings cannot be errors (a lint that can fail is never deferred), so calling this after
   * requests were sent does not break "bad input sends nothing".
   */
  lintAndWarn(): void;
}

/**
 * `loadDesired` for `plan`/`apply`: when the lint can only warn, it is left to `lintAndWarn`, so
 * that it runs while the live-state read is on the wire instead of before it is sent. When the
 * loader found errors, or `lint.errors` can make a lint finding one, it runs at once: every problem
 * is reported together, and nothing is sent.
 */
export function loadDesiredDeferringLint(
  flags: Flags,
  io: Io,
  requireCredentials: boolean,
  deferLint = true,
): LoadedDesired {
  const loaded = loadProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    environments: flags['env'] as string[] | undefined,
    requireCredentials,
  });
  const lintNow = !deferLint || loaded.desired === undefined || lintCanFail(loaded.lint);
  const result = lintNow ? withLint(loaded, lintProject(loaded)) : loaded;
  if (result.desired === undefined) {
    printDiagnostics(
      io,
      result.diagnostics.filter((d) => d.severity === 'warning'),
    );
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    throw new UserInputError('the configuration has errors; nothing was sent to any API', errors);
  }
  const desired = result.desired;
  return {
    desired,
    lintAndWarn() {
      const all = lintNow ? result.diagnostics : withLint(result, lintProject(result)).diagnostics;
      printDiagnostics(
        io,
        all.filter((d) => d.severity === 'warning'),
      );
    },
  };
}

export interface LiveSession {
  inputs: EnvironmentInput[];
  backends: Map<string, ConnectedBackend>;
  lives: Map<string, LiveEnvironment>;
}

/** Retry bounds can be tightened (or loosened) per run: ECFENCE_RETRY_ATTEMPTS, ECFENCE_RETRY_MAX_MS. */
export function retryFromEnv(env: Io['env']): Partial<RetryOptions> {
  const out: Partial<RetryOptions> = {};
  const attempts = env['ECFENCE_RETRY_ATTEMPTS'];
  const maxMs = env['ECFENCE_RETRY_MAX_MS'];
  if (attempts !== undefined) {
    const n = Number(attempts);
    if (!Number.isInteger(n) || n < 1 || n > 20)
      throw new UserInputError(`ECFENCE_RETRY_ATTEMPTS must be 1–20 (got '${attempts}')`);
    out.maxAttempts = n;
  }
  if (maxMs !== undefined) {
    const n = Number(maxMs);
    if (!Number.isInteger(n) || n < 0)
      throw new UserInputError(`ECFENCE_RETRY_MAX_MS must be a whole number of ms (got '${maxMs}')`);
    out.maxTotalMs = n;
    out.maxDelayMs = Math.min(10_000, Math.max(1, n));
    out.baseDelayMs = Math.min(500, Math.max(1, Math.floor(n / 10)));
  }
  return out;
}

/** One back end per environment, created before any request so credential errors stop everything. */
export function createBackends(desired: DesiredState, io: Io, logger: Logger): Map<string, ConnectedBackend> {
  const backends = new Map<string, ConnectedBackend>();
  const retry = retryFromEnv(io.env);
  for (const env of desired.environments) {
    backends.set(
      env.config.name,
      createBackend(env.config, {
        env: io.env,
        logger: logger.child({ env: env.config.name }),
        retry,
        redactor: io.redactor,
      }),
    );
  }
  return backends;
}

/** Frees keep-alive sockets so the process can exit promptly. */
export function closeBackends(backends: Iterable<ConnectedBackend>): void {
  for (const b of backends) b.close();
}

/**
 * Starts `readLive` and resolves once its first requests have left, so that the caller can do CPU
 * work of its own during the round trip and then await `reading`. A failed read is not reported as
 * an unhandled rejection while the caller is busy: it rejects `reading` when awaited.
 */
export async function startReadLive(
  desired: DesiredState,
  backends: Map<string, ConnectedBackend>,
): Promise<{ reading: Promise<LiveSession> }> {
  const reading = readLive(desired, backends);
  reading.catch(() => undefined);
  await Promise.race([Promise.all([...backends.values()].map((b) => b.allSent())), reading]).catch(
    () => undefined,
  );
  return { reading };
}

/** Reads every environment's live state in parallel (a constant number of requests each). */
export async function readLive(
  desired: DesiredState,
  backends: Map<string, ConnectedBackend>,
): Promise<LiveSession> {
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
