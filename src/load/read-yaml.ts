import type { Document, Node, Pair } from 'yaml';
import { yamlLib } from '../yaml-lib.js';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { SourcePosition } from '../model/types.js';
import { readInputFile } from './input-files.js';

/** Alias expansions allowed per document: enough for honest reuse, far too few for a "billion laughs". */
export const MAX_ALIAS_COUNT = 100;

/** A step into a YAML document: a map key or a sequence index. */
export type PathSegment = string | number;

/**
 * One parsed YAML file: its data, and (kept apart, see `positionAt`) where each value was written.
 * Both come from one parse by `yaml` (YAML 1.2, core schema): there is no other reader.
 */
export interface YamlFile {
  /** Path as shown in diagnostics (relative to the cwd). */
  file: string;
  absPath: string;
  /** The text as read, for quoting what the user wrote. */
  text: string;
  /** The document as plain data: always a mapping at the top level (the reader refuses others). */
  value: unknown;
}

/**
 * Where the values of one file were written, as offsets into its text. The parsed document is
 * dropped once read (keeping a large estate's documents would cost most of the memory of a plan):
 * this keeps only what a position needs. `index` maps each mapping and sequence of the data to its
 * first slot in `offsets`, where a mapping has three slots per key (key start, value start, value
 * end), in `Object.keys` order, and a sequence two per item (start, end). Plain data throughout.
 */
export interface YamlPositions {
  /** Offset of the first character of each line. */
  lineStarts: readonly number[];
  /** Start and end of the whole document's value. */
  root: readonly [number, number];
  index: Map<object, number>;
  offsets: Int32Array;
}

const positionsOf = new WeakMap<YamlFile, YamlPositions>();

export interface ReadResult {
  /** Undefined when the file could not be read or parsed; `diagnostics` then say why. */
  yaml: YamlFile | undefined;
  diagnostics: Diagnostic[];
}

/**
 * Reads and parses one YAML file. Never throws: a missing, special, oversized, binary, empty or
 * malformed file gives diagnostics instead.
 */
export function readYamlFile(absPath: string, file: string): ReadResult {
  const read = readInputFile(absPath, file);
  if ('diagnostics' in read) return { yaml: undefined, diagnostics: read.diagnostics };
  return parseYamlText(read.text, absPath, file);
}

/** Parses file contents already in memory (pure); see `readYamlFile`. */
export function parseYamlText(text: string, absPath: string, file: string): ReadResult {
  const parsed = parseYaml(text);
  const at = (offset: number) => ({ file, ...lineCol(parsed.lineStarts, offset) });
  const diagnostics = parsed.problems.map((p) =>
    diagnostic(p.severity, p.code, p.message(file), at(p.offset)),
  );
  if (parsed.value === undefined || parsed.positions === undefined) return { yaml: undefined, diagnostics };
  const yaml: YamlFile = { file, absPath, text, value: parsed.value };
  positionsOf.set(yaml, parsed.positions);
  return { yaml, diagnostics };
}

/** A problem found while parsing, at an offset of the text; the message is given the file's name. */
interface Problem {
  severity: Diagnostic['severity'];
  code: string;
  offset: number;
  message: (file: string) => string;
}

interface Parsed {
  value: Record<string, unknown> | undefined;
  positions: YamlPositions | undefined;
  lineStarts: readonly number[];
  problems: Problem[];
}

/**
 * The one YAML reader: `yaml`'s parse of one document (YAML 1.2 core schema, duplicate keys
 * refused), its data with at most MAX_ALIAS_COUNT alias expansions, and the positions of every
 * value. A syntax error is reported once, where it first happened: what follows it cannot be
 * trusted, and a parser that recovers reports the same slip several times over.
 */
