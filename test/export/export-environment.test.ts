/**
 * The pure export: live state → policy files. The strongest check is the round trip through the
 * real loader and planner: what export writes, loaded back, plans zero operations against the
 * live state it came from.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CAPABILITIES } from '../../src/model/capabilities.js';
import { exportEnvironment, joinExportedFiles } from '../../src/export/export-environment.js';
import { loadProject } from '../../src/load/index.js';
import type { ApiKind, LiveEnvironment, LivePolicy, Rule, Target } from '../../src/model/types.js';
import { buildPlan } from '../../src/plan/build-plan.js';

const ENV = 'prod';
const dep = (c: string): Target => ({ kind: 'deployment', id: c.repeat(32) });
const prj = (c: string): Target => ({ kind: 'project', projectType: 'elasticsearch', id: c.repeat(32) });

function live(
  id: string,
  name: string,
  region: string,
  rules: Rule[],
  more: Partial<LivePolicy> = {},
): LivePolicy {
  return {
    id,
    name,
    region,
    type: 'ip',
    description: '',
    include_by_default: false,
    rules,
    associations: [],
    hiddenAssociations: 0,
    fingerprint: `fp-${id}`,
    ...more,
  };
}

function liveEnvOf(policies: LivePolicy[]): LiveEnvironment {
  const targets = new Map<string, { target: Target; region: string }>();
  for (const p of policies)
    for (const t of p.associations) targets.set(t.id, { target: t, region: p.region });
  return {
    environment: ENV,
    policies,
    targets: [...targets.values()].map((t) => ({ ...t, fingerprint: `fp-${t.target.id}` })),
    complete: true,
    requests: 1,
  };
}

const configFor = (api: ApiKind): string =>
  `environments:\n  ${ENV}:\n    api: ${api}\n    endpoint: https://api.example.test\n`;

/** Writes the exported files into a fresh project, loads it, and plans against the same live state. */
function roundTrip(api: ApiKind, state: LiveEnvironment) {
  const result = exportEnvironment(state, { environment: ENV, ruleOrder: CAPABILITIES[api].ruleOrder });
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-export-'));
  writeFileSync(join(dir, 'ecfence.yaml'), `policies: ['.']\n${configFor(api)}`);
  const files: Record<string, string> = {};
  for (const f of result.files) {
    files[f.name] = f.text;
    writeFileSync(join(dir, f.name), f.text);
  }
  const loaded = loadProject({ cwd: dir });
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error');
  expect(errors).toEqual([]);
  if (!loaded.desired) throw new Error('nothing loaded');
  const envDesired = loaded.desired.environments[0];
  if (!envDesired) throw new Error('no environment');
  const { plan } = buildPlan(
    loaded.desired,
    [{ desired: envDesired, live: state, capabilities: CAPABILITIES[api] }],
    { force: false, noDelete: false },
  );
  return { result, files, plan };
}

const AZ = 'azure-japaneast';
const AWS = 'aws-us-east-1';

const essEstate = (): LivePolicy[] => [
  live(
    'p1',
    'office',
    AZ,
    [
      { source: '192.168.1.0/24', description: 'HQ' },
      { source: '10.0.0.0/8', description: 'HQ' },
    ],
    {
      description: 'Office',
      associations: [dep('a')],
    },
  ),
  live(
    'p2',
    'office-2',
    AZ,
    [
      { source: '10.0.0.0/8', description: 'HQ' },
      { source: '192.168.1.0/24', description: 'HQ' },
    ],
    {
      associations: [dep('b')],
    },
  ),
  live('p3', 'mixed', AZ, [{ source: '9.9.9.9' }, { source: '10.1.1.1', description: 'dns' }], {
    include_by_default: true,
    associations: [dep('a'), dep('b')],
  }),
  live(
    'p4',
    'out',
    AWS,
    [
      { egress_rule: { target: '8.8.8.8', protocol: 'udp', ports: [53] } },
      { egress_rule: { target: '0.0.0.0/0', protocol: 'tcp', ports: [443, 80] }, description: 'web' },
    ],
    { type: 'egress_firewall', associations: [dep('c')] },
  ),
  live(
    'p5',
    'pe',
    AZ,
    [{ azure_endpoint_name: 'pe', azure_endpoint_guid: '01234567-89ab-cdef-0123-456789abcdef' }],
    {
      type: 'azure_private_endpoint',
    },
  ),
  live('p6', 'ccs', AWS, [{ remote_cluster_id: 'c1', remote_cluster_org_id: 'o1' }], {
    type: 'remote_cluster',
  }),
  live('p7', 'office', AWS, [{ source: '172.16.0.0/12' }], { associations: [dep('c')] }),
];

