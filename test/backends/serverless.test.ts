import { afterEach, describe, expect, it } from 'vitest';
import { got } from 'got';
import { createBackend, createHttpClient } from '../../src/backends/registry.js';
import type { ConnectedBackend } from '../../src/backends/registry.js';
import { readMetadata } from '../../src/backends/serverless/metadata.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { silentLogger } from '../../src/log.js';
import type { LiveTarget, PolicySpec } from '../../src/model/types.js';
import { CANARY_KEY, FAST_RETRY, envConfig } from './helpers.js';

type Seed = NonNullable<Parameters<typeof startEmulator>[0]['seed']>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(seed: Seed = {}): Promise<{ emu: Emulator; backend: ConnectedBackend }> {
  const emu = await startEmulator({ flavor: 'cloud', seed });
  cleanups.push(() => emu.close());
  const backend = createBackend(envConfig('serverless', emu.url), {
    env: { EC_API_KEY: CANARY_KEY },
    logger: silentLogger(),
    retry: FAST_RETRY,
  });
  cleanups.push(() => backend.close());
  return { emu, backend };
}

const REGION = 'aws-us-east-1';
const GUID = '0c5e1d2a-3b4f-4a6b-8c9d-0e1f2a3b4c5d';
const fid = (c: string): string => c.repeat(32);
const pid = (c: string): string => c.repeat(32);

const vpn: PolicySpec = {
  region: REGION,
  name: 'vpn',
  type: 'ip',
  description: '',
  include_by_default: false,
  rules: [{ source: '10.0.0.0/8' }, { source: '192.168.0.0/16', description: 'home' }],
};

/** Direct API access, standing in for another tool editing the same project. */
function api(emu: Emulator) {
  return got.extend({
    prefixUrl: emu.url,
    headers: { authorization: `ApiKey ${CANARY_KEY}` },
    retry: { limit: 0 },
  });
}

