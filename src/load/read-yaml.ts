import { readFileSync, statSync } from 'node:fs';
import { FAILSAFE_SCHEMA, load as loadFast, Type } from 'js-yaml';
import type { Document, LineCounter, Node } from 'yaml';
import { yamlLib } from '../yaml-lib.js';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourcePosition } from '../model/types.js';
import { readBlockYaml } from './yaml-block.js';

/** Files above this size are refused before they are read. */
export const MAX_FILE_BYTES = 5 * 1024 * 1024;
/** Alias expansions allowed per document: enough for honest reuse, far too few for a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

/** A step into a YAML document: a map key or a sequence index. */
export type PathSegment = string | number;

/**
 * One parsed YAML file. Its positions come from `yaml`'s document, which is built only when a
 * position is first asked for (`positionAt`, or reading a `lazyPositionAt`): most files of a large
 * estate never need one, and their documents would cost ten times the parse and most of the memory.
 */
export interface YamlFile {
  /** Path as shown in diagnostics (relative to the cwd). */
  file: string;
  absPath: string;
  /** The text as read, for quoting what the user wrote and for parsing positions from. */
  text: string;
  /** The document as plain data. */
  value: unknown;
}

/**
 * How files are parsed. `fast`: js-yaml gives the data and `yaml` is used for a file only when a
 * position in it is needed, or when its text uses what only the `yaml` path checks exactly (see
 * `fastParseable`). `exact`: every file through `yaml`, as the fast path falls back to.
 */
export type YamlParser = 'fast' | 'exact';

interface Located {
  doc: Document.Parsed;
  lineCounter: LineCounter;
}

// Keyed by the file object so that the model can stay plain data: a position knows its file, and
// the document is built at most once per file.
const documents = new WeakMap<YamlFile, Located>();

export interface ReadResult {
  /** Undefined when the file could not be read or parsed; `diagnostics` then say why. */
  yaml: YamlFile | undefined;
  diagnostics: Diagnostic[];
}

/**
 * Reads and parses one YAML file. Never throws: a missing, oversized, binary, empty or malformed
 * file gives diagnostics instead.
 */
export function readYamlFile(absPath: string, file: string, parser: YamlParser = 'fast'): ReadResult {
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
  return parseYamlBytes(bytes, absPath, file, parser);
}

/** Parses file contents already in memory (pure); see `readYamlFile`. */
export function parseYamlBytes(
  bytes: Uint8Array,
  absPath: string,
  file: string,
  parser: YamlParser = 'fast',
): ReadResult {
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
  return parseYamlText(text, absPath, file, parser);
}

export function parseYamlText(
  text: string,
  absPath: string,
  file: string,
  parser: YamlParser = 'fast',
): ReadResult {
  if (parser === 'fast') {
    const value = parseFast(text);
    if (value !== undefined) return { yaml: { file, absPath, text, value }, diagnostics: [] };
  }
  const { doc, lineCounter } = parseExact(text);
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
  if (doc.contents === null || (yamlLib().isScalar(doc.contents) && doc.contents.value === null)) {
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
  const yaml: YamlFile = { file, absPath, text, value };
  documents.set(yaml, { doc, lineCounter });
  return { yaml, diagnostics };
}

function parseExact(text: string): Located {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    uniqueKeys: true,
    prettyErrors: true,
    // Problems are diagnostics, never process warnings on stderr.
    logLevel: 'error',
  });
  return { doc, lineCounter };
}

function located(yaml: YamlFile): Located {
  let found = documents.get(yaml);
  if (found === undefined) {
    found = parseExact(yaml.text);
    documents.set(yaml, found);
  }
  return found;
}

// ------------------------------------------------------------------ the fast path

/*
 * js-yaml parses ten times faster than `yaml` and keeps no syntax tree, but it is not the reference:
 * `yaml` is (its messages and positions are what the diagnostics quote). So js-yaml is trusted only
 * where both are known to give the same data and the same verdict, and any doubt sends the file
 * down the `yaml` path: js-yaml throwing (syntax errors, duplicate keys: `yaml` then reports them
 * exactly), and text using features whose handling differs or that only `yaml` guards (below).
 */