describe('exportEnvironment', () => {
  it('round-trips every ess policy type, shared sets and associations to a zero-change plan', () => {
    const { plan, result, files } = roundTrip('ess', liveEnvOf(essEstate()));
    expect(plan.operations).toEqual([]);
    expect(plan.refusals).toEqual([]);
    expect(result.files.map((f) => f.name)).toEqual(['prod-aws-us-east-1.yaml', 'prod-azure-japaneast.yaml']);
    expect(result).toMatchObject({ policies: 7, associations: 6, warnings: [] });
    const az = parse(files['prod-azure-japaneast.yaml'] ?? '') as Record<string, unknown>;
    expect(az['sources']).toEqual({ 'prod.hq': ['10.0.0.0/8', '192.168.1.0/24'] });
  });

  it('writes ess/ece rules in a stable numeric order and serverless rules in live order', () => {
    const rules: Rule[] = [{ source: '192.168.0.1' }, { source: '10.0.0.1' }, { source: '9.0.0.1' }];
    const state = liveEnvOf([live('x', 'p', AWS, rules)]);
    const ess = exportEnvironment(state, { environment: ENV, ruleOrder: 'set' }).files[0]?.text ?? '';
    expect([...ess.matchAll(/source: (\S+)/g)].map((m) => m[1])).toEqual([
      '9.0.0.1',
      '10.0.0.1',
      '192.168.0.1',
    ]);
    const sls = exportEnvironment(state, { environment: ENV, ruleOrder: 'list' }).files[0]?.text ?? '';
    expect([...sls.matchAll(/source: (\S+)/g)].map((m) => m[1])).toEqual([
      '192.168.0.1',
      '10.0.0.1',
      '9.0.0.1',
    ]);
  });

  it('round-trips an ordered serverless estate with project associations', () => {
    const state = liveEnvOf([
      live(
        'f1',
        'office',
        AWS,
        [{ source: '192.168.0.0/16' }, { source: '10.0.0.0/8', description: 'vpn' }],
        {
          associations: [prj('e')],
        },
      ),
      live('f2', 'pl', AWS, [{ source: 'vpce-00000000000000001' }], {
        type: 'vpce',
        associations: [prj('e')],
      }),
      live('f3', 'psc', 'gcp-us-central1', [{ source: '1234' }], {
        type: 'gcp_private_service_connect_endpoint',
      }),
    ]);
    const { plan, files } = roundTrip('serverless', state);
    expect(plan.operations).toEqual([]);
    expect(files['prod-aws-us-east-1.yaml']).toContain(
      `  - project:\n      type: elasticsearch\n      id: ${'e'.repeat(32)}\n    policies: [office, pl]\n`,
    );
  });

  it('is deterministic: the order the API lists policies in does not change the files', () => {
    const a = exportEnvironment(liveEnvOf(essEstate()), { environment: ENV, ruleOrder: 'set' });
    const b = exportEnvironment(liveEnvOf([...essEstate()].reverse()), {
      environment: ENV,
      ruleOrder: 'set',
    });
    expect(joinExportedFiles(b.files)).toBe(joinExportedFiles(a.files));
    expect(joinExportedFiles(a.files)).not.toMatch(/\d{4}-\d{2}-\d{2}/);
  });

  it('makes a set only of an address list at least two policies share verbatim', () => {
    const one = exportEnvironment(
      liveEnvOf([
        live('a', 'a', AWS, [{ source: '1.1.1.1' }, { source: '2.2.2.2' }]),
        live('b', 'b', AWS, [{ source: '1.1.1.1' }]),
      ]),
      { environment: ENV, ruleOrder: 'set' },
    );
    expect(one.files[0]?.text).not.toContain('sources:');
    const two = exportEnvironment(
      liveEnvOf([
        live('a', 'a', AWS, [{ source: '1.1.1.1' }, { source: '2.2.2.2' }]),
        live('b', 'b', AWS, [{ source: '2.2.2.2' }, { source: '1.1.1.1' }], { description: 'other' }),
      ]),
      { environment: ENV, ruleOrder: 'set' },
    );
    expect(two.files[0]?.text).toContain('sources:\n  prod.a:\n    - 1.1.1.1\n    - 2.2.2.2\n');
    expect(two.files[0]?.text.match(/source: \$prod\.a/g)).toHaveLength(2);
  });

  it('comments out ambiguous names in every region, warns, and keeps their targets otherwise exported', () => {
    const state = liveEnvOf([
      live('d1', 'dup', AZ, [{ source: '1.1.1.1' }], { associations: [dep('a')] }),
      live('d2', 'dup', AZ, [{ source: '1.1.1.2' }]),
      live('d3', 'dup', AWS, [{ source: '1.1.1.3' }]),
      live('ok', 'fine', AZ, [{ source: '3.3.3.3' }], { associations: [dep('a')] }),
    ]);
    const { plan, result, files } = roundTrip('ess', state);
    expect(plan.operations).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringContaining("2 live policies are named 'dup' in azure-japaneast (d1, d2)"),
    ]);
    expect(files['prod-azure-japaneast.yaml']).toContain(
      '# also attached, not exported (ambiguous name): dup',
    );
    expect(files['prod-azure-japaneast.yaml']).toContain('policies: [fine]');
    expect(files['prod-aws-us-east-1.yaml']).toMatch(/^# {3}- name: dup$/m);
    expect(result.policies).toBe(1);
  });

  it('exports only the regions in scope', () => {
    const result = exportEnvironment(liveEnvOf(essEstate()), {
      environment: ENV,
      ruleOrder: 'set',
      regions: [AWS],
    });
    expect(result.files.map((f) => f.region)).toEqual([AWS]);
  });
});
