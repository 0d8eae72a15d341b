/**
 * Serverless end to end (issue 3), with the built binary against the emulator over HTTP: the cost
 * of reading, the policy lifecycle (create, PATCH of changed fields only, replacement, delete after
 * every association is gone) and the four policy types on the wire.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type Emulator,
  type RequestLogEntry,
  type SeedData,
} from '../../src/emulator/index.js';
import { makeProject, runCli, writeProjectFiles } from '../support/cli.js';

const KEY = 'essu_CANARY_serverless_e2e_5d4c3b2a1f0e';
const env = { EC_API_KEY: KEY };
const AWS = 'aws-us-east-1';
const AZ = 'azure-eastus';
const GUID = '0c5e1d2a-3b4f-4a6b-8c9d-0e1f2a3b4c5d';
const pid = (c: string): string => c.repeat(32);
const FOREIGN = 'f'.repeat(32);
const ES = pid('a');
const SEC = pid('b');
const OBS_AZ = pid('c');

const config = (url: string, extra = ''): string =>
  `environments:\n  sls:\n    api: serverless\n    endpoint: ${url}\n${extra}`;

const writes = (log: readonly RequestLogEntry[]): string[] =>
  log.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);

describe('serverless: reading costs a constant number of requests', () => {
  const emulators: Emulator[] = [];
  afterAll(async () => {
    for (const e of emulators) await e.close();
  });

  async function getsToPlan(filters: number): Promise<number> {
    const seed: SeedData = {
      traffic_filters: Array.from({ length: filters }, (_, i) => ({
        id: i.toString(16).padStart(32, '0'),
        name: `f-${i}`,
        region: AWS,
        type: 'ip',
        include_by_default: i % 3 === 0,
        rules: [{ source: `10.0.${i % 256}.0/24` }],
      })),
      projects: [
        { type: 'elasticsearch', id: ES, name: 'es', region_id: AWS, traffic_filters: ['0'.repeat(32)] },
        { type: 'security', id: SEC, name: 'sec', region_id: AWS },
      ],
    };
    const emu = await startEmulator({ flavor: 'cloud', seed });
    emulators.push(emu);
    const dir = makeProject({
      'ecfence.yaml': config(emu.url),
      'policies/p.yaml': `environment: sls\npolicies:\n  - name: f-1\n    region: ${AWS}\n    type: ip\n    rules: [{ source: 10.0.1.0/24 }]\n`,
    });
    const r = await runCli(['plan'], { cwd: dir, env });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Every seeded filter is seen (unmanaged ones are listed), so the read really was complete.
    expect(r.stdout.match(/unmanaged: f-/g)).toHaveLength(filters - 1);
    const log = emu.requests();
    expect(log.every((q) => q.method === 'GET')).toBe(true);
    return log.length;
  }

  it('plans over 3 and over 300 filters with the same number of GETs, at most 6', async () => {
    const [few, many] = await Promise.all([getsToPlan(3), getsToPlan(300)]);
    expect(many).toBe(few);
    expect(few).toBeLessThanOrEqual(6);
  });
});

describe('serverless: policy lifecycle through the CLI', () => {
  let emu: Emulator;
  let dir: string;
  /** Every request of this describe block, for the checks that span the whole run. */
  const all: RequestLogEntry[] = [];
  /** Made in the region-change test. */
  let esEu = '';
  const log = (): RequestLogEntry[] => emu.requests();
  const filterId = (name: string): string => {
    const f = emu.state().traffic_filters.find((x) => x.name === name);
    if (!f) throw new Error(`no live filter ${name}`);
    return f.id;
  };
  const projectFilters = (id: string): string[] =>
    emu.state().projects.find((p) => p.id === id)?.traffic_filters ?? [];

  const office = (
    rules = '[{ source: 10.0.0.0/8, description: first }, { source: 192.168.1.1 }]',
  ): string => `
  - name: office
    region: ${AWS}
    type: ip
    description: Office networks
    rules: ${rules}`;
  const REORDERED = '[{ source: 192.168.1.1 }, { source: 10.0.0.0/8, description: first }]';
  const types = `
  - name: pl
    region: ${AWS}
    type: vpce
    description: PrivateLink clients
    rules: [{ source: vpce-00112233445566778 }]
  - name: azure-pe
    region: ${AZ}
    type: azure_private_endpoint
    rules: [{ azure_endpoint_name: my-pe, azure_endpoint_guid: ${GUID}, description: pe }]
  - name: psc
    region: gcp-us-central1
    type: psc_endpoint
    rules: [{ source: '18446744073709551615' }]`;
  const associations = `
associations:
  - project: { type: elasticsearch, id: ${ES} }
    policies: [office, pl]
  - project: { type: security, id: ${SEC} }
    policies: [office]
  - project: { type: observability, id: ${OBS_AZ} }
    policies: [azure-pe]
`;
  const file = (policies: string, assoc = associations): string =>
    `environment: sls\npolicies:${policies}\n${assoc}`;

  beforeAll(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      recordBodies: true,
      seed: {
        traffic_filters: [
          { id: FOREIGN, name: 'foreign', region: AWS, type: 'ip', rules: [{ source: '9.9.9.9' }] },
        ],
        projects: [
          { type: 'elasticsearch', id: ES, name: 'es', region_id: AWS, traffic_filters: [FOREIGN] },
          { type: 'security', id: SEC, name: 'sec', region_id: AWS },
          { type: 'observability', id: OBS_AZ, name: 'obs', region_id: AZ },
        ],
      },
    });
    dir = makeProject({ 'ecfence.yaml': config(emu.url), 'policies/sls.yaml': file(office() + types) });
  });
  beforeEach(() => {
    all.push(...log());
    emu.resetRequests();
    emu.setFaults({});
  });
  afterAll(async () => {
    all.push(...log());
    await emu?.close();
  });

  it('creates every serverless type with its wire name and converges', async () => {
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`create     ${AWS}/office (ip, 2 rules)`);
    expect(plan.stdout).toContain(`create     ${AZ}/azure-pe (azure_private_endpoint, 1 rule)`);
    // The wire alias in the YAML is shown with its ecfence name.
    expect(plan.stdout).toContain(
      'create     gcp-us-central1/psc (gcp_private_service_connect_endpoint, 1 rule)',
    );
    expect(plan.stdout).toContain(`associate  ${AWS}/office → project security/${SEC}`);
    expect(writes(log())).toEqual([]);

    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);

    const byName = new Map(emu.state().traffic_filters.map((f) => [f.name, f]));
    expect(byName.get('office')).toMatchObject({
      type: 'ip',
      description: 'Office networks',
      rules: [{ source: '10.0.0.0/8', description: 'first' }, { source: '192.168.1.1' }],
    });
    expect(byName.get('pl')).toMatchObject({ type: 'vpce', rules: [{ source: 'vpce-00112233445566778' }] });
    expect(byName.get('azure-pe')).toMatchObject({
      type: 'private_endpoint',
      region: AZ,
      rules: [{ azure_endpoint_name: 'my-pe', azure_endpoint_guid: GUID, description: 'pe' }],
    });
    expect(byName.get('psc')).toMatchObject({
      type: 'psc_endpoint',
      rules: [{ source: '18446744073709551615' }],
    });
    // The unmanaged filter on the project stays, in its place.
    expect(projectFilters(ES)).toEqual([FOREIGN, filterId('office'), filterId('pl')]);
    expect(projectFilters(SEC)).toEqual([filterId('office')]);
    expect(projectFilters(OBS_AZ)).toEqual([filterId('azure-pe')]);
  });

  it('PATCHes only the changed fields: a cleared description, and reordered rules (a change on serverless)', async () => {
    writeProjectFiles(dir, {
      'policies/sls.yaml': file(
        office(REORDERED) + types.replace('description: PrivateLink clients', "description: ''"),
      ),
    });
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toContain(`update     ${AWS}/office`);
    expect(apply.stdout).toContain(`update     ${AWS}/pl`);
    expect(apply.stdout).toContain('Plan: 0 to create, 0 to replace, 2 to update, 0 to associate');
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const patches = log().filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => [r.path, r.requestBody])).toEqual(
      expect.arrayContaining([
        [
          `/api/v1/serverless/traffic-filters/${filterId('office')}`,
          { rules: [{ source: '192.168.1.1' }, { source: '10.0.0.0/8', description: 'first' }] },
        ],
        [`/api/v1/serverless/traffic-filters/${filterId('pl')}`, { description: '' }],
      ]),
    );
    expect(patches).toHaveLength(2);
    expect(emu.state().traffic_filters.find((f) => f.name === 'pl')?.description ?? '').toBe('');
  });

  it('replaces on a type change: new filter, associations moved in one PATCH, old one deleted last', async () => {
    const oldId = filterId('pl');
    writeProjectFiles(dir, {
      'policies/sls.yaml': file(
        office(REORDERED) +
          types
            .replace('type: vpce', 'type: ip')
            .replace('vpce-00112233445566778', '172.16.0.0/12')
            .replace('description: PrivateLink clients', "description: ''"),
      ),
    });
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toMatch(new RegExp(`replace\\s+${AWS}/pl`));
    expect(apply.stdout).toContain('type: "vpce" → "ip"');
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const newId = filterId('pl');
    expect(newId).not.toBe(oldId);
    expect(emu.state().traffic_filters.find((f) => f.id === newId)).toMatchObject({ type: 'ip' });
    expect(projectFilters(ES)).toEqual([FOREIGN, filterId('office'), newId]);
    expect(writes(log())).toEqual([
      'POST /api/v1/serverless/traffic-filters 201',
      `PATCH /api/v1/serverless/projects/elasticsearch/${ES} 200`,
      `DELETE /api/v1/serverless/traffic-filters/${oldId} 204`,
    ]);
    // The one PATCH swaps old for new: the project is never without the policy.
    const patch = log().find((r) => r.method === 'PATCH');
    expect(patch?.requestBody).toEqual({
      traffic_filters: [{ id: FOREIGN }, { id: filterId('office') }, { id: newId }],
    });
  });

  it('replaces on a region change, moving the association to a project of the new region', async () => {
    const oldId = filterId('office');
    const obsAws = emu.addProject({ type: 'observability', name: 'obs-aws', region_id: AWS });
    const eu = 'aws-eu-west-1';
    esEu = emu.addProject({ type: 'elasticsearch', name: 'es-eu', region_id: eu });
    // Projects that keep another ingress filter, so moving `office` away leaves none unfiltered.
    writeProjectFiles(dir, {
      'policies/sls.yaml': file(
        office(REORDERED).replace(`region: ${AWS}`, `region: ${eu}`) +
          types
            .replace('type: vpce', 'type: ip')
            .replace('vpce-00112233445566778', '172.16.0.0/12')
            .replace('description: PrivateLink clients', "description: ''"),
        `
associations:
  - project: { type: elasticsearch, id: ${ES} }
    policies: [pl]
  - project: { type: security, id: ${SEC} }
    policies: [pl]
  - project: { type: elasticsearch, id: ${esEu} }
    policies: [office]
  - project: { type: observability, id: ${OBS_AZ} }
    policies: [azure-pe]
`,
      ),
    });
    emu.resetRequests();
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toMatch(new RegExp(`replace\\s+${eu}/office`));
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const newId = filterId('office');
    expect(emu.state().traffic_filters.find((f) => f.id === newId)?.region).toBe(eu);
    expect(emu.state().traffic_filters.some((f) => f.id === oldId)).toBe(false);
    expect(projectFilters(esEu)).toEqual([newId]);
    expect(projectFilters(ES)).toEqual([FOREIGN, filterId('pl')]);
    expect(projectFilters(SEC)).toEqual([filterId('pl')]);
    expect(projectFilters(obsAws)).toEqual([]);
    // Make before break: the old filter is deleted only after the last PATCH that detached it.
    const w = writes(log());
    const del = w.indexOf(`DELETE /api/v1/serverless/traffic-filters/${oldId} 204`);
    expect(del).toBeGreaterThan(-1);
    expect(w.slice(del + 1).some((x) => x.startsWith('PATCH'))).toBe(false);
    expect(w.filter((x) => x.startsWith('PATCH'))).toHaveLength(3);
  });

  it('prunes: detaches from every project first, then deletes; a 404 on DELETE counts as done', async () => {
    writeProjectFiles(dir, {
      'ecfence.yaml': config(emu.url, '    prune: true\n    protect: [foreign]\n'),
      'policies/sls.yaml': `environment: sls
policies:
  - name: azure-pe
    region: ${AZ}
    type: private_endpoint
    rules: [{ azure_endpoint_name: my-pe, azure_endpoint_guid: ${GUID}, description: pe }]
associations:
  - project: { type: observability, id: ${OBS_AZ} }
    policies: [azure-pe]
  - project: { type: elasticsearch, id: ${ES} }
    policies: []
    allow_unfiltered: true
  - project: { type: security, id: ${SEC} }
    policies: []
    allow_unfiltered: true
  - project: { type: elasticsearch, id: ${esEu} }
    policies: []
    allow_unfiltered: true
`,
    });
    const doomed = ['office', 'pl', 'psc'].map(filterId);
    // The connection drops after the server deleted `psc`: the retried DELETE gets 404, which is done.
    emu.setFaults({
      script: [{ method: 'DELETE', pathPattern: doomed[2], fault: 'reset_after_commit', times: 1 }],
    });
    emu.resetRequests();
    // Short backoff (base 100 ms) before the retried DELETE.
    const apply = await runCli(['apply', '--auto-approve'], {
      cwd: dir,
      env: { ...env, ECFENCE_RETRY_MAX_MS: '1000' },
    });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    expect(
      emu
        .state()
        .traffic_filters.map((f) => f.name)
        .sort(),
    ).toEqual(['azure-pe', 'foreign']);
    expect(projectFilters(ES)).toEqual([FOREIGN]);
    expect(projectFilters(SEC)).toEqual([]);
    expect(projectFilters(esEu)).toEqual([]);
    const w = writes(log());
    expect(w).toContain(`DELETE /api/v1/serverless/traffic-filters/${doomed[2]} 404`);
    const firstDelete = w.findIndex((x) => x.startsWith('DELETE'));
    expect(w.slice(0, firstDelete).filter((x) => x.startsWith('PATCH'))).toHaveLength(3);
    expect(w.slice(firstDelete).every((x) => x.startsWith('DELETE'))).toBe(true);
  });

  it('never had a DELETE refused because the filter was still associated', () => {
    const deletes = [...all, ...log()].filter((r) => r.method === 'DELETE');
    expect(deletes.length).toBeGreaterThanOrEqual(5);
    expect(deletes.filter((r) => r.status >= 400 && r.status !== 404)).toEqual([]);
    // No 412 either: nobody else wrote, so every ETag read was still current.
    expect(all.filter((r) => r.status === 400 || r.status === 412)).toEqual([]);
  });
});