// `yaml`'s YAML 1.2 core schema, resolver by resolver: js-yaml's own core schema also reads `0b1`
// and `1_000` as numbers, which `yaml` keeps as strings.
const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT_DEC = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_NAN = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

const coreNull = new Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  resolve: (data: string | null) => data === null || NULL.test(data),
  construct: () => null,
});

const coreBool = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (data: string) => BOOL.test(data),
  construct: (data: string) => data[0] === 't' || data[0] === 'T',
});

const coreInt = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string) => INT_OCT.test(data) || INT_DEC.test(data) || INT_HEX.test(data),
  construct: (data: string) =>
    INT_OCT.test(data)
      ? parseInt(data.slice(2), 8)
      : INT_HEX.test(data)
        ? parseInt(data.slice(2), 16)
        : parseInt(data, 10),
});

const coreFloat = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (data: string) => FLOAT_NAN.test(data) || FLOAT_EXP.test(data) || FLOAT.test(data),
  construct: (data: string) => {
    if (!FLOAT_NAN.test(data)) return parseFloat(data);
    if (data.endsWith('nan') || data.endsWith('NaN') || data.endsWith('NAN')) return NaN;
    return data.startsWith('-') ? -Infinity : Infinity;
  },
});

const CORE_TYPES = [coreNull, coreBool, coreInt, coreFloat];
const CORE_SCHEMA_OF_YAML = FAILSAFE_SCHEMA.extend({ implicit: CORE_TYPES });

/**
 * A plain scalar as the js-yaml path reads it (first matching resolver of CORE_TYPES, else the
 * string), for the block reader. Text starting with a letter other than n, t or f (and their
 * capitals) can only be a string: the common case skips the resolvers.
 */
export function resolvePlainScalar(text: string): unknown {
  const c = text.charCodeAt(0);
  const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  if (letter && !'nNtTfF'.includes(text.charAt(0))) return text;
  // No null, bool, int or float is written with a slash or a space (addresses, CIDRs, sentences).
  if (text.includes('/') || text.includes(' ')) return text;
  for (const type of CORE_TYPES) {
    if (type.resolve(text)) return type.construct(text);
  }
  return text;
}

/*
 * Text the fast path leaves to `yaml`. False alarms only cost speed, so these are broad:
 * - anchors, aliases and tags (`&a`, `*a`, `!t` where a node can start): alias expansion is limited
 *   (MAX_ALIAS_COUNT) on the `yaml` path only, and tags resolve differently;
 * - directives (`%YAML 1.1` switches `yaml` to another schema);
 * - tabs and lone carriage returns, where the two disagree on indentation and line breaks;
 * - explicit (`? `) and collection keys, which the two turn into different strings;
 * - a flow collection closed at its parent's indentation (a `yaml` warning, W_YAML);
 * - lines of 1,024 characters or more (implicit keys that long are an error in `yaml`).
 * Each pattern needs one of its characters, which most files do not contain at all: looking for
 * those first (a memchr each) spares running the patterns over every file, which took a tenth of
 * a large estate's parse.
 */
const NEEDS_EXACT: readonly { chars: string; pattern: RegExp }[] = [
  { chars: '&*!', pattern: /(?:^|[\s[\]{},:])[&*!]/m },
  { chars: '%', pattern: /^%/m },
  { chars: '\t', pattern: /\t/ },
  { chars: '\r', pattern: /\r(?!\n)/ },
  { chars: '?', pattern: /(?:^|[\s[{,])\?(?:\s|$)/m },
  { chars: ']}', pattern: /[\]}][ ]*:(?:\s|$)|^[ ]*[\]}]/m },
];
const MAX_FAST_LINE = 1023;

function needsExact(text: string): boolean {
  return NEEDS_EXACT.some(
    ({ chars, pattern }) => [...chars].some((c) => text.includes(c)) && pattern.test(text),
  );
}

/**
 * The data of `text` by the block reader or js-yaml, or undefined when the file must go through
 * `yaml`. The block reader declines everything but plain block style, and its keys are never
 * null-like, so its result needs no further check.
 */
