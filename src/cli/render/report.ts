import type { ExecutionReport } from '../../execute/execute-plan.js';
import type { Plan } from '../../plan/types.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import { paint, type Colour } from '../io.js';
import { describeOperation, MARKERS } from './text.js';

const STATUS_COLOUR: Record<string, Colour> = { done: 'green', failed: 'red', skipped: 'yellow' };

/** The end-of-apply table: every operation with done / failed (reason) / skipped (dependency). */
export function renderReport(plan: Plan, report: ExecutionReport, options: { color: boolean }): string {
  const io = { color: options.color };
  const byId = new Map(report.results.map((r) => [r.id, r]));
  const lines = ['', 'Apply report:'];
  const envWidth = Math.max(0, ...plan.operations.map((o) => o.environment.length));
  for (const op of plan.operations) {
    const r = byId.get(op.id);
    const status = r?.status ?? 'skipped';
    const label = `${status.padEnd(7)}`;
    lines.push(
      `  ${paint(io, STATUS_COLOUR[status] ?? 'gray', label)} ${oneLine(op.environment).padEnd(envWidth)} ${MARKERS[op.action].verb.padEnd(10)} ${describeOperation(op)}`,
    );
    if (r?.reason) lines.push(`          ${paint(io, 'gray', oneLine(r.reason))}`);
  }
  lines.push(
    '',
    `Apply: ${report.done} done, ${report.failed} failed, ${report.skipped} skipped of ${plan.operations.length} in ${(report.durationMs / 1000).toFixed(1)}s.`,
  );
  return `${lines.join('\n')}\n`;
}
