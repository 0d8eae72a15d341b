import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { apiError, EmulatorApiError, type ApiErrorElement } from './errors.js';
import type { FaultInjector } from './faults.js';
import {
  addDeployment,
  getDeployment,
  listDeployments,
  searchDeployments,
  type DeploymentInput,
} from './deployments.js';
import {
  addProject,
  associateRuleset,
  createFilter,
  createRuleset,
  deleteFilter,
  deleteRuleset,
  dissociateRuleset,
  getFilter,
  getFilterMetadata,
  getProject,
  getRuleset,
  getRulesetAssociations,
  isProjectType,
  listFilters,
  listProjects,
  listRulesets,
  patchFilter,
  patchProject,
  rulesetsForEntity,
  updateRuleset,
  type ProjectInput,
} from './state.js';
import { projectTagFilter } from './tags.js';
import type { EmulatorFlavor, EmulatorState, FaultConfig, FaultKind, RequestLogEntry } from './types.js';

/** Everything the HTTP layer needs; `state` is replaced only by the owner, never by the server. */
export interface ServerContext {
  flavor: EmulatorFlavor;
  getState(): EmulatorState;
  faults: FaultInjector;
  requestLog: RequestLogEntry[];
  /** Keep request and response bodies in the log (spec-conformance tests). */
  recordBodies: boolean;
  /** Sees each log entry as it is recorded (see EmulatorOptions.onRequest). */
  onRequest?: (entry: RequestLogEntry) => void;
  /** Called after every successful mutation (state file write). */
  persist(): void;
  /**
   * Encoded answers to GETs of the APIs, by request URL, valid until the state changes: the owner
   * clears it in `persist` and the server on every other method. A 5,000-ruleset listing is 10 MB
   * of JSON; encoding it again for each read made the emulator, not the latency it simulates, most
   * of a large plan's wait, and on a shared machine it took CPU from the client being measured.
   */
  answers: Map<string, EncodedReply>;
  apiKeys?: readonly string[];
  basicAuth?: { username: string; password: string };
  logger: Logger;
}

/** ESS/ECE errors are `BasicFailedReply` + `x-cloud-error-codes`; serverless errors are `MultiErrorResponse`. */
type Family = 'deployments' | 'serverless' | 'admin';

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

interface RouteInput {
  params: string[];
  query: URLSearchParams;
  body: unknown;
  headers: IncomingMessage['headers'];
  state: EmulatorState;
  /** Read-after-write lag (FaultConfig.readLag): policies just created, missing from reads. */
  lag: Pick<FaultInjector, 'created' | 'hides'>;
}

interface Route {
  method: string;
  pattern: RegExp;
  /** Only in the cloud flavor. */
  cloudOnly?: boolean;
  /** Changes nothing although not a GET (the search POST): no state write, no cache cleared. */
  readOnly?: boolean;
  handle(input: RouteInput): Reply;
}

const MAX_BODY_BYTES = 5 * 1024 * 1024;
const SEG = '([^/]+)';
const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const FILTERS = '/api/v1/serverless/traffic-filters';
const PROJECTS = '/api/v1/serverless/projects';

function route(method: string, path: string, handle: Route['handle'], cloudOnly = false): Route {
  return { method, pattern: new RegExp(`^${path}$`), handle, cloudOnly };
}

function bool(query: URLSearchParams, name: string): boolean {
  return query.get(name) === 'true';
}

function optionalBool(query: URLSearchParams, name: string): boolean | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw apiError(400, 'traffic_filter.bad_request', `${name} must be true or false`);
}

function optional(query: URLSearchParams, name: string): string | undefined {
  return query.get(name) ?? undefined;
}

function p(input: RouteInput, i: number): string {
  return input.params[i] ?? '';
}

function projectType(input: RouteInput) {
  const type = p(input, 0);
  if (!isProjectType(type)) throw apiError(404, 'root.resource_not_found', `Unknown project type ${type}`);
  return type;
}

function etagged(result: { body: unknown; etag: string }, status = 200): Reply {
  return { status, body: result.body, headers: { etag: result.etag } };
}

