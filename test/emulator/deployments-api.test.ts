import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, type AnyJson } from '../support/emulator-http.js';

const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const HEX32 = /^[0-9a-f]{32}$/;

function ipRuleset(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'office',
    type: 'ip',
    include_by_default: false,
    region: 'us-east-1',
    rules: [{ source: '192.168.131.0', description: 'Office' }, { source: '8.8.8.8/24' }],
    ...overrides,
  };
}

describe('deployments traffic-filter API (cloud flavor)', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        deployments: [
          { id: 'dep1', name: 'one', region: 'us-east-1' },
          { id: 'dep2', name: 'two', region: 'us-east-1' },
          { id: 'depEu', name: 'eu', region: 'gcp-europe-west1' },
        ],
      },
    });
  });
  afterEach(async () => {
    await emu.close();
  });

  it('creates a ruleset with a 32-hex id, assigns rule ids and stores sources verbatim', async () => {
    const created = await call(emu, 'POST', RULESETS, { body: ipRuleset() });
    expect(created.status).toBe(201);
    const id = (created.body as AnyJson).id as string;
    expect(created.body).toEqual({ id: expect.stringMatching(HEX32) });

    const got = await call(emu, 'GET', `${RULESETS}/${id}`);
    expect(got.status).toBe(200);
    const body = got.body as AnyJson;
    expect(body).toMatchObject({
      id,
      name: 'office',
      type: 'ip',
      include_by_default: false,
      region: 'us-east-1',
    });
    expect(body.rules.map((r: AnyJson) => r.source)).toEqual(['192.168.131.0', '8.8.8.8/24']);
    for (const r of body.rules) expect(r.id).toMatch(HEX32);
    expect(body).not.toHaveProperty('associations');
    expect(body).not.toHaveProperty('total_associations');
    expect(body).not.toHaveProperty('description');
  });

  it('re-issues every rule id on PUT and replaces the whole ruleset', async () => {
    const id = (
      (await call(emu, 'POST', RULESETS, { body: ipRuleset({ description: 'd' }) })).body as AnyJson
    ).id;
    const before = (await call(emu, 'GET', `${RULESETS}/${id}`)).body as AnyJson;
    // Echo the rules back unchanged, ids included, as the SDK's update-from-get does.
    const put = await call(emu, 'PUT', `${RULESETS}/${id}`, {
      body: { ...ipRuleset({ name: 'renamed' }), rules: before.rules },
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ id });
    const after = (await call(emu, 'GET', `${RULESETS}/${id}`)).body as AnyJson;
    expect(after.name).toBe('renamed');
    expect(after).not.toHaveProperty('description');
    expect(after.rules.map((r: AnyJson) => r.source)).toEqual(before.rules.map((r: AnyJson) => r.source));
    const oldIds = new Set(before.rules.map((r: AnyJson) => r.id));
    for (const r of after.rules) {
      expect(r.id).toMatch(HEX32);
      expect(oldIds.has(r.id)).toBe(false);
    }
  });

  it('lists with region filter and associations only when asked', async () => {
    const a = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id;
    const b = (
      (await call(emu, 'POST', RULESETS, { body: ipRuleset({ name: 'eu', region: 'gcp-europe-west1' }) }))
        .body as AnyJson
    ).id;
    expect(
      (
        await call(emu, 'POST', `${RULESETS}/${a}/associations`, {
          body: { entity_type: 'deployment', id: 'dep1' },
        })
      ).status,
    ).toBe(201);

    const all = (await call(emu, 'GET', RULESETS)).body as AnyJson;
    expect(all.rulesets.map((r: AnyJson) => r.id)).toEqual([a, b]);
    expect(all.rulesets[0]).not.toHaveProperty('associations');

    const us = (await call(emu, 'GET', `${RULESETS}?region=us-east-1&include_associations=true`))
      .body as AnyJson;
    expect(us.rulesets).toHaveLength(1);
    expect(us.rulesets[0].associations).toEqual([{ entity_type: 'deployment', id: 'dep1' }]);
    expect(us.rulesets[0].total_associations).toBe(1);

    const eu = (await call(emu, 'GET', `${RULESETS}/${b}?include_associations=true`)).body as AnyJson;
    expect(eu).not.toHaveProperty('associations');
    expect(eu).not.toHaveProperty('total_associations');
  });

  it('answers 201 for a new association, 200 when it already existed, and reads it back every way', async () => {
    const id = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id;
    const assoc = { entity_type: 'deployment', id: 'dep2' };
    expect((await call(emu, 'POST', `${RULESETS}/${id}/associations`, { body: assoc })).status).toBe(201);
    const again = await call(emu, 'POST', `${RULESETS}/${id}/associations`, { body: assoc });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({});

    expect((await call(emu, 'GET', `${RULESETS}/${id}/associations`)).body).toEqual({
      associations: [assoc],
      total_associations: 1,
    });
    expect(
      (await call(emu, 'GET', '/api/v1/deployments/traffic-filter/associations/deployment/dep2/rulesets'))
        .body,
    ).toEqual({ rulesets: [id] });
    const dep = (await call(emu, 'GET', '/api/v1/deployments/dep2?show_settings=true')).body as AnyJson;
    expect(dep.settings.traffic_filter_settings.rulesets).toEqual([id]);
  });

  it('refuses association with an unknown deployment, another region, unknown ruleset or type', async () => {
    const id = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id;
    const unknownDep = await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
      body: { entity_type: 'deployment', id: 'nope' },
    });
    expect(unknownDep.status).toBe(404);
    expect(unknownDep.headers.get('x-cloud-error-codes')).toBe('deployments.deployment_not_found');

    const mismatch = await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
      body: { entity_type: 'deployment', id: 'depEu' },
    });
    expect(mismatch.status).toBe(400);
    expect((mismatch.body as AnyJson).errors[0].code).toMatch(/^traffic_filter\./);

    const unknownRuleset = await call(emu, 'POST', `${RULESETS}/${'0'.repeat(32)}/associations`, {
      body: { entity_type: 'deployment', id: 'dep1' },
    });
    expect(unknownRuleset.status).toBe(404);
    expect((unknownRuleset.body as AnyJson).errors[0].code).toBe('traffic_filter.not_found');

    const badType = await call(
      emu,
      'GET',
      '/api/v1/deployments/traffic-filter/associations/cluster-ish/dep1/rulesets',
    );
    expect(badType.status).toBe(400);
    expect(badType.headers.get('x-cloud-error-codes')).toBe('traffic_filter.invalid_association_type');
  });

  it('answers 404 when dissociating a missing association, 200 otherwise', async () => {
    const id = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id;
    const missing = await call(emu, 'DELETE', `${RULESETS}/${id}/associations/deployment/dep1`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({
      errors: [{ code: 'traffic_filter.not_found', message: expect.any(String) }],
    });
    await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
      body: { entity_type: 'deployment', id: 'dep1' },
    });
    const done = await call(emu, 'DELETE', `${RULESETS}/${id}/associations/deployment/dep1`);
    expect(done.status).toBe(200);
    expect(done.body).toEqual({});
  });

  it('refuses delete while associated, deletes with ignore_associations, 404 when unknown', async () => {
    const id = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id;
    await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
      body: { entity_type: 'deployment', id: 'dep1' },
    });
    const refused = await call(emu, 'DELETE', `${RULESETS}/${id}`);
    expect(refused.status).toBe(400);
    expect(refused.headers.get('x-cloud-error-codes')).toMatch(/^traffic_filter\./);
    expect((await call(emu, 'GET', `${RULESETS}/${id}`)).status).toBe(200);

    const forced = await call(emu, 'DELETE', `${RULESETS}/${id}?ignore_associations=true`);
    expect(forced.status).toBe(200);
    expect(forced.body).toEqual({});
    expect(
      (await call(emu, 'GET', '/api/v1/deployments/traffic-filter/associations/deployment/dep1/rulesets'))
        .body,
    ).toEqual({
      rulesets: [],
    });
    const gone = await call(emu, 'DELETE', `${RULESETS}/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('x-cloud-error-codes')).toBe('traffic_filter.not_found');
  });

  it('validates ruleset bodies: required fields, types, per-type rule fields, sources', async () => {
    const missing = await call(emu, 'POST', RULESETS, { body: { name: 'x', rules: [] } });
    expect(missing.status).toBe(400);
    const fields = (missing.body as AnyJson).errors.flatMap((e: AnyJson) => e.fields ?? []);
    expect(fields).toEqual(expect.arrayContaining(['type', 'region', 'include_by_default']));
    expect(missing.headers.get('x-cloud-error-codes')).toContain('traffic_filter.invalid_input');

    const cases: Record<string, unknown>[] = [
      ipRuleset({ type: 'bogus' }),
      ipRuleset({ rules: [{ source: 'not-an-ip' }] }),
      ipRuleset({ rules: [{ source: '10.0.0.0/33' }] }),
      ipRuleset({ rules: [{ source: '10.0.0.1', azure_endpoint_name: 'x' }] }),
      ipRuleset({ type: 'azure_private_endpoint', rules: [{ source: '10.0.0.1' }] }),
      ipRuleset({ type: 'remote_cluster', rules: [{ remote_cluster_id: 'abc' }] }),
      ipRuleset({
        type: 'egress_firewall',
        rules: [{ egress_rule: { target: '10.0.0.0/8', protocol: 'icmp' } }],
      }),
      ipRuleset({ type: 'egress_firewall', rules: [{ source: '10.0.0.0/8' }] }),
      ipRuleset({ include_by_default: 'yes' }),
    ];
    for (const body of cases) {
      const res = await call(emu, 'POST', RULESETS, { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as AnyJson).errors[0]).toMatchObject({
        code: expect.stringMatching(/^traffic_filter\./),
      });
    }

    const okTypes: Record<string, unknown>[] = [
      ipRuleset({
        type: 'egress_firewall',
        rules: [{ egress_rule: { target: '10.0.0.0/8', protocol: 'tcp', ports: [443] } }],
      }),
      ipRuleset({ type: 'vpce', rules: [{ source: 'vpce-00000000000000000' }] }),
      ipRuleset({
        type: 'azure_private_endpoint',
        rules: [{ azure_endpoint_name: 'pe', azure_endpoint_guid: 'guid' }],
      }),
      ipRuleset({
        type: 'gcp_private_service_connect_endpoint',
        rules: [{ source: '18446744072646845332' }],
      }),
      ipRuleset({
        type: 'remote_cluster',
        rules: [{ remote_cluster_id: 'abc', remote_cluster_org_id: 'org' }],
      }),
    ];
    for (const body of okTypes)
      expect((await call(emu, 'POST', RULESETS, { body })).status, JSON.stringify(body)).toBe(201);
    expect(emu.state().rulesets).toHaveLength(okTypes.length);
  });

  it('answers 401 without or with a malformed Authorization header', async () => {
    for (const auth of [null, 'Bearer x', 'ApiKey']) {
      const res = await call(emu, 'GET', RULESETS, { auth });
      expect(res.status).toBe(401);
      expect((res.body as AnyJson).errors[0].code).toBe('root.unauthenticated');
      expect(res.headers.get('x-cloud-error-codes')).toBe('root.unauthenticated');
    }
  });

  it('lists deployments with their elasticsearch resource region', async () => {
    const res = await call(emu, 'GET', '/api/v1/deployments');
    expect(res.status).toBe(200);
    const dep = (res.body as AnyJson).deployments.find((d: AnyJson) => d.id === 'depEu');
    expect(dep).toEqual({
      id: 'depEu',
      name: 'eu',
      resources: [
        {
          ref_id: 'main-elasticsearch',
          id: expect.stringMatching(HEX32),
          kind: 'elasticsearch',
          region: 'gcp-europe-west1',
        },
      ],
    });
    expect((await call(emu, 'GET', '/api/v1/deployments/unknown')).status).toBe(404);
  });

  it('answers a repeated read as before, and every read after a write (API, admin or owner) sees it', async () => {
    const listing = `${RULESETS}?include_associations=true`;
    const first = await call(emu, 'GET', listing);
    expect(await call(emu, 'GET', listing)).toEqual(first);
    // Another query is another answer.
    expect((await call(emu, 'GET', RULESETS)).body).toEqual({ rulesets: [] });

    const id = ((await call(emu, 'POST', RULESETS, { body: ipRuleset() })).body as AnyJson).id as string;
    const names = async (): Promise<string[]> =>
      ((await call(emu, 'GET', listing)).body as AnyJson).rulesets.map((r: AnyJson) => r.name);
    expect(await names()).toEqual(['office']);

    await call(emu, 'PUT', `${RULESETS}/${id}`, { body: ipRuleset({ name: 'renamed' }) });
    expect(await names()).toEqual(['renamed']);
    // A refused write changes nothing, and the answer is still right after it.
    expect((await call(emu, 'PUT', `${RULESETS}/${id}`, { body: { name: 'x' } })).status).toBe(400);
    expect(await names()).toEqual(['renamed']);

    const deployments = async (): Promise<string[]> =>
      ((await call(emu, 'GET', '/api/v1/deployments')).body as AnyJson).deployments.map((d: AnyJson) => d.id);
    expect(await deployments()).toEqual(['dep1', 'dep2', 'depEu']);
    const viaAdmin = await fetch(`${emu.url}/_emulator/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'dep3', name: 'three', region: 'us-east-1' }),
    });
    expect(viaAdmin.status).toBe(201);
    expect(await deployments()).toEqual(['dep1', 'dep2', 'depEu', 'dep3']);
    emu.addDeployment({ id: 'dep4', name: 'four', region: 'us-east-1' });
    expect(await deployments()).toEqual(['dep1', 'dep2', 'depEu', 'dep3', 'dep4']);

    await call(emu, 'POST', `/api/v1/deployments/traffic-filter/rulesets/${id}/associations`, {
      body: { entity_type: 'deployment', id: 'dep3' },
    });
    const associated = (await call(emu, 'GET', listing)).body as AnyJson;
    expect(associated.rulesets[0].associations).toEqual([{ entity_type: 'deployment', id: 'dep3' }]);
    await call(emu, 'DELETE', `${RULESETS}/${id}?ignore_associations=true`);
    expect(await names()).toEqual([]);
  });

  it('auto-attaches include_by_default rulesets to deployments created later, never retroactively', async () => {
    const auto = (
      (await call(emu, 'POST', RULESETS, { body: ipRuleset({ include_by_default: true }) })).body as AnyJson
    ).id;
    const plain = ((await call(emu, 'POST', RULESETS, { body: ipRuleset({ name: 'p' }) })).body as AnyJson)
      .id;
    expect((await call(emu, 'GET', `${RULESETS}/${auto}/associations`)).body).toMatchObject({
      total_associations: 0,
    });

    const viaAdmin = await fetch(`${emu.url}/_emulator/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'new', region: 'us-east-1' }),
    });
    expect(viaAdmin.status).toBe(201);
    const newId = ((await viaAdmin.json()) as AnyJson).id;
    const otherRegion = emu.addDeployment({ name: 'elsewhere', region: 'gcp-europe-west1' });

    const rulesets = (
      await call(emu, 'GET', `/api/v1/deployments/traffic-filter/associations/deployment/${newId}/rulesets`)
    ).body;
    expect(rulesets).toEqual({ rulesets: [auto] });
    expect(
      (
        await call(
          emu,
          'GET',
          `/api/v1/deployments/traffic-filter/associations/deployment/${otherRegion}/rulesets`,
        )
      ).body,
    ).toEqual({
      rulesets: [],
    });
    expect(
      ((await call(emu, 'GET', `${RULESETS}/${plain}/associations`)).body as AnyJson).total_associations,
    ).toBe(0);
  });

  it('does not expose the serverless API on an ece emulator and refuses non-ip rulesets there', async () => {
    const ece = await startEmulator({ flavor: 'ece', basicAuth: { username: 'admin', password: 'secret' } });
    try {
      const basic = `Basic ${Buffer.from('admin:secret').toString('base64')}`;
      const ok = await call(ece, 'POST', RULESETS, {
        body: ipRuleset({ region: 'ece-region' }),
        auth: basic,
      });
      expect(ok.status).toBe(201);
      const refused = await call(ece, 'POST', RULESETS, {
        body: ipRuleset({ type: 'vpce', region: 'ece-region', rules: [{ source: 'vpce-0123' }] }),
      });
      expect(refused.status).toBe(400);
      expect(refused.body).toEqual({
        errors: [
          {
            code: 'traffic_filter.invalid_type',
            message: expect.stringContaining('not supported'),
            fields: ['type'],
          },
        ],
      });
      expect(refused.headers.get('x-cloud-error-codes')).toBe('traffic_filter.invalid_type');
      const wrongPassword = `Basic ${Buffer.from('admin:nope').toString('base64')}`;
      expect((await call(ece, 'GET', RULESETS, { auth: wrongPassword })).status).toBe(401);
      expect((await call(ece, 'GET', '/api/v1/serverless/traffic-filters')).status).toBe(404);
    } finally {
      await ece.close();
    }
  });

  it('accepts only the configured API keys when apiKeys is set', async () => {
    const locked = await startEmulator({ flavor: 'cloud', apiKeys: ['good'] });
    try {
      expect((await call(locked, 'GET', RULESETS, { auth: 'ApiKey good' })).status).toBe(200);
      expect((await call(locked, 'GET', RULESETS, { auth: 'ApiKey bad' })).status).toBe(401);
    } finally {
      await locked.close();
    }
  });

  it('counts hidden associations in total_associations and refuses delete because of them', async () => {
    const seeded = await startEmulator({
      flavor: 'cloud',
      seed: {
        deployments: [{ id: 'd', name: 'd', region: 'us-east-1' }],
        rulesets: [
          {
            id: 'a'.repeat(32),
            name: 'hidden',
            type: 'ip',
            region: 'us-east-1',
            rules: [],
            associations: ['d'],
            hidden_associations: 2,
          },
          {
            id: 'b'.repeat(32),
            name: 'only-hidden',
            type: 'ip',
            region: 'us-east-1',
            rules: [],
            hidden_associations: 1,
          },
        ],
      },
    });
    try {
      const list = (await call(seeded, 'GET', `${RULESETS}?include_associations=true`)).body as AnyJson;
      expect(list.rulesets[0]).toMatchObject({
        associations: [{ entity_type: 'deployment', id: 'd' }],
        total_associations: 3,
      });
      expect(list.rulesets[1]).not.toHaveProperty('associations');
      expect(list.rulesets[1].total_associations).toBe(1);
      await call(seeded, 'DELETE', `${RULESETS}/${'a'.repeat(32)}/associations/deployment/d`);
      expect((await call(seeded, 'DELETE', `${RULESETS}/${'a'.repeat(32)}`)).status).toBe(400);
    } finally {
      await seeded.close();
    }
  });
});