function parseYaml(text: string): Parsed {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = withPlainEnv(() =>
    parseDocument(text, {
      lineCounter,
      schema: 'core',
      // Duplicate keys are found while positions are indexed (`yaml`'s own check compares each
      // key with every other: a mapping of 20,000 keys took seconds, a 5 MiB file hours).
      uniqueKeys: false,
      prettyErrors: false,
      // Problems are diagnostics, never process warnings on stderr.
      logLevel: 'error',
    }),
  );
  const lineStarts = lineCounter.lineStarts;
  const failed = (problems: Problem[]): Parsed => ({
    value: undefined,
    positions: undefined,
    lineStarts,
    problems,
  });
  const problems = doc.warnings.map((w) => warningProblem(w.code, w.pos[0]));
  if (doc.errors.length > 0) return failed([...problems, ...errorProblems(doc)]);
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    return failed([
      problem(
        'E_YAML',
        0,
        () => `files are read as YAML 1.2: remove the '%YAML ${doc.directives?.yaml.version}' line`,
      ),
    ]);
  }
  const contents = doc.contents;
  const { isMap, isScalar } = yamlLib();
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    return failed([problem('E_EMPTY_FILE', 0, (file) => `'${file}' is empty: expected a YAML mapping`)]);
  }
  if (!isMap(contents)) {
    // Its content is not quoted: a file that is not ours (a key, a credential) must not be echoed.
    const kind = yamlLib().isSeq(contents) ? 'a list' : 'a single value';
    return failed([
      problem(
        'E_NOT_MAPPING',
        contents.range?.[0] ?? 0,
        (file) => `'${file}' must hold a YAML mapping (key: value lines) at the top level, not ${kind}`,
      ),
    ]);
  }
  let value: Record<string, unknown>;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) as Record<string, unknown>;
  } catch (err) {
    // Both ways an alias can fail: to an anchor not defined above it, or expanded too often.
    if (!(err instanceof ReferenceError)) throw err;
    const unresolved = unresolvedAliasOffset(doc);
    return failed([
      unresolved === undefined
        ? problem(
            'E_YAML',
            firstAliasOffset(doc),
            () => `too many alias expansions (more than ${MAX_ALIAS_COUNT}); is this an alias bomb?`,
          )
        : problem('E_YAML', unresolved, () => UNKNOWN_ANCHOR),
    ]);
  }
  const builder = new PositionsBuilder();
  const root = builder.rangeOf(contents);
  builder.add(contents, value);
  if (builder.problems.length > 0) return failed(builder.problems);
  return {
    value,
    positions: { lineStarts, root, index: builder.index, offsets: Int32Array.from(builder.offsets) },
    lineStarts,
    problems,
  };
}

/*
 * `yaml` reads process.env.LOG_TOKENS for every token it parses, and Node's process.env looks each
 * read up in the process environment: about a fifth of a large file's parse. The parse is
 * synchronous, so for its duration the environment is a plain copy (same names, same values).
 */
function withPlainEnv<T>(parse: () => T): T {
  const env = process.env;
  process.env = { ...env };
  try {
    return parse();
  } finally {
    process.env = env;
  }
}

function problem(code: string, offset: number, message: (file: string) => string): Problem {
  return { severity: 'error', code, offset, message };
}