describe('serverless back end over the emulator', () => {
  it.each([1, 200])('reads %i filters in exactly 5 requests', async (n) => {
    const { emu, backend } = await setup({
      traffic_filters: Array.from({ length: n }, (_, i) => ({
        id: i.toString(16).padStart(32, '0'),
        name: `f-${i}`,
        region: REGION,
        type: i === 0 ? 'private_endpoint' : 'ip',
        include_by_default: i % 2 === 1,
        rules: i === 0 ? [{ azure_endpoint_name: 'pe', azure_endpoint_guid: GUID }] : [{ source: '1.2.3.4' }],
      })),
      projects: [
        {
          type: 'elasticsearch',
          id: pid('e'),
          name: 'search',
          region_id: REGION,
          traffic_filters: ['0'.repeat(32)],
        },
        { type: 'security', id: pid('5'), name: 'sec', region_id: REGION },
      ],
    });
    const live = await backend.read();
    expect(live.requests).toBe(5);
    expect(emu.requests()).toHaveLength(5);
    expect(live.complete).toBe(true);
    expect(live.policies).toHaveLength(n);
    const first = live.policies.find((p) => p.id === '0'.repeat(32));
    expect(first).toMatchObject({
      type: 'azure_private_endpoint',
      description: '',
      rules: [{ azure_endpoint_name: 'pe', azure_endpoint_guid: GUID }],
      associations: [{ kind: 'project', projectType: 'elasticsearch', id: pid('e') }],
    });
    expect(live.targets).toHaveLength(2);
    expect(live.targets.find((t) => t.target.id === pid('5'))).toMatchObject({
      region: REGION,
      policyIds: [],
      target: { kind: 'project', projectType: 'security', id: pid('5') },
    });
  });

  it('marks the read incomplete when a listing has next_page', async () => {
    const { backend } = await setup({ force_next_page: true });
    const live = await backend.read();
    expect(live.complete).toBe(false);
    expect(live.incompleteReason).toMatch(/next_page.*traffic-filters/);
  });

  it('round-trips create, patch and delete', async () => {
    const { emu, backend } = await setup();
    const { id } = await backend.createPolicy({ ...vpn, description: 'first' });
    let [live] = (await backend.read()).policies;
    expect(live).toMatchObject({ ...vpn, description: 'first', id });

    const next: PolicySpec = {
      ...vpn,
      description: '',
      rules: [...vpn.rules].reverse(),
      include_by_default: true,
    };
    emu.resetRequests();
    await backend.updatePolicy(id, next, live!);
    expect(emu.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['PATCH 200']);
    [live] = (await backend.read()).policies;
    expect(live).toMatchObject({ ...next, id });

    emu.resetRequests();
    await backend.updatePolicy(id, next, live!);
    expect(emu.requests()).toEqual([]);

    await backend.deletePolicy(id);
    await backend.deletePolicy(id);
    expect(emu.requests().map((r) => r.status)).toEqual([204, 404]);
    expect((await backend.read()).policies).toEqual([]);
  });

  it('creates exactly one filter when the connection drops after the commit', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({ script: [{ method: 'POST', fault: 'reset_after_commit', times: 1 }] });
    const { id } = await backend.createPolicy({ ...vpn, include_by_default: true });
    expect((await backend.read()).policies.map((p) => p.id)).toEqual([id]);
  });

  it('a lost create reply and a lagging listing make no duplicate (issue 23)', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({ readLag: 1, script: [{ method: 'POST', fault: 'reset_after_commit', times: 1 }] });
    const { id } = await backend.createPolicy(vpn);
    expect(emu.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
    emu.setFaults({});
    expect((await backend.read()).policies.map((p) => p.id)).toEqual([id]);
  });

  it('writes a project list keeping unmanaged ids, skipping no-op writes', async () => {
    const { emu, backend } = await setup({
      traffic_filters: ['1', '2', '3'].map((c) => ({
        id: fid(c),
        name: `f${c}`,
        region: REGION,
        type: 'ip',
      })),
      projects: [
        {
          type: 'observability',
          id: pid('a'),
          name: 'o',
          region_id: REGION,
          traffic_filters: [fid('1'), fid('2')],
        },
      ],
    });
    const target = (await backend.read()).targets[0]!;
    emu.resetRequests();
    await backend.writeTargetPolicies(target, [fid('3')], [fid('1')]);
    expect(emu.requests().map((r) => `${r.method} ${r.status}`)).toEqual(['GET 200', 'PATCH 200']);
    const after = (await backend.read()).targets[0]!;
    expect(after.policyIds).toEqual([fid('2'), fid('3')]);

    emu.resetRequests();
    await backend.writeTargetPolicies(after, [fid('3')], [fid('1')]);
    expect(emu.requests().map((r) => r.method)).toEqual(['GET']);
  });

  it('sends If-Match and, when the project changed meanwhile, re-reads and keeps the other change', async () => {
    const { emu, backend } = await setup({
      traffic_filters: ['1', '2', '3'].map((c) => ({
        id: fid(c),
        name: `f${c}`,
        region: REGION,
        type: 'ip',
      })),
      projects: [
        { type: 'elasticsearch', id: pid('b'), name: 'p', region_id: REGION, traffic_filters: [fid('1')] },
      ],
    });
    const path = `api/v1/serverless/projects/elasticsearch/${pid('b')}`;
    const read = await api(emu).get(path);
    const target: LiveTarget = {
      target: { kind: 'project', projectType: 'elasticsearch', id: pid('b') },
      region: REGION,
      etag: read.headers.etag!,
      policyIds: [fid('1')],
      fingerprint: 'x',
    };
    // Someone else adds filter 2: our ETag is now stale.
    await api(emu).patch(path, {
      json: { traffic_filters: [{ id: fid('1') }, { id: fid('2') }] },
      headers: { 'if-match': read.headers.etag! },
    });
    emu.resetRequests();
    await backend.writeTargetPolicies(target, [fid('3')], []);
    expect(emu.requests().map((r) => `${r.method} ${r.status}`)).toEqual([
      'PATCH 412',
      'GET 200',
      'PATCH 200',
    ]);
    const project = (await api(emu).get(path).json()) as { traffic_filters: { id: string }[] };
    expect(project.traffic_filters.map((f) => f.id)).toEqual([fid('1'), fid('2'), fid('3')]);
  });

  it('does not write associations per pair', async () => {
    const { backend } = await setup();
    await expect(
      backend.associate('x', { kind: 'project', projectType: 'security', id: 'y' }),
    ).rejects.toThrow(/per target/);
    await expect(
      backend.dissociate('x', { kind: 'project', projectType: 'security', id: 'y' }),
    ).rejects.toThrow(/per target/);
  });

  it('reads region metadata', async () => {
    const { emu } = await setup();
    const http = createHttpClient(envConfig('serverless', emu.url), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
    });
    cleanups.push(() => http.close());
    const all = await readMetadata(http);
    expect(all.regions.length).toBeGreaterThan(0);
    const one = all.regions[0]!;
    expect(one.service_name).toBeTruthy();
    const filtered = await readMetadata(http, { region: one.region });
    expect(filtered.regions.map((r) => r.region)).toEqual([one.region]);
    expect(filtered.regions[0]!.availability_zones.every((z) => z.name && z.id)).toBe(true);
    expect((await readMetadata(http, { region: 'nowhere-1' })).regions).toEqual([]);
  });
});
