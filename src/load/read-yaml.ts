import { readFileSync, statSync } from 'node:fs';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourcePosition } from '../model/types.js';

/** Files above this size are refused before they are read. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Alias expansions allowed per document: enough for honest reuse, far too few for a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

/** A step into a YAML document: a map key or a sequence index. */
export type PathSegment = string | number;

/** One parsed YAML file, with what is needed to turn a data path into `file:line:col`. */
export interface YamlFile {
  /** Path as shown in diagnostics (relative to the cwd). */
  file: string;
  absPath: string;
  /** The text as read, for quoting what the user wrote. */
  text: string;
  doc: Document.Parsed;
  lineCounter: LineCounter;
  /** The document as plain data. */
  value: unknown;
}

export interface ReadResult {
  /** Undefined when the file could not be read or parsed; `diagnostics` then say why. */
  yaml: YamlFile | undefined;
  diagnostics: Diagnostic[];
}

/**
 * Reads and parses one YAML file. Never throws: a missing, oversized, binary, empty or malformed
 * file gives diagnostics instead.
 */
export function readYamlFile(absPath: string, file: string): ReadResult {
  let size: number;
  try {
    size = statSync(absPath).size;
  } catch {
    return fail('E_FILE_NOT_FOUND', `cannot read '${file}': no such file`, { file });
  }
  if (size > MAX_FILE_BYTES) return tooLarge(file, size);
  let bytes: Buffer;
  try {
    bytes = readFileSync(absPath);
  } catch (err) {
    const reason = err instanceof Error && 'code' in err ? String(err.code) : 'read error';
    return fail('E_FILE_NOT_FOUND', `cannot read '${file}' (${reason})`, { file });
  }
  return parseYamlBytes(bytes, absPath, file);
}

/** Parses file contents already in memory (pure); see `readYamlFile`. */
export function parseYamlBytes(bytes: Uint8Array, absPath: string, file: string): ReadResult {
  if (bytes.length > MAX_FILE_BYTES) return tooLarge(file, bytes.length);
  if (bytes.includes(0)) {
    return fail('E_NOT_TEXT', `'${file}' is not a text file (it contains NUL bytes)`, { file });
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return fail('E_NOT_TEXT', `'${file}' is not valid UTF-8 text`, { file });
  }
  return parseYamlText(text, absPath, file);
}

export function parseYamlText(text: string, absPath: string, file: string): ReadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: true,
    // Problems are diagnostics, never process warnings on stderr.
    logLevel: 'error',
  });
  const diagnostics: Diagnostic[] = [];
  for (const err of doc.errors) {
    const pos = err.linePos?.[0];
    const at = { file, line: pos?.line ?? 1, col: pos?.col ?? 1 };
    if (err.code === 'DUPLICATE_KEY') {
      const key = /^("[^"\n]*"|'[^'\n]*'|[^:\n]*?)\s*:/.exec(text.slice(err.pos[0]))?.[1] ?? '';
      const shown = key.length > 0 && key.length <= 60 ? ` '${key}'` : '';
      diagnostics.push(
        diagnostic(
          'error',
          'E_DUPLICATE_KEY',
          `duplicate key${shown}: each key may appear once in a mapping`,
          at,
        ),
      );
    } else {
      diagnostics.push(diagnostic('error', 'E_YAML', firstLine(err.message), at));
    }
  }
  for (const warning of doc.warnings) {
    const pos = warning.linePos?.[0];
    diagnostics.push(
      diagnostic('warning', 'W_YAML', firstLine(warning.message), {
        file,
        line: pos?.line ?? 1,
        col: pos?.col ?? 1,
      }),
    );
  }
  if (doc.errors.length > 0) return { yaml: undefined, diagnostics };
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    diagnostics.push(
      diagnostic('error', 'E_EMPTY_FILE', `'${file}' is empty: expected a YAML mapping`, {
        file,
        line: 1,
        col: 1,
      }),
    );
    return { yaml: undefined, diagnostics };
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    const at = firstAliasPosition(doc, lineCounter) ?? { line: 1, col: 1 };
    const reason =
      err instanceof ReferenceError && /alias count/i.test(err.message)
        ? `too many alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?`
        : `cannot be read as data: ${err instanceof Error ? firstLine(err.message) : String(err)}`;
    diagnostics.push(diagnostic('error', 'E_YAML', reason, { file, ...at }));
    return { yaml: undefined, diagnostics };
  }
  return { yaml: { file, absPath, text, doc, lineCounter, value }, diagnostics };
}

