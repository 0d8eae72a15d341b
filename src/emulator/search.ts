import { apiError } from './errors.js';
import { isObject } from './validate.js';

/*
 * The query engine behind `POST /deployments/_search` (E15, API.md §2.5): the `SearchRequest` the
 * spec defines, evaluated the way Elasticsearch evaluates it over an index whose mapping Elastic
 * does not publish. Pure: documents in, a page and a cursor out.
 *
 * What it holds to, because clients get these wrong against the real API and never find out:
 * - `nested` semantics: fields under a nested path (`metadata.tags.key`) have values only inside a
 *   `nested` query on that path; the same `term` outside it silently matches nothing, and two
 *   terms inside one `nested` must match the same tag.
 * - `name` is analysed text (lowercased words), `name.keyword` and every other field a keyword.
 * - Elasticsearch defaults: `size` 10, `from + size` at most 10,000.
 * - A `cursor` on every page, the empty last one included; it stands for the whole request.
 * Query types the spec lists but the emulator does not evaluate (`query_string`,
 * `simple_query_string`, `range`) and anything the spec lacks (`terms`, the `{field: "x"}`
 * shorthand) are refused with 400, so a client finds out here rather than in production.
 */

/** One document: keyword or text values by dotted field, nested objects by path. */
export interface SearchDocument {
  fields: Readonly<Record<string, readonly string[]>>;
  /** ISO time of the last change: the default order, newest first. */
  lastModified: string;
  nested: Readonly<Record<string, readonly Readonly<Record<string, readonly string[]>>[]>>;
}

/** What the index mapping says beyond the documents. */
export interface Mapping {
  /** Paths that hold nested objects (`metadata.tags`). */
  nestedPaths: readonly string[];
  /** Analysed fields: their document values are the words `analyse` gives. */
  textFields: readonly string[];
  /** Single-valued keyword fields a request may sort on. */
  sortable: readonly string[];
}

export interface SearchPage<T> {
  hits: T[];
  /** Total matches; only when the request had a query (the spec: "if a query is supplied"). */
  matchCount?: number;
  cursor: string;
}

const BAD_REQUEST = 'deployments.search_request_invalid';
const MAX_WINDOW = 10_000;
const DEFAULT_SIZE = 10;
const MAX_DEPTH = 32;
/** The default sort's key (not a field a query can name). */
const LAST_MODIFIED = '\u0000last_modified';
const REQUEST_KEYS = ['query', 'size', 'from', 'cursor', 'sort'];
const UNSUPPORTED = ['query_string', 'simple_query_string', 'range'];

type Json = Record<string, unknown>;
type Fields = Readonly<Record<string, readonly string[]>>;
/** A parsed query: evaluated against the fields in scope (the document's, or one nested object's). */
type Query = (scope: Fields, doc: SearchDocument) => boolean;
interface SortKey {
  field: string;
  desc: boolean;
}
/** What a cursor carries: the request it continues, and the sort values of the last hit sent. */
interface CursorState {
  query?: unknown;
  /** As the request wrote it, parsed again on every page. */
  sort?: unknown;
  size: number;
  after?: string[];
}

function bad(message: string): never {
  throw apiError(400, BAD_REQUEST, message);
}

/** Lowercased words, roughly the standard analyzer: the values of a text field. */
export function analyse(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t !== '');
}

function valuesOf(scope: Fields, field: string): readonly string[] {
  return Object.hasOwn(scope, field) ? (scope[field] ?? []) : [];
}

/** `{ "<field>": { ... } }` with exactly one field: returns the field and its options. */
function oneField(kind: string, raw: unknown, required: string): [string, Json] {
  if (!isObject(raw) || Object.keys(raw).length !== 1) bad(`[${kind}] takes exactly one field`);
  const [field, options] = Object.entries(raw)[0] as [string, unknown];
  if (!isObject(options)) {
    bad(`[${kind}] on [${field}] must be an object with [${required}] (the shorthand is not in the API)`);
  }
  if (typeof options[required] !== 'string') bad(`[${kind}] on [${field}] needs a string [${required}]`);
  return [field, options];
}

function clauses(raw: unknown, name: string, ctx: Mapping, depth: number): Query[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) bad(`[bool] [${name}] must be a list of queries`);
  return raw.map((q) => parseQuery(q, ctx, depth + 1));
}

