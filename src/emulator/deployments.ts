import { apiError } from './errors.js';
import { byId, insert, takenIn } from './collections.js';
import { newUniqueId } from './ids.js';
import { analyse, searchDocuments, type Mapping, type SearchDocument } from './search.js';
import { deploymentMetadata, validateDeploymentTags } from './tags.js';
import type { EmulatorFlavor, EmulatorState, StoredDeployment } from './types.js';
import { INVALID_INPUT } from './validate.js';

/*
 * ESS / ECE deployments: the list (E13), one deployment (E14), the search (E15), and the admin
 * side that creates them. Deployments exist only to be targets: one Elasticsearch resource each.
 */

type Json = Record<string, unknown>;

const DEPLOYMENT_NOT_FOUND = 'deployments.deployment_not_found';

export function findDeployment(state: EmulatorState, id: string): StoredDeployment {
  const d = byId(state.deployments, id);
  if (!d) throw apiError(404, DEPLOYMENT_NOT_FOUND, `Deployment [${id}] could not be found`);
  return d;
}

function deploymentResource(d: StoredDeployment): Json {
  return { ref_id: 'main-elasticsearch', id: d.resource_id, kind: 'elasticsearch', region: d.region };
}

export function listDeployments(state: EmulatorState): Json {
  return {
    deployments: state.deployments.map((d) => ({
      id: d.id,
      name: d.name,
      resources: [deploymentResource(d)],
    })),
  };
}

/** `DeploymentResources`: one started Elasticsearch resource, every other kind empty. */
function deploymentResources(d: StoredDeployment): Json {
  return {
    elasticsearch: [
      {
        ref_id: 'main-elasticsearch',
        id: d.resource_id,
        region: d.region,
        info: {
          cluster_id: d.resource_id,
          cluster_name: d.name,
          deployment_id: d.id,
          healthy: true,
          status: 'started',
          associated_apm_clusters: [],
          associated_appsearch_clusters: [],
          associated_enterprise_search_clusters: [],
          associated_kibana_clusters: [],
          elasticsearch: {
            healthy: true,
            blocking_issues: { healthy: true, cluster_level: [], index_level: [] },
            master_info: { healthy: true, instances_with_no_master: [], masters: [] },
            shard_info: {
              healthy: true,
              available_shards: [],
              unavailable_replicas: [],
              unavailable_shards: [],
            },
          },
          external_links: [],
          metadata: { last_modified: d.created_at, version: 1 },
          plan_info: { healthy: true, history: [] },
          snapshots: { count: 0, healthy: true, recent_success: false },
          topology: { healthy: true, instances: [] },
        },
      },
    ],
    kibana: [],
    apm: [],
    appsearch: [],
    enterprise_search: [],
    integrations_server: [],
  };
}

/**
 * `DeploymentGetResponse` with the required parts only, plus settings with `show_settings=true`
 * and metadata (tags) with `show_metadata=true`.
 */
export function getDeployment(
  state: EmulatorState,
  flavor: EmulatorFlavor,
  id: string,
  show: { settings: boolean; metadata: boolean },
): Json {
  const d = findDeployment(state, id);
  const body: Json = { id: d.id, name: d.name, healthy: true, resources: deploymentResources(d) };
  if (show.settings) {
    body['settings'] = {
      auto_ops: { status: 'not_connected' },
      traffic_filter_settings: {
        rulesets: state.rulesets.filter((r) => r.associations.includes(d.id)).map((r) => r.id),
      },
    };
  }
  if (show.metadata) body['metadata'] = deploymentMetadata(d, flavor);
  return body;
}

/** A deployment to create, as the admin endpoint and the seed give it (checked by `addDeployment`). */
export interface DeploymentInput {
  name: string;
  region: string;
  id?: string;
  tags?: unknown;
}

/**
 * Creates a deployment (admin endpoint / seed), with its tags. Rulesets with `include_by_default` in its region
 * attach to it, as the platform does for new deployments only.
 */