/** A listing without the fresh policies this read still misses (read-after-write lag). */
function withoutFresh(i: RouteInput, body: Record<string, unknown>, key: string): Record<string, unknown> {
  const items = body[key] as { id: string }[];
  return { ...body, [key]: items.filter((item) => !i.lag.hides(item.id)) };
}

/** A read of one policy that this read still misses answers as if it did not exist yet. */
function unlessFresh(i: RouteInput, id: string, notFound: string): void {
  if (i.lag.hides(id)) throw apiError(404, 'traffic_filter.not_found', notFound);
}

/** A created policy's id, for the read-after-write lag; the body is returned as it is. */
function fresh<T extends { id?: unknown }>(i: RouteInput, body: T): T {
  if (typeof body.id === 'string') i.lag.created(body.id);
  return body;
}

function buildRoutes(flavor: EmulatorFlavor): Route[] {
  return [
    // ESS / ECE deployments traffic-filter API (E1–E9) and deployments (E13, E14).
    route('GET', RULESETS, (i) =>
      ok(
        withoutFresh(
          i,
          listRulesets(i.state, {
            region: optional(i.query, 'region'),
            includeAssociations: bool(i.query, 'include_associations'),
          }),
          'rulesets',
        ),
      ),
    ),
    route('POST', RULESETS, (i) => ({ status: 201, body: fresh(i, createRuleset(i.state, flavor, i.body)) })),
    route('GET', `${RULESETS}/${SEG}`, (i) => {
      unlessFresh(i, p(i, 0), `Could not find ruleset with id [${p(i, 0)}]`);
      return ok(getRuleset(i.state, p(i, 0), bool(i.query, 'include_associations')));
    }),
    route('PUT', `${RULESETS}/${SEG}`, (i) => ok(updateRuleset(i.state, flavor, p(i, 0), i.body))),
    route('DELETE', `${RULESETS}/${SEG}`, (i) =>
      ok(deleteRuleset(i.state, p(i, 0), bool(i.query, 'ignore_associations'))),
    ),
    route('GET', `${RULESETS}/${SEG}/associations`, (i) => {
      unlessFresh(i, p(i, 0), `Could not find ruleset with id [${p(i, 0)}]`);
      return ok(getRulesetAssociations(i.state, p(i, 0)));
    }),
    route('POST', `${RULESETS}/${SEG}/associations`, (i) => {
      const r = associateRuleset(i.state, p(i, 0), i.body);
      return { status: r.created ? 201 : 200, body: r.body };
    }),
    route('DELETE', `${RULESETS}/${SEG}/associations/${SEG}/${SEG}`, (i) =>
      ok(dissociateRuleset(i.state, p(i, 0), p(i, 1), p(i, 2))),
    ),
    route('GET', `/api/v1/deployments/traffic-filter/associations/${SEG}/${SEG}/rulesets`, (i) =>
      ok(rulesetsForEntity(i.state, p(i, 0), p(i, 1))),
    ),
    route('GET', '/api/v1/deployments', (i) => ok(listDeployments(i.state))),
    {
      ...route('POST', '/api/v1/deployments/_search', (i) =>
        ok(searchDeployments(i.state, flavor, i.body, optional(i.query, 'minimal_metadata'))),
      ),
      readOnly: true,
    },
    route('GET', `/api/v1/deployments/${SEG}`, (i) =>
      ok(
        getDeployment(i.state, flavor, p(i, 0), {
          settings: bool(i.query, 'show_settings'),
          metadata: bool(i.query, 'show_metadata'),
        }),
      ),
    ),

    // Serverless traffic filters (S1–S6); `metadata` before `{id}` so it is not read as an id.
    route(
      'GET',
      FILTERS,
      (i) =>
        ok(
          withoutFresh(
            i,
            listFilters(i.state, {
              includeByDefault: optionalBool(i.query, 'include_by_default'),
              region: optional(i.query, 'region'),
            }),
            'items',
          ),
        ),
      true,
    ),
    route(
      'POST',
      FILTERS,
      (i) => {
        const made = createFilter(i.state, i.body);
        fresh(i, made.body);
        return etagged(made, 201);
      },
      true,
    ),
    route(
      'GET',
      `${FILTERS}/metadata`,
      (i) =>
        ok(
          getFilterMetadata(i.state, { region: optional(i.query, 'region'), csp: optional(i.query, 'csp') }),
        ),
      true,
    ),
    route(
      'GET',
      `${FILTERS}/${SEG}`,
      (i) => {
        unlessFresh(i, p(i, 0), `traffic filter ${p(i, 0)} not found`);
        return etagged(getFilter(i.state, p(i, 0)));
      },
      true,
    ),
    route('PATCH', `${FILTERS}/${SEG}`, (i) => etagged(patchFilter(i.state, p(i, 0), i.body)), true),
    route(
      'DELETE',
      `${FILTERS}/${SEG}`,
      (i) => ({ status: 204, headers: { etag: deleteFilter(i.state, p(i, 0)).etag } }),
      true,
    ),

    // Serverless projects (P1–P3).
    route(
      'GET',
      `${PROJECTS}/${SEG}`,
      (i) =>
        ok(
          listProjects(i.state, projectType(i), {
            trafficFilter: optional(i.query, 'traffic_filter'),
            tags: projectTagFilter(i.query),
          }),
        ),
      true,
    ),
    route(
      'GET',
      `${PROJECTS}/${SEG}/${SEG}`,
      (i) => etagged(getProject(i.state, projectType(i), p(i, 1))),
      true,
    ),
    route(
      'PATCH',
      `${PROJECTS}/${SEG}/${SEG}`,
      (i) => {
        const ifMatch = i.headers['if-match'];
        return etagged(
          patchProject(
            i.state,
            projectType(i),
            p(i, 1),
            i.body,
            Array.isArray(ifMatch) ? ifMatch[0] : ifMatch,
          ),
        );
      },
      true,
    ),
  ];
}

