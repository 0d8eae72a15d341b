import { createInterface } from 'node:readline/promises';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from '../../backends/http.js';
import { rereadUntil } from '../../backends/read-lag.js';
import {
  executePlan,
  type ExecutionReport,
  type ExecutionTarget,
  type OperationResult,
} from '../../execute/execute-plan.js';
import { SafetyRefusal, UserInputError } from '../../model/errors.js';
import { buildPlan, type PlanResult } from '../../plan/build-plan.js';
import { findStaleness } from '../../plan/guards.js';
import { readPlanFile } from '../plan-file.js';
import type { Plan } from '../../plan/types.js';
import type { Logger } from '../../log.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { paint, type Io } from '../io.js';
import { MARKERS, renderPlanText, summaryLine } from '../render/text.js';
import { progressLine, renderReport, type Progress } from '../render/report.js';
import { closeBackends, loggerFor, readLive, retryFromEnv, type Flags } from '../session.js';
import { planFromFlags, type PlannedRun } from './plan.js';

const DEFAULT_CONCURRENCY = 8;

function parseConcurrency(flags: Flags): number {
  const raw = flags['concurrency'] as string | undefined;
  if (raw === undefined) return DEFAULT_CONCURRENCY;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    throw new UserInputError(`--concurrency must be a whole number from 1 to 64 (got '${raw}')`);
  }
  return n;
}

