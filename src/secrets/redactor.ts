/**
 * The one scrubber of secrets (issue 22). Every credential a run reads is registered here, and every
 * string that leaves the process passes `scrub` at its final write: stdout, stderr, logs, plan and
 * export files. Text from a server is scrubbed a first time where it enters (`HttpClient`), before
 * anything can cut or escape it.
 *
 * Contract:
 * - A registered secret is redacted in every form a server, an encoder or an escaper could give it:
 *   in any letter case; with any of its punctuation backslash-escaped (JSON, Markdown), percent-
 *   encoded (URLs, workflow-command properties) or written as a JSON `\u00XX` escape; and in base64
 *   (standard or URL-safe, at any of the three alignments inside a longer base64 text, so also the
 *   Basic header value). A secret that is itself base64 of printable text (an Elasticsearch API
 *   key is base64 of `id:key`) is redacted decoded as well.
 * - Values shorter than `MIN_SECRET_LENGTH` are not redacted on their own: they cannot be told apart
 *   from ordinary words (a 3-letter user name would blank every word it occurs in). A short Basic
 *   user name is still redacted inside `username:password` and the Basic header value.
 * - `cut` scrubs before it cuts, and removes a tail that could be the start of a secret, so a cut
 *   can never leave part of a key behind.
 */

export const REDACTED = '[redacted]';

/** Shorter values are too much like ordinary text to be redacted on their own (see above). */
export const MIN_SECRET_LENGTH = 6;

/** A base64 run shorter than this is not matched: at this length it is too likely in other text. */
const MIN_BASE64_LENGTH = 8;

/** A tail this long that starts a secret is removed at a cut; shorter ones are ordinary text. */
const MIN_FRAGMENT_LENGTH = 4;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * One character of a secret as a pattern: letters and digits as themselves (the `i` flag covers
 * case), anything else also backslash-escaped, percent-encoded (UTF-8) or as a `\u` escape.
 */
