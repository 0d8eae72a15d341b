/**
 * Terraform state, as `terraform show -json` prints it or as a `.tfstate` file (format version 4)
 * holds it, read into one list of resource instances with their addresses. Pure.
 *
 * The state is hostile input: it may be crafted, and it holds secrets (deployment passwords, API
 * keys of other providers). So nothing here keeps or repeats a value it was not asked for: an
 * instance carries its attributes only for the caller to pick named fields from, and every problem
 * names a place (a JSON path or a resource address), never the content found there.
 */

export type StateFormat = 'show-json' | 'tfstate';

/** One managed resource instance. */
export interface StateInstance {
  /** Terraform's address of the instance, as `terraform state rm` takes it: `module.a["x"].type.name[0]`. */
  address: string;
  /** The resource's address without instance keys, as a `removed` block's `from` takes it. */
  resourceAddress: string;
  type: string;
  /** The resource name in the configuration (`office` in `ec_deployment_traffic_filter.office`). */
  name: string;
  /** Instance key: `count` index or `for_each` key; absent for a single instance. */
  key?: number | string;
  /** The instance's attributes, untouched: read only named fields from it, through `own`. */
  attributes: Readonly<Record<string, unknown>>;
}

/** A state that cannot be read: `at` is a JSON path or an address, never a value. */
export class StateFormatError extends Error {
  override readonly name = 'StateFormatError';
  constructor(
    readonly at: string,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Child modules nest; a crafted state could nest them deeper than any configuration does. */
const MAX_MODULE_DEPTH = 64;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field of a parsed JSON object, only if it is the object's own (never `constructor` & co). */
export function own(object: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * A string as Terraform writes it in an address (`addrs.StringKey.String`): HCL's quoted form,
 * with escapes for quotes, backslashes, template introducers (`${`, `%{`) and every character that
 * is not printable, so the address parses back as HCL and shows nothing hidden on a terminal.
 */
export function hclQuoted(text: string): string {
  let out = '"';
  const chars = [...text];
  chars.forEach((c, i) => {
    if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '$' || c === '%') out += chars[i + 1] === '{' ? c + c : c;
    else if (c === ' ' || /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(c)) out += c;
    else {
      const code = c.codePointAt(0) ?? 0;
      out +=
        code < 0x10000
          ? `\\u${code.toString(16).padStart(4, '0')}`
          : `\\U${code.toString(16).padStart(8, '0')}`;
    }
  });
  return `${out}"`;
}

function keySuffix(key: number | string | undefined): string {
  return key === undefined ? '' : typeof key === 'number' ? `[${key}]` : `[${hclQuoted(key)}]`;
}

function instanceKey(raw: unknown, at: string): number | string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number' && Number.isSafeInteger(raw) && raw >= 0) return raw;
  throw new StateFormatError(at, 'an instance key is a count index or a for_each string');
}

/** Reads an HCL quoted string at `i` (just after the opening quote); returns it and the index after it. */
function readHclString(text: string, i: number): [string, number] | undefined {
  let out = '';
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') return [out, i + 1];
    if (c === '\\') {
      const e = text[i + 1];
      const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        i += 2;
        continue;
      }
      const hex = e === 'u' ? text.slice(i + 2, i + 6) : e === 'U' ? text.slice(i + 2, i + 10) : '';
      if (hex === '' || !/^[0-9a-fA-F]+$/.test(hex) || hex.length !== (e === 'u' ? 4 : 8)) return undefined;
      const code = parseInt(hex, 16);
      if (code > 0x10ffff) return undefined;
      out += String.fromCodePoint(code);
      i += 2 + hex.length;
      continue;
    }
    if ((c === '$' || c === '%') && text[i + 1] === c && text[i + 2] === '{') {
      out += `${c}{`;
      i += 3;
      continue;
    }
    out += c;
    i += 1;
  }
  return undefined;
}

/**
 * A module instance address as the state writes it (`module.a["x"].module.b[0]`), parsed and
 * written again in Terraform's canonical form; `resource` is the same without instance keys.
 */
function moduleAddress(raw: unknown, at: string): { instance: string; resource: string } {
  if (raw === undefined || raw === null || raw === '') return { instance: '', resource: '' };
  const fail = (): never => {
    throw new StateFormatError(
      at,
      'not a module address (module.NAME, with an optional [key], .module.NAME …)',
    );
  };
  if (typeof raw !== 'string') return fail();
  const instance: string[] = [];
  const resource: string[] = [];
  let i = 0;
  while (i < raw.length) {
    const step = /^module\.([A-Za-z_][A-Za-z0-9_-]*)/.exec(raw.slice(i));
    if (!step || instance.length >= MAX_MODULE_DEPTH) return fail();
    const name = step[1] as string;
    i += step[0].length;
    let key: number | string | undefined;
    if (raw[i] === '[') {
      if (raw[i + 1] === '"') {
        const read = readHclString(raw, i + 2);
        if (!read || raw[read[1]] !== ']') return fail();
        [key] = read;
        i = read[1] + 1;
      } else {
        const digits = /^\[(0|[1-9][0-9]{0,15})\]/.exec(raw.slice(i));
        if (!digits) return fail();
        key = Number(digits[1]);
        i += digits[0].length;
      }
    }
    instance.push(`module.${name}${keySuffix(key)}`);
    resource.push(`module.${name}`);
    if (i === raw.length) break;
    if (raw[i] !== '.') return fail();
    i += 1;
    if (i === raw.length) return fail();
  }
  return { instance: instance.join('.'), resource: resource.join('.') };
}