function parseBool(raw: unknown, ctx: Mapping, depth: number): Query {
  if (!isObject(raw)) bad('[bool] must be an object');
  const known = ['must', 'should', 'must_not', 'filter', 'minimum_should_match'];
  const unknown = Object.keys(raw).filter((k) => !known.includes(k));
  if (unknown.length > 0) bad(`[bool] does not support [${unknown.join(', ')}]`);
  const list = (name: string) => clauses(raw[name], name, ctx, depth);
  const must = [...list('must'), ...list('filter')];
  const should = list('should');
  const mustNot = list('must_not');
  const msm = raw['minimum_should_match'];
  if (msm !== undefined && (typeof msm !== 'number' || !Number.isInteger(msm))) {
    bad('[bool] [minimum_should_match] must be an integer');
  }
  // Elasticsearch: with no must/filter clause, at least one should clause has to match.
  const needed = typeof msm === 'number' ? msm : must.length === 0 && should.length > 0 ? 1 : 0;
  return (scope, doc) =>
    must.every((q) => q(scope, doc)) &&
    !mustNot.some((q) => q(scope, doc)) &&
    should.filter((q) => q(scope, doc)).length >= needed;
}

function parseQuery(raw: unknown, ctx: Mapping, depth = 0): Query {
  if (depth > MAX_DEPTH) bad(`queries nest at most ${MAX_DEPTH} deep`);
  if (!isObject(raw)) bad('a query must be an object');
  const keys = Object.keys(raw);
  if (keys.length !== 1) bad(`a query holds exactly one query type, not ${keys.length}`);
  const kind = keys[0] as string;
  const body = raw[kind];
  switch (kind) {
    case 'match_all':
    case 'match_none': {
      if (!isObject(body)) bad(`[${kind}] must be an object`);
      const result = kind === 'match_all';
      return () => result;
    }
    case 'term': {
      const [field, o] = oneField(kind, body, 'value');
      const value = o['value'] as string;
      // A term is not analysed: on the text field it must equal one lowercased word.
      return (scope) => valuesOf(scope, field).some((v) => v === value);
    }
    case 'prefix': {
      const [field, o] = oneField(kind, body, 'value');
      const value = o['value'] as string;
      return (scope) => valuesOf(scope, field).some((v) => v.startsWith(value));
    }
    case 'match': {
      const [field, o] = oneField(kind, body, 'query');
      const text = o['query'] as string;
      const operator = o['operator'] ?? 'or';
      if (operator !== 'or' && operator !== 'and' && operator !== 'OR' && operator !== 'AND') {
        bad('[match] [operator] is or or and');
      }
      if (!ctx.textFields.includes(field)) return (scope) => valuesOf(scope, field).includes(text);
      const words = analyse(text);
      const msm = o['minimum_should_match'];
      const needed =
        String(operator).toLowerCase() === 'and' ? words.length : typeof msm === 'number' ? msm : 1;
      return (scope) =>
        words.length > 0 && words.filter((w) => valuesOf(scope, field).includes(w)).length >= needed;
    }
    case 'exists': {
      if (!isObject(body) || typeof body['field'] !== 'string') bad('[exists] needs a string [field]');
      const field = body['field'];
      // A nested object's path is no field: outside `nested` it exists nowhere.
      return (scope) => valuesOf(scope, field).length > 0;
    }
    case 'bool':
      return parseBool(body, ctx, depth);
    case 'nested': {
      if (!isObject(body) || typeof body['path'] !== 'string' || body['query'] === undefined) {
        bad('[nested] needs [path] and [query]');
      }
      const path = body['path'];
      if (!ctx.nestedPaths.includes(path)) bad(`[nested] failed to find nested object under path [${path}]`);
      const inner = parseQuery(body['query'], ctx, depth + 1);
      return (_scope, doc) => (doc.nested[path] ?? []).some((object) => inner(object, doc));
    }
    default:
      if (UNSUPPORTED.includes(kind)) bad(`the emulator does not evaluate [${kind}] queries`);
      return bad(`unknown query type [${kind}]`);
  }
}

/** `sort`: `"id"` (what ecctl and Terraform send), `{"id": "asc"}` or `{"id": {"order": "desc"}}`. */
function parseSort(raw: unknown, mapping: Mapping): SortKey[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) bad('[sort] must be a list');
  return raw.map((item): SortKey => {
    let field: string;
    let order: unknown = 'asc';
    if (typeof item === 'string') field = item;
    else if (isObject(item) && Object.keys(item).length === 1) {
      const [f, o] = Object.entries(item)[0] as [string, unknown];
      field = f;
      order = isObject(o) ? (o['order'] ?? 'asc') : o;
    } else return bad('each [sort] entry is a field name or {field: order}');
    if (!mapping.sortable.includes(field)) {
      bad(`cannot sort on [${field}] (sortable: ${mapping.sortable.join(', ')})`);
    }
    if (order !== 'asc' && order !== 'desc') bad(`[sort] order of [${field}] is asc or desc`);
    return { field, desc: order === 'desc' };
  });
}