function ok(body: unknown): Reply {
  return { status: 200, body };
}

function familyOf(path: string): Family {
  if (path.startsWith('/_emulator/')) return 'admin';
  return path.startsWith('/api/v1/serverless/') ? 'serverless' : 'deployments';
}

function errorReply(family: Family, status: number, errors: ApiErrorElement[]): Reply {
  if (family === 'serverless') {
    // MultiErrorResponse has only message and code, and serverless sends no error-code header.
    return { status, body: { errors: errors.map((e) => ({ message: e.message, code: e.code })) } };
  }
  return {
    status,
    body: { errors },
    headers: family === 'deployments' ? { 'x-cloud-error-codes': errors.map((e) => e.code).join(',') } : {},
  };
}

function faultReply(family: Family, fault: FaultKind, retryAfterSeconds: number): Reply {
  if (fault === '429') {
    const r = errorReply(family, 429, [
      { code: 'root.rate_limited', message: 'Too many requests; retry later' },
    ]);
    r.headers = { ...r.headers, 'retry-after': String(Math.round(retryAfterSeconds)) };
    return r;
  }
  if (fault === '500') {
    return errorReply(family, 500, [
      {
        code: family === 'serverless' ? 'internal_server_error' : 'traffic_filter.request_execution_failed',
        message: 'Request execution failed (injected fault)',
      },
    ]);
  }
  return errorReply(family, 503, [
    { code: 'root.service_unavailable', message: 'Service temporarily unavailable (injected fault)' },
  ]);
}

/** A reply as sent: status, headers and the JSON body as bytes. */
export interface EncodedReply {
  status: number;
  headers: Record<string, string>;
  payload: Buffer | undefined;
}

function encode(reply: Reply): EncodedReply {
  const headers: Record<string, string> = { ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.body !== undefined && reply.status !== 204) {
    // Encoded once here: a string handed to the socket is encoded again on a slower path, which for
    // a listing of thousands of rulesets (10 MB) took longer than serialising it.
    payload = Buffer.from(JSON.stringify(reply.body), 'utf8');
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(payload.length);
  }
  return { status: reply.status, headers, payload };
}

function send(res: ServerResponse, reply: Reply): void {
  sendEncoded(res, encode(reply));
}

