import {
  EmulatorListenError,
  EmulatorSetupError,
  startEmulator,
  type FaultConfig,
} from '../../emulator/index.js';
import { UserInputError } from '../../model/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { loggerFor, type Flags } from '../session.js';

function numberFlag(
  flags: Flags,
  name: string,
  min: number,
  max: number,
  integer = false,
): number | undefined {
  const raw = flags[name] as string | undefined;
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UserInputError(
      `--${name} must be a ${integer ? 'whole number' : 'number'} from ${min} to ${max} (got '${raw}')`,
    );
  }
  return n;
}

/** `ecfence emulator`: serves until interrupted (SIGINT/SIGTERM), then closes cleanly. */
export async function runEmulator(flags: Flags, io: Io): Promise<ExitCode> {
  const flavor = (flags['flavor'] as string | undefined) ?? 'cloud';
  if (flavor !== 'cloud' && flavor !== 'ece')
    throw new UserInputError(`--flavor must be cloud or ece (got '${flavor}')`);
  const host = (flags['host'] as string | undefined) ?? '127.0.0.1';
  if (!['127.0.0.1', 'localhost', '::1'].includes(host) && !host.startsWith('127.')) {
    throw new UserInputError(
      `--host must be a loopback address (got '${host}'): the emulator is for local use only`,
    );
  }
  const faults: FaultConfig = {
    latencyMs: numberFlag(flags, 'latency', 0, 60_000),
    rate429: numberFlag(flags, 'rate-429', 0, 1),
    retryAfterSeconds: numberFlag(flags, 'retry-after', 0, 3600),
    rate5xx: numberFlag(flags, 'rate-5xx', 0, 1),
    rateReset: numberFlag(flags, 'rate-reset', 0, 1),
    rateResetAfterCommit: numberFlag(flags, 'rate-reset-after-commit', 0, 1),
    readLag: numberFlag(flags, 'read-lag', 0, 1000, true),
    rateLimit: numberFlag(flags, 'rate-limit', 0.01, 1_000_000),
    seed: numberFlag(flags, 'fault-seed', 0, Number.MAX_SAFE_INTEGER),
  };
  const port = numberFlag(flags, 'port', 0, 65535) ?? 9243;
  let emulator;
  try {
    emulator = await startEmulator({
      flavor,
      host,
      port,
      statePath: flags['state'] as string | undefined,
      seed: flags['seed'] as string | undefined,
      faults,
      apiKeys: flags['api-key'] as string[] | undefined,
      logger: loggerFor(flags, io),
    });
  } catch (error) {
    // A bad seed or state file is bad input (exit 3); a port in use is one line and exit 1.
    if (error instanceof EmulatorSetupError) throw new UserInputError(error.message);
    if (error instanceof EmulatorListenError) {
      io.stderr(`error: ${error.message}\n`);
      return EXIT.error;
    }
    throw error;
  }
  io.stdout(`ecfence emulator (${flavor}) listening on ${emulator.url}\n`);
  io.stderr(`endpoint for ecfence.yaml: ${emulator.url}   (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await emulator.close();
  return EXIT.ok;
}