async function confirm(io: Io, total: number): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\nApply ${total} operation(s)? Only 'yes' will be accepted: `);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}

/**
 * Progress while applying: on a terminal one line rewritten in place (phase, counts, time left),
 * otherwise the same line every few seconds.
 */
function progressReporter(
  io: Io,
  plan: Plan,
): { onResult: (r: OperationResult, n: number) => void; stop: () => void } {
  const started = Date.now();
  const progress: Progress = {
    phase: undefined,
    finished: 0,
    failed: 0,
    total: plan.operations.length,
    elapsedMs: 0,
  };
  const line = (): string => progressLine({ ...progress, elapsedMs: Date.now() - started });
  let lastLine = 0;
  let shown = 0;
  // A shorter line than the last one is padded: no escape but colour codes reaches a terminal.
  const rewrite = (text: string): void => {
    io.stderr(`\r${text.padEnd(shown)}`);
    shown = text.length;
  };
  const interval = io.isTty ? undefined : setInterval(() => io.stderr(`progress: ${line()}\n`), 5_000);
  interval?.unref();
  return {
    onResult(r, n) {
      progress.finished = n;
      progress.phase = MARKERS[r.action].verb;
      if (r.status !== 'done') progress.failed += 1;
      if (io.isTty && Date.now() - lastLine > 100) {
        lastLine = Date.now();
        rewrite(line());
      }
    },
    stop() {
      if (interval) clearInterval(interval);
      if (io.isTty) {
        rewrite(line());
        io.stderr('\n');
      }
    },
  };
}

/**
 * `ecfence apply [PLANFILE]`. Refusals stop everything before the first write (exit 4); a partial
 * failure exits 5 with a report of every operation; afterwards live state is read again and
 * planned again to report convergence.
 */
export async function runApply(flags: Flags, positionals: readonly string[], io: Io): Promise<ExitCode> {
  const concurrency = parseConcurrency(flags);
  const planFile = positionals[0];
  const saved = planFile ? await readPlanFile(planFile, io.cwd) : undefined;
  if (!planFile && flags['auto-approve'] !== true && !io.stdinIsTty) {
    throw new UserInputError('stdin is not a terminal: pass --auto-approve to apply without confirmation');
  }
  const logger = loggerFor(flags, io);
  const planned = await planFromFlags(flags, io, logger);
  try {
    return await applyPlanned(planned, saved, planFile, concurrency, flags, io, logger);
  } finally {
    closeBackends(planned.session.backends.values());
  }
}

async function applyPlanned(
  { desired, session, result }: PlannedRun,
  saved: Plan | undefined,
  planFile: string | undefined,
  concurrency: number,
  flags: Flags,
  io: Io,
  logger: Logger,
): Promise<ExitCode> {
  let plan: Plan = result.plan;

  if (saved) {
    const problems = findStaleness(saved, plan);
    if (problems.length > 0) {
      for (const p of problems) io.stderr(`  - ${p}\n`);
      throw new SafetyRefusal(
        `plan file ${planFile} is stale: ${problems.length} difference(s) with live state and configuration; run ecfence plan again`,
        'stale_plan',
      );
    }
    plan = saved;
  } else {
    io.stdout(renderPlanText(plan, { color: io.color }));
  }

  const blocking = plan.refusals.filter((r) => r.blocking);
  if (blocking.length > 0) {
    throw new SafetyRefusal(
      `${blocking.length} safety guard(s) refused this plan; nothing was changed (${blocking.map((r) => r.guard).join(', ')})`,
      blocking[0]?.guard ?? 'guard',
    );
  }
  if (plan.summary.total === 0) {
    if (saved) io.stdout(`${summaryLine(plan)}\n`);
    return plan.refusals.length > 0 ? EXIT.refused : EXIT.ok;
  }
  if (!saved && flags['auto-approve'] !== true && !(await confirm(io, plan.summary.total))) {
    // As Terraform does: a declined apply did not do what was asked, and a script must see that.
    io.stderr('Apply cancelled.\n');
    return EXIT.error;
  }

  const targets = new Map<string, ExecutionTarget>();
  for (const [env, backend] of session.backends) {
    const live = session.lives.get(env);
    if (live) targets.set(env, { backend, live });
  }
  const progress = progressReporter(io, plan);
  let report: ExecutionReport;
  try {
    report = await executePlan(plan, targets, { concurrency, logger, onResult: progress.onResult });
  } finally {
    progress.stop();
  }

  const noDelete = flags['no-delete'] === true;
  const verify = () => verifyConvergence(desired, session.backends, logger);
  const converged = convergenceLine(
    report.failed === 0 && report.skipped === 0
      ? await settledConvergence(verify, noDelete, retryOptions(io))
      : await verify(),
    noDelete,
  );
  const backends = [...session.backends.values()];
  const requests = backends.reduce((n, b) => n + b.requestCount(), 0);
  // Counted by the transport over the whole run (reads included), so faults show in the report.
  const retries = backends.reduce((n, b) => n + b.counters().retries, 0);
  io.stdout(renderReport(plan, report, { color: io.color, verbose: flags['verbose'] === true }));
  io.stdout(
    `${paint(io, converged.ok ? 'green' : 'red', converged.text)} (${requests} API requests, ${retries} retries)\n`,
  );

  if (report.failed > 0 || report.skipped > 0) return report.done > 0 ? EXIT.partial : EXIT.error;
  if (plan.refusals.length > 0) return EXIT.refused;
  if (converged.ok) return EXIT.ok;
  // Every operation succeeded but live state is not what was declared (another writer, duplicates
  // left by a concurrent apply): the apply did part of its job. Unreadable afterwards: an API error.
  return converged.readable ? EXIT.partial : EXIT.error;
}

/** What a plan made from a fresh read says about convergence (see `judgeConvergence`). */
export interface Convergence {
  /** False when live state could not be read again (the other counts are then 0). */
  readable: boolean;
  ok: boolean;
  /** Operations still to do. */
  remaining: number;
  /** Of those, deletes and dissociations (what --no-delete holds back). */
  heldBack: number;
  /** Declared policies with more than one live copy, merged by the next apply or refused. */
  duplicates: number;
  /** Problems in the configuration found against live state (a declared target gone). */
  problems: number;
}

/**
 * Pure: whether a plan made from a fresh read of live state says it matches the configuration.
 * Nothing may be left to do and nothing may be ambiguous: a declared policy with two live copies
 * that differ is refused with no operation, and is still not converged. (Other refusals guard
 * operations, which count as left to do; under --no-delete the held-back ones are expected.)
 */
export function judgeConvergence(result: PlanResult): Convergence {
  const { plan } = result;
  const duplicates = plan.notes.filter((n) => n.kind === 'ambiguous' || n.kind === 'duplicate').length;
  const problems = result.diagnostics.length;
  return {
    readable: true,
    ok: plan.summary.total === 0 && duplicates === 0 && problems === 0,
    remaining: plan.summary.total,
    heldBack: plan.summary.delete + plan.summary.dissociate,
    duplicates,
    problems,
  };
}

const UNREADABLE: Convergence = {
  readable: false,
  ok: false,
  remaining: 0,
  heldBack: 0,
  duplicates: 0,
  problems: 0,
};

/**
 * Re-reads live state and plans again with every operation allowed, then judges the plan. Under
 * --no-delete the deletes and dissociations it skipped on purpose are reported as held back, not
 * as a failure to converge.
 */
async function verifyConvergence(
  desired: Parameters<typeof buildPlan>[0],
  backends: Parameters<typeof readLive>[1],
  logger: Logger,
): Promise<Convergence> {
  try {
    const session = await readLive(desired, backends);
    return judgeConvergence(buildPlan(desired, session.inputs, { force: true }));
  } catch (error) {
    logger.warn({ reason: (error as Error).message }, 'could not re-read live state after apply');
    return UNREADABLE;
  }
}

/**
 * Convergence after a run in which every operation succeeded. Operations still pending then are
 * more likely a read that lags behind the writes (API.md gotcha 7) than a real difference, so
 * live state is read again (see `rereadUntil`) before "Not converged" is reported. A lagging read
 * only misses what was just written: live copies of a policy, configuration problems and a failed
 * read are judged at once.
 */
async function settledConvergence(
  verify: () => Promise<Convergence>,
  noDelete: boolean,
  retry: RetryOptions,
): Promise<Convergence> {
  const settled = (c: Convergence): boolean =>
    !c.readable || c.duplicates > 0 || c.problems > 0 || convergenceLine(c, noDelete).ok;
  const first = await verify();
  return settled(first) ? first : rereadUntil(verify, settled, retry);
}

const retryOptions = (io: Io): RetryOptions => ({ ...DEFAULT_RETRY_OPTIONS, ...retryFromEnv(io.env) });

export function convergenceLine(
  converged: Convergence,
  noDelete: boolean,
): { ok: boolean; readable: boolean; text: string } {
  const line = (ok: boolean, text: string) => ({ ok, readable: converged.readable, text });
  if (converged.ok) return line(true, 'Converged: live state matches the configuration.');
  if (!converged.readable) return line(false, 'Not converged: live state could not be read again.');
  const left: string[] = [];
  if (converged.duplicates > 0)
    left.push(`${converged.duplicates} declared policy(ies) have more than one live copy`);
  if (converged.problems > 0)
    left.push(`${converged.problems} problem(s) in the configuration against live state`);
  if (left.length === 0 && noDelete && converged.heldBack === converged.remaining) {
    return line(
      true,
      `Converged for additive changes; ${converged.heldBack} delete/dissociate operation(s) held back by --no-delete remain.`,
    );
  }
  if (converged.remaining > 0) left.push(`${converged.remaining} operation(s) still pending`);
  return line(false, `Not converged: ${left.join(', ')}; run ecfence plan to see why.`);
}
