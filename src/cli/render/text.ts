import { ruleDelta } from '../../diff/rules.js';
import { targetLabel, type Rule } from '../../model/types.js';
import { describeExposure } from '../../plan/exposure.js';
import type { FieldChange, Operation, Plan, PlanEnvironment, TargetExposure } from '../../plan/types.js';
import { someOf } from '../../model/suggest.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import { paint, type Colour } from '../io.js';

/** How each action is marked, one line per operation. */
export const MARKERS: Readonly<Record<Operation['action'], { mark: string; colour: Colour; verb: string }>> =
  {
    create: { mark: '+', colour: 'green', verb: 'create' },
    replace: { mark: '-/+', colour: 'magenta', verb: 'replace' },
    update: { mark: '~', colour: 'yellow', verb: 'update' },
    associate: { mark: '→', colour: 'cyan', verb: 'associate' },
    dissociate: { mark: '-→', colour: 'yellow', verb: 'dissociate' },
    delete: { mark: '-', colour: 'red', verb: 'delete' },
  };

export function ruleLabel(rule: Rule): string {
  const parts: string[] = [];
  if (rule.source) parts.push(rule.source);
  if (rule.azure_endpoint_name || rule.azure_endpoint_guid) {
    parts.push(`${rule.azure_endpoint_name ?? '?'} (${rule.azure_endpoint_guid ?? '?'})`);
  }
  if (rule.remote_cluster_id || rule.remote_cluster_org_id) {
    parts.push(`cluster ${rule.remote_cluster_id ?? '?'} of org ${rule.remote_cluster_org_id ?? '?'}`);
  }
  if (rule.egress_rule) {
    const e = rule.egress_rule;
    parts.push(
      `${e.protocol} to ${e.target}${e.ports && e.ports.length > 0 ? ` ports ${e.ports.join(',')}` : ''}`,
    );
  }
  if (rule.description) parts.push(`"${rule.description}"`);
  // Names, sources and descriptions come from an API or a pull request: shown, on one line.
  return oneLine(parts.join(' '));
}

