import { byId, insert, remove, takenIn } from './collections.js';
import { findDeployment } from './deployments.js';
import { apiError } from './errors.js';
import { makeEtag, newHexId, newUniqueId, PROJECT_ID } from './ids.js';
import { builtinRegionMetadata } from './metadata.js';
import {
  SERVERLESS_PROJECT_TYPES,
  type EmulatorFlavor,
  type EmulatorState,
  type ServerlessProjectType,
  type StoredProject,
  type StoredRule,
  type StoredRuleset,
  type StoredTrafficFilter,
} from './types.js';
import { hasProjectTags, patchProjectTags, validateProjectTags } from './tags.js';
import {
  INVALID_INPUT,
  isObject,
  SLS_BAD_REQUEST,
  validateFilterCreate,
  validateFilterPatch,
  validateRulesetRequest,
  type RulesetRequest,
} from './validate.js';

/*
 * The emulated APIs as functions over one state object: no I/O here. Reads return the response
 * body; writes mutate `state` and return the body. Refusals throw `EmulatorApiError`, and a
 * function validates everything before it mutates anything, so a refused request changes nothing.
 */

type Json = Record<string, unknown>;

export function createEmptyState(): EmulatorState {
  return {
    format: 'ecfence-emulator-state/1',
    deployments: [],
    rulesets: [],
    projects: [],
    traffic_filters: [],
    metadata: builtinRegionMetadata(),
    force_next_page: false,
    etag_counter: 0,
  };
}

const NOT_FOUND = 'traffic_filter.not_found';
const INVALID_ASSOCIATION_TYPE = 'traffic_filter.invalid_association_type';

function nextEtag(state: EmulatorState, objectId: string): string {
  state.etag_counter += 1;
  return makeEtag(objectId, state.etag_counter);
}

// ---------------------------------------------------------------------------------------------
// ESS / ECE: rulesets and associations
// ---------------------------------------------------------------------------------------------

function findRuleset(state: EmulatorState, id: string): StoredRuleset {
  const r = byId(state.rulesets, id);
  if (!r) throw apiError(404, NOT_FOUND, `Could not find ruleset with id [${id}]`);
  return r;
}

function issueRuleIds(rules: RulesetRequest['rules']): StoredRule[] {
  return rules.map((r) => ({ id: newHexId(), ...r }));
}

/** `TrafficFilterRulesetInfo`, with associations only when asked for and only when there are any. */
export function rulesetView(r: StoredRuleset, includeAssociations: boolean): Json {
  const view: Json = {
    id: r.id,
    name: r.name,
    type: r.type,
    include_by_default: r.include_by_default,
    region: r.region,
    // Stored rules are replaced on update, never edited, so a view can share them.
    rules: [...r.rules],
  };
  if (r.description !== undefined) view['description'] = r.description;
  if (includeAssociations) {
    if (r.associations.length > 0) {
      view['associations'] = r.associations.map((id) => ({ entity_type: 'deployment', id }));
    }
    const total = r.associations.length + r.hidden_associations;
    if (total > 0) view['total_associations'] = total;
  }
  return view;
}

export function listRulesets(
  state: EmulatorState,
  q: { region?: string; includeAssociations: boolean },
): Json {
  return {
    rulesets: state.rulesets
      .filter((r) => q.region === undefined || r.region === q.region)
      .map((r) => rulesetView(r, q.includeAssociations)),
  };
}

export function getRuleset(state: EmulatorState, id: string, includeAssociations: boolean): Json {
  return rulesetView(findRuleset(state, id), includeAssociations);
}

export function createRuleset(state: EmulatorState, flavor: EmulatorFlavor, body: unknown): Json {
  const req = validateRulesetRequest(flavor, body);
  const ruleset: StoredRuleset = {
    id: newUniqueId(takenIn(state)),
    name: req.name,
    type: req.type,
    include_by_default: req.include_by_default,
    region: req.region,
    rules: issueRuleIds(req.rules),
    associations: [],
    hidden_associations: 0,
  };
  if (req.description !== undefined) ruleset.description = req.description;
  insert(state.rulesets, ruleset);
  return { id: ruleset.id };
}

