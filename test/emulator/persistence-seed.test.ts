import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmulatorSetupError, startEmulator, startEmulatorFromArgs } from '../../src/emulator/index.js';
import { call, type AnyJson } from '../support/emulator-http.js';

const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const ruleset = {
  name: 'r',
  type: 'ip',
  include_by_default: false,
  region: 'us-east-1',
  rules: [{ source: '1.2.3.4' }],
};

describe('state file and seeding', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ecfence-emu-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the state after every mutation, atomically, and reloads it on start', async () => {
    const statePath = join(dir, 'nested', 'state.json');
    const emu = await startEmulator({
      flavor: 'cloud',
      statePath,
      seed: { deployments: [{ id: 'd1', name: 'd', region: 'us-east-1' }] },
    });
    let id: string;
    try {
      expect(JSON.parse(readFileSync(statePath, 'utf8')).deployments).toHaveLength(1);
      id = ((await call(emu, 'POST', RULESETS, { body: ruleset })).body as AnyJson).id;
      // Every write leaves a complete file and no temporary file behind.
      for (let i = 0; i < 20; i += 1) {
        await call(emu, 'PUT', `${RULESETS}/${id}`, { body: { ...ruleset, name: `r${i}` } });
        expect(JSON.parse(readFileSync(statePath, 'utf8')).rulesets[0].name).toBe(`r${i}`);
      }
      await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
        body: { entity_type: 'deployment', id: 'd1' },
      });
      expect(readdirSync(join(dir, 'nested'))).toEqual(['state.json']);
      // Reads do not rewrite the file.
      const before = readFileSync(statePath, 'utf8');
      await call(emu, 'GET', RULESETS);
      expect(readFileSync(statePath, 'utf8')).toBe(before);
    } finally {
      await emu.close();
    }

    // The state file wins over the seed on restart.
    const again = await startEmulator({
      flavor: 'cloud',
      statePath,
      seed: { deployments: [{ name: 'ignored', region: 'x' }] },
    });
    try {
      const got = (await call(again, 'GET', `${RULESETS}/${id}?include_associations=true`)).body as AnyJson;
      expect(got).toMatchObject({ name: 'r19', associations: [{ entity_type: 'deployment', id: 'd1' }] });
      expect(again.state().deployments.map((d) => d.id)).toEqual(['d1']);
    } finally {
      await again.close();
    }
  });

  it('refuses a state file that is not one', async () => {
    const statePath = join(dir, 'state.json');
    writeFileSync(statePath, '{"hello": 1}');
    await expect(startEmulator({ flavor: 'cloud', statePath })).rejects.toThrow(EmulatorSetupError);
  });

  it('seeds every kind of object from YAML', async () => {
    const seedPath = join(dir, 'seed.yaml');
    writeFileSync(
      seedPath,
      [
        'deployments:',
        '  - { id: dep-a, name: prod, region: azure-japaneast }',
        '  - { name: generated, region: azure-japaneast }',
        'rulesets:',
        '  - id: 0123456789abcdef0123456789abcdef',
        '    name: office',
        '    region: azure-japaneast',
        '    type: ip',
        '    description: Office networks',
        '    rules: [{ source: 192.168.131.0 }, { source: 10.20.0.0/16, description: vpn }]',
        '    associations: [dep-a]',
        '    hidden_associations: 1',
        'traffic_filters:',
        '  - { id: fedcba9876543210fedcba9876543210, name: sls, region: aws-us-east-1, type: ip, rules: [{ source: 1.2.3.4 }] }',
        'projects:',
        '  - { type: elasticsearch, id: "00000000000000000000000000000001", name: p, region_id: aws-us-east-1, traffic_filters: [fedcba9876543210fedcba9876543210] }',
        'metadata:',
        '  - { region: aws-us-east-1, csp: aws, vpc_service_name: svc, private_hosted_zone_domain_name: z, availability_zones: [] }',
        '',
      ].join('\n'),
    );
    const emu = await startEmulatorFromArgs({ flavor: 'cloud', seed: seedPath });
    try {
      const state = emu.state();
      expect(state.deployments).toHaveLength(2);
      expect(state.deployments[1]?.id).toMatch(/^[0-9a-f]{32}$/);
      const rs = (await call(emu, 'GET', `${RULESETS}?include_associations=true`)).body as AnyJson;
      expect(rs.rulesets[0]).toMatchObject({
        id: '0123456789abcdef0123456789abcdef',
        description: 'Office networks',
        include_by_default: false,
        associations: [{ entity_type: 'deployment', id: 'dep-a' }],
        total_associations: 2,
      });
      expect(rs.rulesets[0].rules.map((r: AnyJson) => r.source)).toEqual(['192.168.131.0', '10.20.0.0/16']);
      const project = (
        await call(emu, 'GET', '/api/v1/serverless/projects/elasticsearch/00000000000000000000000000000001')
      ).body as AnyJson;
      expect(project.traffic_filters).toEqual([{ id: 'fedcba9876543210fedcba9876543210' }]);
      expect((await call(emu, 'GET', '/api/v1/serverless/traffic-filters/metadata')).body).toEqual({
        regions: [
          {
            region: 'aws-us-east-1',
            csp: 'aws',
            vpc_service_name: 'svc',
            private_hosted_zone_domain_name: 'z',
            availability_zones: [],
          },
        ],
      });
    } finally {
      await emu.close();
    }
  });

  it('rejects an invalid seed with a message naming the entry', async () => {
    const cases: [unknown, RegExp][] = [
      [
        { rulesets: [{ name: 'x', region: 'r', type: 'ip', rules: [{ source: 'garbage' }] }] },
        /rulesets\[0\].*garbage/,
      ],
      [
        { rulesets: [{ name: 'x', region: 'r', type: 'ip', rules: [], associations: ['nope'] }] },
        /rulesets\[0\]\.associations.*nope/,
      ],
      [{ projects: [{ type: 'elasticsearch', id: 'SHORT', name: 'p', region_id: 'r' }] }, /projects\[0\]/],
      [
        { traffic_filters: [{ id: 'short', name: 'f', region: 'r', type: 'ip' }] },
        /traffic_filters\[0\]\.id/,
      ],
      [
        {
          traffic_filters: [
            { id: 'f'.repeat(32), name: 'f', region: 'r', type: 'ip' },
            { id: 'f'.repeat(32), name: 'g', region: 'r', type: 'ip' },
          ],
        },
        /traffic_filters\[1\]\.id.*duplicate id/,
      ],
      [{ deployment: [] }, /unknown key/],
      [{ deployments: [{ id: 12, name: 'd', region: 'r' }] }, /deployments\[0\]\.id.*quote/],
    ];
    for (const [seed, message] of cases) {
      await expect(startEmulator({ flavor: 'cloud', seed: seed as never })).rejects.toThrow(message);
    }
    await expect(
      startEmulator({
        flavor: 'ece',
        seed: { rulesets: [{ name: 'x', region: 'r', type: 'vpce', rules: [] }] },
      }),
    ).rejects.toThrow(EmulatorSetupError);
    await expect(startEmulatorFromArgs({ flavor: 'cloud', seed: join(dir, 'missing.yaml') })).rejects.toThrow(
      /cannot read/,
    );
  });

  it('builds faults from CLI-shaped arguments and rejects bad ones', async () => {
    const emu = await startEmulatorFromArgs({ flavor: 'ece', port: '0', rate5xx: '1', apiKey: ['k'] });
    try {
      expect((await call(emu, 'GET', RULESETS, { auth: 'ApiKey k' })).status).toBe(503);
    } finally {
      await emu.close();
    }
    await expect(startEmulatorFromArgs({ flavor: 'gcp' })).rejects.toThrow(/--flavor/);
    await expect(startEmulatorFromArgs({ rate429: '1.5' })).rejects.toThrow(/--rate-429/);
    await expect(startEmulatorFromArgs({ readLag: '1.5' })).rejects.toThrow(/--read-lag must be .* whole/);
  });
});