function show(value: unknown): string {
  if (value === '' || value === undefined || value === null) return '(none)';
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Field-level lines of an update or replacement. */
export function changeLines(changes: readonly FieldChange[]): string[] {
  const lines: string[] = [];
  for (const c of changes) {
    if (c.field === 'rules') {
      const { added, removed } = ruleDelta(c.before as Rule[], c.after as Rule[]);
      if (added.length === 0 && removed.length === 0) {
        lines.push(`rules: reordered`);
        continue;
      }
      lines.push(`rules: +${added.length} -${removed.length}`);
      for (const r of added) lines.push(`  + ${ruleLabel(r)}`);
      for (const r of removed) lines.push(`  - ${ruleLabel(r)}`);
    } else {
      lines.push(`${c.field}: ${show(c.before)} → ${show(c.after)}`);
    }
  }
  return lines;
}

/** One-line description of an operation, without its marker (names and ids escaped to one line). */
export function describeOperation(op: Operation): string {
  return oneLine(operationText(op));
}

function operationText(op: Operation): string {
  const p = `${op.policy.region}/${op.policy.name}`;
  switch (op.action) {
    case 'create':
      return `${p} (${op.spec.type}, ${op.spec.rules.length} rule${op.spec.rules.length === 1 ? '' : 's'})`;
    case 'replace':
      return `${p} (${op.replaces.type} ${op.replaces.id} in ${op.replaces.region} → new ${op.spec.type} in ${op.spec.region})`;
    case 'update':
      return `${p} (${op.policy.type}, ${op.policy.id})`;
    case 'associate':
      return `${p} → ${targetLabel(op.target)}`;
    case 'dissociate':
      return `${p} (${op.policy.id}) from ${targetLabel(op.target)}`;
    case 'delete':
      return `${p} (${op.policy.type}, ${op.policy.id}, ${op.reason})`;
  }
}

/** The environments of a plan that could not be read (none in a 1.0 plan file). */
export function unreadableEnvironments(plan: Plan): PlanEnvironment[] {
  return (plan.environments ?? []).filter((e) => e.status === 'unreadable');
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The verdict line. A plan with a refusal never claims to be in sync: a refused policy (two live
 * copies that differ, say) is not what the configuration says, though no operation is planned.
 * Nor does one with an environment that could not be read: its changes are unknown.
 */
export function summaryLine(plan: Plan): string {
  const s = plan.summary;
  const refused = plan.refusals.length;
  const refusals = plural(refused, 'refusal');
  const unread = unreadableEnvironments(plan).length;
  const unknown =
    unread === 0
      ? ''
      : ` ${plural(unread, 'environment')} could not be read: ${unread === 1 ? 'its' : 'their'} changes are unknown.`;
  if (s.total === 0) {
    if (refused === 0 && unread === 0) return 'No changes. Live state matches the configuration.';
    if (refused === 0) {
      const read = (plan.environments ?? []).length - unread;
      return `${read === 0 ? 'Nothing planned.' : `No changes in the ${plural(read, 'environment')} read.`}${unknown}`;
    }
    return `No operations, ${refusals}: live state differs from the configuration until it is resolved.${unknown}`;
  }
  const parts = [
    `${s.create} to create`,
    `${s.replace} to replace`,
    `${s.update} to update`,
    `${s.associate} to associate`,
    `${s.dissociate} to dissociate`,
    `${s.delete} to delete`,
  ];
  return `Plan: ${parts.join(', ')}.${refused === 0 ? '' : ` ${refusals}.`}${unknown}`;
}

/** `onprem (ece, ece.example.com:12443)`: how a person finds an environment and its server. */
export function environmentLabel(env: Pick<PlanEnvironment, 'name' | 'api' | 'endpoint'>): string {
  return oneLine(`${env.name} (${env.api}, ${hostOf(env.endpoint)})`);
}

function hostOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

/**
 * Every environment of the plan, in the plan's order: the listed ones (format 1.1), then any other
 * that has an operation, note or refusal (a 1.0 plan file lists none).
 */
export function environmentsOf(plan: Plan): string[] {
  return [
    ...new Set([
      ...(plan.environments ?? []).map((e) => e.name),
      ...Object.keys(plan.fingerprints),
      ...plan.operations.map((o) => o.environment),
      ...plan.notes.map((n) => n.environment),
      ...plan.refusals.map((r) => r.environment),
    ]),
  ];
}

/** What the plan holds for one environment, in a few words (`3 operation(s)`, `no changes`). */
function environmentVerdict(plan: Plan, env: string): string {
  const listed = plan.environments?.find((e) => e.name === env);
  if (listed?.status === 'unreadable') return `NOT READ: ${listed.error ?? 'unknown error'}`;
  const ops = plan.operations.filter((o) => o.environment === env).length;
  const refused = plan.refusals.filter((r) => r.environment === env).length;
  const refusedText = refused > 0 ? `, ${refused} refused` : '';
  return ops > 0
    ? `${ops} operation(s)${refusedText}`
    : refused > 0
      ? `no operations${refusedText}`
      : 'no changes';
}

/**
 * The summary table of environments that ends a plan: shown when there is more than one, or when
 * one could not be read (with its host and the reason).
 */
export function environmentTable(plan: Plan): string[][] | undefined {
  const listed = plan.environments ?? [];
  if (listed.length < 2 && unreadableEnvironments(plan).length === 0) return undefined;
  return listed.map((e) => [e.name, e.api, hostOf(e.endpoint), environmentVerdict(plan, e.name)]);
}

/** The same access and addresses after as before: only which policies grant them changes. */
function sameAccess(e: TargetExposure): boolean {
  return (
    !e.opens_to_internet &&
    e.delta_ipv4 === 0 &&
    e.before.access === e.after.access &&
    e.before.private_endpoints === e.after.private_endpoints
  );
}

/** The plan as a reviewer reads it in a terminal or CI log. */
export function renderPlanText(plan: Plan, options: { color: boolean }): string {
  const io = { color: options.color };
  const out: string[] = [];
  for (const env of environmentsOf(plan)) {
    const ops = plan.operations.filter((o) => o.environment === env);
    const notes = plan.notes.filter((n) => n.environment === env);
    const listed = plan.environments?.find((e) => e.name === env);
    if (listed?.status === 'unreadable') {
      out.push(paint(io, 'red', `${environmentLabel(listed)}: NOT READ, nothing planned`));
      out.push(`  ${oneLine(listed.error ?? 'unknown error')}`, '');
      continue;
    }
    out.push(paint(io, 'bold', `${oneLine(env)}: ${environmentVerdict(plan, env)}`));
    for (const op of ops) {
      const m = MARKERS[op.action];
      out.push(
        `  ${paint(io, m.colour, `${m.mark.padEnd(3)} ${m.verb.padEnd(10)}`)} ${describeOperation(op)}`,
      );
      if (op.action === 'update' || op.action === 'replace') {
        for (const line of changeLines(op.changes)) out.push(`        ${line}`);
      }
    }
    for (const kind of [
      'auto_attached',
      'unmanaged',
      'unmanaged_association',
      'ambiguous',
      'duplicate',
      'incomplete',
    ] as const) {
      const some = notes.filter((n) => n.kind === kind);
      if (some.length === 0) continue;
      for (const n of some) out.push(`  ${paint(io, 'gray', `· ${oneLine(n.message)}`)}`);
    }
    const exposure = (plan.exposure ?? []).filter((e) => e.environment === env);
    if (exposure.length > 0) {
      out.push('  Exposure:');
      // Targets whose policies change but who gets in does not (a policy swapped for an equal one
      // on 400 deployments) are one line, not 400.
      const same = exposure.filter(sameAccess);
      for (const e of exposure) {
        if (same.includes(e)) continue;
        const line = oneLine(describeExposure(e));
        out.push(e.opens_to_internet ? `    ${paint(io, 'red', `! ${line}`)}` : `    ${line}`);
      }
      if (same.length > 0) {
        const via = [...new Set(same.flatMap((e) => e.via))].sort();
        out.push(
          oneLine(
            `    ${same.length} target(s): same access and number of IPv4 addresses${via.length > 0 ? ` (via ${someOf(via)})` : ''}`,
          ),
        );
      }
    }
    out.push('');
  }
  for (const r of plan.refusals) {
    out.push(paint(io, 'red', oneLine(`refused [${r.guard}] ${r.environment}: ${r.message}`)));
    if (r.override) out.push(`  to override: ${oneLine(r.override)}`);
  }
  if (plan.refusals.length > 0) out.push('');
  const table = environmentTable(plan);
  if (table) out.push('Environments:', ...alignColumns(table).map((l) => `  ${oneLine(l)}`), '');
  out.push(paint(io, 'bold', summaryLine(plan)));
  return `${out.join('\n')}\n`;
}

/** Rows of cells as lines, each column padded to its widest cell (the last one is not). */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
  );
}