function parseFast(text: string): unknown {
  if (needsExact(text) || hasLongLine(text)) return undefined;
  const block = readBlockYaml(text, resolvePlainScalar);
  if (block !== undefined) return block;
  let value: unknown;
  let warned = false;
  try {
    value = loadFast(text, {
      schema: CORE_SCHEMA_OF_YAML,
      onWarning: () => {
        warned = true;
      },
    });
  } catch {
    return undefined;
  }
  // Not a mapping (empty file, a scalar): the `yaml` path gives the exact diagnostic.
  if (warned || !isRecord(value) || hasNullKey(value)) return undefined;
  return value;
}

function hasLongLine(text: string): boolean {
  let start = 0;
  for (;;) {
    const end = text.indexOf('\n', start);
    if ((end === -1 ? text.length : end) - start > MAX_FAST_LINE) return true;
    if (end === -1) return false;
    start = end + 1;
  }
}

/** A `~:` or empty key: js-yaml names it 'null', `yaml` ''. ('null' written as a key falls back too.) */
function hasNullKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(hasNullKey);
  if (value === null || typeof value !== 'object') return false;
  if (Object.hasOwn(value, 'null')) return true;
  for (const key in value) {
    if (hasNullKey((value as Record<string, unknown>)[key])) return true;
  }
  return false;
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
  const { line, col } = lineColAt(yaml, path, options);
  return { file: yaml.file, line, col };
}

/**
 * `positionAt`, resolved when `line` or `col` is first read: plain data to every reader (spread,
 * JSON, deep equality), but the file's document is built only if someone looks. For positions kept
 * in the desired state, of which a plan reads none unless it has something to report.
 */
export function lazyPositionAt(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): SourcePosition {
  if (documents.has(yaml)) return positionAt(yaml, path, options);
  // Filled in rather than written as a literal: `{}` has room for the hidden field in the object itself.
  const position: Partial<SourcePosition> = {};
  position.file = yaml.file;
  const pending: PendingPosition = { yaml, path, options, resolved: undefined };
  Object.defineProperty(position, PENDING, { value: pending });
  return Object.defineProperties(position, LAZY_LINE_COL) as SourcePosition;
}

/*
 * A large estate keeps tens of thousands of lazy positions. Getters written in an object literal are
 * new closures for each position, and such objects fall back to a slow dictionary layout (about
 * 750 bytes and 4 µs each on the bench machine); these share one pair of getters, which find what
 * to look up under a symbol that is not enumerable (so no reader of the position sees it), and take
 * about a third of that.
 */
const PENDING = Symbol('pending position');

interface PendingPosition {
  yaml: YamlFile;
  path: readonly PathSegment[];
  options: { key?: boolean };
  resolved: { line: number; col: number } | undefined;
}

function resolvePending(position: object): { line: number; col: number } {
  const pending = (position as { [PENDING]: PendingPosition })[PENDING];
  return (pending.resolved ??= lineColAt(pending.yaml, pending.path, pending.options));
}

const LAZY_LINE_COL: PropertyDescriptorMap = {
  line: {
    enumerable: true,
    configurable: true,
    get(this: object) {
      return resolvePending(this).line;
    },
  },
  col: {
    enumerable: true,
    configurable: true,
    get(this: object) {
      return resolvePending(this).col;
    },
  },
};

function lineColAt(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: { key?: boolean },
): { line: number; col: number } {
  const { node, keyNode } = nodeAt(yaml, path);
  const target = options.key && keyNode !== undefined ? keyNode : node;
  const offset = rangeOf(target)?.[0] ?? rangeOf(keyNode)?.[0] ?? 0;
  return located(yaml).lineCounter.linePos(offset);
}

/** The text written for the value at `path` (e.g. `1e5` before YAML read it as a number). */
export function sourceTextAt(yaml: YamlFile, path: readonly PathSegment[]): string | undefined {
  const range = rangeOf(nodeAt(yaml, path).node);
  return range ? yaml.text.slice(range[0], range[1]) : undefined;
}

function nodeAt(yaml: YamlFile, path: readonly PathSegment[]): { node: unknown; keyNode: unknown } {
  const { doc } = located(yaml);
  const { isAlias, isMap, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let keyNode: unknown;
  let last: unknown = node;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
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
  if (yamlLib().isScalar(key)) return String(key.value);
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
  const { visit } = yamlLib();
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
