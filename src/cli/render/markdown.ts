import { ACTIONS, type Action, type Operation, type Plan, type PlanNote } from '../../plan/types.js';
import { describeExposure } from '../../plan/exposure.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import {
  changeLines,
  describeOperation,
  environmentLabel,
  environmentsOf,
  environmentTable,
  MARKERS,
  summaryLine,
  unreadableEnvironments,
} from './text.js';

/** GitHub refuses comments over 65,536 characters; the rest is headroom for the caller's marker. */
export const MARKDOWN_LIMIT = 60_000;

/** Notes of one kind shown before "and N more": a thousand unmanaged policies must not bury the plan. */
const NOTES_PER_KIND = 20;

const NOTE_TITLES: Readonly<Record<PlanNote['kind'], string>> = {
  ambiguous: 'Ambiguous policies (nothing planned for them)',
  duplicate: 'Duplicates merged (identical copies of one policy: one kept, the others deleted)',
  incomplete: 'Incomplete listings (deletes refused)',
  unmanaged: 'Unmanaged policies (left untouched)',
  unmanaged_association: 'Unmanaged associations on changed targets (kept)',
  auto_attached: 'Auto-attached associations (include_by_default, kept)',
};

/** Most important first: what blocks or surprises a reviewer before what only informs. */
const NOTE_ORDER: readonly PlanNote['kind'][] = [
  'ambiguous',
  'duplicate',
  'incomplete',
  'unmanaged_association',
  'auto_attached',
  'unmanaged',
];

/**
 * Text from API or YAML (names, descriptions) must not turn into markup, links or HTML, nor break
 * the line it is on (a new line could start a heading, a table or a workflow command).
 */
