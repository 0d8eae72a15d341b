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
const DOT = 46;
const COLON = 58;

/** Thrown inside the reader to give up; never escapes `readBlockYaml`. */
class Declined extends Error {}

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
    return new BlockReader(text, resolvePlain).document();
  } catch (error) {
    if (error instanceof Declined) return undefined;
    throw error;
  }
}

function decline(): never {
  throw new Declined();
}

/** A character SIMPLE_KEY allows first: a letter or `_`. */
function isKeyStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** A character SIMPLE_KEY allows after the first: a letter, digit, `_`, `.` or `-`. */
function isKeyPart(c: number): boolean {
  return isKeyStart(c) || (c >= 48 && c <= 57) || c === DOT || c === DASH;
}

/** Size of the reader's key cache (a power of two). */
const KEY_SLOTS = 64;

/** A collection being read: a mapping whose keys are at column `indent`, or a sequence whose dashes are. */
interface Open {
  indent: number;
  /** The mapping, or the sequence's items. */
  value: Record<string, unknown> | unknown[];
  /** In a mapping, the key whose value is being read. */
  key: string;
}

/** What reading an entry gives when its value is a nested block, now open and read next. */
const OPENED = Symbol('opened');

/*
 * The reader walks the text once, a content line (neither blank nor only a comment) at a time, and
 * keeps only the current line, as offsets: on a large estate, an array of all the lines, or a slice
 * of every key, was a good part of the parse and of the garbage it left.
 *
 * It keeps the collections it is inside on a stack rather than in nested calls: the optimising
 * compiler inlined mutually recursive readers into one another, and compiling them took more CPU
 * than the parse itself (a few hundred ms on a large estate), and longer before the code was fast.
 */
class BlockReader {
  /** The current content line: its indentation, or -1 when there is no line left. */
  private indent = -1;
  /** Offsets in the text: the first character after the indentation, and the end (before `\n`). */
  private start = 0;
  private end = 0;
  /** Where the search for the next content line begins. */
  private rest = 0;
  /** The collections being read, outermost first; `depth` of them are open (the rest are for reuse). */
  private readonly open: Open[] = [];
  private depth = 0;
  /** Where the next key of the innermost mapping starts (after `- ` for a mapping in a sequence item). */
  private keyAt = 0;
  /**
   * Keys seen before, by length and first and last character: `source:` and `description:` repeat
   * on every rule, and reusing the string spares a new one per line and its lookup as a property name.
   */
  private readonly keys: string[] = new Array<string>(KEY_SLOTS).fill('');

  constructor(
    private readonly text: string,
    private readonly resolvePlain: PlainResolver,
  ) {}

  document(): Record<string, unknown> {
    this.advance();
    if (this.indent === -1 || this.isSequenceItem()) decline();
    const root: Record<string, unknown> = {};
    this.openCollection(this.indent, root);
    this.keyAt = this.start;
    this.readOpenCollections();
    if (this.indent !== -1) decline();
    return root;
  }

  /**
   * Reads entries until every open collection is closed. (A loop on its own: optimised while it
   * runs, it then returns rather than run code the optimiser has not seen run.)
   */
  private readOpenCollections(): void {
    while (this.depth > 0) {
      const value = this.entry();
      if (value !== OPENED) this.add(value);
    }
  }

  /** Moves to the next content line (or past the last one). */
  private advance(): void {
    const text = this.text;
    let start = this.rest;
    while (start <= text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      let first = start;
      while (first < end && text.charCodeAt(first) === SPACE) first++;
      if (first < end && text.charCodeAt(first) !== HASH) {
        // Document markers and directives: js-yaml's business.
        if (first === start && (text.startsWith('---', start) || text.startsWith('...', start))) decline();
        this.indent = first - start;
        this.start = first;
        this.end = end;
        this.rest = end + 1;
        return;
      }
      start = end + 1;
    }
    this.indent = -1;
  }

  private openCollection(indent: number, value: Record<string, unknown> | unknown[]): void {
    const frame = this.open[this.depth];
    if (frame === undefined) this.open.push({ indent, value, key: '' });
    else {
      frame.indent = indent;
      frame.value = value;
    }
    this.depth++;
  }

  private top(): Open {
    return this.open[this.depth - 1] ?? decline();
  }

  /**
   * Reads the next entry of the innermost collection, which starts on the current line: its value,
   * or OPENED when the value is a block of its own (its entries come next).
   */
  private entry(): unknown {
    const frame = this.top();
    const { indent, value: collection } = frame;
    const { start, end } = this;
    if (!Array.isArray(collection)) {
      // `key: value`, the key at column `indent` (or after `- `).
      const colon = this.simpleKeyEnd(this.keyAt, end);
      if (colon === -1) decline();
      const key = this.keyText(this.keyAt, colon);
      if (Object.hasOwn(collection, key)) decline();
      frame.key = key;
      this.advance();
      return this.valueAfter(colon + 1, end, indent);
    }
    // `- item`, the dash at column `indent`.
    let at = start + 1;
    while (at < end && this.text.charCodeAt(at) === SPACE) at++;
    if (at === end || this.text.charCodeAt(at) === HASH) {
      // `-` alone: the item is the block below it, or null.
      this.advance();
      return this.nestedBlock(indent, false);
    }
    if (this.simpleKeyEnd(at, end) !== -1) {
      // `- key: value`: a mapping whose keys line up with this first key.
      this.openCollection(indent + (at - start), {});
      this.keyAt = at;
      return OPENED;
    }
    if (this.text.charCodeAt(at) === DASH && this.isSpaceOrEnd(at + 1, end)) decline();
    this.advance();
    const item = this.scalar(at, end);
    this.noDeeperLine(indent);
    return item;
  }

