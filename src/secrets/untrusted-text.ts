/**
 * Text ecfence did not write (names, descriptions and messages from an API, values from a pull
 * request) is shown, never obeyed: it cannot add a line, move a terminal's cursor, or start a
 * GitHub Actions workflow command. These are the escapes that guarantee it.
 */
import type { Redactor } from './redactor.js';

/**
 * C0 and C1 controls, DEL, the Unicode line and paragraph separators and the bidirectional
 * overrides ("Trojan Source"): everything that can break a line or change how the rest is shown.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (c === '\n') return '\\n';
  if (c === '\r') return '\\r';
  if (c === '\t') return '\\t';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
}

/** `text` on one line, with every control character written as an escape (`\n`, `\x1b`, …). */
export function oneLine(text: string): string {
  CONTROL.lastIndex = 0;
  return CONTROL.test(text) ? text.replace(CONTROL, escapeChar) : text;
}

/** Controls of a whole output: like `oneLine`, but line feeds and tabs are kept. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const OUTPUT_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The colour codes ecfence itself writes on a terminal (`paint`). */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const SGR = /^\u001b\[\d{1,2}m/;

/**
 * A whole output (stdout, stderr) made safe to show: controls other than line feed and tab are
 * escaped, except, on a terminal, the colour codes and carriage returns ecfence writes itself.
 */
export function escapeOutputControls(text: string, terminal: boolean): string {
  OUTPUT_CONTROL.lastIndex = 0;
  if (!OUTPUT_CONTROL.test(text)) return text;
  return text.replace(OUTPUT_CONTROL, (c, offset: number) => {
    if (terminal && c === '\r') return c;
    if (terminal && c === '\u001b' && SGR.test(text.slice(offset, offset + 5))) return c;
    return escapeChar(c);
  });
}

/**
 * A line whose first non-blank characters are `::` is a workflow command to the GitHub Actions
 * runner, and so is any line holding `##[` (the legacy form, matched anywhere in a line). Output
 * that is not meant as one gets them defused: `\::` at the start of a line, and `##\u005b` for
 * `##[`, which inside a JSON or YAML double-quoted string is still the same text, and elsewhere
 * a visible escape. (A line cannot start with `::` inside JSON, nor inside the YAML ecfence
 * writes, where every string is on one line.)
 */
export function defuseWorkflowCommands(text: string): string {
  if (!text.includes('::') && !text.includes('##[')) return text;
  return defuseLegacyCommands(text.replace(/^([^\S\n]*)::/gm, '$1\\::'));
}

function defuseLegacyCommands(text: string): string {
  return text.includes('##[') ? text.replace(/##\[/g, '##\\u005b') : text;
}

/**
 * The final write of text to stdout or stderr (the CLI's `Io`, the GitHub scripts): controls
 * escaped, workflow commands defused, then, last, scrubbed of the run's secrets.
 */
export function safeOutput(redactor: Redactor, text: string, terminal: boolean): string {
  return redactor.scrub(defuseWorkflowCommands(escapeOutputControls(text, terminal)));
}

/** Characters JSON.stringify leaves as they are but `oneLine` escapes. */
const JSON_UNESCAPED = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * JSON text (a log line, `--format json`, a plan file) made as safe to show as other output, and
 * still the same JSON: the controls JSON.stringify leaves raw become `\u` escapes, and `##[`,
 * which in JSON can only be inside a string, becomes `##\u005b` (as `defuseWorkflowCommands`
 * writes it), so a plan file is byte for byte what `--format json` prints.
 */
export function escapeJsonText(json: string): string {
  JSON_UNESCAPED.lastIndex = 0;
  const escaped = JSON_UNESCAPED.test(json)
    ? json.replace(JSON_UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
  return defuseLegacyCommands(escaped);
}

/** `value` as indented JSON, one trailing newline, safe to show (see `escapeJsonText`). */
export function toSafeJson(value: unknown): string {
  return `${escapeJsonText(JSON.stringify(value, null, 2))}\n`;
}

/** The data part of a workflow command (after the second `::`), as the runner unescapes it. */
export function escapeWorkflowData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A property value of a workflow command (`file=…,title=…`). */
export function escapeWorkflowProperty(text: string): string {
  return escapeWorkflowData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
