/**
 * The pull-request workflow end to end, with the built binary against the emulator over HTTP:
 * adoption (`export` then a zero-change `plan`) on every API, the saved-plan review loop with the
 * markdown and JSON outputs, and `plan --detailed-exitcode` as a drift check (0 / 2 / 1).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, it, type ExpectStatic } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startEmulator, type Emulator, type SeedData } from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/types.js';
import { makeProject, repoRoot, runCli, writeProjectFiles } from '../support/cli.js';

const KEY = 'essu_CANARY_workflow_key_9f8e7d6c5b4a';
const env = { EC_API_KEY: KEY };

const validatePlan = new Ajv({ allErrors: true }).compile(
  JSON.parse(readFileSync(join(repoRoot, 'schemas', 'plan.schema.json'), 'utf8')) as object,
);
function expectValidPlan(expect: ExpectStatic, text: string): Plan {
  const plan = JSON.parse(text) as Plan;
  const ok = validatePlan(plan);
  expect(validatePlan.errors ?? []).toEqual([]);
  expect(ok).toBe(true);
  expect(text).not.toContain(KEY);
  return plan;
}

const dep = (c: string): string => c.repeat(32);
const AZ = 'azure-japaneast';
const AWS = 'aws-us-east-1';
const GCP = 'gcp-us-central1';

/** Every ess type, a shared address list, an ambiguous name, an unassociated and a hidden-association policy. */
const ESS_SEED: SeedData = {
  deployments: [
    { id: dep('a'), name: 'prod-a', region: AZ },
    { id: dep('b'), name: 'prod-b', region: AZ },
    { id: dep('c'), name: 'us-c', region: AWS },
    { id: dep('d'), name: 'gcp-d', region: GCP },
    { id: dep('e'), name: 'lonely-e', region: AWS },
  ],
  rulesets: [
    {
      name: 'office',
      region: AZ,
      type: 'ip',
      description: 'Office networks',
      rules: [
        { source: '192.168.131.0', description: 'Office' },
        { source: '10.20.0.0/16', description: 'Office' },
      ],
      associations: [dep('a')],
    },
    {
      name: 'office-copy',
      region: AZ,
      type: 'ip',
      rules: [
        { source: '10.20.0.0/16', description: 'Office' },
        { source: '192.168.131.0', description: 'Office' },
      ],
      associations: [dep('b')],
    },
    // The same name in another region is another policy, not a duplicate.
    {
      name: 'office',
      region: AWS,
      type: 'ip',
      rules: [{ source: '172.16.0.0/12' }],
      associations: [dep('c')],
    },
    { name: 'dup', region: AZ, type: 'ip', rules: [{ source: '1.1.1.1' }], associations: [dep('a')] },
    { name: 'dup', region: AZ, type: 'ip', rules: [{ source: '1.1.1.2' }] },
    {
      name: 'egress',
      region: AWS,
      type: 'egress_firewall',
      include_by_default: true,
      rules: [
        { egress_rule: { target: '8.8.8.8', protocol: 'tcp', ports: [443, 80] } },
        { egress_rule: { target: '0.0.0.0/0', protocol: 'all' }, description: 'everything' },
      ],
      associations: [dep('c'), dep('e')],
      hidden_associations: 2,
    },
    { name: 'pl', region: AWS, type: 'vpce', rules: [{ source: 'vpce-0123456789abcdef0' }] },
    {
      name: 'azure-pe',
      region: AZ,
      type: 'azure_private_endpoint',
      rules: [{ azure_endpoint_name: 'my-pe', azure_endpoint_guid: '01234567-89ab-cdef-0123-456789abcdef' }],
      associations: [dep('b')],
    },
    {
      name: 'psc',
      region: GCP,
      type: 'gcp_private_service_connect_endpoint',
      rules: [{ source: '18446744073709551615' }],
      associations: [dep('d')],
    },
    {
      name: 'ccs',
      region: GCP,
      type: 'remote_cluster',
      rules: [{ remote_cluster_id: 'abc123', remote_cluster_org_id: '9876543210', description: 'search' }],
      associations: [dep('d')],
    },
  ],
};