  /**
   * Adds a value to the innermost collection; where that was its last entry (the current line is
   * outside it), the collection is closed and is itself the value added to the one around it.
   */
  private add(entry: unknown): void {
    let value = entry;
    for (;;) {
      const { indent, value: collection, key } = this.top();
      if (Array.isArray(collection)) {
        collection.push(value);
        // A key at the dashes' column ends a sequence that sits at its parent key's column.
        if (this.indent >= indent && this.isSequenceItem()) return;
      } else {
        collection[key] = value;
        if (this.indent >= indent) {
          if (this.indent > indent || this.isSequenceItem()) decline();
          this.keyAt = this.start;
          return;
        }
      }
      this.depth--;
      if (this.depth === 0) return;
      value = collection;
    }
  }

  /**
   * The value of a `key:` at column `indent`, written from `at` to `end` of the line just left: a
   * scalar on that line, or the block below (a sequence may sit at the key's own column), or null.
   */
  private valueAfter(at: number, end: number, indent: number): unknown {
    let from = at;
    while (from < end && this.text.charCodeAt(from) === SPACE) from++;
    if (from === end || this.text.charCodeAt(from) === HASH) return this.nestedBlock(indent, true);
    const value = this.scalar(from, end);
    this.noDeeperLine(indent);
    return value;
  }

  /**
   * The block under a line at column `indent` (from the current line on): null when there is none,
   * else OPENED (it is open, to be read next).
   */
  private nestedBlock(indent: number, sequenceMayAlign: boolean): unknown {
    if (this.indent < indent) return null;
    if (this.indent === indent && !(sequenceMayAlign && this.isSequenceItem())) return null;
    if (this.isSequenceItem()) {
      this.openCollection(this.indent, []);
    } else {
      this.openCollection(this.indent, {});
      this.keyAt = this.start;
    }
    return OPENED;
  }

  /** A line deeper than a scalar's owner continues the scalar (multi-line): not handled here. */
  private noDeeperLine(indent: number): void {
    if (this.indent > indent) decline();
  }

  private isSequenceItem(): boolean {
    return this.text.charCodeAt(this.start) === DASH && this.isSpaceOrEnd(this.start + 1, this.end);
  }

  private isSpaceOrEnd(at: number, end: number): boolean {
    return at >= end || this.text.charCodeAt(at) === SPACE;
  }

  /**
   * The offset of the `:` ending a simple key that starts at `at` (identifier-like, followed by
   * `:` and a space or the end of the line), or -1. Scanning the key's characters answers what
   * finding the first `: ` and matching SIMPLE_KEY against the text before it would.
   */
  private simpleKeyEnd(at: number, end: number): number {
    const text = this.text;
    if (at >= end || !isKeyStart(text.charCodeAt(at))) return -1;
    let i = at + 1;
    while (i < end && isKeyPart(text.charCodeAt(i))) i++;
    return i < end && text.charCodeAt(i) === COLON && this.isSpaceOrEnd(i + 1, end) ? i : -1;
  }

  /** The key written from `at` to `colon`, from the cache when it was seen before. */
  private keyText(at: number, colon: number): string {
    const length = colon - at;
    const slot =
      (length * 7 + this.text.charCodeAt(at) + this.text.charCodeAt(colon - 1) * 3) & (KEY_SLOTS - 1);
    const cached = this.keys[slot] ?? '';
    if (cached.length === length && this.text.startsWith(cached, at)) return cached;
    const key = this.text.slice(at, colon);
    if (DECLINED_KEYS.has(key)) decline();
    this.keys[slot] = key;
    return key;
  }

  /** A scalar that starts at `at` and must end on this line (a comment may follow). */
  private scalar(at: number, end: number): unknown {
    const text = this.text;
    const c = text[at] ?? '';
    if (c === "'") return this.singleQuoted(at, end);
    if (c === '"') return this.doubleQuoted(at, end);
    if (c === '[' || c === '{') return this.flow(at, end);
    if (INDICATOR.has(c) && !(c === '-' && !this.isSpaceOrEnd(at + 1, end))) decline();
    let stop = end;
    for (let i = at; i < end; i++) {
      const code = text.charCodeAt(i);
      if (code === HASH && text.charCodeAt(i - 1) === SPACE) {
        stop = i;
        break;
      }
      // `a: b` in a value is a nested mapping (an error in YAML): leave it to the full parsers.
      if (code === COLON && this.isSpaceOrEnd(i + 1, end)) decline();
    }
    while (stop > at && text.charCodeAt(stop - 1) === SPACE) stop--;
    return this.resolvePlain(text.slice(at, stop));
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