/** Whole replacement: every field comes from the body and every rule gets a new id. */
export function updateRuleset(state: EmulatorState, flavor: EmulatorFlavor, id: string, body: unknown): Json {
  const existing = findRuleset(state, id);
  const req = validateRulesetRequest(flavor, body);
  // A ruleset only applies in its region; moving it would leave its associations pointing across regions.
  const total = existing.associations.length + existing.hidden_associations;
  if (req.region !== existing.region && total > 0) {
    throw apiError(
      400,
      'traffic_filter.region_mismatch',
      `Ruleset [${id}] has ${total} association(s) in region [${existing.region}]; its region cannot change to [${req.region}]`,
      ['region'],
    );
  }
  existing.name = req.name;
  existing.type = req.type;
  existing.include_by_default = req.include_by_default;
  existing.region = req.region;
  existing.rules = issueRuleIds(req.rules);
  if (req.description !== undefined) existing.description = req.description;
  else delete existing.description;
  return { id };
}

export function deleteRuleset(state: EmulatorState, id: string, ignoreAssociations: boolean): Json {
  const r = findRuleset(state, id);
  const total = r.associations.length + r.hidden_associations;
  if (total > 0 && !ignoreAssociations) {
    throw apiError(
      400,
      'traffic_filter.has_associations',
      `Ruleset [${id}] has ${total} association(s); remove them first or set ignore_associations=true`,
    );
  }
  remove(state.rulesets, r);
  return {};
}

/** `RulesetAssociations` (E6): both fields always present. */
export function getRulesetAssociations(state: EmulatorState, id: string): Json {
  const r = findRuleset(state, id);
  return {
    associations: r.associations.map((d) => ({ entity_type: 'deployment', id: d })),
    total_associations: r.associations.length + r.hidden_associations,
  };
}

function checkAssociationType(type: string): void {
  if (type !== 'deployment') {
    throw apiError(
      400,
      INVALID_ASSOCIATION_TYPE,
      `Invalid association type [${type}]; expected [deployment]`,
    );
  }
}

/** E7. `created` tells 201 (new) from 200 (already there). */
export function associateRuleset(
  state: EmulatorState,
  id: string,
  body: unknown,
): { created: boolean; body: Json } {
  const r = findRuleset(state, id);
  if (!isObject(body) || typeof body['entity_type'] !== 'string' || typeof body['id'] !== 'string') {
    const fields = ['entity_type', 'id'].filter((f) => !isObject(body) || typeof body[f] !== 'string');
    throw apiError(400, INVALID_INPUT, 'The fields [entity_type] and [id] are required strings', fields);
  }
  checkAssociationType(body['entity_type']);
  const d = findDeployment(state, body['id']);
  if (d.region !== r.region) {
    throw apiError(
      400,
      'traffic_filter.region_mismatch',
      `Ruleset [${r.id}] is in region [${r.region}] but deployment [${d.id}] is in region [${d.region}]`,
    );
  }
  if (r.associations.includes(d.id)) return { created: false, body: {} };
  r.associations.push(d.id);
  return { created: true, body: {} };
}

export function dissociateRuleset(state: EmulatorState, id: string, type: string, entityId: string): Json {
  const r = findRuleset(state, id);
  checkAssociationType(type);
  if (!r.associations.includes(entityId)) {
    throw apiError(404, NOT_FOUND, `Ruleset [${id}] has no association with ${type} [${entityId}]`);
  }
  r.associations = r.associations.filter((x) => x !== entityId);
  return {};
}

/** E9: ruleset ids associated with one entity (`TrafficFilterSettings`). */
export function rulesetsForEntity(state: EmulatorState, type: string, entityId: string): Json {
  checkAssociationType(type);
  return { rulesets: state.rulesets.filter((r) => r.associations.includes(entityId)).map((r) => r.id) };
}

// ---------------------------------------------------------------------------------------------
// Serverless: traffic filters
// ---------------------------------------------------------------------------------------------

function findFilter(state: EmulatorState, id: string): StoredTrafficFilter {
  const f = byId(state.traffic_filters, id);
  if (!f) throw apiError(404, 'traffic_filter.not_found', `traffic filter ${id} not found`);
  return f;
}

/** `TrafficFilterInfo`. */
export function filterView(f: StoredTrafficFilter): Json {
  const view: Json = {
    id: f.id,
    name: f.name,
    type: f.type,
    include_by_default: f.include_by_default,
    region: f.region,
    rules: [...f.rules],
  };
  if (f.description !== undefined) view['description'] = f.description;
  return view;
}

