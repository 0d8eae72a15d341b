import { buildPlan, type PlanResult } from '../../plan/build-plan.js';
import { UserInputError } from '../../model/errors.js';
import { hasErrors } from '../../model/diagnostics.js';
import type { DesiredState } from '../../model/types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { renderPlan, type PlanFormat } from '../render/index.js';
import {
  closeBackends,
  createBackends,
  loadDesiredDeferringLint,
  loggerFor,
  startReadLive,
  type Flags,
  type LiveSession,
} from '../session.js';
import type { Logger } from '../../log.js';

export interface PlannedRun {
  desired: DesiredState;
  session: LiveSession;
  result: PlanResult;
}

/** Load, read live state and plan: shared by `plan` and `apply`. Throws UserInputError on bad input. */
export async function planFromFlags(flags: Flags, io: Io, logger: Logger): Promise<PlannedRun> {
  const { desired, lintAndWarn } = loadDesiredDeferringLint(flags, io, true);
  let backends: ReturnType<typeof createBackends>;
  try {
    backends = createBackends(desired, io, logger);
  } catch (error) {
    lintAndWarn();
    throw error;
  }
  try {
    // The lint runs while the read is on the wire; it can only warn (see loadDesiredDeferringLint).
    const { reading } = await startReadLive(desired, backends);
    lintAndWarn();
    const session = await reading;
    for (const live of session.lives.values()) {
      logger.info(
        { env: live.environment, requests: live.requests, policies: live.policies.length },
        'live state read',
      );
    }
    const result = buildPlan(desired, session.inputs, {
      force: flags['force'] === true,
      noDelete: flags['no-delete'] === true,
    });
    if (hasErrors(result.diagnostics)) {
      throw new UserInputError(
        'the configuration has errors against live state; nothing was changed',
        result.diagnostics,
      );
    }
    return { desired, session, result };
  } catch (error) {
    closeBackends(backends.values());
    throw error;
  }
}

/** One of the choices in command-table.ts (checked before a command runs; a test keeps the two equal). */
export function parseFormat(flags: Flags): PlanFormat {
  return ((flags['format'] as string | undefined) ?? 'text') as PlanFormat;
}

/** `ecfence plan`: exit 4 on a refusal, 2 on changes with --detailed-exitcode, else 0. */
export async function runPlan(flags: Flags, io: Io): Promise<ExitCode> {
  const format = parseFormat(flags);
  const logger = loggerFor(flags, io);
  const { result, session } = await planFromFlags(flags, io, logger);
  closeBackends(session.backends.values());
  const { plan } = result;
  const rendered = renderPlan(plan, format, io);
  io.stdout(rendered);
  const out = flags['out'] as string | undefined;
  if (out) {
    io.writeFile(out, format === 'json' ? rendered : renderPlan(plan, 'json', io));
    io.stderr(`Saved the plan to ${out}. Apply exactly this plan with: ecfence apply ${out}\n`);
  }
  if (plan.refusals.length > 0) return EXIT.refused;
  if (flags['detailed-exitcode'] === true && plan.summary.total > 0) return EXIT.changes;
  return EXIT.ok;
}
