import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, type AnyJson, type CallOptions, type CallResult } from '../support/emulator-http.js';
import { specAvailable, validateAgainstSpec, type SpecApi } from '../support/spec-validator.js';

const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const FILTERS = '/api/v1/serverless/traffic-filters';

const available = specAvailable();
const suite = available ? describe : describe.skip;
if (!available) {
  describe.skip('../shared/api not found: spec conformance skipped', () => {
    it('validates every emulator body against the official spec subsets', () => {});
  });
}

/**
 * Sends a request, validates the request body and the response body against the spec, returns the
 * response. `specInvalidRequest` marks a body the test sends on purpose although the spec itself
 * rejects it (the validator must then find a problem with it).
 */
async function checked(
  emu: Emulator,
  api: SpecApi,
  method: string,
  path: string,
  expectedStatus: number,
  opts: CallOptions & { specInvalidRequest?: boolean } = {},
): Promise<CallResult> {
  const problems: string[] = [];
  if (opts.body !== undefined) {
    const requestProblems = validateAgainstSpec(api, 'request', method, path, undefined, opts.body);
    if (opts.specInvalidRequest === true)
      expect(requestProblems, `${method} ${path} request`).not.toEqual([]);
    else problems.push(...requestProblems);
  }
  const res = await call(emu, method, path, opts);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(expectedStatus);
  problems.push(...validateAgainstSpec(api, 'response', method, path, res.status, res.body));
  expect(problems, `${method} ${path}`).toEqual([]);
  return res;
}

