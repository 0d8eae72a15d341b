/**
 * The quickest of the loader's three YAML readers (pure): a reader for the plain block style that
 * policy files are written in — `key: value` mappings, `- item` sequences (including `- key: value`
 * items), single-line plain and quoted scalars, one-line flow lists and maps of plain scalars
 * (`[a, b]`, `{ type: x, id: y }`), comments. On a 5,000-policy estate it reads the files in about
 * half the time js-yaml takes.
 *
 * It is a fast path, not a YAML parser: on anything outside that style (nested or quoted flow
 * collections, block scalars, multi-line scalars, quoted keys, escapes, document markers, odd
 * indentation, duplicate keys…) it returns undefined and the caller reads the file with js-yaml,
 * and, when that declines too, with `yaml`. Plain scalars are resolved by the same resolvers as the
 * js-yaml path (`resolvePlainScalar`), so both give the same data; tests compare the block reader
 * with `yaml` on fixtures, random documents and seeded mutations.
 */

/** Resolves a plain scalar (YAML 1.2 core schema as `yaml` reads it). */
export type PlainResolver = (text: string) => unknown;

/** Characters that may not start a plain scalar here (the YAML indicators, and `-?:` to keep it simple); flow collections are read apart. */
const INDICATOR = new Set([...'-?:,[]{}#&*!|>\'"%@`']);
/** Inside a flow collection: nesting, quotes and comments are the full parsers' business. */
const FLOW_DECLINED = /[[\]{}'"#]/;
/** Keys read here: identifier-like. Anything else (quoted, numeric, spaced) goes to js-yaml. */
const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/** Keys that js-yaml and `yaml` read differently, or that are not plain data properties. */
const DECLINED_KEYS = new Set(['null', 'Null', 'NULL', '__proto__']);
/** What js-yaml refuses outright (non-printable characters, lone surrogates). */
const NON_PRINTABLE =
  // eslint-disable-next-line no-control-regex
  /[\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x84\x86-\x9F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

const SPACE = 32;
const HASH = 35;
const DASH = 45;
const COLON = 58;

/** Thrown inside the reader to give up; never escapes `readBlockYaml`. */
class Declined extends Error {}

/** One content line: neither blank nor only a comment. */
interface Line {
  indent: number;
  /** Offsets in the text: first character after the indentation, and the end (before `\n`). */
  start: number;
  end: number;
}

/**
 * The data of a block-style YAML document, or undefined when the text is not in the style this
 * reader handles (the caller then uses a full parser). The top level must be a mapping.
 */
export function readBlockYaml(
  text: string,
  resolvePlain: PlainResolver,
): Record<string, unknown> | undefined {
  if (text.includes('\r') || text.includes('\t') || text.charCodeAt(0) === 0xfeff || NON_PRINTABLE.test(text))
    return undefined;
  try {
    const reader = new BlockReader(text, contentLines(text), resolvePlain);
    return reader.document();
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

function decline(): never {
  throw new Declined();
}

function contentLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    let first = start;
    while (first < end && text.charCodeAt(first) === SPACE) first++;
    if (first < end && text.charCodeAt(first) !== HASH) {
      // Document markers and directives: js-yaml's business.
      if (first === start && (text.startsWith('---', start) || text.startsWith('...', start))) decline();
      lines.push({ indent: first - start, start: first, end });
    }
    if (end === text.length) break;
    start = end + 1;
  }
  return lines;
}

class BlockReader {
  private next = 0;

  constructor(
    private readonly text: string,
    private readonly lines: readonly Line[],
    private readonly resolvePlain: PlainResolver,
  ) {}

  document(): Record<string, unknown> {
    const first = this.lines[0];
    if (first === undefined || this.isSequenceItem(first)) decline();
    const value = this.mapping(first.indent, first.start);
    if (this.next < this.lines.length) decline();
    return value;
  }

  /** A block node whose first line is the current line. */
  private node(line: Line): unknown {
    return this.isSequenceItem(line) ? this.sequence(line.indent) : this.mapping(line.indent, line.start);
  }

  /**
   * A mapping whose keys are at column `indent`; its first key starts at `firstKeyAt`, which is
   * inside the current line (after `- ` for a mapping that is a sequence item).
   */
  private mapping(indent: number, firstKeyAt: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let keyAt = firstKeyAt;
    for (;;) {
      const line = this.lines[this.next];
      if (line === undefined) decline();
      const { key, valueAt } = this.key(keyAt, line.end);
      if (Object.hasOwn(out, key)) decline();
      this.next++;
      out[key] = this.valueAfter(line, valueAt, indent, true);
      const following = this.lines[this.next];
      if (following === undefined || following.indent < indent) return out;
      if (following.indent > indent || this.isSequenceItem(following)) decline();
      keyAt = following.start;
    }
  }

  /** A sequence whose dashes are at column `indent`. */
  private sequence(indent: number): unknown[] {
    const out: unknown[] = [];
    for (;;) {
      const line = this.lines[this.next];
      if (line === undefined) decline();
      let at = line.start + 1;
      while (at < line.end && this.text.charCodeAt(at) === SPACE) at++;
      if (at === line.end || this.text.charCodeAt(at) === HASH) {
        // `-` alone: the item is the block below it, or null.
        this.next++;
        out.push(this.nestedBlock(indent, false));
      } else if (this.startsKey(at, line.end)) {
        // `- key: value`: a mapping whose keys line up with this first key.
        out.push(this.mapping(indent + (at - line.start), at));
      } else {
        if (this.text.charCodeAt(at) === DASH && this.isSpaceOrEnd(at + 1, line.end)) decline();
        this.next++;
        out.push(this.scalar(at, line.end));
        this.noDeeperLine(indent);
      }
      const following = this.lines[this.next];
      // A key at the dashes' column ends a sequence that sits at its parent key's column.
      if (following === undefined || following.indent < indent || !this.isSequenceItem(following)) {
        return out;
      }
    }
  }

  /**
   * The value of a `key:` at column `indent` whose text starts at `at`: a scalar on the line, or
   * the block below (a sequence may sit at the key's own column), or null.
   */
  private valueAfter(line: Line, at: number, indent: number, sequenceMayAlign: boolean): unknown {
    let from = at;
    while (from < line.end && this.text.charCodeAt(from) === SPACE) from++;
    if (from === line.end || this.text.charCodeAt(from) === HASH) {
      return this.nestedBlock(indent, sequenceMayAlign);
    }
    const value = this.scalar(from, line.end);
    this.noDeeperLine(indent);
    return value;
  }

  /** The block under a line at column `indent`, or null when there is none. */
  private nestedBlock(indent: number, sequenceMayAlign: boolean): unknown {
    const below = this.lines[this.next];
    if (below === undefined || below.indent < indent) return null;
    if (below.indent > indent) return this.node(below);
    if (sequenceMayAlign && this.isSequenceItem(below)) return this.sequence(indent);
    return null;
  }

  /** A line deeper than a scalar's owner continues the scalar (multi-line): not handled here. */
  private noDeeperLine(indent: number): void {
    const following = this.lines[this.next];
    if (following !== undefined && following.indent > indent) decline();
  }

  private isSequenceItem(line: Line): boolean {
    return this.text.charCodeAt(line.start) === DASH && this.isSpaceOrEnd(line.start + 1, line.end);
  }

  private isSpaceOrEnd(at: number, end: number): boolean {
    return at >= end || this.text.charCodeAt(at) === SPACE;
  }

  /** Whether a simple key (`name:` followed by a space or the end of the line) starts at `at`. */
  private startsKey(at: number, end: number): boolean {
    const colon = this.keyColon(at, end);
    return colon !== -1 && SIMPLE_KEY.test(this.text.slice(at, colon));
  }

  /** The first `:` followed by a space or the end of the line, before any comment; -1 if none. */
  private keyColon(at: number, end: number): number {
    for (let i = at; i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (c === COLON && this.isSpaceOrEnd(i + 1, end)) return i;
      if (c === HASH && this.text.charCodeAt(i - 1) === SPACE) return -1;
    }
    return -1;
  }

  private key(at: number, end: number): { key: string; valueAt: number } {
    const colon = this.keyColon(at, end);
    if (colon === -1) decline();
    const key = this.text.slice(at, colon);
    if (!SIMPLE_KEY.test(key) || DECLINED_KEYS.has(key)) decline();
    return { key, valueAt: colon + 1 };
  }

  /** A scalar that starts at `at` and must end on this line (a comment may follow). */
  private scalar(at: number, end: number): unknown {
    const c = this.text[at] ?? '';
    if (c === "'") return this.singleQuoted(at, end);
    if (c === '"') return this.doubleQuoted(at, end);
    if (c === '[' || c === '{') return this.flow(at, end);
    if (INDICATOR.has(c) && !(c === '-' && !this.isSpaceOrEnd(at + 1, end))) decline();
    let stop = end;
    for (let i = at; i < end; i++) {
      const code = this.text.charCodeAt(i);
      if (code === HASH && this.text.charCodeAt(i - 1) === SPACE) {
        stop = i;
        break;
      }
      // `a: b` in a value is a nested mapping (an error in YAML): leave it to the full parsers.
      if (code === COLON && this.isSpaceOrEnd(i + 1, end)) decline();
    }
    while (stop > at && this.text.charCodeAt(stop - 1) === SPACE) stop--;
    return this.resolvePlain(this.text.slice(at, stop));
  }

  /**
   * A one-line flow collection of plain scalars: `[a, b]` or `{ type: x, id: y }`. Nesting,
   * quotes, comments inside, empty entries and `:` in values are left to the full parsers.
   */
  private flow(at: number, end: number): unknown[] | Record<string, unknown> {
    const open = this.text[at];
    const close = this.text.indexOf(open === '[' ? ']' : '}', at + 1);
    if (close === -1 || close >= end) decline();
    const inner = this.text.slice(at + 1, close);
    if (FLOW_DECLINED.test(inner)) decline();
    this.onlyCommentAfter(close + 1, end);
    const entries = inner.trim() === '' ? [] : inner.split(',').map((entry) => entry.trim());
    if (open === '[') return entries.map((entry) => this.flowScalar(entry));
    const out: Record<string, unknown> = {};
    for (const entry of entries) {
      const colon = entry.indexOf(': ');
      const key = colon === -1 ? entry : entry.slice(0, colon);
      if (colon === -1 || !SIMPLE_KEY.test(key) || DECLINED_KEYS.has(key) || Object.hasOwn(out, key))
        decline();
      out[key] = this.flowScalar(entry.slice(colon + 2).trim());
    }
    return out;
  }

  private flowScalar(entry: string): unknown {
    const c = entry[0];
    if (
      c === undefined ||
      entry.includes(':') ||
      (INDICATOR.has(c) && !(c === '-' && entry.length > 1 && entry[1] !== ' '))
    ) {
      decline();
    }
    return this.resolvePlain(entry);
  }

  private singleQuoted(at: number, end: number): string {
    let out = '';
    let from = at + 1;
    for (;;) {
      const quote = this.text.indexOf("'", from);
      if (quote === -1 || quote >= end) decline();
      out += this.text.slice(from, quote);
      if (this.text.charCodeAt(quote + 1) === 39 /* ' */) {
        out += "'";
        from = quote + 2;
        continue;
      }
      this.onlyCommentAfter(quote + 1, end);
      return out;
    }
  }

  private doubleQuoted(at: number, end: number): string {
    const quote = this.text.indexOf('"', at + 1);
    if (quote === -1 || quote >= end) decline();
    const body = this.text.slice(at + 1, quote);
    // Escapes are js-yaml's business.
    if (body.includes('\\')) decline();
    this.onlyCommentAfter(quote + 1, end);
    return body;
  }

  private onlyCommentAfter(at: number, end: number): void {
    let i = at;
    while (i < end && this.text.charCodeAt(i) === SPACE) i++;
    if (i < end && !(this.text.charCodeAt(i) === HASH && i > at)) decline();
  }
}