function makeInstance(
  module: { instance: string; resource: string },
  type: unknown,
  name: unknown,
  key: number | string | undefined,
  attributes: unknown,
  at: string,
): StateInstance {
  if (typeof type !== 'string' || !IDENTIFIER.test(type)) {
    throw new StateFormatError(at, 'the resource type is not a Terraform identifier');
  }
  if (typeof name !== 'string' || !IDENTIFIER.test(name)) {
    throw new StateFormatError(at, 'the resource name is not a Terraform identifier');
  }
  const prefix = (m: string): string => (m === '' ? '' : `${m}.`);
  const address = `${prefix(module.instance)}${type}.${name}${keySuffix(key)}`;
  if (!isObject(attributes)) throw new StateFormatError(address, 'the instance has no attributes object');
  const instance: StateInstance = {
    address,
    resourceAddress: `${prefix(module.resource)}${type}.${name}`,
    type,
    name,
    attributes,
  };
  if (key !== undefined) instance.key = key;
  return instance;
}

function listAt(object: Json, key: string, at: string): unknown[] {
  const value = own(object, key);
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new StateFormatError(`${at}.${key}`, 'must be a list');
  return value;
}

/** `.tfstate`, format version 4: `resources[].instances[]`; deposed objects are being replaced and are skipped. */
function readTfstate(doc: Json, wanted: (type: string) => boolean): StateInstance[] {
  const out: StateInstance[] = [];
  listAt(doc, 'resources', '').forEach((resource, r) => {
    const at = `resources[${r}]`;
    if (!isObject(resource)) throw new StateFormatError(at, 'must be an object');
    const type = own(resource, 'type');
    if (own(resource, 'mode') !== 'managed' || typeof type !== 'string' || !wanted(type)) return;
    const module = moduleAddress(own(resource, 'module'), `${at}.module`);
    listAt(resource, 'instances', at).forEach((instance, n) => {
      const where = `${at}.instances[${n}]`;
      if (!isObject(instance)) throw new StateFormatError(where, 'must be an object');
      if (own(instance, 'deposed') !== undefined) return;
      const key = instanceKey(own(instance, 'index_key'), `${where}.index_key`);
      out.push(makeInstance(module, type, own(resource, 'name'), key, own(instance, 'attributes'), where));
    });
  });
  return out;
}

/** `terraform show -json`: `values.root_module`, its `resources[]` and `child_modules[]`, recursively. */
function readShowJson(doc: Json, wanted: (type: string) => boolean): StateInstance[] {
  const out: StateInstance[] = [];
  const values = own(doc, 'values');
  if (values === undefined || values === null) return out; // an empty state
  if (!isObject(values)) throw new StateFormatError('values', 'must be an object');
  const root = own(values, 'root_module');
  if (root === undefined || root === null) return out;
  // Iterative: a crafted state may nest child modules deeper than the call stack.
  const pending: { module: unknown; at: string; depth: number }[] = [
    { module: root, at: 'values.root_module', depth: 0 },
  ];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { module, at, depth } = next;
    if (!isObject(module)) throw new StateFormatError(at, 'must be an object');
    if (depth > MAX_MODULE_DEPTH)
      throw new StateFormatError(at, `modules nest more than ${MAX_MODULE_DEPTH} deep`);
    const address = moduleAddress(depth === 0 ? undefined : own(module, 'address'), `${at}.address`);
    listAt(module, 'resources', at).forEach((resource, r) => {
      const where = `${at}.resources[${r}]`;
      if (!isObject(resource)) throw new StateFormatError(where, 'must be an object');
      const type = own(resource, 'type');
      if (own(resource, 'mode') !== 'managed' || typeof type !== 'string' || !wanted(type)) return;
      if (own(resource, 'deposed_key') !== undefined) return;
      const key = instanceKey(own(resource, 'index'), `${where}.index`);
      out.push(makeInstance(address, type, own(resource, 'name'), key, own(resource, 'values'), where));
    });
    const children = listAt(module, 'child_modules', at);
    for (let c = children.length - 1; c >= 0; c -= 1) {
      pending.push({ module: children[c], at: `${at}.child_modules[${c}]`, depth: depth + 1 });
    }
  }
  return out;
}

/**
 * The managed instances of the wanted resource types in a parsed state document, in the order the
 * state lists them. Throws StateFormatError for anything that is not a Terraform state.
 */
export function readStateInstances(
  doc: unknown,
  wanted: (type: string) => boolean,
): { format: StateFormat; instances: StateInstance[] } {
  if (!isObject(doc)) throw new StateFormatError('(top level)', 'a Terraform state is a JSON object');
  if (own(doc, 'planned_values') !== undefined || own(doc, 'resource_changes') !== undefined) {
    throw new StateFormatError(
      '(top level)',
      'this is a plan, not a state: give `terraform show -json` without a plan file, or the .tfstate file',
    );
  }
  if (typeof own(doc, 'format_version') === 'string') {
    return { format: 'show-json', instances: readShowJson(doc, wanted) };
  }
  const version = own(doc, 'version');
  if (version === 4) return { format: 'tfstate', instances: readTfstate(doc, wanted) };
  if (typeof version === 'number') {
    throw new StateFormatError('version', 'only state format version 4 (Terraform 0.12 and later) is read');
  }
  throw new StateFormatError(
    '(top level)',
    'neither `terraform show -json` output (format_version) nor a .tfstate file (version 4)',
  );
}