function forcedNextPage(state: EmulatorState, list: 'traffic_filters' | 'projects'): string | null {
  const f = state.force_next_page;
  return f === true || f === list ? 'ZWNmZW5jZS1lbXVsYXRvci1uZXh0LXBhZ2U=' : null;
}

/** S1. No `include_by_default` param returns every filter (API.md §7). */
export function listFilters(state: EmulatorState, q: { includeByDefault?: boolean; region?: string }): Json {
  return {
    items: state.traffic_filters
      .filter((f) => q.includeByDefault === undefined || f.include_by_default === q.includeByDefault)
      .filter((f) => q.region === undefined || f.region === q.region)
      .map(filterView),
    next_page: forcedNextPage(state, 'traffic_filters'),
  };
}

export function getFilter(state: EmulatorState, id: string): { body: Json; etag: string } {
  const f = findFilter(state, id);
  return { body: filterView(f), etag: f.etag };
}

export function createFilter(state: EmulatorState, body: unknown, id?: string): { body: Json; etag: string } {
  const req = validateFilterCreate(body);
  const f: StoredTrafficFilter = {
    id: id ?? newUniqueId(takenIn(state)),
    name: req.name,
    type: req.type,
    include_by_default: req.include_by_default,
    region: req.region,
    rules: req.rules,
    etag: '',
  };
  if (req.description !== undefined) f.description = req.description;
  f.etag = nextEtag(state, f.id);
  insert(state.traffic_filters, f);
  return { body: filterView(f), etag: f.etag };
}

export function patchFilter(state: EmulatorState, id: string, body: unknown): { body: Json; etag: string } {
  const f = findFilter(state, id);
  const req = validateFilterPatch(body, f.type);
  if (req.name !== undefined) f.name = req.name;
  if (req.description !== undefined) f.description = req.description;
  if (req.include_by_default !== undefined) f.include_by_default = req.include_by_default;
  if (req.rules !== undefined) f.rules = req.rules;
  f.etag = nextEtag(state, f.id);
  return { body: filterView(f), etag: f.etag };
}

export function deleteFilter(state: EmulatorState, id: string): { etag: string } {
  const f = findFilter(state, id);
  const user = state.projects.find((p) => p.traffic_filters.includes(id));
  if (user) {
    throw apiError(
      400,
      'traffic_filter.associated',
      `traffic filter is associated with ${user.id}, remove the association first`,
    );
  }
  remove(state.traffic_filters, f);
  return { etag: nextEtag(state, id) };
}

/** S6: empty `regions` when nothing matches. */
export function getFilterMetadata(state: EmulatorState, q: { region?: string; csp?: string }): Json {
  if (q.region === '') throw apiError(400, SLS_BAD_REQUEST, 'region must not be empty');
  if (q.csp === '') throw apiError(400, SLS_BAD_REQUEST, 'csp must not be empty');
  return {
    regions: state.metadata
      .filter((m) => q.region === undefined || m.region === q.region)
      .filter((m) => q.csp === undefined || m.csp === q.csp)
      .map((m) => structuredClone(m)),
  };
}

// ---------------------------------------------------------------------------------------------
// Serverless: projects
// ---------------------------------------------------------------------------------------------

export function isProjectType(value: string): value is ServerlessProjectType {
  return (SERVERLESS_PROJECT_TYPES as readonly string[]).includes(value);
}

function findProject(state: EmulatorState, type: ServerlessProjectType, id: string): StoredProject {
  const found = byId(state.projects, id);
  // Ids are unique across the state, so a project of another type is simply not this one.
  const p = found?.type === type ? found : undefined;
  if (!p) throw apiError(404, 'project.not_found', `${type} project ${id} not found`);
  return p;
}

const ORGANIZATION_ID = '198583657190';

