import { describe, expect, test } from 'vitest';
import { loadProject } from '../../src/load/index.js';
import { CONFIG, load, makeProject, only, show, where } from './helpers.js';

describe('across files', () => {
  test('source sets are global: nested sets expand in order, one rule per address', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/00-sources.yaml':
        'sources:\n  office: [10.1.0.0/16, 10.2.0.0/16]\n  vpn: [$office, 10.9.9.9]\n',
      'policies/cloud.yaml': `environment: cloud
policies:
  - name: staff
    region: us-east-1
    type: ip
    rules:
      - source: 192.0.2.1
      - source: $vpn
        description: via VPN
`,
    });
    const result = load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.desired?.environments[0]?.policies[0]?.rules).toEqual([
      { source: '192.0.2.1' },
      { source: '10.1.0.0/16', description: 'via VPN' },
      { source: '10.2.0.0/16', description: 'via VPN' },
      { source: '10.9.9.9', description: 'via VPN' },
    ]);
  });

  test('a set defined in two files is an error naming the first', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/a.yaml': 'sources:\n  office: [10.1.0.0/16]\n',
      'policies/b.yaml': 'sources:\n  vpn: [10.3.0.0/16]\n  office: [10.2.0.0/16]\n',
    });
    const d = only(load(dir), 'E_DUPLICATE_SOURCE');
    expect(`${d.file}:${d.line}:${d.col}`).toBe('policies/b.yaml:3:3');
    expect(d.message).toContain('already defined at policies/a.yaml:2:3');
  });

  test('a cycle across files is reported once, at the reference that closes it', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/a.yaml': 'sources:\n  a: [$b]\n',
      'policies/b.yaml': 'sources:\n  b: [10.0.0.1, $a]\n',
      'policies/c.yaml':
        'environment: cloud\npolicies:\n  - { name: p, region: r, type: ip, rules: [{ source: $a }] }\n',
    });
    const result = load(dir);
    expect(where(result.diagnostics)).toEqual(['policies/b.yaml:2:17 E_SOURCE_CYCLE']);
    expect(result.diagnostics[0]?.message).toContain('$a → $b → $a');
  });

  test('duplicate policy identity across files names the other file:line', () => {
    const policy = (region: string) =>
      `environment: cloud\npolicies:\n  - name: office\n    region: ${region}\n    type: ip\n    rules: []\n`;
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/a.yaml': policy('us-east-1'),
      'policies/b.yaml': policy('us-east-1'),
      'policies/c.yaml': policy('eu-west-1'),
      'policies/d.yaml': policy('us-east-1').replace('cloud', 'onprem'),
    });
    const d = only(load(dir), 'E_DUPLICATE_POLICY');
    expect(`${d.file}:${d.line}:${d.col}`).toBe('policies/b.yaml:3:11');
    expect(d.message).toContain('already declared at policies/a.yaml:3:11');
  });

  test('associations: declared in another file, merged per target, duplicates across files refused', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/policies.yaml': `environment: cloud
policies:
  - { name: a, region: r1, type: ip, rules: [] }
  - { name: a, region: r2, type: ip, rules: [] }
  - { name: b, region: r1, type: ip, rules: [] }
`,
      'policies/assoc-1.yaml': `environment: cloud
associations:
  - deployment: b2222222222222222222222222222222
    policies: [b]
  - deployment: a1111111111111111111111111111111
    policies: [a]
`,
      'policies/assoc-2.yaml': `associations:
  - environment: cloud
    deployment: a1111111111111111111111111111111
    policies: [b]
    allow_unfiltered: true
`,
    });
    const result = load(dir);
    expect(result.diagnostics).toEqual([]);
    const env = result.desired?.environments.find((e) => e.config.name === 'cloud');
    expect(
      env?.associations.map((a) => `${a.target.id.slice(0, 2)} ${a.policyName} ${a.allow_unfiltered}`),
    ).toEqual(['a1 a false', 'a1 b true', 'b2 b false']);
    expect(env?.associations[1]?.position).toEqual({ file: 'policies/assoc-2.yaml', line: 4, col: 16 });
    expect(env?.allowUnfiltered).toEqual([{ kind: 'deployment', id: 'a1111111111111111111111111111111' }]);

    const dup = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/p.yaml': 'environment: cloud\npolicies:\n  - { name: a, region: r1, type: ip, rules: [] }\n',
      'policies/x.yaml':
        'environment: cloud\nassociations:\n  - deployment: a1111111111111111111111111111111\n    policies: [a]\n',
      'policies/y.yaml':
        'environment: cloud\nassociations:\n  - deployment: a1111111111111111111111111111111\n    policies: [a]\n',
    });
    const d = only(load(dup), 'E_DUPLICATE_ASSOCIATION');
    expect(`${d.file}:${d.line}:${d.col}`).toBe('policies/y.yaml:4:16');
    expect(d.message).toContain('policies/x.yaml:4:16');
  });

  test('an association may not name a policy of another environment', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/p.yaml': `policies:
  - { environment: onprem, name: only-onprem, region: ece-region, type: ip, rules: [] }
associations:
  - environment: cloud
    deployment: a1111111111111111111111111111111
    policies: [only-onprem]
`,
    });
    expect(where(load(dir).diagnostics)).toEqual(['policies/p.yaml:6:16 E_UNKNOWN_POLICY']);
  });

  test('a policy broken by a schema error does not also make its associations "unknown"', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/p.yaml': `environment: cloud
policies:
  - { name: a, region: r1, type: ipp, rules: [] }
associations:
  - deployment: a1111111111111111111111111111111
    policies: [a]
`,
    });
    expect(where(load(dir).diagnostics)).toEqual(['policies/p.yaml:3:34 E_SCHEMA']);
  });

  test('a file with a syntax error hides its names, so references to them are not reported', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/broken.yaml': 'environment: cloud\nsources:\n  office: [10.0.0.0/8\npolicies: [\n',
      'policies/ok.yaml': `environment: cloud
policies:
  - { name: a, region: r1, type: ip, rules: [{ source: $office }] }
associations:
  - deployment: a1111111111111111111111111111111
    policies: [defined-in-broken-file]
`,
    });
    const result = load(dir);
    expect(
      result.diagnostics.every((d) => d.file === 'policies/broken.yaml'),
      show(result),
    ).toBe(true);
  });

  test('with exactly one environment, entries need no environment', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  only: { api: ess }\n',
      'policies/p.yaml': `policies:
  - { name: a, region: r1, type: ip, rules: [] }
associations:
  - { deployment: a1111111111111111111111111111111, policies: [a] }
`,
    });
    const result = load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.desired?.environments[0]?.policies[0]?.environment).toBe('only');
    expect(result.desired?.environments[0]?.associations).toHaveLength(1);
  });

  test('normalisation: defaults, aliases, egress ports, duplicate rules merged with a warning', () => {
    const dir = makeProject({
      'ecfence.yaml': 'environments:\n  sls: { api: serverless }\n  cloud: { api: ess }\n',
      'policies/p.yaml': `policies:
  - environment: sls
    name: pe
    region: azure-eastus2
    type: private_endpoint
    description: ''
    rules:
      - { azure_endpoint_name: pe1, azure_endpoint_guid: 00000000-0000-4000-8000-000000000000, description: '' }
  - environment: cloud
    name: out
    region: r
    type: egress_firewall
    rules:
      - egress_rule: { target: 10.0.0.1, protocol: tcp, ports: [443, 80, 443] }
      - egress_rule: { target: 10.0.0.1, protocol: tcp, ports: [80, 443] }
      - egress_rule: { target: 10.0.0.2, protocol: all, ports: [] }
`,
    });
    const result = load(dir);
    expect(where(result.diagnostics)).toEqual(['policies/p.yaml:15:9 W_DUPLICATE_RULE']);
    expect(result.diagnostics[0]?.message).toContain('duplicates rules[0]');
    const policies = result.desired?.environments.flatMap((e) => e.policies);
    expect(policies?.find((p) => p.name === 'pe')).toMatchObject({
      type: 'azure_private_endpoint',
      description: '',
      include_by_default: false,
      rules: [{ azure_endpoint_name: 'pe1', azure_endpoint_guid: '00000000-0000-4000-8000-000000000000' }],
    });
    expect(policies?.find((p) => p.name === 'out')?.rules).toEqual([
      { egress_rule: { target: '10.0.0.1', protocol: 'tcp', ports: [80, 443] } },
      { egress_rule: { target: '10.0.0.2', protocol: 'all' } },
    ]);
  });

  test('host bits: a warning naming the network, the value kept verbatim', () => {
    const dir = makeProject({
      'ecfence.yaml': CONFIG,
      'policies/p.yaml':
        'environment: cloud\npolicies:\n  - { name: a, region: r, type: ip, rules: [{ source: 192.168.132.6/22 }] }\n',
    });
    const result = load(dir);
    const d = only(result, 'W_CIDR_HOST_BITS');
    expect(d.message).toBe(
      "policies[0].rules[0].source: '192.168.132.6/22' has host bits set: the network is 192.168.132.0/22 (the value is sent as written)",
    );
    expect(result.desired?.environments[0]?.policies[0]?.rules[0]?.source).toBe('192.168.132.6/22');
  });
});

describe('configDigest', () => {
  const files = {
    'ecfence.yaml': CONFIG,
    'policies/a.yaml': `environment: cloud
sources:
  office: [10.1.0.0/16]
policies:
  - { name: a, region: r1, type: ip, rules: [{ source: $office }, { source: 10.2.0.0/16 }] }
  - { name: b, region: r1, type: ip, rules: [] }
associations:
  - { deployment: a1111111111111111111111111111111, policies: [a, b] }
`,
    'policies/b.yaml': `environment: onprem
policies:
  - { name: c, region: ece-region, type: ip, rules: [{ source: 10.3.0.0/16 }] }
`,
  };
  const digestOf = (f: Record<string, string>, options: { environments?: string[] } = {}) => {
    const result = loadProject({ cwd: makeProject(f), env: {}, ...options });
    expect(result.diagnostics, show(result)).toEqual([]);
    return result.desired?.configDigest ?? '';
  };

  test('is a sha256 hex', () => {
    expect(digestOf(files)).toMatch(/^[0-9a-f]{64}$/);
  });

  test('is stable under moving entries between files, reordering entries and ess rules, comments, sets', () => {
    const reordered = {
      'ecfence.yaml': `# comment\n${CONFIG}`,
      'policies/z-onprem.yaml': files['policies/b.yaml'],
      'policies/x.yaml': `associations:
  - { environment: cloud, deployment: a1111111111111111111111111111111, policies: [b] }
policies:
  - { environment: cloud, name: b, region: r1, type: ip, description: '', rules: [] }
`,
      'policies/y.yaml': `environment: cloud
associations:
  - { deployment: a1111111111111111111111111111111, policies: [a] }
policies:
  - name: a
    region: r1
    type: ip
    include_by_default: false
    rules:
      - source: 10.2.0.0/16
      - source: 10.1.0.0/16
`,
    };
    expect(digestOf(reordered)).toBe(digestOf(files));
  });

  test('changes with content', () => {
    const base = digestOf(files);
    const variants = [
      { ...files, 'policies/b.yaml': files['policies/b.yaml'].replace('10.3.0.0/16', '10.4.0.0/16') },
      { ...files, 'policies/a.yaml': files['policies/a.yaml'].replace('policies: [a, b]', 'policies: [a]') },
      {
        ...files,
        'policies/a.yaml': files['policies/a.yaml'].replace('rules: [] }', 'rules: [], description: x }'),
      },
      { ...files, 'ecfence.yaml': `${CONFIG}    prune: true\n` },
      { ...files, 'ecfence.yaml': `${CONFIG}safety: { max_delete_percent: 10 }\n` },
    ];
    const digests = variants.map((v) => digestOf(v));
    expect(new Set([base, ...digests]).size).toBe(variants.length + 1);
  });

  test('covers only the selected environments', () => {
    expect(digestOf(files, { environments: ['cloud'] })).not.toBe(digestOf(files));
    expect(digestOf(files, { environments: ['cloud'] })).toBe(
      digestOf(
        { ...files, 'policies/b.yaml': files['policies/b.yaml'].replace('10.3', '10.5') },
        { environments: ['cloud'] },
      ),
    );
  });

  test('serverless rule order matters (ordered API); ess rule order does not', () => {
    const sls = (rules: string) => ({
      'ecfence.yaml': 'environments:\n  sls: { api: serverless }\n',
      'policies/p.yaml': `policies:\n  - { name: a, region: r, type: ip, rules: [${rules}] }\n`,
    });
    expect(digestOf(sls('{ source: 10.0.0.1 }, { source: 10.0.0.2 }'))).not.toBe(
      digestOf(sls('{ source: 10.0.0.2 }, { source: 10.0.0.1 }')),
    );
  });

  test('does not depend on where the repository lives (ca_file is absolute in the model)', () => {
    const withCa = {
      'ecfence.yaml':
        'environments:\n  onprem: { api: ece, endpoint: https://e.example.com, ca_file: ca.pem }\n',
      'ca.pem': 'x',
      'policies/p.yaml': 'policies: []\n',
    };
    expect(digestOf(withCa)).toBe(digestOf(withCa));
  });
});
