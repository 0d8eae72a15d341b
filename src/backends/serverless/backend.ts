import { ApiError, InternalError } from '../../model/errors.js';
import { PROJECT_TYPES, targetKey } from '../../model/types.js';
import type {
  LiveEnvironment,
  LivePolicy,
  LiveTarget,
  PolicySpec,
  ProjectType,
  Target,
} from '../../model/types.js';
import type { BackendContext } from '../context.js';
import { createOnce } from '../create-once.js';
import { backoffCeiling, settleAll, sleep } from '../http.js';
import type { Backend } from '../types.js';
import { asArray, asObject, hasNextPage, requireString } from '../wire.js';
import type { WireContext } from '../wire.js';
import {
  canonicalSpec,
  createFilterBody,
  filterToLivePolicy,
  patchFilterBody,
  projectFilterIds,
  projectToLiveTarget,
  trafficFiltersBody,
} from './mapping.js';

/**
 * The serverless back end (API.md §4): traffic filters plus per-project association lists written
 * as a whole with `If-Match` (gotcha 15).
 */

const FILTERS = '/api/v1/serverless/traffic-filters';
const projectsPath = (type: ProjectType): string => `/api/v1/serverless/projects/${type}`;

/** Bound on re-read/re-write rounds when a project changed under us (412/409). */
const MAX_TARGET_WRITE_ROUNDS = 5;

interface Listing {
  items: unknown[];
  /** A non-empty `next_page`: the listing is cut short (gotcha 21). */
  truncated: boolean;
  attempts: number;
  label: string;
}