export function escapeMarkdown(text: string): string {
  // GFM honours a backslash before any ASCII punctuation, in tables too.
  return oneLine(text).replace(/[\\`*_[\]<>|~&]/g, (c) => `\\${c}`);
}

/** A fenced block whose fence is longer than any backtick run inside, so content cannot close it. */
function fenced(lang: string, lines: readonly string[]): string {
  const longest = Math.max(
    2,
    ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((m) => m.length))),
  );
  const fence = '`'.repeat(longest + 1);
  return `${fence}${lang}\n${lines.join('\n')}\n${fence}`;
}

function summaryTable(plan: Plan, envs: readonly string[]): string[] {
  const header = `| Environment | ${ACTIONS.join(' | ')} | total |`;
  const rule = `|---|${ACTIONS.map(() => '--:').join('|')}|--:|`;
  const rows = envs.map((env) => {
    const ops = plan.operations.filter((o) => o.environment === env);
    const counts = ACTIONS.map((a) => ops.filter((o) => o.action === a).length);
    return `| ${escapeMarkdown(env)} | ${counts.join(' | ')} | ${ops.length} |`;
  });
  const s = plan.summary;
  const total = `| **all** | ${ACTIONS.map((a) => s[a]).join(' | ')} | ${s.total} |`;
  return [header, rule, ...rows, ...(envs.length > 1 ? [total] : [])];
}

/** Environments that could not be read lead the comment: the plan says nothing about them. */
function unreadableLines(plan: Plan): string[] {
  const unread = unreadableEnvironments(plan);
  if (unread.length === 0) return [];
  const lines = [
    '> [!CAUTION]',
    `> **${unread.length} environment(s) could not be read: nothing is planned for them, and their changes are unknown.**`,
    '>',
  ];
  for (const e of unread) {
    lines.push(
      `> - **${escapeMarkdown(environmentLabel(e))}**: ${escapeMarkdown(e.error ?? 'unknown error')}`,
    );
  }
  return [...lines, ''];
}

/** The table of environments that ends the comment (see `environmentTable`). */
function environmentTableLines(plan: Plan): string[] {
  const rows = environmentTable(plan);
  if (!rows) return [];
  return [
    '',
    '**Environments**',
    '',
    '| Environment | API | Host | Status |',
    '|---|---|---|---|',
    ...rows.map((cells) => `| ${cells.map(escapeMarkdown).join(' | ')} |`),
    '',
  ];
}

function refusalLines(plan: Plan): string[] {
  if (plan.refusals.length === 0) return [];
  const lines = [
    '> [!CAUTION]',
    `> **${plan.refusals.length} refusal(s): \`apply\` will refuse this plan (exit 4).**`,
    '>',
  ];
  for (const r of plan.refusals) {
    lines.push(
      `> - **${r.guard}** in ${escapeMarkdown(r.environment)}${r.blocking ? '' : ' (only its own operations are skipped)'}: ${escapeMarkdown(r.message)}`,
    );
    if (r.override) lines.push(`>   To override: ${escapeMarkdown(r.override)}`);
  }
  return [...lines, ''];
}

function noteLines(plan: Plan): string[] {
  if (plan.notes.length === 0) return [];
  const lines = ['> [!NOTE]', `> **${plan.notes.length} note(s)**`];
  for (const kind of NOTE_ORDER) {
    const some = plan.notes.filter((n) => n.kind === kind);
    if (some.length === 0) continue;
    lines.push('>', `> ${NOTE_TITLES[kind]}:`);
    for (const n of some.slice(0, NOTES_PER_KIND)) {
      lines.push(`> - ${escapeMarkdown(n.environment)}: ${escapeMarkdown(n.message)}`);
    }
    if (some.length > NOTES_PER_KIND) lines.push(`> - … and ${some.length - NOTES_PER_KIND} more`);
  }
  return [...lines, ''];
}

/** Most surprising first: targets that open to the internet lead, as a warning. */
function exposureLines(plan: Plan): string[] {
  const all = plan.exposure ?? [];
  if (all.length === 0) return [];
  const opening = all.filter((e) => e.opens_to_internet);
  const lines: string[] = [];
  if (opening.length > 0) {
    lines.push(
      '> [!WARNING]',
      `> **${opening.length} target(s) become unfiltered: open to the whole internet.**`,
    );
    for (const e of opening)
      lines.push(`> - ${escapeMarkdown(e.environment)}: ${escapeMarkdown(describeExposure(e))}`);
    lines.push('');
  }
  lines.push(`**Exposure** (${all.length} target(s) whose ingress changes)`, '');
  for (const e of all.slice(0, NOTES_PER_KIND * 5)) {
    lines.push(`- ${escapeMarkdown(e.environment)}: ${escapeMarkdown(describeExposure(e))}`);
  }
  if (all.length > NOTES_PER_KIND * 5)
    lines.push(`- … and ${all.length - NOTES_PER_KIND * 5} more (see the JSON plan)`);
  return [...lines, ''];
}

function operationBlock(op: Operation): string {
  const m = MARKERS[op.action];
  const head = `- \`${m.mark}\` ${escapeMarkdown(describeOperation(op))}`;
  if (op.action !== 'update' && op.action !== 'replace') return head;
  // changeLines indents rule additions/removals; unindented +/- lines are what `diff` colours.
  const details = changeLines(op.changes).map((l) =>
    l.startsWith('  + ') || l.startsWith('  - ') ? l.slice(2) : `  ${l}`,
  );
  const block = fenced('diff', details)
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
  return `${head}\n\n${block}`;
}

function groupOpen(action: Action, count: number): string {
  // Additions are open by default; the destructive groups too, so nobody approves them unseen.
  const open = action === 'create' ? '' : ' open';
  return `<details${open}><summary><b>${MARKERS[action].verb}</b> (${count})</summary>\n\n`;
}
const GROUP_CLOSE = '\n</details>\n';

/**
 * The plan as a pull-request comment (GitHub-flavoured Markdown). Pure. Refusals and notes come
 * first, then a summary table per environment, then the operations grouped by environment and
 * action in collapsible sections with field-level details. Never longer than `limit` characters:
 * when it would be, operations are left out and an explicit note says how many, and that the full
 * plan is the JSON plan file (`plan --out`).
 */
export function renderPlanMarkdown(plan: Plan, options: { limit?: number } = {}): string {
  const limit = options.limit ?? MARKDOWN_LIMIT;
  const unread = new Set(unreadableEnvironments(plan).map((e) => e.name));
  const envs = environmentsOf(plan).filter((env) => !unread.has(env));
  const head: string[] = ['### ecfence plan', '', `**${escapeMarkdown(summaryLine(plan))}**`, ''];
  head.push(...unreadableLines(plan), ...refusalLines(plan), ...summaryTable(plan, envs), '');
  head.push(...noteLines(plan));
  head.push(...exposureLines(plan));
  let out = `${head.join('\n')}\n`;

  const truncation = (shown: number): string =>
    `\n> [!WARNING]\n> **This comment is truncated: ${shown} of ${plan.operations.length} operations are shown.** ` +
    'The full plan is in the JSON plan file (`ecfence plan --out plan.json`, or `--format json`).\n';
  const tail = environmentTableLines(plan).join('\n');
  // Room kept for the truncation note at its longest (numbers included), and the closing table.
  const reserve = truncation(plan.operations.length).length + 16 + tail.length;
  if (out.length + reserve > limit) {
    // Even the notes do not fit: keep the verdict and the refusals, cut at the end of a line (a cut
    // inside one could leave part of a name, or of anything else in it).
    const verdict = `${head.slice(0, 4).join('\n')}\n${[...unreadableLines(plan), ...refusalLines(plan)].join('\n')}\n`;
    out =
      verdict.length <= limit - reserve
        ? verdict
        : verdict.slice(0, verdict.lastIndexOf('\n', limit - reserve - 1) + 1);
  }

  let shown = 0;
  let truncated = false;
  outer: for (const env of envs) {
    const ops = plan.operations.filter((o) => o.environment === env);
    if (ops.length === 0) continue;
    const envHead = `#### ${escapeMarkdown(env)}: ${ops.length} operation(s)\n\n`;
    if (out.length + envHead.length + reserve > limit) {
      truncated = true;
      break;
    }
    out += envHead;
    for (const action of ACTIONS) {
      const group = ops.filter((o) => o.action === action);
      if (group.length === 0) continue;
      const open = groupOpen(action, group.length);
      if (out.length + open.length + GROUP_CLOSE.length + reserve > limit) {
        truncated = true;
        break outer;
      }
      out += open;
      for (const op of group) {
        const block = `${operationBlock(op)}\n`;
        if (out.length + block.length + GROUP_CLOSE.length + reserve > limit) {
          out += GROUP_CLOSE;
          truncated = true;
          break outer;
        }
        out += block;
        shown++;
      }
      out += `${GROUP_CLOSE}\n`;
    }
  }
  if (truncated || shown < plan.operations.length) out += truncation(shown);
  return tail === '' ? out : `${out}${tail}`;
}