function deploymentsSuite(api: 'ess' | 'ece'): void {
  const region = api === 'ece' ? 'ece-region' : 'us-east-1';
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      flavor: api === 'ece' ? 'ece' : 'cloud',
      seed: {
        deployments: [
          { id: 'd1'.padEnd(32, '0'), name: 'one', region, tags: [{ key: 'env', value: 'prod' }] },
          { id: 'd2'.padEnd(32, '0'), name: 'two', region: 'elsewhere' },
        ],
        rulesets: [
          { name: 'hidden', type: 'ip', region, rules: [{ source: '10.0.0.1' }], hidden_associations: 1 },
        ],
      },
    });
  });
  afterAll(async () => {
    await emu.close();
  });

  it(`every ${api} endpoint answers spec-valid bodies`, async () => {
    const dep = 'd1'.padEnd(32, '0');
    const bodies: AnyJson[] = [
      {
        name: 'office',
        type: 'ip',
        include_by_default: false,
        region,
        description: 'd',
        rules: [{ source: '192.168.0.0/16', description: 'x' }],
      },
    ];
    if (api === 'ess') {
      bodies.push(
        {
          name: 'egress',
          type: 'egress_firewall',
          include_by_default: true,
          region,
          rules: [{ egress_rule: { target: '8.8.8.8', protocol: 'udp', ports: [53] } }],
        },
        {
          name: 'azure',
          type: 'azure_private_endpoint',
          include_by_default: false,
          region,
          rules: [{ azure_endpoint_name: 'pe', azure_endpoint_guid: 'g' }],
        },
        {
          name: 'rc',
          type: 'remote_cluster',
          include_by_default: false,
          region,
          rules: [{ remote_cluster_id: 'c', remote_cluster_org_id: 'o' }],
        },
      );
    }
    const ids: string[] = [];
    for (const body of bodies)
      ids.push(((await checked(emu, api, 'POST', RULESETS, 201, { body })).body as AnyJson).id);
    const id = ids[0] as string;
    await checked(emu, api, 'POST', RULESETS, 400, {
      body: { name: 'bad', type: 'ip', include_by_default: false, region, rules: [{ source: 'x' }] },
    });
    await checked(emu, api, 'GET', RULESETS, 200);
    await checked(emu, api, 'GET', `${RULESETS}?include_associations=true&region=${region}`, 200);
    await checked(emu, api, 'GET', `${RULESETS}/${id}?include_associations=true`, 200);
    await checked(emu, api, 'PUT', `${RULESETS}/${id}`, 200, {
      body: { ...bodies[0], rules: [{ source: '1.1.1.1' }] },
    });
    await checked(emu, api, 'POST', `${RULESETS}/${id}/associations`, 201, {
      body: { entity_type: 'deployment', id: dep },
    });
    await checked(emu, api, 'POST', `${RULESETS}/${id}/associations`, 200, {
      body: { entity_type: 'deployment', id: dep },
    });
    await checked(emu, api, 'POST', `${RULESETS}/${id}/associations`, 400, {
      body: { entity_type: 'deployment', id: 'd2'.padEnd(32, '0') },
    });
    await checked(emu, api, 'GET', `${RULESETS}/${id}/associations`, 200);
    await checked(emu, api, 'GET', `${RULESETS}?include_associations=true`, 200);
    await checked(
      emu,
      api,
      'GET',
      `/api/v1/deployments/traffic-filter/associations/deployment/${dep}/rulesets`,
      200,
    );
    await checked(
      emu,
      api,
      'GET',
      `/api/v1/deployments/traffic-filter/associations/bogus/${dep}/rulesets`,
      400,
    );
    await checked(emu, api, 'GET', '/api/v1/deployments', 200);
    await checked(emu, api, 'GET', `/api/v1/deployments/${dep}`, 200);
    await checked(emu, api, 'GET', `/api/v1/deployments/${dep}?show_settings=true`, 200);
    await checked(emu, api, 'GET', `/api/v1/deployments/${dep}?show_metadata=true`, 200);
    const search = '/api/v1/deployments/_search';
    const byTag = {
      nested: {
        path: 'metadata.tags',
        query: {
          bool: {
            filter: [
              { term: { 'metadata.tags.key': { value: 'env' } } },
              { term: { 'metadata.tags.value': { value: 'prod' } } },
            ],
          },
        },
      },
    };
    const page = await checked(emu, api, 'POST', search, 200, {
      body: { size: 1, sort: [{ id: { order: 'asc' } }], query: byTag },
    });
    expect((page.body as AnyJson).deployments.map((d: AnyJson) => d.id)).toEqual([dep]);
    await checked(emu, api, 'POST', search, 200, { body: { cursor: (page.body as AnyJson).cursor } });
    await checked(emu, api, 'POST', search, 200);
    await checked(emu, api, 'POST', `${search}?minimal_metadata=id,name`, 200, { body: { size: 5 } });
    // ecctl's and Terraform's `sort: ["id"]` is outside the spec's `items: {type: object}`.
    await checked(emu, api, 'POST', search, 200, { body: { sort: ['id'] }, specInvalidRequest: true });
    await checked(emu, api, 'POST', search, 400, { body: { size: 10, from: 9999 } });
    await checked(emu, api, 'GET', '/api/v1/deployments/unknown', 404);
    await checked(emu, api, 'DELETE', `${RULESETS}/${id}`, 400);
    await checked(emu, api, 'DELETE', `${RULESETS}/${id}/associations/deployment/${dep}`, 200);
    await checked(emu, api, 'DELETE', `${RULESETS}/${id}/associations/deployment/${dep}`, 404);
    await checked(emu, api, 'DELETE', `${RULESETS}/${id}`, 200);
    await checked(emu, api, 'GET', `${RULESETS}/${id}`, 404);
    await checked(emu, api, 'DELETE', `${RULESETS}/${id}`, 404);
    await checked(emu, api, 'GET', RULESETS, 401, { auth: null });
  });
}

suite('spec conformance: ESS deployments API', () => deploymentsSuite('ess'));
suite('spec conformance: ECE deployments API', () => deploymentsSuite('ece'));

