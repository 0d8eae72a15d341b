import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../log.js';
import { EmulatorListenError, EmulatorSetupError } from './errors.js';
import { FaultInjector } from './faults.js';
import { loadState, saveState } from './persist.js';
import { applySeed, loadSeedData } from './seed.js';
import { createRequestHandler, type EncodedReply, type ServerContext } from './server.js';
import { addDeployment } from './deployments.js';
import { addProject, createEmptyState } from './state.js';
import type {
  DeploymentTag,
  EmulatorFlavor,
  EmulatorState,
  EmulatorStateSnapshot,
  FaultConfig,
  RequestLogEntry,
  SeedData,
  ServerlessProjectType,
} from './types.js';

export type {
  DeploymentTag,
  EmulatorFlavor,
  EmulatorState,
  EmulatorStateSnapshot,
  FaultConfig,
  FaultKind,
  ForceNextPage,
  RegionMetadata,
  RequestLogEntry,
  ScriptedFault,
  SeedData,
  ServerlessProjectType,
} from './types.js';
export { EmulatorListenError, EmulatorSetupError } from './errors.js';
export { loadSeedData } from './seed.js';

/** How to start an emulator. */
export interface EmulatorOptions {
  /** `cloud`: ESS deployments API + Serverless API on one port. `ece`: deployments API, `ip` rulesets only. */
  flavor: EmulatorFlavor;
  /** 0 or absent = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** State file: loaded at start when it exists (the seed is then ignored), rewritten atomically after every mutation. */
  statePath?: string;
  /** Seed object, or path to a JSON/YAML seed file (see `SeedData`). */
  seed?: SeedData | string;
  faults?: FaultConfig;
  /** PEM certificate and key: serve https. */
  tls?: { cert: string; key: string };
  /** When set, only `Authorization: ApiKey <one of these>` is accepted; otherwise any ApiKey is. */
  apiKeys?: string[];
  /** ECE flavor: accepted HTTP Basic credentials (otherwise any Basic credentials, unless apiKeys is set). */
  basicAuth?: { username: string; password: string };
  /** Defaults to a silent logger. */
  logger?: Logger;
  /** Keep parsed request and response bodies in the request log (for spec-conformance tests). */
  recordBodies?: boolean;
  /**
   * Called with each API request's log entry as it is recorded: synchronously, right after a write
   * was committed and before any other request changes the state, so a test can look at every
   * intermediate state (or stop answering, as a killed client would stop sending).
   */
  onRequest?: (entry: RequestLogEntry) => void;
}

/** A running emulator. Every method is synchronous against the in-memory state. */
export interface Emulator {
  /** e.g. `http://127.0.0.1:PORT`, no trailing slash; the API base is `url + '/api/v1'`. */
  url: string;
  flavor: EmulatorFlavor;
  close(): Promise<void>;
  /** Replaces the fault config (and restarts the PRNG and script). */
  setFaults(f: FaultConfig): void;
  /** API requests answered so far (admin requests are not logged). */
  requests(): RequestLogEntry[];
  resetRequests(): void;
  /** Deep copy of the whole state. */
  state(): EmulatorStateSnapshot;
  /** New deployment; `include_by_default` rulesets of its region attach to it. Returns its id. */
  addDeployment(d: { name: string; region: string; id?: string; tags?: DeploymentTag[] }): string;
  /** New serverless project; `include_by_default` filters of its region attach to it. Returns its id. */
  addProject(p: {
    type: ServerlessProjectType;
    name: string;
    region_id: string;
    id?: string;
    tags?: Record<string, string>;
  }): string;
}

function initialState(options: EmulatorOptions): { state: EmulatorState; fromFile: boolean } {
  if (options.statePath !== undefined) {
    const loaded = loadState(options.statePath);
    if (loaded) return { state: loaded, fromFile: true };
  }
  const state = createEmptyState();
  if (options.seed !== undefined) applySeed(state, options.flavor, loadSeedData(options.seed));
  return { state, fromFile: false };
}