function charPattern(c: string): string {
  if (/[A-Za-z0-9]/.test(c)) return c;
  const percent = [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('');
  const unicode = `\\\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  const plus = c === ' ' ? '|\\+' : '';
  return `(?:\\\\?${escapeRegExp(c)}|${percent}|${unicode}${plus})`;
}

function literalPattern(text: string): string {
  return [...text].map(charPattern).join('');
}

/** Base64 as a pattern: `+` and `/` also in their URL-safe spellings and escaped as above. */
function base64Pattern(text: string): string {
  return [...text]
    .map((c) => {
      if (c === '+') return `(?:-|${charPattern('+')})`;
      if (c === '/') return `(?:_|${charPattern('/')})`;
      return charPattern(c);
    })
    .join('');
}

/**
 * The base64 runs that encode `secret` wherever it sits in a longer text: the full encoding, and
 * for each alignment (0, 1 or 2 bytes before it in its group of three) the characters that depend
 * on the secret's bytes alone.
 */
export function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [bytes.toString('base64')];
  for (const lead of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(lead), bytes])
      .toString('base64')
      .replace(/=+$/, '');
    // Characters mixing in the unknown bytes before the secret…
    const head = [0, 2, 3][lead] ?? 0;
    // …and after it, when its last group of three is not full.
    const rest = (lead + bytes.length) % 3;
    const tail = rest === 0 ? 0 : 1;
    forms.push(encoded.slice(head, encoded.length - tail));
  }
  return [...new Set(forms)].filter((f) => f.length >= MIN_BASE64_LENGTH);
}

/** The text a base64 secret decodes to, when that is printable text worth redacting. */
function decodedForm(secret: string): string | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(secret) || secret.length % 4 === 1) return undefined;
  const text = Buffer.from(secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
  return text.length >= MIN_SECRET_LENGTH && /^[\x20-\x7e]+$/.test(text) ? text : undefined;
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;
  /** Lower-case plain forms, for the tail check of `cut`. */
  private plainForms: string[] = [];

  /**
   * Registers secret values (empty and undefined are ignored). Values shorter than
   * MIN_SECRET_LENGTH are kept only as part of longer forms: pass `username:password` as well.
   */
  add(...values: (string | undefined)[]): void {
    for (const value of values) {
      if (value === undefined) continue;
      for (const v of new Set([value, value.trim()])) {
        if (v.length < MIN_SECRET_LENGTH || this.secrets.has(v)) continue;
        this.secrets.add(v);
        const decoded = decodedForm(v);
        if (decoded !== undefined) this.secrets.add(decoded);
        this.pattern = undefined;
      }
    }
  }

  /**
   * Registers HTTP Basic credentials: each part, `username:password` (and so the header value, its
   * base64), and the header value as a secret of its own (so also its base64).
   */
  addBasic(username: string, password: string): void {
    const pair = `${username}:${password}`;
    this.add(username, password, pair, Buffer.from(pair).toString('base64'));
  }

  /** Whether any secret is registered (nothing to scrub otherwise). */
  get empty(): boolean {
    return this.secrets.size === 0;
  }

  private compiled(): RegExp | undefined {
    if (this.secrets.size === 0) return undefined;
    if (this.pattern === undefined) {
      const patterns = new Set<string>();
      const plain = new Set<string>();
      for (const secret of this.secrets) {
        patterns.add(literalPattern(secret));
        plain.add(secret.toLowerCase());
        for (const form of base64Forms(secret)) {
          patterns.add(base64Pattern(form));
          plain.add(form.toLowerCase());
        }
      }
      // Longest first: where a full form and a part of it start at the same place, the full one wins.
      const ordered = [...patterns].sort((a, b) => b.length - a.length);
      this.pattern = new RegExp(ordered.join('|'), 'gi');
      this.plainForms = [...plain];
    }
    return this.pattern;
  }

  /** Whether `text` may hold a secret in some form (a fast test before a deep scrub). */
  mayContain(text: string): boolean {
    const pattern = this.compiled();
    if (pattern === undefined) return false;
    pattern.lastIndex = 0;
    return pattern.test(text);
  }

  /** `text` with every form of every registered secret replaced by `[redacted]`. */
  scrub(text: string): string {
    const pattern = this.compiled();
    if (pattern === undefined) return text;
    pattern.lastIndex = 0;
    return text.replace(pattern, REDACTED);
  }

  /**
   * Parsed JSON from a server, with every string (object keys included) scrubbed. `raw` is the
   * text it was parsed from: when no form of a secret can be in it (JSON can hide a letter only
   * in a `\u` escape), the value is returned as it is, without a walk.
   */
  scrubParsed<T>(value: T, raw: string): T {
    if (this.empty || (!raw.includes('\\u') && !this.mayContain(raw))) return value;
    return this.scrubDeep(value) as T;
  }

  private scrubDeep(value: unknown): unknown {
    if (typeof value === 'string') return this.scrub(value);
    if (Array.isArray(value)) return value.map((v) => this.scrubDeep(v));
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[this.scrub(k)] = this.scrubDeep(v);
      return out;
    }
    return value;
  }

  /**
   * At most `max` characters of `text` (plus `…` when cut), scrubbed before the cut. A tail of
   * the kept part that is the start of a secret (MIN_FRAGMENT_LENGTH or more characters) is
   * redacted too, and a `[redacted]` marker is never cut in half.
   */
  cut(text: string, max: number): string {
    const scrubbed = this.scrub(text);
    if (scrubbed.length <= max) return scrubbed;
    let head = scrubbed.slice(0, max);
    const marker = head.lastIndexOf('[');
    if (marker !== -1 && scrubbed.startsWith(REDACTED, marker) && marker + REDACTED.length > max) {
      head = scrubbed.slice(0, marker + REDACTED.length);
    }
    const lower = head.toLowerCase();
    for (const form of this.plainForms) {
      for (let k = Math.min(form.length - 1, lower.length); k >= MIN_FRAGMENT_LENGTH; k--) {
        if (lower.endsWith(form.slice(0, k))) {
          head = `${head.slice(0, head.length - k)}${REDACTED}`;
          break;
        }
      }
    }
    return `${head}…`;
  }
}