suite('spec conformance: serverless API', () => {
  let emu: Emulator;
  const projects: Record<string, string> = {};
  beforeAll(async () => {
    emu = await startEmulator({ flavor: 'cloud' });
    for (const type of ['elasticsearch', 'observability', 'security'] as const) {
      projects[type] = emu.addProject({
        type,
        name: `My ${type} project`,
        region_id: 'aws-us-east-1',
        tags: { env: 'prod' },
      });
    }
  });
  afterAll(async () => {
    await emu.close();
  });

  it('every serverless endpoint answers spec-valid bodies', async () => {
    const create = {
      name: 'office',
      description: 'd',
      type: 'ip',
      include_by_default: false,
      region: 'aws-us-east-1',
      rules: [{ source: '10.0.0.0/8', description: 'r' }],
    };
    const id = ((await checked(emu, 'serverless', 'POST', FILTERS, 201, { body: create })).body as AnyJson)
      .id as string;
    await checked(emu, 'serverless', 'POST', FILTERS, 201, {
      body: {
        name: 'pl',
        type: 'vpce',
        region: 'aws-us-east-1',
        include_by_default: true,
        rules: [{ source: 'vpce-0123456789abcdef0' }],
      },
    });
    await checked(emu, 'serverless', 'POST', FILTERS, 201, {
      body: {
        name: 'az',
        type: 'private_endpoint',
        region: 'azure-eastus',
        rules: [{ azure_endpoint_name: 'pe', azure_endpoint_guid: '7d3f0c4e-93a1-4c1e-9f0d-2b7f1a9c1e55' }],
      },
    });
    await checked(emu, 'serverless', 'POST', FILTERS, 400, {
      body: { ...create, name: '' },
      specInvalidRequest: true,
    });
    await checked(emu, 'serverless', 'GET', FILTERS, 200);
    await checked(emu, 'serverless', 'GET', `${FILTERS}?include_by_default=true&region=aws-us-east-1`, 200);
    await checked(emu, 'serverless', 'GET', `${FILTERS}/${id}`, 200);
    await checked(emu, 'serverless', 'PATCH', `${FILTERS}/${id}`, 200, {
      body: { name: 'renamed', rules: [] },
    });
    await checked(emu, 'serverless', 'PATCH', `${FILTERS}/${id}`, 400, { body: { region: 'x' } });
    await checked(emu, 'serverless', 'GET', `${FILTERS}/metadata`, 200);
    await checked(emu, 'serverless', 'GET', `${FILTERS}/metadata?region=nowhere`, 200);
    await checked(emu, 'serverless', 'GET', `${FILTERS}/metadata?csp=gcp`, 200);

    for (const [type, pid] of Object.entries(projects)) {
      const base = `/api/v1/serverless/projects/${type}`;
      await checked(emu, 'serverless', 'GET', base, 200);
      const got = await checked(emu, 'serverless', 'GET', `${base}/${pid}`, 200);
      const etag = got.headers.get('etag') as string;
      await checked(emu, 'serverless', 'PATCH', `${base}/${pid}`, 200, {
        body: { traffic_filters: [{ id }] },
        headers: { 'if-match': etag },
      });
      await checked(emu, 'serverless', 'PATCH', `${base}/${pid}`, 412, {
        body: { traffic_filters: [] },
        headers: { 'if-match': etag },
      });
      await checked(emu, 'serverless', 'GET', `${base}?traffic_filter=${id}`, 200);
      await checked(emu, 'serverless', 'GET', `${base}?tags[env]=prod`, 200);
      await checked(emu, 'serverless', 'GET', `${base}?tags[env]=Prod`, 400);
      await checked(emu, 'serverless', 'PATCH', `${base}/${pid}`, 200, {
        body: { metadata: { tags: { team: 'search', env: null } } },
      });
      await checked(emu, 'serverless', 'GET', `${base}/${pid}`, 200);
      await checked(emu, 'serverless', 'GET', `${base}/${'0'.repeat(32)}`, 404);
    }
    await checked(emu, 'serverless', 'DELETE', `${FILTERS}/${id}`, 400);
    for (const [type, pid] of Object.entries(projects)) {
      await checked(emu, 'serverless', 'PATCH', `/api/v1/serverless/projects/${type}/${pid}`, 200, {
        body: { name: 'Renamed', alias: 'renamed', traffic_filters: [] },
      });
    }
    await checked(emu, 'serverless', 'DELETE', `${FILTERS}/${id}`, 204);
    await checked(emu, 'serverless', 'GET', `${FILTERS}/${id}`, 404);
    await checked(emu, 'serverless', 'GET', FILTERS, 401, { auth: null });
  });
});

describe('spec validator self-check', () => {
  it.runIf(available)('reports invalid bodies (so the conformance tests can fail)', () => {
    expect(validateAgainstSpec('ess', 'response', 'GET', `${RULESETS}/abc`, 200, { id: 'abc' })).not.toEqual(
      [],
    );
    expect(
      validateAgainstSpec('serverless', 'response', 'GET', `${FILTERS}/metadata`, 200, { regions: [{}] }),
    ).not.toEqual([]);
    expect(
      validateAgainstSpec(
        'serverless',
        'request',
        'PATCH',
        '/api/v1/serverless/projects/elasticsearch/x',
        undefined,
        { bogus: 1 },
      ),
    ).not.toEqual([]);
    expect(validateAgainstSpec('ess', 'response', 'POST', RULESETS, 201, { id: 'abc' })).toEqual([]);
  });
});
