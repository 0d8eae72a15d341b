import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { formatDiagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { escapeWorkflowData, escapeWorkflowProperty, oneLine } from '../../secrets/untrusted-text.js';

/**
 * Diagnostics as each reader wants them (pure): people (text: the line quoted with a caret under
 * the token, one entry per cause), GitHub (workflow annotations) and GitLab (a Code Quality report).
 * The machine formats keep one entry per place, since each place is annotated on its own line.
 */

/** The lines of a file a diagnostic points into, or undefined when it cannot be quoted. */
export type SourceLines = (file: string) => readonly string[] | undefined;

/**
 * Problems with a file as a whole, whose text is not quoted: it may not be a policy file at all
 * (a key, a certificate, a binary), and a file that is not ours must not be echoed.
 */
const UNQUOTED = new Set(['E_NOT_MAPPING', 'E_NOT_TEXT', 'E_FILE_TOO_LARGE', 'E_EMPTY_FILE']);

/** Most places listed under one cause; the rest are counted. */
const MAX_PLACES = 8;

/** The place a message starts with (`policies[0].rules[1].source: `): not part of its cause. */
const PLACE_PREFIX = /^(?:\(top level\)|[\w-]+(?:\[\d+\]|\["[^"]*"\]|\.[\w-]+)*): /;

function cause(d: Diagnostic): string {
  return `${d.severity}\u0000${d.code}\u0000${d.message.replace(PLACE_PREFIX, '')}`;
}

const where = (d: Diagnostic): string => (d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file);

/**
 * The end (exclusive) of the token that starts at `start` of `line`: a quoted string to its
 * closing quote, a flow collection to its closing bracket, a plain word to the next `,`, bracket,
 * `: `, ` #` or the end of the line.
 */
export function tokenEnd(line: string, start: number): number {
  const first = line[start];
  if (first === '"' || first === "'") {
    for (let i = start + 1; i < line.length; i++) {
      if (first === '"' && line[i] === '\\') i++;
      else if (line[i] === first) {
        if (first === "'" && line[i + 1] === "'") i++;
        else return i + 1;
      }
    }
    return line.length;
  }
  if (first === '[' || first === '{') {
    let depth = 0;
    for (let i = start; i < line.length; i++) {
      if (line[i] === '[' || line[i] === '{') depth++;
      else if ((line[i] === ']' || line[i] === '}') && --depth === 0) return i + 1;
    }
    return line.length;
  }
  let end = start;
  while (end < line.length) {
    const c = line[end] as string;
    const next = line[end + 1];
    if (',[]{}'.includes(c)) break;
    if (c === ':' && (next === undefined || next === ' ' || next === '\t')) break;
    if ((c === ' ' || c === '\t') && next === '#') break;
    end++;
  }
  while (end > start && (line[end - 1] === ' ' || line[end - 1] === '\t')) end--;
  return Math.max(end, start + 1);
}

/** The quoted line and a caret under the token, rustc style: `  8 |   - source: vpn` / `    |             ^^^`. */
function snippet(d: Diagnostic, lines: SourceLines): string[] {
  if (d.line <= 0 || UNQUOTED.has(d.code)) return [];
  const line = lines(d.file)?.[d.line - 1];
  if (line === undefined) return [];
  let start = Math.min(Math.max(d.col - 1, 0), line.length);
  // A parser may point at the indentation before the token: the caret goes under the token.
  while (start < line.length - 1 && (line[start] === ' ' || line[start] === '\t')) start++;
  const end = start < line.length ? tokenEnd(line, start) : start + 1;
  const number = String(d.line);
  const gutter = ' '.repeat(number.length);
  // Text from a pull request is shown on one line; the caret is placed under what is shown.
  const shownBefore = oneLine(line.slice(0, start)).replace(/[^\t]/g, ' ');
  const width = Math.max(1, oneLine(line.slice(start, end)).length);
  return [
    ` ${gutter} |`,
    ` ${number} | ${oneLine(line)}`.trimEnd(),
    ` ${gutter} | ${shownBefore}${'^'.repeat(width)}`,
  ];
}

/**
 * Text for people: each cause once (the same code and message after the place it names), at its
 * first place with the line quoted, then the other places it affects. `causes` counts what was
 * printed, by severity.
 */
export function renderDiagnosticsText(
  diagnostics: readonly Diagnostic[],
  lines: SourceLines,
): { text: string; causes: { errors: number; warnings: number } } {
  const groups = new Map<string, Diagnostic[]>();
  for (const d of diagnostics) {
    const key = cause(d);
    const group = groups.get(key);
    if (group) group.push(d);
    else groups.set(key, [d]);
  }
  const out: string[] = [];
  const causes = { errors: 0, warnings: 0 };
  for (const [first, ...others] of groups.values()) {
    if (first === undefined) continue;
    if (first.severity === 'error') causes.errors++;
    else causes.warnings++;
    out.push(formatDiagnostic(first), ...snippet(first, lines));
    if (others.length > 0) {
      const shown = others.slice(0, MAX_PLACES).map(where);
      const more = others.length > MAX_PLACES ? `, and ${others.length - MAX_PLACES} more` : '';
      const pad = ' '.repeat(String(first.line).length);
      out.push(oneLine(` ${pad} = also at ${shown.join(', ')}${more} (${others.length + 1} places)`));
    }
  }
  return { text: out.length > 0 ? `${out.join('\n')}\n` : '', causes };
}

/**
 * A diagnostic's file as a path from the repository root (`root`), which is how GitHub and GitLab
 * name files; `cwd` is what the file is relative to. Pseudo-files (`<args>`) and files outside
 * the root keep the name they have.
 */
export function pathFromRoot(file: string, cwd: string, root: string | undefined): string {
  if (root === undefined || file.startsWith('<')) return file;
  const path = relative(root, resolve(cwd, file));
  if (path === '' || path.startsWith('..') || isAbsolute(path)) return file;
  return path.split(sep).join('/');
}

/** One GitHub Actions annotation (`::error file=…,line=…::message`). */
export function githubAnnotation(d: Diagnostic, file = d.file): string {
  const props = [`file=${escapeWorkflowProperty(file)}`];
  if (d.line > 0) props.push(`line=${d.line}`, `col=${d.col}`);
  props.push(`title=${escapeWorkflowProperty(`ecfence ${d.code}`)}`);
  return `::${d.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeWorkflowData(d.message)}`;
}

/** One entry of GitLab's Code Quality report (the CodeClimate subset GitLab reads). */
export interface CodeQualityIssue {
  description: string;
  check_name: string;
  fingerprint: string;
  severity: 'major' | 'minor';
  location: { path: string; lines: { begin: number } };
}

/**
 * GitLab's Code Quality report (`gl-code-quality-report.json`). The fingerprint leaves the line
 * out, so a problem that only moved is not reported as new; repeats of one problem in one file
 * are told apart by their order.
 */
export function codeQualityReport(
  diagnostics: readonly Diagnostic[],
  pathOf: (d: Diagnostic) => string,
): CodeQualityIssue[] {
  const seen = new Map<string, number>();
  return diagnostics.map((d) => {
    const path = pathOf(d);
    const identity = `${d.code}\u0000${path}\u0000${d.message}`;
    const repeat = seen.get(identity) ?? 0;
    seen.set(identity, repeat + 1);
    return {
      description: `${d.code} ${d.message}`,
      check_name: d.code,
      fingerprint: createHash('sha256').update(`${identity}\u0000${repeat}`).digest('hex'),
      severity: d.severity === 'error' ? 'major' : 'minor',
      location: { path, lines: { begin: Math.max(1, d.line) } },
    };
  });
}