function sendEncoded(res: ServerResponse, { status, headers, payload }: EncodedReply): void {
  res.writeHead(status, headers);
  res.end(payload);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw apiError(413, 'root.request_too_large', 'Request body too large');
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw apiError(400, 'root.malformed_request', 'The request body is not valid JSON');
  }
}

function authorized(ctx: ServerContext, header: string | undefined): boolean {
  if (header === undefined) return false;
  const apiKey = /^ApiKey\s+(\S+)\s*$/i.exec(header);
  if (apiKey) return ctx.apiKeys === undefined || ctx.apiKeys.includes(apiKey[1] ?? '');
  const basic = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (basic && ctx.flavor === 'ece') {
    const decoded = Buffer.from(basic[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) return false;
    const [user, pass] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (ctx.basicAuth) return user === ctx.basicAuth.username && pass === ctx.basicAuth.password;
    return ctx.apiKeys === undefined;
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The request listener for node:http / node:https. */
export function createRequestHandler(
  ctx: ServerContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  const routes = buildRoutes(ctx.flavor);
  return (req, res) => {
    handle(ctx, routes, req, res).catch((err: unknown) => {
      ctx.logger.error({ err }, 'emulator request failed');
      if (!res.headersSent && !res.destroyed) {
        send(res, errorReply('admin', 500, [{ code: 'emulator.internal_error', message: String(err) }]));
      }
    });
  };
}

async function handle(
  ctx: ServerContext,
  routes: Route[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const path = url.pathname;
  const family = familyOf(path);
  if (family === 'admin') {
    await handleAdmin(ctx, method, path, req, res);
    return;
  }

  let requestBody: unknown;
  const record = (status: number, fault?: FaultKind, responseBody?: unknown): void => {
    const entry: RequestLogEntry = { method, path, status };
    if (fault !== undefined) entry.fault = fault;
    if (ctx.recordBodies) {
      if (requestBody !== undefined) entry.requestBody = requestBody;
      // A copy: an answer may share objects with the state, which later requests change.
      if (responseBody !== undefined) entry.responseBody = structuredClone(responseBody);
    }
    ctx.requestLog.push(entry);
    ctx.logger.debug(entry, 'emulator request');
    ctx.onRequest?.(entry);
  };

  const decision = ctx.faults.decide(method, path);
  if (decision.latencyMs > 0) await sleep(decision.latencyMs);
  if (decision.fault === 'reset') {
    record(0, 'reset');
    req.socket.destroy();
    return;
  }
  if (decision.fault === '429' || decision.fault === '500' || decision.fault === '503') {
    const reply = faultReply(family, decision.fault, decision.retryAfterSeconds);
    record(reply.status, decision.fault);
    req.resume();
    send(res, reply);
    return;
  }

  let reply: Reply;
  let mutated = false;
  // A GET answer already encoded for this state (see ServerContext.answers); not while bodies are
  // recorded, whose log keeps each answer as data, nor while fresh policies are missing from reads.
  const answerKey =
    method === 'GET' && !ctx.recordBodies && !ctx.faults.lagging() ? (req.url ?? path) : undefined;
  try {
    if (!authorized(ctx, req.headers.authorization)) {
      req.resume();
      throw apiError(401, 'root.unauthenticated', 'The supplied authentication is invalid or missing');
    }
    const candidates = routes.filter((r) => r.pattern.test(path) && (!r.cloudOnly || ctx.flavor === 'cloud'));
    const match = candidates.find((r) => r.method === method);
    if (!match) {
      req.resume();
      if (candidates.length > 0)
        throw apiError(405, 'root.method_not_allowed', `Method ${method} is not allowed on ${path}`);
      throw apiError(404, 'root.resource_not_found', `No API resource at ${path}`);
    }
    const known = answerKey === undefined ? undefined : ctx.answers.get(answerKey);
    if (known !== undefined) {
      req.resume();
      if (decision.fault === 'reset_after_commit') {
        record(known.status, 'reset_after_commit');
        res.socket?.destroy();
        return;
      }
      record(known.status);
      sendEncoded(res, known);
      return;
    }
    const body = method === 'GET' || method === 'DELETE' ? (req.resume(), undefined) : await readBody(req);
    requestBody = body;
    const params = (match.pattern.exec(path) ?? []).slice(1).map((s) => decodeURIComponent(s));
    try {
      reply = match.handle({
        params,
        query: url.searchParams,
        body,
        headers: req.headers,
        state: ctx.getState(),
        lag: ctx.faults,
      });
    } finally {
      // Whatever a write did, even half of it before failing, no answer encoded before it stands.
      if (method !== 'GET' && match.readOnly !== true) ctx.answers.clear();
    }
    mutated = method !== 'GET' && match.readOnly !== true && reply.status < 300;
  } catch (err) {
    if (!(err instanceof EmulatorApiError)) throw err;
    reply = errorReply(family, err.status, err.errors);
  }
  if (mutated) ctx.persist();
  if (decision.fault === 'reset_after_commit') {
    record(reply.status, 'reset_after_commit');
    res.socket?.destroy();
    return;
  }
  record(reply.status, undefined, reply.status === 204 ? undefined : reply.body);
  const encoded = encode(reply);
  if (answerKey !== undefined && reply.status < 300) ctx.answers.set(answerKey, encoded);
  sendEncoded(res, encoded);
}

async function handleAdmin(
  ctx: ServerContext,
  method: string,
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  try {
    const key = `${method} ${path.replace(/\/+$/, '')}`;
    const body = method === 'GET' ? (req.resume(), undefined) : await readBody(req);
    switch (key) {
      case 'GET /_emulator/state':
        return send(res, ok(ctx.getState()));
      case 'POST /_emulator/deployments': {
        const b = (body ?? {}) as DeploymentInput;
        const id = addDeployment(ctx.getState(), {
          name: b.name,
          region: b.region,
          ...(b.id !== undefined ? { id: b.id } : {}),
          ...(b.tags !== undefined ? { tags: b.tags } : {}),
        });
        ctx.persist();
        return send(res, { status: 201, body: { id } });
      }
      case 'POST /_emulator/projects': {
        const b = (body ?? {}) as ProjectInput;
        const id = addProject(ctx.getState(), {
          type: b.type,
          name: b.name,
          region_id: b.region_id,
          ...(b.id !== undefined ? { id: b.id } : {}),
          ...(b.tags !== undefined ? { tags: b.tags } : {}),
        });
        ctx.persist();
        return send(res, { status: 201, body: { id } });
      }
      case 'GET /_emulator/faults':
        return send(res, ok(ctx.faults.get()));
      case 'PUT /_emulator/faults':
        try {
          ctx.faults.set((body ?? {}) as FaultConfig);
        } catch (err) {
          throw apiError(400, 'emulator.invalid_faults', (err as Error).message);
        }
        return send(res, ok(ctx.faults.get()));
      case 'GET /_emulator/requests':
        return send(res, ok(summariseRequests(ctx.requestLog)));
      case 'POST /_emulator/reset-log':
        ctx.requestLog.length = 0;
        return send(res, ok({}));
      default:
        throw apiError(404, 'emulator.not_found', `No admin endpoint ${method} ${path}`);
    }
  } catch (err) {
    if (!(err instanceof EmulatorApiError)) throw err;
    send(res, errorReply('admin', err.status, err.errors));
  }
}

/** The admin view of the request log: entries plus counts by method, status and fault. */
export function summariseRequests(log: readonly RequestLogEntry[]): {
  requests: RequestLogEntry[];
  counts: {
    total: number;
    byMethod: Record<string, number>;
    byStatus: Record<string, number>;
    byFault: Record<string, number>;
  };
} {
  const counts = {
    total: log.length,
    byMethod: {} as Record<string, number>,
    byStatus: {} as Record<string, number>,
    byFault: {} as Record<string, number>,
  };
  for (const e of log) {
    counts.byMethod[e.method] = (counts.byMethod[e.method] ?? 0) + 1;
    counts.byStatus[String(e.status)] = (counts.byStatus[String(e.status)] ?? 0) + 1;
    if (e.fault !== undefined) counts.byFault[e.fault] = (counts.byFault[e.fault] ?? 0) + 1;
  }
  return { requests: log.map((e) => ({ ...e })), counts };
}