export function createServerlessBackend(ctx: BackendContext): Backend {
  const { http, config, logger } = ctx;
  const inScope = (region: string): boolean =>
    config.regions === undefined || config.regions.includes(region);

  async function list(path: string, searchParams?: Record<string, string>): Promise<Listing> {
    const res = await http.request({ method: 'GET', path, ...(searchParams ? { searchParams } : {}) });
    const query = searchParams ? `?${new URLSearchParams(searchParams).toString()}` : '';
    const wctx: WireContext = { method: 'GET', path };
    const body = asObject(wctx, res.body, 'list');
    return {
      items: asArray(wctx, body['items'], 'items'),
      truncated: hasNextPage(body),
      attempts: res.attempts,
      label: `GET ${path}${query}`,
    };
  }

  async function getProject(target: Target): Promise<{ ids: string[]; etag?: string }> {
    const path = projectPath(target);
    const res = await http.request({ method: 'GET', path });
    const wctx: WireContext = { method: 'GET', path };
    const ids = projectFilterIds(wctx, asObject(wctx, res.body, 'project'), `project ${target.id}`);
    return { ids, ...(res.etag !== undefined ? { etag: res.etag } : {}) };
  }

  function projectPath(target: Target): string {
    if (target.kind !== 'project')
      throw new InternalError(`${config.name}: ${target.kind} target on serverless`);
    return `${projectsPath(target.projectType)}/${encodeURIComponent(target.id)}`;
  }

  function filterPath(id: string): string {
    return `${FILTERS}/${encodeURIComponent(id)}`;
  }

  return {
    capabilities: ctx.capabilities,

    async read(): Promise<LiveEnvironment> {
      // Constant cost: two filter listings (with and without include_by_default, gotcha 22) and one
      // project listing per type, whatever the number of filters.
      const [plain, byDefault, ...projectLists] = await settleAll<[Listing, Listing, ...Listing[]]>([
        list(FILTERS),
        list(FILTERS, { include_by_default: 'true' }),
        ...PROJECT_TYPES.map((type) => list(projectsPath(type))),
      ]);
      const listings = [plain, byDefault, ...projectLists];

      const targets: LiveTarget[] = [];
      const associations = new Map<string, Target[]>();
      PROJECT_TYPES.forEach((type, i) => {
        const listing = projectLists[i];
        if (!listing) return;
        const wctx: WireContext = { method: 'GET', path: projectsPath(type) };
        for (const raw of listing.items) {
          const live = projectToLiveTarget(wctx, type, raw);
          targets.push(live);
          for (const id of live.policyIds ?? []) addTarget(associations, id, live.target);
        }
      });

      const filters = new Map<string, unknown>();
      const wctx: WireContext = { method: 'GET', path: FILTERS };
      for (const items of [plain.items, byDefault.items]) {
        for (const raw of items) {
          const id = requireString(wctx, asObject(wctx, raw, 'traffic filter'), 'id', 'traffic filter');
          if (!filters.has(id)) filters.set(id, raw);
        }
      }
      const policies: LivePolicy[] = [];
      for (const [id, raw] of filters) {
        const policy = filterToLivePolicy(wctx, raw, (associations.get(id) ?? []).sort(byTargetKey));
        if (inScope(policy.region)) policies.push(policy);
      }

      const truncated = listings.filter((l) => l.truncated).map((l) => l.label);
      return {
        environment: config.name,
        policies,
        targets,
        complete: truncated.length === 0,
        ...(truncated.length > 0 ? { incompleteReason: `next_page set on ${truncated.join(', ')}` } : {}),
        requests: listings.reduce((sum, l) => sum + l.attempts, 0),
      };
    },

    async createPolicy(spec: PolicySpec, exclude: readonly string[] = []): Promise<{ id: string }> {
      return createOnce({
        spec,
        logger,
        retry: ctx.retry,
        post: async () => {
          const res = await http.request({ method: 'POST', path: FILTERS, json: createFilterBody(spec) });
          const wctx: WireContext = { method: 'POST', path: FILTERS };
          return requireString(wctx, asObject(wctx, res.body, 'create response'), 'id', 'create response');
        },
        findMatching: async () => {
          // One listing: the one that cannot hide this filter whatever the server's reading of the
          // include_by_default default (gotcha 22).
          const listing = await list(FILTERS, {
            region: spec.region,
            ...(spec.include_by_default ? { include_by_default: 'true' } : {}),
          });
          const wctx: WireContext = { method: 'GET', path: FILTERS };
          // Only here, when an outcome is unknown: the canonical form is not free to compute.
          const wanted = canonicalSpec(spec);
          return listing.items
            .map((raw) => filterToLivePolicy(wctx, raw, []))
            .filter((p) => !exclude.includes(p.id) && canonicalSpec(p) === wanted)
            .map((p) => p.id);
        },
      });
    },

    async updatePolicy(id: string, spec: PolicySpec, before: PolicySpec): Promise<void> {
      const body = patchFilterBody(spec, before);
      if (Object.keys(body).length === 0) return;
      // Setting fields to given values: repeating the PATCH changes nothing more.
      await http.request({ method: 'PATCH', path: filterPath(id), json: body, idempotent: true });
    },

    async deletePolicy(id: string): Promise<void> {
      // 200, 204 and 404 are all "deleted" (gotcha 10).
      await http.request({ method: 'DELETE', path: filterPath(id), acceptStatus: [404] });
    },

    associate(): Promise<void> {
      return Promise.reject(new InternalError(`${config.name}: serverless writes associations per target`));
    },

    dissociate(): Promise<void> {
      return Promise.reject(new InternalError(`${config.name}: serverless writes associations per target`));
    },

    async writeTargetPolicies(
      target: LiveTarget,
      add: readonly string[],
      remove: readonly string[],
    ): Promise<void> {
      const path = projectPath(target.target);
      let current: { ids: string[]; etag?: string } | undefined =
        target.etag !== undefined && target.policyIds !== undefined
          ? { ids: [...target.policyIds], etag: target.etag }
          : undefined;
      for (let round = 1; round <= MAX_TARGET_WRITE_ROUNDS; round++) {
        current ??= await getProject(target.target);
        const next = nextFilterIds(current.ids, add, remove);
        if (sameList(next, current.ids)) return;
        if (current.etag === undefined) {
          logger.warn({ path }, 'project read without ETag; writing without If-Match');
        }
        // With If-Match, a repeated PATCH after a dropped connection gets 412 instead of
        // overwriting, so the client may retry it.
        const res = await http.request({
          method: 'PATCH',
          path,
          json: trafficFiltersBody(next),
          ...(current.etag !== undefined ? { headers: { 'if-match': current.etag } } : {}),
          idempotent: true,
          acceptStatus: [409, 412],
        });
        if (res.status < 300) return;
        logger.info({ path, status: res.status, round }, 'project changed since read; re-reading');
        current = undefined;
        if (round < MAX_TARGET_WRITE_ROUNDS) await sleep(Math.random() * backoffCeiling(ctx.retry, round));
      }
      throw new ApiError(
        `PATCH ${path}: the project kept changing (412/409 ${MAX_TARGET_WRITE_ROUNDS} times); try again`,
        { method: 'PATCH', path, status: 412, retryable: true },
      );
    },

    requestCount(): number {
      return http.counters().requests;
    },
  };
}

/** current − remove + add: every other id kept in its place, additions appended, no duplicates. */
export function nextFilterIds(
  current: readonly string[],
  add: readonly string[],
  remove: readonly string[],
): string[] {
  const removed = new Set(remove);
  const out: string[] = [];
  for (const id of [...current, ...add]) {
    if (!removed.has(id) && !out.includes(id)) out.push(id);
  }
  return out;
}

/**
 * Appends `target` to the policy's list once: a project lists its filters together, so a filter
 * listed twice by one project finds that project last on its list.
 */
function addTarget(associations: Map<string, Target[]>, policyId: string, target: Target): void {
  const list = associations.get(policyId);
  if (list === undefined) associations.set(policyId, [target]);
  else if (list[list.length - 1] !== target) list.push(target);
}

/** A policy's associations are listed in this order. */
function byTargetKey(a: Target, b: Target): number {
  return targetKey(a).localeCompare(targetKey(b));
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