const ECE_SEED: SeedData = {
  deployments: [
    { id: dep('1'), name: 'ece-1', region: 'ece-region' },
    { id: dep('2'), name: 'ece-2', region: 'ece-region' },
  ],
  rulesets: [
    {
      name: 'corp',
      region: 'ece-region',
      type: 'ip',
      include_by_default: true,
      rules: [{ source: '10.0.0.0/8' }, { source: '10.1.0.0/16' }],
      associations: [dep('1'), dep('2')],
    },
    {
      name: 'ops',
      region: 'ece-region',
      type: 'ip',
      rules: [{ source: '10.0.0.0/8' }, { source: '10.1.0.0/16' }],
    },
  ],
};

const tf = (c: string): string => c.repeat(32);
const SERVERLESS_SEED: SeedData = {
  traffic_filters: [
    {
      id: tf('1'),
      name: 'office',
      region: AWS,
      type: 'ip',
      description: 'ordered on purpose',
      // Serverless keeps rule order: exported as is, not sorted.
      rules: [{ source: '192.168.0.0/16' }, { source: '10.0.0.0/8', description: 'vpn' }],
    },
    { id: tf('2'), name: 'pl', region: AWS, type: 'vpce', rules: [{ source: 'vpce-00000000000000001' }] },
    {
      id: tf('3'),
      name: 'azure-pe',
      region: 'azure-eastus',
      type: 'private_endpoint',
      include_by_default: true,
      rules: [{ azure_endpoint_name: 'pe-1', azure_endpoint_guid: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' }],
    },
    { id: tf('4'), name: 'psc', region: GCP, type: 'psc_endpoint', rules: [{ source: '1234567890' }] },
    { id: tf('5'), name: 'unused', region: AWS, type: 'ip', rules: [{ source: '1.2.3.4' }] },
  ],
  projects: [
    {
      type: 'elasticsearch',
      id: dep('e'),
      name: 'search',
      region_id: AWS,
      traffic_filters: [tf('1'), tf('2')],
    },
    { type: 'security', id: dep('f'), name: 'siem', region_id: 'azure-eastus', traffic_filters: [tf('3')] },
    { type: 'observability', id: dep('0'), name: 'o11y', region_id: GCP, traffic_filters: [tf('4')] },
  ],
};

interface AdoptionCase {
  api: 'ess' | 'ece' | 'serverless';
  flavor: 'cloud' | 'ece';
  seed: SeedData;
  files: string[];
  /** Text every case must find in the exported YAML. */
  expectYaml: (expect: ExpectStatic, yaml: string) => void;
}

const ADOPTION: AdoptionCase[] = [
  {
    api: 'ess',
    flavor: 'cloud',
    seed: ESS_SEED,
    files: ['live-aws-us-east-1.yaml', 'live-azure-japaneast.yaml', 'live-gcp-us-central1.yaml'],
    expectYaml: (expect, yaml) => {
      expect(yaml).toContain('live.office:\n    - 10.20.0.0/16\n    - 192.168.131.0\n');
      expect(yaml).toContain('- source: $live.office\n        description: Office\n');
      expect(yaml).toContain('ports: [80, 443]');
      expect(yaml).toContain('type: gcp_private_service_connect_endpoint');
      expect(yaml).toMatch(/# Not exported: live policies whose name is ambiguous/);
      expect(yaml).toContain('2 association(s) are not visible to this API key');
    },
  },
  {
    api: 'ece',
    flavor: 'ece',
    seed: ECE_SEED,
    files: ['live-ece-region.yaml'],
    expectYaml: (expect, yaml) => {
      expect(yaml).toContain('live.corp:\n    - 10.0.0.0/8\n    - 10.1.0.0/16\n');
      expect(yaml).toContain('include_by_default: true');
      expect(yaml).toContain(`policies: [corp]`);
    },
  },
  {
    api: 'serverless',
    flavor: 'cloud',
    seed: SERVERLESS_SEED,
    files: ['live-aws-us-east-1.yaml', 'live-azure-eastus.yaml', 'live-gcp-us-central1.yaml'],
    expectYaml: (expect, yaml) => {
      expect(yaml).toContain(
        '- source: 192.168.0.0/16\n      - source: 10.0.0.0/8\n        description: vpn\n',
      );
      expect(yaml).toContain('type: azure_private_endpoint');
      expect(yaml).toContain('type: gcp_private_service_connect_endpoint');
      expect(yaml).not.toMatch(/type: (private_endpoint|psc_endpoint)/);
      expect(yaml).toContain(
        `project:\n      type: security\n      id: ${dep('f')}\n    policies: [azure-pe]`,
      );
    },
  },
];

const configFor = (api: string, url: string): string =>
  `environments:\n  live:\n    api: ${api}\n    endpoint: ${url}\n`;

/** Runs `fn` against an emulator of its own, so that the tests can run side by side. */
async function withEmulator(
  options: { flavor: 'cloud' | 'ece'; seed?: SeedData },
  fn: (emulator: Emulator, stop: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const emulator = await startEmulator({ ...options, port: 0 });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= emulator.close());
  try {
    await fn(emulator, stop);
  } finally {
    await stop();
  }
}

// Every test has its own emulator and project directory: they are independent.
describe.concurrent('ecfence workflow (built binary)', () => {
  for (const c of ADOPTION) {
    it(`exports a hand-built ${c.api} estate so that plan right after shows no changes`, ({ expect }) =>
      withEmulator({ flavor: c.flavor, seed: c.seed }, async (emulator) => {
        // A new repository: only ecfence.yaml, no policies directory yet.
        const dir = makeProject({ 'ecfence.yaml': configFor(c.api, emulator.url) });
        const exported = await runCli(['export', '--env', 'live', '--out', 'policies'], { cwd: dir, env });
        expect(exported.code).toBe(0);
        expect(exported.stderr).not.toContain(KEY);
        expect(emulator.requests().every((r) => r.method === 'GET')).toBe(true);
        expect(readdirSync(join(dir, 'policies')).sort()).toEqual(c.files);
        const yaml = c.files.map((f) => readFileSync(join(dir, 'policies', f), 'utf8')).join('');
        c.expectYaml(expect, yaml);
        expect(yaml).toMatch(/^# Generated by `ecfence export --env live`/);

        const plan = await runCli(['plan', '--detailed-exitcode', '--format', 'json'], { cwd: dir, env });
        expect(plan.code).toBe(0);
        const parsed = expectValidPlan(expect, plan.stdout);
        expect(parsed.operations).toEqual([]);
        expect(parsed.refusals).toEqual([]);

        if (c.api !== 'ess') return;
        // Ambiguous names: a warning naming both ids, the policies commented out.
        expect(exported.stderr).toMatch(
          /warning: live: 2 live policies are named 'dup' in azure-japaneast \([0-9a-f]+, [0-9a-f]+\)/,
        );
        const az = readFileSync(join(dir, 'policies', 'live-azure-japaneast.yaml'), 'utf8');
        expect(az).toContain('# also attached, not exported (ambiguous name): dup');
        expect(az).toMatch(/^# {3}- name: dup$/m);
        expect(az).not.toMatch(/^ {2}- name: dup$/m);
        // Without --out: the same files as one YAML stream, each headed by its file name.
        const printed = await runCli(['export', '--env', 'live'], { cwd: dir, env });
        expect(printed.code).toBe(0);
        expect(parseAllDocuments(printed.stdout)).toHaveLength(c.files.length);
        for (const f of c.files) {
          expect(printed.stdout).toContain(`# file: ${f}\n${readFileSync(join(dir, 'policies', f), 'utf8')}`);
        }
      }));
  }

  it('refuses export without --env (exit 3, nothing sent)', ({ expect }) =>
    withEmulator({ flavor: 'cloud' }, async (emulator) => {
      const dir = makeProject({ 'ecfence.yaml': configFor('ess', emulator.url) });
      const r = await runCli(['export'], { cwd: dir, env });
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('export needs --env NAME');
      expect(emulator.requests()).toEqual([]);
      // A new repository has no policies directory yet: export reads only ecfence.yaml.
      const printed = await runCli(['export', '--env', 'live'], { cwd: dir, env });
      expect(printed.stderr).toContain('live: exported 0 policies');
      expect(printed.code).toBe(0);
    }));

  it('runs the review loop: markdown for the PR, a saved plan applied once, never a key on disk', ({
    expect,
  }) =>
    withEmulator({ flavor: 'cloud', seed: ESS_SEED }, async (emulator) => {
      const dir = makeProject({ 'ecfence.yaml': configFor('ess', emulator.url) });
      expect((await runCli(['export', '--env', 'live', '--out', 'policies'], { cwd: dir, env })).code).toBe(
        0,
      );
      const file = join(dir, 'policies', 'live-aws-us-east-1.yaml');
      writeProjectFiles(dir, {
        'policies/live-aws-us-east-1.yaml': readFileSync(file, 'utf8').replace(
          '172.16.0.0/12',
          '172.16.0.0/12\n      - source: 203.0.113.7\n        description: partner | <b>VPN</b>',
        ),
      });

      const md = await runCli(['plan', '--format', 'markdown', '--out', 'plan.json', '--detailed-exitcode'], {
        cwd: dir,
        env,
      });
      expect(md.code).toBe(2);
      expect(md.stdout).toContain('<details');
      expect(md.stdout).toMatch(/\| live \| 0 \| 0 \| 1 \| 0 \| 0 \| 0 \| 1 \|/);
      expect(md.stdout).toContain('203.0.113.7');
      const saved = expectValidPlan(expect, readFileSync(join(dir, 'plan.json'), 'utf8'));
      expect(saved.operations.map((o) => o.action)).toEqual(['update']);

      const json = await runCli(['plan', '--format', 'json'], { cwd: dir, env });
      const fresh = expectValidPlan(expect, json.stdout);
      expect({ ...fresh, created_at: '' }).toEqual({ ...saved, created_at: '' });
      for (const out of [md.stdout, md.stderr, json.stdout, json.stderr]) expect(out).not.toContain(KEY);

      const applied = await runCli(['apply', 'plan.json'], { cwd: dir, env });
      expect(applied.code).toBe(0);
      const again = await runCli(['apply', 'plan.json'], { cwd: dir, env });
      expect(again.code).toBe(4);
      expect(again.stderr + again.stdout).toMatch(/no longer needed|changed/);
    }));

  describe('drift check: plan --detailed-exitcode', () => {
    it('exits 0 in sync, 2 after an out-of-band change, 1 when the API is unreachable', ({ expect }) =>
      withEmulator({ flavor: 'cloud', seed: ESS_SEED }, async (emulator, stop) => {
        const dir = makeProject({ 'ecfence.yaml': configFor('ess', emulator.url) });
        expect((await runCli(['export', '--env', 'live', '--out', 'policies'], { cwd: dir, env })).code).toBe(
          0,
        );
        const inSync = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
        expect(inSync.code).toBe(0);
        expect(inSync.stdout).toContain('No changes.');

        // Someone edits a policy in the console (here: straight through the API).
        const base = `${emulator.url}/api/v1/deployments/traffic-filter/rulesets`;
        const headers = { Authorization: `ApiKey ${KEY}`, 'Content-Type': 'application/json' };
        const list = (await (await fetch(base, { headers })).json()) as {
          rulesets: { id: string; name: string; region: string; type: string; include_by_default: boolean }[];
        };
        const ccs = list.rulesets.find((r) => r.name === 'ccs');
        if (!ccs) throw new Error('seeded ruleset ccs is missing');
        const put = await fetch(`${base}/${ccs.id}`, {
          method: 'PUT',
          headers,
          body: JSON.stringify({
            name: ccs.name,
            region: ccs.region,
            type: ccs.type,
            include_by_default: ccs.include_by_default,
            rules: [{ remote_cluster_id: 'other', remote_cluster_org_id: '1' }],
          }),
        });
        expect(put.status).toBe(200);

        const drift = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
        expect(drift.code).toBe(2);
        expect(drift.stdout).toContain(`~   update     ${GCP}/ccs`);

        await stop();
        const down = await runCli(['plan', '--detailed-exitcode'], {
          cwd: dir,
          env: { ...env, ECFENCE_RETRY_ATTEMPTS: '1', ECFENCE_RETRY_MAX_MS: '0' },
        });
        expect(down.code).toBe(1);
        // Named with its host and the reason, and never "No changes".
        expect(down.stdout).toMatch(/NOT READ/);
        expect(down.stdout).not.toMatch(/No changes/);
        expect(down.stderr).toMatch(
          /environment \S+ \(ess, 127\.0\.0\.1:\d+\) could not be read: .*ECONNREFUSED/,
        );
        expect(down.stderr).not.toContain(KEY);
      }));
  });
});