function nonNegativeInteger(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw < 0) bad(`[${name}] must be an integer ≥ 0`);
  return raw;
}

function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify(state), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): CursorState {
  let state: unknown;
  try {
    state = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return bad('[cursor] is not a cursor this API returned');
  }
  const after = isObject(state) ? state['after'] : undefined;
  if (
    !isObject(state) ||
    nonNegativeInteger(state['size'], 'size') === undefined ||
    (after !== undefined && (!Array.isArray(after) || !after.every((v) => typeof v === 'string')))
  ) {
    return bad('[cursor] is not a cursor this API returned');
  }
  return state as unknown as CursorState;
}

/**
 * Runs one search request (or the next page of one, by `cursor`) over `docs`. Without `sort`, the
 * API's default order: rank (all equal here: no query scores), then last modified, newest first.
 * Every order ends on `id`, unique, so that a cursor never skips or repeats a hit.
 */
export function searchDocuments<T>(
  body: unknown,
  docs: readonly { doc: SearchDocument; item: T }[],
  mapping: Mapping,
): SearchPage<T> {
  if (body !== undefined && body !== null && !isObject(body)) bad('the body must be a SearchRequest object');
  const request: Json = isObject(body) ? body : {};
  const unknown = Object.keys(request).filter((k) => !REQUEST_KEYS.includes(k));
  if (unknown.length > 0) bad(`SearchRequest has no [${unknown.join(', ')}]`);

  let state: CursorState;
  let from = 0;
  if (typeof request['cursor'] === 'string' && request['cursor'] !== '') {
    // "When set, all other fields are ignored."
    state = decodeCursor(request['cursor']);
  } else {
    const size = nonNegativeInteger(request['size'], 'size') ?? DEFAULT_SIZE;
    from = nonNegativeInteger(request['from'], 'from') ?? 0;
    if (from + size > MAX_WINDOW) {
      bad(`Result window is too large, from + size must be less than or equal to: [${MAX_WINDOW}]`);
    }
    state = { size };
    if (request['sort'] !== undefined && request['sort'] !== null) state.sort = request['sort'];
    if (request['query'] !== undefined && request['query'] !== null) state.query = request['query'];
  }
  const query = state.query === undefined ? () => true : parseQuery(state.query, mapping);
  const asked = parseSort(state.sort, mapping);
  const sort: SortKey[] = asked.length > 0 ? asked : [{ field: LAST_MODIFIED, desc: true }];

  const keyOf = (doc: SearchDocument): string[] => [
    ...sort.map((k) =>
      k.field === LAST_MODIFIED ? doc.lastModified : (valuesOf(doc.fields, k.field)[0] ?? ''),
    ),
    valuesOf(doc.fields, 'id')[0] ?? '',
  ];
  const compare = (a: readonly string[], b: readonly string[]): number => {
    for (let i = 0; i < a.length; i += 1) {
      const x = a[i] ?? '';
      const y = b[i] ?? '';
      if (x !== y) return (x < y ? -1 : 1) * (sort[i]?.desc === true ? -1 : 1);
    }
    return 0;
  };
  const matched = docs
    .filter(({ doc }) => query(doc.fields, doc))
    .map((d) => ({ item: d.item, key: keyOf(d.doc) }))
    .sort((a, b) => compare(a.key, b.key));

  const after = state.after;
  const start = after === undefined ? from : matched.findIndex((m) => compare(m.key, after) > 0);
  const page = start < 0 ? [] : matched.slice(start, start + state.size);
  // The cursor continues after the last hit sent; past the end it stays there (an empty page).
  const last = page.at(-1) ?? (start < 0 || start >= matched.length ? matched.at(-1) : undefined);
  const next: CursorState = { ...state };
  const nextAfter = last?.key ?? after;
  if (nextAfter !== undefined) next.after = nextAfter;
  const result: SearchPage<T> = { hits: page.map((m) => m.item), cursor: encodeCursor(next) };
  if (state.query !== undefined) result.matchCount = matched.length;
  return result;
}