/** The first error of the file: what follows a syntax error cannot be trusted. */
function errorProblems(doc: Document.Parsed): Problem[] {
  const first = [...doc.errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  return first === undefined ? [] : [syntaxProblem(first.code, first.message, first.pos[0])];
}

const MISALIGNED =
  "this line's indentation does not match the lines around it: the keys of one mapping, and the '- ' of one list's items, line up in one column";
const UNCLOSED_FLOW =
  "a '[...]' list or '{...}' mapping is not closed, or a ',' is missing between its items";

/*
 * The parser's findings in our words. `yaml` names each by a code; a few codes cover several
 * slips, told apart by the parser's message. The first entry matching the code (and the message,
 * when it gives a pattern) wins.
 */
const SYNTAX_MESSAGES: readonly { code: string; match?: RegExp; say: string }[] = [
  { code: 'MULTIPLE_DOCS', say: "a second YAML document starts here ('---'): a file holds one document" },
  { code: 'MISSING_CHAR', match: /quote/i, say: 'a quoted value is not closed: add the closing quote' },
  {
    code: 'MISSING_CHAR',
    match: /comment/i,
    say: "'#' starts a comment only after a space: add a space before it, or quote the value",
  },
  { code: 'MISSING_CHAR', match: /without - indicator/i, say: MISALIGNED },
  {
    code: 'MISSING_CHAR',
    match: /followed by map values/i,
    say: "a key without ':' after it (write 'key: value')",
  },
  { code: 'MISSING_CHAR', match: /space after :/i, say: "a ':' must be followed by a space" },
  { code: 'MISSING_CHAR', match: /Missing ,|flow (sequence|map|collection)|end with/i, say: UNCLOSED_FLOW },
  { code: 'BAD_INDENT', match: /flow (sequence|map|collection)|end with/i, say: UNCLOSED_FLOW },
  {
    code: 'MISSING_CHAR',
    say: "something is missing here: a closing quote or bracket, a ',' between items, or a ':' after a key",
  },
  { code: 'BAD_INDENT', say: MISALIGNED },
  { code: 'TAB_AS_INDENT', say: 'a tab is used to indent: YAML indents with spaces only' },
  {
    code: 'BLOCK_AS_IMPLICIT_KEY',
    say: "this line is not indented like the lines around it, or a value holds an unquoted ': '",
  },
  {
    code: 'MULTILINE_IMPLICIT_KEY',
    say: "a key must be written on one line: check the indentation above, or quote a value holding ': '",
  },
  { code: 'KEY_OVER_1024_CHARS', say: 'a key longer than 1,024 characters' },
  {
    code: 'BLOCK_IN_FLOW',
    say: "a '[...]' list or '{...}' mapping cannot hold lines of '- ' items or 'key: value' lines",
  },
  {
    code: 'BAD_SCALAR_START',
    say: 'a value cannot start with this character (@ or `) unquoted: put it in quotes',
  },
  {
    code: 'BAD_DQ_ESCAPE',
    say: "an unknown '\\' escape in a double-quoted value: write '\\\\' for a backslash",
  },
  { code: 'BAD_ALIAS', say: 'an anchor (&name) or alias (*name) that is empty or ends in a colon' },
  { code: 'ALIAS_PROPS', say: 'an alias (*name) cannot have a tag or an anchor' },
  { code: 'MULTIPLE_ANCHORS', say: 'a value can have one anchor (&name)' },
  { code: 'MULTIPLE_TAGS', say: 'a value can have one tag (!tag)' },
  { code: 'BAD_PROP_ORDER', say: "an anchor or tag must come after '- ' or ': ', not before it" },
  { code: 'BAD_DIRECTIVE', say: "a '%' directive line that YAML 1.2 does not know" },
  { code: 'RESOURCE_EXHAUSTION', say: 'lists or mappings nested too deeply to be read' },
];

const UNKNOWN_ANCHOR = 'an alias (*name) to an anchor (&name) that is not defined above it';

function syntaxProblem(code: string, libraryMessage: string, offset: number): Problem {
  const entry = SYNTAX_MESSAGES.find((m) => m.code === code && (m.match?.test(libraryMessage) ?? true));
  const say = entry?.say ?? 'this is not valid YAML (check the indentation, quotes and brackets here)';
  return problem(code === 'MULTIPLE_DOCS' ? 'E_MULTIPLE_DOCUMENTS' : 'E_YAML', offset, () => say);
}

function warningProblem(code: string, offset: number): Problem {
  const say =
    code === 'TAG_RESOLVE_FAILED' || code === 'BAD_COLLECTION_TYPE'
      ? 'a tag (!name) that the YAML 1.2 core schema does not know: the value is read as if it had none'
      : code === 'BAD_INDENT'
        ? "a '[...]' or '{...}' continued on the next lines should be indented deeper than its key"
        : code === 'BAD_ALIAS'
          ? 'an anchor or alias ending in a colon is ambiguous: put a space before the colon'
          : 'YAML that may not read as it looks here';
  return { severity: 'warning', code: 'W_YAML', offset, message: () => say };
}

/** Offset of the first alias whose anchor is not defined before it. */
function unresolvedAliasOffset(doc: Document.Parsed): number | undefined {
  let offset: number | undefined;
  const { visit } = yamlLib();
  visit(doc, {
    Alias(_key, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** Offset of the document's first alias (where an alias bomb is reported). */
function firstAliasOffset(doc: Document.Parsed): number {
  let offset = 0;
  const { visit } = yamlLib();
  visit(doc, {
    Alias(_key, node) {
      offset = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return offset;
}

/** A key as the data names it: `yaml` turns a scalar key into a property name the same way. */
function keyText(key: unknown): string {
  return key === null ? '' : String(key);
}

/**
 * Builds `YamlPositions.index` and `offsets` by walking the document beside its data, and finds
 * what the data cannot hold: a key that is not a plain value, a key written twice. Keys are
 * compared as the data names them, so `true`, `True` and `TRUE` are one key, and so are `1` and `"1"`.
 */
class PositionsBuilder {
  readonly index = new Map<object, number>();
  readonly offsets: number[] = [];
  readonly problems: Problem[] = [];
  readonly #lib = yamlLib();

  rangeOf(node: unknown): [number, number] {
    const range = (node as Partial<Pick<Node, 'range'>> | null | undefined)?.range;
    return range ? [range[0], range[1]] : [0, 0];
  }

  /** Indexes `node` (whose data is `data`) and everything under it. */
  add(node: unknown, data: unknown): void {
    // An alias's data is its anchor's, indexed where the anchor is.
    if (data === null || typeof data !== 'object' || this.index.has(data) || this.#lib.isAlias(node)) return;
    const offsets = this.offsets;
    if (this.#lib.isSeq(node) && Array.isArray(data)) {
      this.index.set(data, offsets.length);
      const items = node.items;
      for (const item of items) {
        const range = (item as Partial<Pick<Node, 'range'>> | null)?.range;
        offsets.push(range?.[0] ?? 0, range?.[1] ?? 0);
      }
      for (let i = 0; i < items.length; i++) this.add(items[i], data[i]);
      return;
    }
    if (!this.#lib.isMap(node)) return;
    const pairs = node.items as Pair[];
    const record = data as Record<string, unknown>;
    // Object.keys lists integer-like keys first, whatever order they were written in.
    const keys = Object.keys(record);
    const byName = new Map<string, Pair>();
    const problems = this.problems.length;
    let ordered = keys.length === pairs.length;
    for (let i = 0; i < pairs.length; i++) {
      const pair = pairs[i] as Pair;
      if (!this.#lib.isScalar(pair.key)) {
        this.problems.push(problem('E_YAML', this.rangeOf(pair.key)[0], () => NOT_PLAIN_KEY));
        continue;
      }
      const name = keyText(pair.key.value);
      if (byName.has(name)) {
        this.problems.push(problem('E_DUPLICATE_KEY', this.rangeOf(pair.key)[0], () => duplicateKey(name)));
        continue;
      }
      byName.set(name, pair);
      if (keys[i] !== name) ordered = false;
    }
    if (this.problems.length > problems) {
      // The file is refused: no positions are needed, only the problems further in.
      for (const [name, pair] of byName) this.add(pair.value, record[name]);
      return;
    }
    const inOrder = ordered ? pairs : keys.map((key) => byName.get(key) as Pair);
    this.index.set(record, offsets.length);
    for (const pair of inOrder) {
      const keyStart = (pair.key as Node).range?.[0] ?? 0;
      const range = (pair.value as Partial<Pick<Node, 'range'>> | null)?.range;
      offsets.push(keyStart, range?.[0] ?? keyStart, range?.[1] ?? keyStart);
    }
    for (let i = 0; i < inOrder.length; i++) this.add((inOrder[i] as Pair).value, record[keys[i] as string]);
  }
}

const NOT_PLAIN_KEY = 'a key must be a plain value (a name or a number), not a list, a mapping or an alias';

function duplicateKey(name: string): string {
  const shown = name.length <= 60 ? ` '${name}'` : '';
  return `duplicate key${shown}: each key may appear once in a mapping (true, True and TRUE are the same key)`;
}

/**
 * Position of the value at `path` (or of its key, with `key: true`). When the path leads nowhere
 * (e.g. a required field that is missing) the deepest existing value is used.
 */
export function positionAt(
  yaml: YamlFile,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): SourcePosition {
  const positions = positionsOf.get(yaml);
  if (positions === undefined) return { file: yaml.file, line: 1, col: 1 };
  const found = locate(yaml.value, positions, path);
  const offset = options.key && found.key !== undefined ? found.key : found.start;
  return { file: yaml.file, ...lineCol(positions.lineStarts, offset) };
}

/** The text written for the value at `path` (e.g. `1e5` before YAML read it as a number). */
export function sourceTextAt(yaml: YamlFile, path: readonly PathSegment[]): string | undefined {
  const positions = positionsOf.get(yaml);
  if (positions === undefined) return undefined;
  const { start, end } = locate(yaml.value, positions, path);
  return yaml.text.slice(start, end);
}

function locate(
  root: unknown,
  positions: YamlPositions,
  path: readonly PathSegment[],
): { start: number; end: number; key: number | undefined } {
  const { index, offsets } = positions;
  let [start, end] = positions.root;
  let key: number | undefined;
  let value = root;
  for (const segment of path) {
    const slot = value !== null && typeof value === 'object' ? index.get(value) : undefined;
    if (slot === undefined) break;
    if (Array.isArray(value)) {
      const i = Number(segment);
      if (!Number.isInteger(i) || i < 0 || i >= value.length) break;
      start = offsets[slot + 2 * i] ?? start;
      end = offsets[slot + 2 * i + 1] ?? end;
      key = undefined;
      value = value[i];
    } else {
      const i = indexOfKey(value as object, String(segment));
      if (i < 0) break;
      key = offsets[slot + 3 * i];
      start = offsets[slot + 3 * i + 1] ?? start;
      end = offsets[slot + 3 * i + 2] ?? end;
      value = (value as Record<string, unknown>)[String(segment)];
    }
  }
  return { start, end, key };
}

/** Key indexes of the large mappings positions were asked in (a lookup is then not a scan). */
const keyIndexes = new WeakMap<object, Map<string, number>>();

/** Where `key` is in `Object.keys(record)`, the order of its slots in `offsets`; -1 if absent. */
function indexOfKey(record: object, key: string): number {
  let byKey = keyIndexes.get(record);
  if (byKey === undefined) {
    const keys = Object.keys(record);
    if (keys.length <= 16) return keys.indexOf(key);
    byKey = new Map(keys.map((k, i) => [k, i]));
    keyIndexes.set(record, byKey);
  }
  return byKey.get(key) ?? -1;
}

/** 1-based line and column of `offset`, as `yaml`'s LineCounter gives them. */
function lineCol(lineStarts: readonly number[], offset: number): { line: number; col: number } {
  let low = 0;
  let high = lineStarts.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((lineStarts[mid] as number) < offset) low = mid + 1;
    else high = mid;
  }
  if (lineStarts[low] === offset) return { line: low + 1, col: 1 };
  if (low === 0) return { line: 1, col: offset + 1 };
  return { line: low, col: offset - (lineStarts[low - 1] as number) + 1 };
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
