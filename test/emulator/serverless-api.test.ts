import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, type AnyJson } from '../support/emulator-http.js';

const FILTERS = '/api/v1/serverless/traffic-filters';
const ES = '/api/v1/serverless/projects/elasticsearch';
const PROJECT_ID = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const OTHER_REGION_PROJECT = 'ffffffffffffffffffffffffffffffff';

function ipFilter(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'office',
    type: 'ip',
    region: 'aws-us-east-1',
    rules: [{ source: '10.0.0.0/8' }, { source: '1.2.3.4' }],
    ...overrides,
  };
}

describe('serverless traffic filters and projects (cloud flavor)', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        projects: [
          { type: 'elasticsearch', id: PROJECT_ID, name: 'search', region_id: 'aws-us-east-1' },
          { type: 'security', id: OTHER_REGION_PROJECT, name: 'sec', region_id: 'aws-eu-west-1' },
        ],
      },
    });
  });
  afterEach(async () => {
    await emu.close();
  });

  it('creates, reads, patches and deletes a filter with ETags', async () => {
    const created = await call(emu, 'POST', FILTERS, { body: ipFilter({ description: 'd' }) });
    expect(created.status).toBe(201);
    const body = created.body as AnyJson;
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{32}$/),
      name: 'office',
      description: 'd',
      type: 'ip',
      include_by_default: false,
      region: 'aws-us-east-1',
      rules: [{ source: '10.0.0.0/8' }, { source: '1.2.3.4' }],
    });
    const etag1 = created.headers.get('etag');
    expect(etag1).toMatch(/^".+"$/);

    const got = await call(emu, 'GET', `${FILTERS}/${body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(body);
    expect(got.headers.get('etag')).toBe(etag1);

    const patched = await call(emu, 'PATCH', `${FILTERS}/${body.id}`, {
      body: { name: 'renamed', rules: [{ source: '1.2.3.4' }, { source: '10.0.0.0/8', description: 'b' }] },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ name: 'renamed', description: 'd' });
    expect((patched.body as AnyJson).rules).toEqual([
      { source: '1.2.3.4' },
      { source: '10.0.0.0/8', description: 'b' },
    ]);
    const etag2 = patched.headers.get('etag');
    expect(etag2).not.toBe(etag1);

    const cleared = await call(emu, 'PATCH', `${FILTERS}/${body.id}`, { body: { rules: [] } });
    expect((cleared.body as AnyJson).rules).toEqual([]);

    const deleted = await call(emu, 'DELETE', `${FILTERS}/${body.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeUndefined();
    expect(deleted.headers.get('etag')).toMatch(/^".+"$/);
    expect((await call(emu, 'GET', `${FILTERS}/${body.id}`)).status).toBe(404);
    expect((await call(emu, 'DELETE', `${FILTERS}/${body.id}`)).status).toBe(404);
  });

  it('validates create and patch bodies', async () => {
    const bad: Record<string, unknown>[] = [
      ipFilter({ name: '' }),
      ipFilter({ name: 'x'.repeat(129) }),
      ipFilter({ description: 'x'.repeat(513) }),
      ipFilter({ region: 'r'.repeat(33) }),
      ipFilter({ type: 'egress_firewall' }),
      ipFilter({ rules: [{ source: 'nope' }] }),
      ipFilter({ type: 'vpce', rules: [{ source: 'vpce-123' }] }),
      ipFilter({ type: 'private_endpoint', rules: [{ source: '1.2.3.4' }] }),
    ];
    for (const b of bad) {
      const res = await call(emu, 'POST', FILTERS, { body: b });
      expect(res.status, JSON.stringify(b)).toBe(400);
      expect(res.body).toEqual({
        errors: expect.arrayContaining([{ code: expect.any(String), message: expect.any(String) }]),
      });
      expect(res.headers.get('x-cloud-error-codes')).toBeNull();
    }
    const good: Record<string, unknown>[] = [
      ipFilter({ type: 'vpce', rules: [{ source: 'vpce-0123456789abcdef0' }] }),
      ipFilter({
        type: 'private_endpoint',
        region: 'azure-eastus',
        rules: [
          { azure_endpoint_name: 'my-pe', azure_endpoint_guid: '7d3f0c4e-93a1-4c1e-9f0d-2b7f1a9c1e55' },
        ],
      }),
      ipFilter({
        type: 'psc_endpoint',
        region: 'gcp-us-central1',
        rules: [{ source: '18446744072646845332' }],
      }),
    ];
    for (const b of good)
      expect((await call(emu, 'POST', FILTERS, { body: b })).status, JSON.stringify(b)).toBe(201);

    const id = ((await call(emu, 'POST', FILTERS, { body: ipFilter() })).body as AnyJson).id;
    for (const patch of [{ type: 'vpce' }, { region: 'aws-eu-west-1' }, { bogus: 1 }, { name: '' }]) {
      expect(
        (await call(emu, 'PATCH', `${FILTERS}/${id}`, { body: patch })).status,
        JSON.stringify(patch),
      ).toBe(400);
    }
    expect((await call(emu, 'PATCH', `${FILTERS}/${'0'.repeat(32)}`, { body: { name: 'x' } })).status).toBe(
      404,
    );
  });

  it('lists all filters without include_by_default, filters with it and by region', async () => {
    const a = (
      (await call(emu, 'POST', FILTERS, { body: ipFilter({ include_by_default: true }) })).body as AnyJson
    ).id;
    const b = (
      (await call(emu, 'POST', FILTERS, { body: ipFilter({ name: 'b', region: 'aws-eu-west-1' }) }))
        .body as AnyJson
    ).id;
    const ids = (path: string) =>
      call(emu, 'GET', path).then((r) => (r.body as AnyJson).items.map((f: AnyJson) => f.id));
    const all = await call(emu, 'GET', FILTERS);
    expect(all.body).toMatchObject({ next_page: null });
    expect(await ids(FILTERS)).toEqual([a, b]);
    expect(await ids(`${FILTERS}?include_by_default=true`)).toEqual([a]);
    expect(await ids(`${FILTERS}?include_by_default=false`)).toEqual([b]);
    expect(await ids(`${FILTERS}?region=aws-eu-west-1`)).toEqual([b]);
  });

  it('associates through project PATCH with If-Match, refuses stale ETags and unknown keys', async () => {
    const f1 = ((await call(emu, 'POST', FILTERS, { body: ipFilter() })).body as AnyJson).id;
    const f2 = ((await call(emu, 'POST', FILTERS, { body: ipFilter({ name: 'two' }) })).body as AnyJson).id;
    const fEu = (
      (await call(emu, 'POST', FILTERS, { body: ipFilter({ name: 'eu', region: 'aws-eu-west-1' }) }))
        .body as AnyJson
    ).id;

    const read = await call(emu, 'GET', `${ES}/${PROJECT_ID}`);
    expect(read.status).toBe(200);
    expect(read.body).not.toHaveProperty('traffic_filters');
    const etag = read.headers.get('etag') as string;
    expect(etag).toMatch(/^".+"$/);

    const patched = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, {
      body: { traffic_filters: [{ id: f1 }, { id: f2 }] },
      headers: { 'if-match': etag },
    });
    expect(patched.status).toBe(200);
    expect((patched.body as AnyJson).traffic_filters).toEqual([{ id: f1 }, { id: f2 }]);
    const etag2 = patched.headers.get('etag') as string;
    expect(etag2).not.toBe(etag);

    const stale = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, {
      body: { traffic_filters: [] },
      headers: { 'if-match': etag },
    });
    expect(stale.status).toBe(412);
    expect(((await call(emu, 'GET', `${ES}/${PROJECT_ID}`)).body as AnyJson).traffic_filters).toHaveLength(2);

    const unknownKey = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, {
      body: { product_tier: 'complete' },
    });
    expect(unknownKey.status).toBe(400);
    const wrongRegion = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, {
      body: { traffic_filters: [{ id: fEu }] },
    });
    expect(wrongRegion.status).toBe(400);
    const unknownFilter = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, {
      body: { traffic_filters: [{ id: 'x'.repeat(32) }] },
    });
    expect(unknownFilter.status).toBe(400);

    const listed = await call(emu, 'GET', `${ES}?traffic_filter=${f2}`);
    expect((listed.body as AnyJson).items.map((p: AnyJson) => p.id)).toEqual([PROJECT_ID]);
    expect(((await call(emu, 'GET', `${ES}?traffic_filter=${fEu}`)).body as AnyJson).items).toEqual([]);
    expect(
      ((await call(emu, 'GET', '/api/v1/serverless/projects/security')).body as AnyJson).items,
    ).toHaveLength(1);

    const refused = await call(emu, 'DELETE', `${FILTERS}/${f1}`);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({
      errors: [
        {
          code: expect.any(String),
          message: `traffic filter is associated with ${PROJECT_ID}, remove the association first`,
        },
      ],
    });

    // Without If-Match there is no check; [] clears the whole list.
    const clear = await call(emu, 'PATCH', `${ES}/${PROJECT_ID}`, { body: { traffic_filters: [] } });
    expect(clear.status).toBe(200);
    expect(clear.body).not.toHaveProperty('traffic_filters');
    expect((await call(emu, 'DELETE', `${FILTERS}/${f1}`)).status).toBe(204);
  });

  it('auto-attaches include_by_default filters to projects created later in their region', async () => {
    const auto = (
      (await call(emu, 'POST', FILTERS, { body: ipFilter({ include_by_default: true }) })).body as AnyJson
    ).id;
    expect(((await call(emu, 'GET', `${ES}/${PROJECT_ID}`)).body as AnyJson).traffic_filters).toBeUndefined();

    const res = await fetch(`${emu.url}/_emulator/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'observability', name: 'obs', region_id: 'aws-us-east-1' }),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as AnyJson).id as string;
    expect(id).toMatch(/^[a-z0-9]{32}$/);
    const project = (await call(emu, 'GET', `/api/v1/serverless/projects/observability/${id}`))
      .body as AnyJson;
    expect(project.traffic_filters).toEqual([{ id: auto }]);
    const elsewhere = emu.addProject({ type: 'elasticsearch', name: 'eu', region_id: 'aws-eu-west-1' });
    expect(((await call(emu, 'GET', `${ES}/${elsewhere}`)).body as AnyJson).traffic_filters).toBeUndefined();
  });

  it('serves region metadata filtered by region and csp', async () => {
    const all = (await call(emu, 'GET', `${FILTERS}/metadata`)).body as AnyJson;
    expect(all.regions.length).toBeGreaterThan(2);
    const one = (await call(emu, 'GET', `${FILTERS}/metadata?region=aws-us-east-1`)).body as AnyJson;
    expect(one.regions).toHaveLength(1);
    expect(one.regions[0]).toMatchObject({
      region: 'aws-us-east-1',
      csp: 'aws',
      vpc_service_name: expect.any(String),
      private_service_name: expect.any(String),
      private_hosted_zone_domain_name: expect.any(String),
      availability_zones: expect.arrayContaining([{ name: expect.any(String), id: expect.any(String) }]),
    });
    const azure = (await call(emu, 'GET', `${FILTERS}/metadata?csp=azure`)).body as AnyJson;
    expect(azure.regions.every((r: AnyJson) => r.csp === 'azure')).toBe(true);
    expect((await call(emu, 'GET', `${FILTERS}/metadata?region=mars-1`)).body).toEqual({ regions: [] });
  });

  it('forces a non-empty next_page when seeded to', async () => {
    const forced = await startEmulator({ flavor: 'cloud', seed: { force_next_page: true } });
    const onlyFilters = await startEmulator({
      flavor: 'cloud',
      seed: { force_next_page: 'traffic_filters' },
    });
    try {
      expect(((await call(forced, 'GET', FILTERS)).body as AnyJson).next_page).toEqual(
        expect.stringMatching(/.+/),
      );
      expect(((await call(forced, 'GET', ES)).body as AnyJson).next_page).toEqual(
        expect.stringMatching(/.+/),
      );
      expect(((await call(onlyFilters, 'GET', FILTERS)).body as AnyJson).next_page).toEqual(
        expect.stringMatching(/.+/),
      );
      expect((await call(onlyFilters, 'GET', ES)).body).not.toHaveProperty('next_page');
    } finally {
      await forced.close();
      await onlyFilters.close();
    }
  });

  it('answers 401 in the serverless error shape and 404 for unknown projects', async () => {
    const res = await call(emu, 'GET', FILTERS, { auth: null });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ errors: [{ code: expect.any(String), message: expect.any(String) }] });
    expect((await call(emu, 'GET', `${ES}/${'9'.repeat(32)}`)).status).toBe(404);
    // A security project is not an elasticsearch project.
    expect((await call(emu, 'GET', `${ES}/${OTHER_REGION_PROJECT}`)).status).toBe(404);
  });
});
