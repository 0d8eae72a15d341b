import type { ExecutionReport, OperationResult } from '../../execute/execute-plan.js';
import { PHASE_OF, type Operation, type Plan } from '../../plan/types.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import { paint, type Colour } from '../io.js';
import type { HttpCounters } from '../../backends/http.js';
import { alignColumns, describeOperation, MARKERS } from './text.js';

const STATUS_COLOUR: Record<string, Colour> = { done: 'green', failed: 'red', skipped: 'yellow' };

/** The actions in the order their phases run. */
const ACTIONS = (Object.keys(MARKERS) as Operation['action'][]).sort((a, b) => PHASE_OF[a] - PHASE_OF[b]);

/**
 * The end-of-apply report. What needs a person comes first: every failed operation with the API's
 * reason, then every skipped one with the failure it waited for. The operations done follow as a
 * count per phase; `verbose` lists each of them too (800 "done" lines bury the two that failed).
 */
export function renderReport(
  plan: Plan,
  report: ExecutionReport,
  options: { color: boolean; verbose?: boolean },
): string {
  const io = { color: options.color };
  const byId = new Map(report.results.map((r) => [r.id, r]));
  const envWidth = Math.max(0, ...plan.operations.map((o) => o.environment.length));
  const statusOf = (op: Operation): OperationResult['status'] => byId.get(op.id)?.status ?? 'skipped';
  const line = (op: Operation): string[] => {
    const status = statusOf(op);
    const reason = byId.get(op.id)?.reason;
    return [
      `    ${paint(io, STATUS_COLOUR[status] ?? 'gray', status.padEnd(7))} ${oneLine(op.environment).padEnd(envWidth)} ${MARKERS[op.action].verb.padEnd(10)} ${describeOperation(op)}`,
      ...(reason ? [`            ${paint(io, 'gray', oneLine(reason))}`] : []),
    ];
  };

  const lines = ['', 'Apply report:'];
  const failed = plan.operations.filter((op) => statusOf(op) === 'failed');
  const skipped = plan.operations.filter((op) => statusOf(op) === 'skipped');
  if (failed.length > 0) lines.push(`  Failed (${failed.length}):`, ...failed.flatMap(line));
  if (skipped.length > 0) {
    lines.push(
      `  Skipped (${skipped.length}), not run because an operation they depend on failed:`,
      ...skipped.flatMap(line),
    );
  }
  const done = plan.operations.filter((op) => statusOf(op) === 'done');
  if (done.length > 0) {
    const counts = ACTIONS.map(
      (action) => [action, done.filter((op) => op.action === action)] as const,
    ).filter(([, ops]) => ops.length > 0);
    lines.push(
      `  Done (${done.length}): ${counts.map(([action, ops]) => `${ops.length} ${MARKERS[action].verb}`).join(', ')}`,
    );
    if (options.verbose) lines.push(...done.flatMap(line));
    else lines.push('  (ecfence apply --verbose lists every operation done)');
  }
  lines.push(
    '',
    `Apply: ${report.done} done, ${report.failed} failed, ${report.skipped} skipped of ${plan.operations.length} in ${(report.durationMs / 1000).toFixed(1)}s.`,
  );
  return `${lines.join('\n')}\n`;
}

/** `1m 05s`, `12s`: how long, for a progress line. */
function duration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 60
    ? `${seconds}s`
    : `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

export interface Progress {
  /** The verb of the phase the last finished operation belongs to. */
  phase: string | undefined;
  finished: number;
  failed: number;
  total: number;
  elapsedMs: number;
}

/**
 * One progress line: phase, counts and, once a first operation has finished, the time left at the
 * pace so far (`associate: 412/800 finished, 2 failed or skipped, about 7s left`).
 */
export function progressLine(p: Progress): string {
  const counts = `${p.finished}/${p.total} finished${p.failed > 0 ? `, ${p.failed} failed or skipped` : ''}`;
  const left =
    p.finished > 0 && p.finished < p.total
      ? `, about ${duration((p.elapsedMs / p.finished) * (p.total - p.finished))} left`
      : '';
  return `${p.phase === undefined ? 'applying' : p.phase}: ${counts}${left}`;
}

/** What the environment table at the end of an apply is made of. */
export interface EnvironmentReportInput {
  /** Environments that could not be read (now, or when the plan file was made). */
  unreadable: readonly string[];
  /** Environments whose plan a guard refused: nothing of them was applied. */
  refused: ReadonlySet<string>;
  /** Per environment judged after the apply: its convergence line. */
  converged: ReadonlyMap<string, { ok: boolean }>;
  /** Per environment: its client's counters (429s met, the concurrency it went down to). */
  counters: ReadonlyMap<string, HttpCounters>;
  /** `name (api, host)` per environment, where the plan knows it. */
  labels: ReadonlyMap<string, string>;
  /** Show the table even for one environment with nothing special to say. */
  always: boolean;
}

/** `37 × 429: concurrency 8 → 2, 8 at the end`: how the environment's client kept to the API's pace. */
function throttleText(c: HttpCounters): string {
  return `${c.throttled} × 429: concurrency ${c.ceiling} → ${c.lowest}, ${c.current} at the end`;
}

/**
 * The table of environments that ends an apply: per environment, what was applied and whether it
 * converged, or why nothing was; and how often the API answered 429 and the concurrency that took.
 * Shown with several environments, or when one of them needs saying (not read, refused, rate
 * limited).
 */
export function renderEnvironmentReport(
  plan: Plan,
  report: ExecutionReport,
  input: EnvironmentReportInput,
): string {
  const names = [...new Set([...(plan.environments ?? []).map((e) => e.name), ...input.unreadable])];
  const throttled = [...input.counters.values()].some((c) => c.throttled > 0);
  if (!input.always && !throttled) return '';
  const unreadable = new Set(input.unreadable);
  const rows = names.map((name) => {
    const label = input.labels.get(name) ?? name;
    if (unreadable.has(name)) return [label, 'NOT READ: nothing applied'];
    if (input.refused.has(name)) return [label, 'REFUSED by a guard: nothing applied'];
    const results = report.results.filter((r) => r.environment === name);
    const count = (status: OperationResult['status']) => results.filter((r) => r.status === status).length;
    const done =
      results.length === 0
        ? 'no changes'
        : `${count('done')} done, ${count('failed')} failed, ${count('skipped')} skipped`;
    const verdict = input.converged.get(name)?.ok ? 'converged' : 'NOT converged';
    const counters = input.counters.get(name);
    return [
      label,
      `${done}; ${verdict}${counters && counters.throttled > 0 ? `; ${throttleText(counters)}` : ''}`,
    ];
  });
  return `\nEnvironments:\n${alignColumns(rows)
    .map((l) => `  ${oneLine(l)}`)
    .join('\n')}\n`;
}