/** The project object of the type's schema, with every field the spec requires. */
export function projectView(p: StoredProject): Json {
  const endpoints: Json = {
    elasticsearch: `https://${p.alias}.es.${p.region_id}.elastic.cloud`,
    kibana: `https://${p.alias}.kb.${p.region_id}.elastic.cloud`,
  };
  if (p.type === 'observability') endpoints['apm'] = `https://${p.alias}.apm.${p.region_id}.elastic.cloud`;
  if (p.type !== 'elasticsearch')
    endpoints['ingest'] = `https://${p.alias}.ingest.${p.region_id}.elastic.cloud`;
  const view: Json = {
    id: p.id,
    name: p.name,
    alias: p.alias,
    region_id: p.region_id,
    metadata: {
      created_at: p.created_at,
      created_by: '1014289666002276',
      organization_id: ORGANIZATION_ID,
      ...(p.tags !== undefined ? { tags: { ...p.tags } } : {}),
    },
    cloud_id: `${p.alias}:${Buffer.from(`${p.region_id}.elastic.cloud$${p.id}$${p.id.slice(0, 16)}`).toString('base64')}`,
    type: p.type,
    endpoints,
  };
  if (p.type === 'elasticsearch') view['optimized_for'] = 'general_purpose';
  if (p.type === 'observability') view['product_tier'] = 'complete';
  if (p.traffic_filters.length > 0) view['traffic_filters'] = p.traffic_filters.map((id) => ({ id }));
  return view;
}

export function listProjects(
  state: EmulatorState,
  type: ServerlessProjectType,
  q: { trafficFilter?: string; tags?: Readonly<Record<string, string>> },
): Json {
  const { tags } = q;
  const body: Json = {
    items: state.projects
      .filter((p) => p.type === type)
      .filter((p) => q.trafficFilter === undefined || p.traffic_filters.includes(q.trafficFilter))
      .filter((p) => tags === undefined || hasProjectTags(p.tags, tags))
      .map(projectView),
  };
  const next = forcedNextPage(state, 'projects');
  if (next !== null) body['next_page'] = next;
  return body;
}

export function getProject(
  state: EmulatorState,
  type: ServerlessProjectType,
  id: string,
): { body: Json; etag: string } {
  const p = findProject(state, type, id);
  return { body: projectView(p), etag: p.etag };
}

/** Keys each `Patch{Type}ProjectRequest` declares (`additionalProperties: false`). */
const PATCH_KEYS: Record<ServerlessProjectType, readonly string[]> = {
  elasticsearch: ['name', 'alias', 'search_lake', 'traffic_filters', 'linked', 'metadata'],
  observability: ['name', 'alias', 'traffic_filters', 'linked', 'product_tier', 'metadata'],
  security: [
    'name',
    'alias',
    'admin_features_package',
    'product_types',
    'search_lake',
    'traffic_filters',
    'metadata',
    'linked',
  ],
};

const ALIAS = /^[a-zA-Z](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

function aliasWithSuffix(alias: string): string {
  return `${alias}-${newHexId().slice(0, 6)}`;
}

function aliasFromName(name: string): string {
  const base = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 50)
    .replace(/-+$/, '');
  return base === '' ? 'project' : base;
}

/** Resolves a `traffic_filters` list for a project in `region`: every id exists and is in region. */
function resolveProjectFilters(state: EmulatorState, region: string, raw: unknown): string[] {
  if (!Array.isArray(raw))
    throw apiError(400, 'project.bad_request', 'traffic_filters must be an array of {id}');
  const ids: string[] = [];
  for (const [i, item] of raw.entries()) {
    if (!isObject(item) || typeof item['id'] !== 'string' || Object.keys(item).some((k) => k !== 'id')) {
      throw apiError(400, 'project.bad_request', `traffic_filters[${i}] must be an object {id: string}`);
    }
    const f = byId(state.traffic_filters, item['id']);
    if (!f) throw apiError(400, 'project.bad_request', `traffic filter ${item['id']} does not exist`);
    if (f.region !== region) {
      throw apiError(
        400,
        'project.bad_request',
        `traffic filter ${f.id} is in region ${f.region}, the project is in region ${region}`,
      );
    }
    if (!ids.includes(f.id)) ids.push(f.id);
  }
  return ids;
}

/**
 * P3. Only the keys present change; `traffic_filters` replaces the whole list. `ifMatch` (when
 * given) must equal the current ETag, else 412.
 */
