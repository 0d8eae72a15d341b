import { buildPlan, type PlanResult } from '../../plan/build-plan.js';
import { UserInputError } from '../../model/errors.js';
import { hasErrors } from '../../model/diagnostics.js';
import type { DesiredState } from '../../model/types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { renderPlan, type PlanFormat } from '../render/index.js';
import { environmentLabel } from '../render/text.js';
import {
  closeBackends,
  createBackends,
  loadDesiredDeferringLint,
  loggerFor,
  parallelEnvironments,
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

/**
 * Load, read live state and plan: shared by `plan` and `apply`. Throws UserInputError on bad input.
 * An environment that cannot be read is said on stderr, with its host and the reason, and listed
 * in the plan as unreadable; the others are planned as if it were absent. `only`: of the selected
 * environments, read and plan just these (`apply PLANFILE`: those its file planned).
 */
export async function planFromFlags(
  flags: Flags,
  io: Io,
  logger: Logger,
  options: { environments?: readonly string[]; only?: ReadonlySet<string>; maxInFlight?: number } = {},
): Promise<PlannedRun> {
  const { desired, lintAndWarn } = loadDesiredDeferringLint(flags, io, true, true, options.environments);
  const parallel = parallelEnvironments(flags);
  const only = options.only;
  const reachable: DesiredState =
    only === undefined
      ? desired
      : { ...desired, environments: desired.environments.filter((e) => only.has(e.config.name)) };
  let backends: ReturnType<typeof createBackends>;
  try {
    backends = createBackends(reachable, io, logger, options.maxInFlight);
  } catch (error) {
    lintAndWarn();
    throw error;
  }
  try {
    // The lint runs while the read is on the wire; it can only warn (see loadDesiredDeferringLint).
    const { reading } = await startReadLive(reachable, backends, parallel);
    lintAndWarn();
    const session = await reading;
    for (const u of session.unreadable) {
      io.stderr(`error: environment ${environmentLabel(u)} could not be read: ${u.error}\n`);
    }
    for (const live of session.lives.values()) {
      logger.info(
        { env: live.environment, requests: live.requests, policies: live.policies.length },
        'live state read',
      );
    }
    const result = buildPlan(desired, session.inputs, {
      force: flags['force'] === true,
      noDelete: flags['no-delete'] === true,
      unreadable: session.unreadable,
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

/**
 * `ecfence plan`: exit 1 when an environment could not be read (its changes are unknown, so
 * neither "changes" nor "no changes" would be true), else 4 on a refusal, 2 on changes with
 * --detailed-exitcode, else 0.
 */
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
  if (result.plan.environments?.some((e) => e.status === 'unreadable')) return EXIT.error;
  if (plan.refusals.length > 0) return EXIT.refused;
  if (flags['detailed-exitcode'] === true && plan.summary.total > 0) return EXIT.changes;
  return EXIT.ok;
}
