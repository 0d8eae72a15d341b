import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import type { AnySchemaObject, ValidateFunction } from 'ajv';

/**
 * Validates request and response bodies against the official spec subsets in `../shared/api/`
 * (Swagger 2.0 for ess/ece, OpenAPI 3.0 for serverless). The specs are never copied into the repo,
 * so callers check `specAvailable()` first and skip when the directory is absent.
 */

export type SpecApi = 'ess' | 'ece' | 'serverless';

/** The repository: two levels up from test/support/, three when compiled into dist/test/support/. */
function repoRoot(): string {
  const up = fileURLToPath(new URL('../../', import.meta.url));
  return existsSync(join(up, 'package.json')) ? up : resolve(up, '..');
}
const REPO_ROOT = repoRoot();
const SPEC_DIR = process.env['ECFENCE_SPEC_DIR'] ?? resolve(REPO_ROOT, '..', 'shared', 'api');
const FILES: Record<SpecApi, string> = {
  ess: 'ess-traffic-filter.swagger.json',
  ece: 'ece-traffic-filter.swagger.json',
  serverless: 'serverless-traffic-filter.openapi.json',
};

type Json = Record<string, unknown>;

interface LoadedSpec {
  doc: Json;
  ajv: Ajv;
  id: string;
  /** Prefix of concrete paths that the spec's path keys omit (Swagger `basePath`). */
  basePath: string;
  /** Generic error schema for statuses an operation does not document. */
  errorRef: string;
  compiled: Map<string, ValidateFunction>;
}

const specs = new Map<SpecApi, LoadedSpec>();

export function specDir(): string {
  return SPEC_DIR;
}

export function specAvailable(): boolean {
  return Object.values(FILES).every((f) => existsSync(join(SPEC_DIR, f)));
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Rewrites a spec schema into plain JSON Schema that ajv understands: local refs point into the
 * registered spec document, and OpenAPI `nullable` / Swagger `x-nullable` become a null branch.
 */
function convert(node: unknown, id: string): unknown {
  if (Array.isArray(node)) return node.map((n) => convert(n, id));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = `${id}${v}`;
    else if (k === 'nullable' || k === 'x-nullable') continue;
    else out[k] = convert(v, id);
  }
  if (node['nullable'] === true || node['x-nullable'] === true) return { anyOf: [out, { type: 'null' }] };
  return out;
}

function load(api: SpecApi): LoadedSpec {
  const cached = specs.get(api);
  if (cached) return cached;
  const doc = JSON.parse(readFileSync(join(SPEC_DIR, FILES[api]), 'utf8')) as Json;
  const id = `spec-${api}.json`;
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, logger: false });
  const swagger = doc['swagger'] === '2.0';
  // Only the schema containers are registered: the rest of a spec is not JSON Schema.
  const container = swagger ? { definitions: doc['definitions'] } : { components: doc['components'] };
  ajv.addSchema({ $id: id, ...(convert(container, id) as Json) } as AnySchemaObject);
  const loaded: LoadedSpec = {
    doc,
    ajv,
    id,
    basePath: swagger ? String(doc['basePath'] ?? '') : '',
    errorRef: swagger ? '#/definitions/BasicFailedReply' : '#/components/schemas/MultiErrorResponse',
    compiled: new Map(),
  };
  specs.set(api, loaded);
  return loaded;
}

