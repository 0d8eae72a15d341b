/**
 * `ecfence explain` end to end: the built binary, offline (no emulator, no credentials).
 */
import { describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/cli.js';

const DEP = '5470a0010ebf437bb9294ea9fcba0ba0';
const OPEN = 'c0ffee00c0ffee00c0ffee00c0ffee00';
const PRJ = '0123456789abcdef0123456789abcdef';

const project = makeProject({
  'ecfence.yaml': `environments:
  prod:
    api: ess
  sls:
    api: serverless
`,
  'policies/sources.yaml': `sources:
  office: [192.168.131.0, 192.168.132.0/22]
  vpn: [203.0.113.16/28]
  staff: [$office, $vpn]
`,
  'policies/prod.yaml': `environment: prod
policies:
  - name: office-ingress
    region: azure-japaneast
    type: ip
    rules:
      - source: $staff
        description: Staff
      - source: 10.20.0.0/16
  - name: link
    region: azure-japaneast
    type: azure_private_endpoint
    rules:
      - azure_endpoint_name: app
        azure_endpoint_guid: 7c0f8a4e-3d5b-4c1a-9e2f-0b6d8c4a2e1f
  - name: egress
    region: azure-japaneast
    type: egress_firewall
    rules:
      - egress_rule: { target: 198.51.100.0/24, protocol: tcp, ports: [443] }
associations:
  - deployment: ${DEP}
    policies: [office-ingress, link, egress]
`,
  'policies/sls.yaml': `environment: sls
policies:
  - name: psc
    region: gcp-us-central1
    type: psc_endpoint
    rules:
      - source: '18446744072646845332'
associations:
  - project: { type: elasticsearch, id: ${PRJ} }
    policies: [psc]
`,
});

const explain = (...args: string[]) => runCli(['explain', ...args], { cwd: project });

describe('ecfence explain (built binary)', () => {
  it('lists the policies of a deployment with every rule resolved from its sets, with file:line', async () => {
    const r = await explain('--env', 'prod', '--deployment', DEP);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`deployment ${DEP} in prod (ess, region azure-japaneast), as declared`);
    expect(lines).toContain('  associated at policies/prod.yaml:23:16');
    // 192.168.131.0 + /22 + /28 + /16 = 1 + 1,024 + 16 + 65,536.
    expect(lines).toContain('  access: public allow-list + private link (66,577 IPv4 addresses)');
    expect(lines).toContain('  office-ingress (ip, azure-japaneast) at policies/prod.yaml:3:5');
    expect(lines).toContain(
      '    rules[0] 203.0.113.16/28 (from $staff, sources.vpn[0] at policies/sources.yaml:3:9) at policies/prod.yaml:7:17 "Staff"',
    );
    expect(lines).toContain('    rules[1] 10.20.0.0/16 at policies/prod.yaml:9:17');
    expect(lines).toContain('    rules[0] 7c0f8a4e-3d5b-4c1a-9e2f-0b6d8c4a2e1f at policies/prod.yaml:15:30');
    expect(lines).toContain('Egress policies (filter outbound traffic, not who connects):');
    expect(lines).toContain('    rules[0] tcp to 198.51.100.0/24 ports 443 at policies/prod.yaml:20:32');
  });

  it('--ip: allowed by which rule, or not allowed (private link does not match IPs)', async () => {
    const allowed = await explain('--env', 'prod', '--deployment', DEP, '--ip', '203.0.113.20');
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain(
      '203.0.113.20: allowed by office-ingress rules[0] (203.0.113.16/28 from $staff) at policies/prod.yaml:7:17\n',
    );
    const denied = await explain('--env', 'prod', '--deployment', DEP, '--ip', '8.8.8.8');
    expect(denied.code).toBe(0);
    expect(denied.stdout).toContain(
      "8.8.8.8: not allowed: no ingress rule matches (private link policies 'link' match endpoint ids, not IP addresses",
    );
  });

  it('--ip on a target no association names: unfiltered (open)', async () => {
    const r = await explain('--env', 'prod', '--deployment', OPEN, '--ip', '8.8.8.8', '--format', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { access: string; ip: { verdict: string; message: string } };
    expect(json.access).toBe('unfiltered');
    expect(json.ip.verdict).toBe('unfiltered');
    expect(json.ip.message).toContain('no ingress policy declared: the target is unfiltered (open)');
  });

  it('explains a serverless project; private link only, no IP gets in by address', async () => {
    const r = await explain(
      '--env',
      'sls',
      '--project',
      `elasticsearch/${PRJ}`,
      '--ip',
      '10.0.0.1',
      '--format',
      'json',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as {
      access: string;
      ipv4_addresses: number;
      policies: { name: string; type: string; rules: { value: string; at: { line: number } }[] }[];
      ip: { verdict: string };
    };
    expect(json.access).toBe('private_link_only');
    expect(json.ipv4_addresses).toBe(0);
    expect(json.policies).toMatchObject([
      {
        name: 'psc',
        type: 'gcp_private_service_connect_endpoint',
        rules: [{ value: '18446744072646845332', at: { line: 7 } }],
      },
    ]);
    expect(json.ip.verdict).toBe('not_allowed');
  });

  it('bad flags exit 3 with a clear message and nothing printed on stdout', async () => {
    const cases: [string[], string][] = [
      [['--env', 'prod'], 'exactly one of --deployment ID and --project TYPE/ID'],
      [
        ['--env', 'prod', '--deployment', DEP, '--ip', '300.1.1.1'],
        "--ip '300.1.1.1' is not an IPv4 address",
      ],
      [
        ['--env', 'sls', '--deployment', DEP],
        "serverless environment 'sls' attaches policies to projects: use --project TYPE/ID",
      ],
      [['--env', 'nope', '--deployment', DEP], '--env nope: no such environment'],
      [['--env', 'prod', '--project', 'search/abc'], "--project 'search/abc' must be TYPE/ID"],
    ];
    for (const [args, message] of cases) {
      const r = await explain(...args);
      expect({ args, code: r.code, stdout: r.stdout }).toEqual({ args, code: 3, stdout: '' });
      expect(r.stderr).toContain(message);
    }
  });
});