export function addDeployment(
  state: EmulatorState,
  input: DeploymentInput,
  opts: { autoAttach?: boolean } = {},
): string {
  if (typeof input.name !== 'string' || input.name === '')
    throw apiError(400, INVALID_INPUT, 'name is required', ['name']);
  if (typeof input.region !== 'string' || input.region === '') {
    throw apiError(400, INVALID_INPUT, 'region is required', ['region']);
  }
  const tags = validateDeploymentTags(input.tags);
  const taken = takenIn(state);
  if (input.id !== undefined) {
    if (typeof input.id !== 'string' || input.id === '')
      throw apiError(400, INVALID_INPUT, 'id must be a string', ['id']);
    if (taken.has(input.id))
      throw apiError(409, 'deployments.already_exists', `Id [${input.id}] is already in use`);
  }
  const id = input.id ?? newUniqueId(taken);
  insert(state.deployments, {
    id,
    name: input.name,
    region: input.region,
    resource_id: newUniqueId({ has: (x) => x === id || taken.has(x) }),
    created_at: new Date().toISOString(),
    ...(tags !== undefined ? { tags } : {}),
  });
  if (opts.autoAttach !== false) {
    for (const r of state.rulesets) {
      if (r.include_by_default && r.region === input.region) r.associations.push(id);
    }
  }
  return id;
}

/** The resource kinds of `DeploymentResources`: each a nested path of the search index. */
const RESOURCE_KINDS = [
  'elasticsearch',
  'kibana',
  'apm',
  'appsearch',
  'enterprise_search',
  'integrations_server',
];

/**
 * The deployments index as far as the API shows it (API.md §2.5): `name` is analysed text with a
 * `name.keyword` sub-field; tags and resources are nested objects.
 */
const INDEX: Mapping = {
  nestedPaths: ['metadata.tags', ...RESOURCE_KINDS.map((k) => `resources.${k}`)],
  textFields: ['name'],
  sortable: ['id', 'name.keyword'],
};

function searchDocument(d: StoredDeployment): SearchDocument {
  const es = 'resources.elasticsearch';
  return {
    fields: { id: [d.id], name: analyse(d.name), 'name.keyword': [d.name], healthy: ['true'] },
    nested: {
      'metadata.tags': (d.tags ?? []).map((t) => ({
        'metadata.tags.key': [t.key],
        'metadata.tags.value': [t.value],
      })),
      [es]: [
        {
          [`${es}.id`]: [d.resource_id],
          [`${es}.ref_id`]: ['main-elasticsearch'],
          [`${es}.region`]: [d.region],
          [`${es}.info.status`]: ['started'],
          [`${es}.info.healthy`]: ['true'],
        },
      ],
    },
    lastModified: d.created_at,
  };
}

/**
 * E15 `POST /deployments/_search`: `DeploymentsSearchResponse` for one page. With
 * `minimal_metadata` (a comma-separated list of attributes) the hits come as objects of only
 * those attributes in `minimal_metadata`, and `deployments` is empty.
 */
export function searchDeployments(
  state: EmulatorState,
  flavor: EmulatorFlavor,
  body: unknown,
  minimalMetadata: string | undefined,
): Json {
  const page = searchDocuments(
    body,
    state.deployments.map((d) => ({ doc: searchDocument(d), item: d })),
    INDEX,
  );
  const hits = page.hits.map((d) => ({
    id: d.id,
    name: d.name,
    healthy: true,
    resources: deploymentResources(d),
    metadata: deploymentMetadata(d, flavor),
  }));
  const reply: Json = { return_count: hits.length, deployments: hits, cursor: page.cursor };
  if (page.matchCount !== undefined) reply['match_count'] = page.matchCount;
  if (minimalMetadata !== undefined) {
    const wanted = minimalMetadata.split(',').map((a) => a.trim());
    reply['deployments'] = [];
    reply['minimal_metadata'] = hits.map((hit) =>
      Object.fromEntries(Object.entries(hit).filter(([k]) => wanted.includes(k))),
    );
  }
  return reply;
}