export function patchProject(
  state: EmulatorState,
  type: ServerlessProjectType,
  id: string,
  body: unknown,
  ifMatch: string | undefined,
): { body: Json; etag: string } {
  const p = findProject(state, type, id);
  if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== p.etag) {
    throw apiError(
      412,
      'project.precondition_failed',
      `ETag ${ifMatch} does not match the current ${p.etag}`,
    );
  }
  if (!isObject(body)) throw apiError(400, 'project.bad_request', 'The request body must be a JSON object');
  const unknown = Object.keys(body).filter((k) => !PATCH_KEYS[type].includes(k));
  if (unknown.length > 0) {
    throw apiError(
      400,
      'project.bad_request',
      `Unknown field(s) for a ${type} project patch: ${unknown.join(', ')}`,
    );
  }
  const name = body['name'];
  if (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > 255)) {
    throw apiError(400, 'project.bad_request', 'name must be 1..255 characters');
  }
  const alias = body['alias'];
  if (alias !== undefined && (typeof alias !== 'string' || alias.length > 50 || !ALIAS.test(alias))) {
    throw apiError(400, 'project.bad_request', 'alias must be an RFC-1035 label of at most 50 characters');
  }
  // `null` is schema-valid but undocumented; read it like an absent key (a nil pointer in Go).
  const filters =
    body['traffic_filters'] === undefined || body['traffic_filters'] === null
      ? undefined
      : resolveProjectFilters(state, p.region_id, body['traffic_filters']);
  const tags = body['metadata'] === undefined ? p.tags : patchProjectTags(p.tags, body['metadata']);
  if (typeof name === 'string') p.name = name;
  if (typeof alias === 'string') p.alias = aliasWithSuffix(alias);
  if (filters !== undefined) p.traffic_filters = filters;
  if (tags !== undefined) p.tags = tags;
  else delete p.tags;
  // Other declared keys (search_lake, linked, product_tier, ...) are accepted and not modelled:
  // they have nothing to do with network security or its selectors.
  p.etag = nextEtag(state, p.id);
  return { body: projectView(p), etag: p.etag };
}

/** A project to create, as the admin endpoint and the seed give it (checked by `addProject`). */
export interface ProjectInput {
  type: string;
  name: string;
  region_id: string;
  id?: string;
  traffic_filters?: string[];
  tags?: unknown;
}

/**
 * Creates a project (admin endpoint / seed), with its tags. Filters with `include_by_default` in
 * its region attach to it, plus any explicitly listed ones.
 */
export function addProject(
  state: EmulatorState,
  input: ProjectInput,
  opts: { autoAttach?: boolean } = {},
): string {
  if (typeof input.type !== 'string' || !isProjectType(input.type)) {
    throw apiError(400, 'project.bad_request', `type must be one of ${SERVERLESS_PROJECT_TYPES.join(', ')}`);
  }
  if (typeof input.name !== 'string' || input.name === '' || input.name.length > 255) {
    throw apiError(400, 'project.bad_request', 'name must be 1..255 characters');
  }
  if (typeof input.region_id !== 'string' || input.region_id === '') {
    throw apiError(400, 'project.bad_request', 'region_id is required');
  }
  const tags = validateProjectTags(input.tags);
  const taken = takenIn(state);
  if (input.id !== undefined) {
    if (typeof input.id !== 'string' || !PROJECT_ID.test(input.id)) {
      throw apiError(400, 'project.bad_request', 'id must match ^[a-z0-9]{32}$');
    }
    if (taken.has(input.id))
      throw apiError(409, 'project.already_exists', `Id ${input.id} is already in use`);
  }
  const explicit =
    input.traffic_filters === undefined
      ? []
      : resolveProjectFilters(
          state,
          input.region_id,
          input.traffic_filters.map((id) => ({ id })),
        );
  const auto =
    opts.autoAttach === false
      ? []
      : state.traffic_filters
          .filter((f) => f.include_by_default && f.region === input.region_id)
          .map((f) => f.id);
  const project: StoredProject = {
    id: input.id ?? newUniqueId(taken),
    type: input.type,
    name: input.name,
    alias: aliasWithSuffix(aliasFromName(input.name)),
    region_id: input.region_id,
    traffic_filters: [...new Set([...explicit, ...auto])],
    created_at: new Date().toISOString(),
    etag: '',
  };
  if (tags !== undefined) project.tags = tags;
  project.etag = nextEtag(state, project.id);
  insert(state.projects, project);
  return project.id;
}