/** Follows a local `$ref` (e.g. `#/components/responses/NotFound`) inside the spec document. */
function deref(doc: Json, node: unknown): unknown {
  let cur = node;
  for (let i = 0; i < 10 && isObject(cur) && typeof cur['$ref'] === 'string'; i += 1) {
    const parts = cur['$ref'].replace(/^#\//, '').split('/');
    let target: unknown = doc;
    for (const part of parts)
      target = isObject(target) ? target[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined;
    cur = target;
  }
  return cur;
}

/** The spec path template matching a concrete path; literal segments beat parameters. */
function findPathItem(spec: LoadedSpec, path: string): { template: string; item: Json } | undefined {
  const rel =
    spec.basePath !== '' && path.startsWith(spec.basePath) ? path.slice(spec.basePath.length) : path;
  const paths = spec.doc['paths'] as Record<string, Json>;
  let best: { template: string; item: Json; literals: number } | undefined;
  for (const [template, item] of Object.entries(paths)) {
    const re = new RegExp(
      `^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`,
    );
    if (!re.test(rel)) continue;
    const literals = template.split('/').filter((s) => s !== '' && !s.startsWith('{')).length;
    if (!best || literals > best.literals) best = { template, item, literals };
  }
  return best;
}

function run(spec: LoadedSpec, key: string, schema: unknown, body: unknown): string[] {
  let validate = spec.compiled.get(key);
  if (!validate) {
    validate = spec.ajv.compile(convert(schema, spec.id) as AnySchemaObject);
    spec.compiled.set(key, validate);
  }
  if (validate(body)) return [];
  return (validate.errors ?? []).map(
    (e) =>
      `${key}: ${e.instancePath === '' ? '/' : e.instancePath} ${e.message ?? 'is invalid'} ${JSON.stringify(e.params)}`,
  );
}

/**
 * Validates one body against the spec. `path` is concrete (`/api/v1/deployments/traffic-filter/
 * rulesets/abc`). Returns the list of problems; [] when valid. An error status the operation does
 * not document is checked against the API's generic error schema; an undocumented success status
 * is itself a problem.
 */
export function validateAgainstSpec(
  api: SpecApi,
  kind: 'request' | 'response',
  method: string,
  path: string,
  status: number | undefined,
  body: unknown,
): string[] {
  const spec = load(api);
  const pathOnly = path.split('?')[0] ?? path;
  const found = findPathItem(spec, pathOnly);
  if (!found) return [`${api}: no path in the spec matches ${pathOnly}`];
  const op = found.item[method.toLowerCase()];
  if (!isObject(op)) return [`${api}: ${method} ${found.template} is not in the spec`];
  const where = `${api} ${method.toUpperCase()} ${found.template}`;

  if (kind === 'request') {
    let schema: unknown;
    if (spec.doc['swagger'] === '2.0') {
      const params = [
        ...((found.item['parameters'] as unknown[]) ?? []),
        ...((op['parameters'] as unknown[]) ?? []),
      ];
      const bodyParam = params.map((p) => deref(spec.doc, p)).find((p) => isObject(p) && p['in'] === 'body');
      schema = isObject(bodyParam) ? bodyParam['schema'] : undefined;
    } else {
      const rb = deref(spec.doc, op['requestBody']);
      schema = isObject(rb)
        ? (deref(spec.doc, rb['content']) as Json | undefined)?.['application/json']
        : undefined;
      schema = isObject(schema) ? schema['schema'] : undefined;
    }
    if (schema === undefined)
      return body === undefined ? [] : [`${where}: the spec documents no request body`];
    return run(spec, `${where} request`, schema, body);
  }

  if (status === undefined) return [`${where}: a response needs a status`];
  const responses = (op['responses'] ?? {}) as Json;
  const documented = deref(spec.doc, responses[String(status)] ?? responses['default']);
  if (!isObject(documented)) {
    if (status >= 400) return run(spec, `${api} generic error`, { $ref: spec.errorRef }, body);
    return [`${where}: status ${status} is not documented`];
  }
  let schema: unknown = documented['schema'];
  if (spec.doc['swagger'] !== '2.0') {
    const content = documented['content'];
    schema =
      isObject(content) && isObject(content['application/json'])
        ? content['application/json']['schema']
        : undefined;
  }
  if (schema === undefined) return body === undefined ? [] : [`${where}: status ${status} documents no body`];
  return run(spec, `${where} ${status}`, schema, body);
}