/**
 * Position of the node at `path` (or of its key, with `key: true`). When the path leads nowhere
 * (e.g. a required field that is missing) the deepest existing node is used.
 */
export function positionAt(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): SourcePosition {
  const { node, keyNode } = nodeAt(yaml, path);
  const target = options.key && keyNode !== undefined ? keyNode : node;
  const offset = rangeOf(target)?.[0] ?? rangeOf(keyNode)?.[0] ?? 0;
  const { line, col } = yaml.lineCounter.linePos(offset);
  return { file: yaml.file, line, col };
}

/** The text written for the value at `path` (e.g. `1e5` before YAML read it as a number). */
export function sourceTextAt(yaml: YamlFile, path: readonly PathSegment[]): string | undefined {
  const range = rangeOf(nodeAt(yaml, path).node);
  return range ? yaml.text.slice(range[0], range[1]) : undefined;
}

function nodeAt(yaml: YamlFile, path: readonly PathSegment[]): { node: unknown; keyNode: unknown } {
  let node: unknown = yaml.doc.contents;
  let keyNode: unknown;
  let last: unknown = node;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(yaml.doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => keyText(p.key) === String(segment));
      if (pair === undefined) break;
      keyNode = pair.key;
      node = pair.value ?? pair.key;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      if (item === undefined) break;
      keyNode = undefined;
      node = item;
    } else {
      break;
    }
    last = node;
  }
  return { node: last, keyNode };
}

/** `policies[0].rules[1].source`: how a data path is named in messages. */
export function describePath(root: unknown, path: readonly PathSegment[]): string {
  let out = '';
  let value: unknown = root;
  for (const segment of path) {
    if (Array.isArray(value)) {
      out += `[${segment}]`;
      value = value[Number(segment)];
    } else {
      const key = String(segment);
      out += /^[A-Za-z0-9_-]+$/.test(key) ? `${out === '' ? '' : '.'}${key}` : `[${JSON.stringify(key)}]`;
      value = isRecord(value) ? value[key] : undefined;
    }
  }
  return out === '' ? '(top level)' : out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function keyText(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return typeof key === 'string' ? key : undefined;
}

function rangeOf(node: unknown): Node['range'] | undefined {
  return (node as Partial<Pick<Node, 'range'>> | undefined)?.range;
}

function firstAliasPosition(
  doc: Document.Parsed,
  lineCounter: LineCounter,
): { line: number; col: number } | undefined {
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset === undefined ? undefined : lineCounter.linePos(offset);
}

/** yaml's pretty messages add " at line L, column C:" and a code frame; the position is given apart. */
function firstLine(message: string): string {
  const line = message.split('\n')[0] ?? message;
  return line.replace(/ at line \d+, column \d+:?\s*$/, '').trim();
}

function tooLarge(file: string, size: number): ReadResult {
  const mib = (n: number) => (n / (1024 * 1024)).toFixed(1);
  return fail(
    'E_FILE_TOO_LARGE',
    `'${file}' is ${mib(size)} MiB; files larger than ${mib(MAX_FILE_BYTES)} MiB are refused`,
    { file },
  );
}

function fail(code: string, message: string, at: { file: string }): ReadResult {
  return { yaml: undefined, diagnostics: [diagnostic('error', code, message, at)] };
}
