import pLimit from 'p-limit';
import { CAPABILITIES } from '../model/capabilities.js';
import { createBackend, endpointOf, type ConnectedBackend } from '../backends/registry.js';
import type { RetryOptions } from '../backends/http.js';
import { loadProject } from '../load/index.js';
import { lintCanFail, lintProject, withLint } from '../lint/index.js';
import { createLogger, type LogFormat, type Logger } from '../log.js';
import { GLOBAL_OPTIONS } from './command-table.js';

import { printDiagnostics } from './diagnostics-output.js';
import { ApiError, UserInputError } from '../model/errors.js';
import type { DesiredState, LiveEnvironment } from '../model/types.js';
import type { EnvironmentInput, PlanEnvironment } from '../plan/types.js';
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
  environments = flags['env'] as readonly string[] | undefined,
): LoadedDesired {
  const loaded = loadProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    ...(environments !== undefined ? { environments: [...environments] } : {}),
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

/** An environment whose live state could not be read, as the plan lists it. */
export type UnreadableEnvironment = Omit<PlanEnvironment, 'status'>;

export interface LiveSession {
  /** The environments that were read, in the desired state's order. */
  inputs: EnvironmentInput[];
  backends: Map<string, ConnectedBackend>;
  lives: Map<string, LiveEnvironment>;
  /** The environments that could not be read (SPEC §2: the others are still planned). */
  unreadable: UnreadableEnvironment[];
}

const DEFAULT_PARALLEL_ENVIRONMENTS = 8;

/** `--parallel-environments N`: environments read and applied at once. */
export function parallelEnvironments(flags: Flags): number {
  const raw = flags['parallel-environments'] as string | undefined;
  if (raw === undefined) return DEFAULT_PARALLEL_ENVIRONMENTS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UserInputError(`--parallel-environments must be a whole number from 1 to 256 (got '${raw}')`);
  }
  return n;
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

/**
 * One back end per environment, created before any request so credential errors stop everything.
 * `maxInFlight`: requests each environment keeps in flight at most (apply: --concurrency).
 */
export function createBackends(
  desired: DesiredState,
  io: Io,
  logger: Logger,
  maxInFlight?: number,
): Map<string, ConnectedBackend> {
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
        ...(maxInFlight !== undefined ? { maxInFlight } : {}),
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
 * work of its own during the round trip and then await `reading`.
 */
export async function startReadLive(
  desired: DesiredState,
  backends: Map<string, ConnectedBackend>,
  parallel: number,
): Promise<{ reading: Promise<LiveSession> }> {
  const reading = readLive(desired, backends, parallel);
  // A bug (not an API failure: those are in `unreadable`) rejects `reading` when it is awaited,
  // not as an unhandled rejection while the caller is busy.
  reading.catch(() => undefined);
  await Promise.race([Promise.all([...backends.values()].map((b) => b.allSent())), reading]).catch(
    () => undefined,
  );
  return { reading };
}

/**
 * Reads every environment's live state (a constant number of requests each), `parallel`
 * environments at a time. Environments are independent (SPEC §2): one whose read fails with an API
 * error (refused connection, DNS, TLS, 401/403, retries exhausted, a body over the cap) is listed
 * in `unreadable` with the reason, and the others are read as if it were absent. Anything else is a
 * bug and rejects, once every read has settled.
 */
export async function readLive(
  desired: DesiredState,
  backends: Map<string, ConnectedBackend>,
  parallel: number = DEFAULT_PARALLEL_ENVIRONMENTS,
): Promise<LiveSession> {
  const limit = pLimit(parallel);
  const lives = new Map<string, LiveEnvironment>();
  const inputs: EnvironmentInput[] = [];
  const unreadable: UnreadableEnvironment[] = [];
  const outcomes = await Promise.allSettled(
    desired.environments.map((env) =>
      limit(async () => {
        const backend = backends.get(env.config.name);
        if (!backend) throw new Error(`no back end for ${env.config.name}`);
        try {
          return { env, live: await backend.read() };
        } catch (error) {
          if (!(error instanceof ApiError)) throw error;
          const { config } = env;
          return {
            env,
            unread: {
              name: config.name,
              api: config.api,
              endpoint: endpointOf(config) ?? '',
              error: error.message,
            },
          };
        }
      }),
    ),
  );
  for (const outcome of outcomes) {
    if (outcome.status === 'rejected') throw outcome.reason;
    const { env, live, unread } = outcome.value;
    if (live) {
      lives.set(env.config.name, live);
      inputs.push({ desired: env, live, capabilities: CAPABILITIES[env.config.api] });
    } else if (unread) {
      unreadable.push(unread);
    }
  }
  return { inputs, backends, lives, unreadable };
}
