import { createInterface } from 'node:readline/promises';
import pLimit from 'p-limit';
import { DEFAULT_RETRY_OPTIONS, type RetryOptions } from '../../backends/http.js';
import type { ConnectedBackend } from '../../backends/registry.js';
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
import type { Operation, Plan } from '../../plan/types.js';
import type { DesiredState } from '../../model/types.js';
import type { Logger } from '../../log.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { paint, type Io } from '../io.js';
import { environmentLabel, MARKERS, renderPlanText, summaryLine } from '../render/text.js';
import { progressLine, renderEnvironmentReport, renderReport, type Progress } from '../render/report.js';
import {
  closeBackends,
  loggerFor,
  parallelEnvironments,
  readLive,
  retryFromEnv,
  type Flags,
} from '../session.js';
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
function progressReporter(io: Io, plan: Plan): { onResult: (r: OperationResult) => void; stop: () => void } {
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
    // Counted here: environments run side by side, each executor counting its own.
    onResult(r) {
      progress.finished += 1;
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

/** The environments a plan file covers, and those of them it planned (1.0 files: every one). */
function environmentsOfFile(saved: Plan): { all: string[]; planned: string[] } {
  const listed = saved.environments;
  if (listed === undefined) {
    const all = Object.keys(saved.fingerprints);
    return { all, planned: all };
  }
  return {
    all: listed.map((e) => e.name),
    planned: listed.filter((e) => e.status === 'planned').map((e) => e.name),
  };
}

/**
 * `ecfence apply [PLANFILE]`. Environments are independent (SPEC §2): one that cannot be read, or
 * whose plan a guard refuses, gets no write, and the others are applied, `--parallel-environments`
 * at a time, each with its own `--concurrency`. A partial failure exits 5 with a report of every
 * operation; an environment that could not be read, 1; a refusal, 4. Afterwards live state is read
 * again and planned again to report convergence.
 */
export async function runApply(flags: Flags, positionals: readonly string[], io: Io): Promise<ExitCode> {
  const concurrency = parseConcurrency(flags);
  const parallel = parallelEnvironments(flags);
  const planFile = positionals[0];
  const saved = planFile ? await readPlanFile(planFile, io.cwd) : undefined;
  if (!planFile && flags['auto-approve'] !== true && !io.stdinIsTty) {
    throw new UserInputError('stdin is not a terminal: pass --auto-approve to apply without confirmation');
  }
  const logger = loggerFor(flags, io);
  // A plan file names its environments: the config digest is taken over those, and only those it
  // planned are read again (one that could not be read when it was made has nothing to apply).
  const file = saved ? environmentsOfFile(saved) : undefined;
  const planned = await planFromFlags(flags, io, logger, {
    maxInFlight: concurrency,
    ...(file
      ? {
          environments: (flags['env'] as string[] | undefined) ?? file.all,
          only: new Set(file.planned),
        }
      : {}),
  });
  try {
    const notInFile = file ? file.all.filter((name) => !file.planned.includes(name)) : [];
    return await applyPlanned(
      planned,
      { saved, planFile, notInFile, concurrency, parallel },
      flags,
      io,
      logger,
    );
  } finally {
    closeBackends(planned.session.backends.values());
  }
}

interface ApplySettings {
  saved: Plan | undefined;
  planFile: string | undefined;
  /** Environments of the plan file that were not read when it was made: never applied from it. */
  notInFile: string[];
  concurrency: number;
  parallel: number;
}

async function applyPlanned(
  { desired, session, result }: PlannedRun,
  { saved, planFile, notInFile, concurrency, parallel }: ApplySettings,
  flags: Flags,
  io: Io,
  logger: Logger,
): Promise<ExitCode> {
  const plan: Plan = result.plan;
  if (saved) {
    const problems = findStaleness(saved, plan);
    if (problems.length > 0) {
      for (const p of problems) io.stderr(`  - ${p}\n`);
      throw new SafetyRefusal(
        `plan file ${planFile} is stale: ${problems.length} difference(s) with live state and configuration; run ecfence plan again`,
        'stale_plan',
      );
    }
    // From here on the fresh plan is applied: its operations are those of the file, and its
    // refusals cannot have been edited out of a file.
  } else {
    io.stdout(renderPlanText(plan, { color: io.color }));
  }
  for (const name of notInFile) {
    io.stderr(
      `error: environment ${name} could not be read when ${planFile} was made; nothing of it is applied (plan again)\n`,
    );
  }
  const unreadable = session.unreadable.length + notInFile.length;

  // Guards count per environment: a blocking refusal holds back every write of its environment.
  const blocking = plan.refusals.filter((r) => r.blocking);
  const refusedEnvs = new Set(blocking.map((r) => r.environment));
  const runnable = plan.operations.filter((op) => !refusedEnvs.has(op.environment));
  for (const env of refusedEnvs) {
    const guards = [...new Set(blocking.filter((r) => r.environment === env).map((r) => r.guard))];
    io.stderr(
      `refused [${guards.join(', ')}]: environment ${env}: nothing of it is applied${runnable.length > 0 ? '; the other environments are' : ''}\n`,
    );
  }
  if (runnable.length === 0) {
    if (blocking.length > 0 && unreadable === 0) {
      throw new SafetyRefusal(
        `${blocking.length} safety guard(s) refused this plan; nothing was changed (${[...new Set(blocking.map((r) => r.guard))].join(', ')})`,
        blocking[0]?.guard ?? 'guard',
      );
    }
    if (saved) io.stdout(`${summaryLine(plan)}\n`);
    if (unreadable > 0) return EXIT.error;
    return plan.refusals.length > 0 ? EXIT.refused : EXIT.ok;
  }
  if (!saved && flags['auto-approve'] !== true && !(await confirm(io, runnable.length))) {
    // As Terraform does: a declined apply did not do what was asked, and a script must see that.
    io.stderr('Apply cancelled.\n');
    return EXIT.error;
  }

  const toRun: Plan = { ...plan, operations: runnable };
  const progress = progressReporter(io, toRun);
  let report: ExecutionReport;
  try {
    report = await executeByEnvironment(toRun, session, {
      concurrency,
      parallel,
      logger,
      onResult: progress.onResult,
    });
  } finally {
    progress.stop();
  }

  // Environments written to, or planned with nothing to write, are judged; refused ones are not.
  const judged = session.inputs.map((i) => i.desired.config.name).filter((name) => !refusedEnvs.has(name));
  const noDelete = flags['no-delete'] === true;
  const failedEnvs = new Set(report.results.filter((r) => r.status !== 'done').map((r) => r.environment));
  const limit = pLimit(parallel);
  const perEnv = new Map<string, Convergence>(
    await Promise.all(
      judged.map((name) =>
        limit(async (): Promise<[string, Convergence]> => {
          const verify = () => verifyConvergence(desired, name, session.backends, logger);
          return [
            name,
            failedEnvs.has(name)
              ? await verify()
              : await settledConvergence(verify, noDelete, retryOptions(io)),
          ];
        }),
      ),
    ),
  );
  const converged = notAllApplied(
    convergenceLine(combineConvergence([...perEnv.values()]), noDelete),
    perEnv.size,
    unreadable + refusedEnvs.size,
  );
  const backends = [...session.backends.values()];
  const requests = backends.reduce((n, b) => n + b.requestCount(), 0);
  // Counted by the transport over the whole run (reads included), so faults show in the report.
  const retries = backends.reduce((n, b) => n + b.counters().retries, 0);
  io.stdout(renderReport(toRun, report, { color: io.color, verbose: flags['verbose'] === true }));
  io.stdout(
    renderEnvironmentReport(plan, report, {
      unreadable: [...session.unreadable.map((u) => u.name), ...notInFile],
      refused: refusedEnvs,
      converged: new Map([...perEnv].map(([name, c]) => [name, convergenceLine(c, noDelete)])),
      counters: new Map([...session.backends].map(([name, b]) => [name, b.counters()])),
      labels: new Map((plan.environments ?? []).map((e) => [e.name, environmentLabel(e)])),
      always: unreadable > 0 || refusedEnvs.size > 0 || (plan.environments?.length ?? 0) > 1,
    }),
  );
  io.stdout(
    `${paint(io, converged.ok ? 'green' : 'red', converged.text)} (${requests} API requests, ${retries} retries)\n`,
  );

  if (report.failed > 0 || report.skipped > 0) return report.done > 0 ? EXIT.partial : EXIT.error;
  if (unreadable > 0) return EXIT.error;
  if (plan.refusals.length > 0) return EXIT.refused;
  if (converged.ok) return EXIT.ok;
  // Every operation succeeded but live state is not what was declared (another writer, duplicates
  // left by a concurrent apply): the apply did part of its job. Unreadable afterwards: an API error.
  return converged.readable ? EXIT.partial : EXIT.error;
}

/**
 * Each environment's operations run on their own (the executor's phases, its concurrency and its
 * client's pace are per environment), `parallel` environments at a time; one report for all, in
 * plan order.
 */
async function executeByEnvironment(
  plan: Plan,
  session: PlannedRun['session'],
  options: { concurrency: number; parallel: number; logger: Logger; onResult: (r: OperationResult) => void },
): Promise<ExecutionReport> {
  const started = Date.now();
  const byEnv = new Map<string, Operation[]>();
  for (const op of plan.operations) {
    const list = byEnv.get(op.environment);
    if (list) list.push(op);
    else byEnv.set(op.environment, [op]);
  }
  const limit = pLimit(options.parallel);
  const reports = await Promise.all(
    [...byEnv].map(([env, operations]) =>
      limit(() => {
        const backend = session.backends.get(env);
        const live = session.lives.get(env);
        const targets = new Map<string, ExecutionTarget>(backend && live ? [[env, { backend, live }]] : []);
        return executePlan({ ...plan, operations }, targets, {
          concurrency: options.concurrency,
          logger: options.logger.child({ env }),
          onResult: options.onResult,
        });
      }),
    ),
  );
  const byId = new Map(reports.flatMap((r) => r.results).map((r) => [r.id, r]));
  const results = plan.operations
    .map((op) => byId.get(op.id))
    .filter((r): r is OperationResult => r !== undefined);
  return {
    results,
    done: results.filter((r) => r.status === 'done').length,
    failed: results.filter((r) => r.status === 'failed').length,
    skipped: results.filter((r) => r.status === 'skipped').length,
    durationMs: Date.now() - started,
  };
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
 * Re-reads one environment's live state and plans it again with every operation allowed, then
 * judges the plan. Under --no-delete the deletes and dissociations it skipped on purpose are
 * reported as held back, not as a failure to converge.
 */
async function verifyConvergence(
  desired: DesiredState,
  name: string,
  backends: ReadonlyMap<string, ConnectedBackend>,
  logger: Logger,
): Promise<Convergence> {
  const one = { ...desired, environments: desired.environments.filter((e) => e.config.name === name) };
  try {
    const session = await readLive(one, new Map([...backends].filter(([env]) => env === name)), 1);
    const [failed] = session.unreadable;
    if (failed) throw new Error(failed.error);
    return judgeConvergence(buildPlan(one, session.inputs, { force: true }));
  } catch (error) {
    logger.warn({ env: name, reason: (error as Error).message }, 'could not re-read live state after apply');
    return UNREADABLE;
  }
}

/**
 * The verdict when some environments were not applied (not read, or refused by a guard): what was
 * applied may have converged, but the run must not say that live state matches the configuration.
 */
function notAllApplied(
  line: ReturnType<typeof convergenceLine>,
  applied: number,
  skipped: number,
): ReturnType<typeof convergenceLine> {
  if (skipped === 0 || !line.ok) return line;
  return {
    ok: false,
    readable: line.readable,
    text: `Converged in the ${applied} environment(s) applied; ${skipped} environment(s) not applied (not read, or refused by a guard) may still differ from the configuration.`,
  };
}

/** The convergence of several environments: converged when each one is. */
function combineConvergence(all: readonly Convergence[]): Convergence {
  return all.reduce(
    (a, c) => ({
      readable: a.readable && c.readable,
      ok: a.ok && c.ok,
      remaining: a.remaining + c.remaining,
      heldBack: a.heldBack + c.heldBack,
      duplicates: a.duplicates + c.duplicates,
      problems: a.problems + c.problems,
    }),
    { readable: true, ok: true, remaining: 0, heldBack: 0, duplicates: 0, problems: 0 },
  );
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