/** Starts an emulator on loopback (by default) and resolves once it listens. */
export async function startEmulator(options: EmulatorOptions): Promise<Emulator> {
  if (options.flavor !== 'cloud' && options.flavor !== 'ece') {
    throw new EmulatorSetupError(`unknown emulator flavor ${String(options.flavor)}; expected cloud or ece`);
  }
  const logger = options.logger ?? silentLogger();
  const { state, fromFile } = initialState(options);
  const answers = new Map<string, EncodedReply>();
  const persist = (): void => {
    answers.clear();
    if (options.statePath !== undefined) saveState(options.statePath, state);
  };
  try {
    persist();
  } catch (err) {
    throw new EmulatorSetupError(
      `cannot write emulator state file ${options.statePath ?? ''} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  const faults = new FaultInjector(options.faults ?? {});
  const requestLog: RequestLogEntry[] = [];
  const ctx: ServerContext = {
    flavor: options.flavor,
    getState: () => state,
    faults,
    requestLog,
    recordBodies: options.recordBodies === true,
    persist,
    answers,
    logger,
  };
  if (options.onRequest !== undefined) ctx.onRequest = options.onRequest;
  if (options.apiKeys !== undefined) ctx.apiKeys = [...options.apiKeys];
  if (options.basicAuth !== undefined) ctx.basicAuth = { ...options.basicAuth };

  const handler = createRequestHandler(ctx);
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler)
    : createHttpServer(handler);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new EmulatorListenError(host, options.port ?? 0, err.code ?? err.message)),
    );
    server.listen(options.port ?? 0, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = `${options.tls ? 'https' : 'http'}://${urlHost}:${port}`;
  logger.info({ url, flavor: options.flavor, statePath: options.statePath, fromFile }, 'emulator listening');

  return {
    url,
    flavor: options.flavor,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive client connections would otherwise hold close() open.
        server.closeAllConnections();
      }),
    setFaults: (f) => faults.set(f),
    requests: () => requestLog.map((e) => ({ ...e })),
    resetRequests: () => {
      requestLog.length = 0;
    },
    state: () => structuredClone(state),
    addDeployment: (d) => {
      const id = addDeployment(state, d);
      persist();
      return id;
    },
    addProject: (p) => {
      const id = addProject(state, p);
      persist();
      return id;
    },
  };
}

/** CLI-shaped options of `ecfence emulator` (already parsed from flags). */
export interface EmulatorArgs {
  flavor?: string;
  port?: number | string;
  host?: string;
  state?: string;
  seed?: string;
  latency?: number | string;
  rate429?: number | string;
  retryAfter?: number | string;
  rate5xx?: number | string;
  rateReset?: number | string;
  rateResetAfterCommit?: number | string;
  readLag?: number | string;
  faultSeed?: number | string;
  apiKey?: string | string[];
  tlsCert?: string;
  tlsKey?: string;
  logger?: Logger;
}

function num(
  name: string,
  v: number | string | undefined,
  opts: { rate?: boolean; integer?: boolean } = {},
): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  if (
    !Number.isFinite(n) ||
    n < 0 ||
    (opts.rate === true && n > 1) ||
    (opts.integer === true && !Number.isInteger(n))
  ) {
    throw new EmulatorSetupError(
      opts.rate === true
        ? `--${name} must be a probability between 0 and 1`
        : `--${name} must be a non-negative ${opts.integer === true ? 'whole number' : 'number'}`,
    );
  }
  return n;
}

/** Builds the fault config from CLI-shaped flags (`--latency`, `--rate-429`, ...). */
export function faultsFromArgs(args: EmulatorArgs): FaultConfig {
  const faults: FaultConfig = {};
  const set = <K extends keyof FaultConfig>(key: K, value: FaultConfig[K] | undefined): void => {
    if (value !== undefined) faults[key] = value;
  };
  set('latencyMs', num('latency', args.latency));
  set('rate429', num('rate-429', args.rate429, { rate: true }));
  set('retryAfterSeconds', num('retry-after', args.retryAfter));
  set('rate5xx', num('rate-5xx', args.rate5xx, { rate: true }));
  set('rateReset', num('rate-reset', args.rateReset, { rate: true }));
  set('rateResetAfterCommit', num('rate-reset-after-commit', args.rateResetAfterCommit, { rate: true }));
  set('readLag', num('read-lag', args.readLag, { integer: true }));
  set('seed', num('fault-seed', args.faultSeed));
  return faults;
}

/**
 * Entry point for `ecfence emulator`: validates the CLI-shaped arguments and starts the emulator.
 * Throws `EmulatorSetupError` on bad arguments, seed or state file.
 */
export async function startEmulatorFromArgs(args: EmulatorArgs): Promise<Emulator> {
  const flavor = args.flavor ?? 'cloud';
  if (flavor !== 'cloud' && flavor !== 'ece') throw new EmulatorSetupError('--flavor must be cloud or ece');
  const port = num('port', args.port) ?? 0;
  if (!Number.isInteger(port) || port > 65535)
    throw new EmulatorSetupError('--port must be an integer 0..65535');
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) {
    throw new EmulatorSetupError('--tls-cert and --tls-key go together');
  }
  const options: EmulatorOptions = { flavor, port, faults: faultsFromArgs(args) };
  if (args.host !== undefined) options.host = args.host;
  if (args.state !== undefined) options.statePath = args.state;
  if (args.seed !== undefined) options.seed = args.seed;
  if (args.logger !== undefined) options.logger = args.logger;
  const keys = args.apiKey === undefined ? [] : Array.isArray(args.apiKey) ? args.apiKey : [args.apiKey];
  if (keys.length > 0) options.apiKeys = keys;
  if (args.tlsCert !== undefined && args.tlsKey !== undefined) {
    options.tls = { cert: readFileSync(args.tlsCert, 'utf8'), key: readFileSync(args.tlsKey, 'utf8') };
  }
  return startEmulator(options);
}
