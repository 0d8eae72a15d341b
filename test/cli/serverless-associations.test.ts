/**
 * Serverless project associations end to end (issue 3), with the built binary against the
 * emulator: one PATCH per project carrying every add and remove, unmanaged and auto-attached
 * filters kept, a concurrent edit by someone else surviving (If-Match → 412 → re-read), a
 * truncated listing refusing removals, and plan-time errors for targets that cannot be used.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator, type RequestLogEntry } from '../../src/emulator/index.js';
import { call } from '../support/emulator-http.js';
import { makeProject, runCli, writeProjectFiles } from '../support/cli.js';

const KEY = 'essu_CANARY_serverless_assoc_0a1b2c3d4e';
const env = { EC_API_KEY: KEY };
const AWS = 'aws-us-east-1';
const AZ = 'azure-eastus';
const id = (c: string): string => c.repeat(32);
const [A, B, AUTO, FOREIGN] = [id('1'), id('2'), id('3'), id('f')];
const [P1, P2, P3, PAZ] = [id('a'), id('b'), id('c'), id('d')];
const projectPath = (type: string, pid: string): string => `/api/v1/serverless/projects/${type}/${pid}`;

const config = (url: string): string => `environments:\n  sls:\n    api: serverless\n    endpoint: ${url}\n`;
const POLICIES = `
environment: sls
policies:
  - name: a
    region: ${AWS}
    type: ip
    rules: [{ source: 10.1.0.0/16 }]
  - name: b
    region: ${AWS}
    type: ip
    rules: [{ source: 10.2.0.0/16 }]
  - name: auto
    region: ${AWS}
    type: ip
    include_by_default: true
    rules: [{ source: 10.3.0.0/16 }]
`;
const assoc = (p1: string, p2: string, p3: string): string => `
associations:
  - project: { type: elasticsearch, id: ${P1} }
    policies: ${p1}
  - project: { type: observability, id: ${P2} }
    policies: ${p2}
  - project: { type: security, id: ${P3} }
    policies: ${p3}
`;

const writes = (log: readonly RequestLogEntry[]): string[] =>
  log.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path} ${r.status}`);

describe('serverless associations through the CLI', () => {
  let emu: Emulator;
  let dir: string;
  const projectFilters = (pid: string): string[] =>
    emu.state().projects.find((p) => p.id === pid)?.traffic_filters ?? [];

  beforeAll(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        traffic_filters: [
          { id: A, name: 'a', region: AWS, type: 'ip', rules: [{ source: '10.1.0.0/16' }] },
          { id: B, name: 'b', region: AWS, type: 'ip', rules: [{ source: '10.2.0.0/16' }] },
          {
            id: AUTO,
            name: 'auto',
            region: AWS,
            type: 'ip',
            include_by_default: true,
            rules: [{ source: '10.3.0.0/16' }],
          },
          { id: FOREIGN, name: 'foreign', region: AWS, type: 'ip', rules: [{ source: '9.9.9.9' }] },
        ],
        projects: [
          { type: 'elasticsearch', id: P1, name: 'p1', region_id: AWS, traffic_filters: [FOREIGN, A] },
          { type: 'observability', id: P2, name: 'p2', region_id: AWS, traffic_filters: [A] },
          { type: 'security', id: P3, name: 'p3', region_id: AWS },
          { type: 'security', id: PAZ, name: 'paz', region_id: AZ },
        ],
      },
    });
    dir = makeProject({ 'ecfence.yaml': config(emu.url) });
  });
  beforeEach(() => {
    emu.resetRequests();
    emu.setFaults({});
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('refuses a region mismatch and an unknown project at plan time (exit 3), writing nothing', async () => {
    writeProjectFiles(dir, {
      'policies/sls.yaml': `${POLICIES}
associations:
  - project: { type: security, id: ${PAZ} }
    policies: [a]
  - project: { type: elasticsearch, id: ${id('e')} }
    policies: [b]
`,
    });
    const r = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /policies\/sls\.yaml:\d+:\d+: error E_REGION_MISMATCH .*'a'.*aws-us-east-1.*azure-eastus/,
    );
    expect(r.stderr).toMatch(
      new RegExp(`policies/sls\\.yaml:\\d+:\\d+: error E_UNKNOWN_TARGET .*${id('e')}`),
    );
    expect(r.stderr).not.toContain('    at ');
    expect(writes(emu.requests())).toEqual([]);
  });

  it('writes each touched project once, adds and removes together, keeping unmanaged filters', async () => {
    writeProjectFiles(dir, { 'policies/sls.yaml': POLICIES + assoc('[b]', '[a, b]', '[a, auto]') });
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.code).toBe(2);
    expect(plan.stdout).toContain(`dissociate ${AWS}/a (${A}) from project elasticsearch/${P1}`);
    expect(plan.stdout).toContain(
      `unmanaged policy foreign (${FOREIGN}) stays on project elasticsearch/${P1}`,
    );
    expect(plan.stdout).toContain('4 to associate, 1 to dissociate, 0 to delete');

    emu.resetRequests();
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    const patches = emu.requests().filter((r) => r.method === 'PATCH');
    expect(patches.map((r) => `${r.path} ${r.status}`).sort()).toEqual(
      [
        `${projectPath('elasticsearch', P1)} 200`,
        `${projectPath('observability', P2)} 200`,
        `${projectPath('security', P3)} 200`,
      ].sort(),
    );
    expect(writes(emu.requests())).toHaveLength(3);
    expect(projectFilters(P1)).toEqual([FOREIGN, B]);
    expect(projectFilters(P2)).toEqual([A, B]);
    expect(projectFilters(P3)).toEqual([A, AUTO]);
  });

  it('keeps an include_by_default filter on a project created later, shown as auto-attached', async () => {
    const late = emu.addProject({ type: 'observability', name: 'late', region_id: AWS });
    expect(projectFilters(late)).toEqual([AUTO]);
    const plan = await runCli(['plan', '--detailed-exitcode'], { cwd: dir, env });
    expect(plan.stdout).toContain(
      `auto-attached (include_by_default): auto on project observability/${late}, kept`,
    );
    expect(plan.stdout).not.toContain('dissociate');
    expect(plan.code).toBe(0);
  });

  it("keeps another writer's change made between ecfence's read of a project and its write", async () => {
    writeProjectFiles(dir, { 'policies/sls.yaml': POLICIES + assoc('[b]', '[a, b, auto]', '[a, auto]') });
    const path = projectPath('observability', P2);
    // ecfence's first PATCH of P2 is turned away with 429 + Retry-After: 1, so it repeats the same
    // request (same If-Match) a second later; the other writer edits P2 in that second.
    emu.setFaults({
      retryAfterSeconds: 1,
      script: [{ method: 'PATCH', pathPattern: P2, fault: '429', times: 1 }],
    });
    const running = runCli(['apply', '--auto-approve'], { cwd: dir, env });
    let finished = false;
    void running.finally(() => (finished = true));
    while (!emu.requests().some((r) => r.method === 'PATCH' && r.path === path && r.status === 429)) {
      expect(finished).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const read = await call(emu, 'GET', path);
    const etag = read.headers.get('etag') ?? '';
    const other = await call(emu, 'PATCH', path, {
      headers: { 'if-match': etag },
      body: { traffic_filters: [{ id: A }, { id: B }, { id: FOREIGN }] },
    });
    expect(other.status).toBe(200);

    const apply = await running;
    expect(apply.stdout).toContain('Converged');
    expect(apply.code).toBe(0);
    expect(projectFilters(P2)).toEqual([A, B, FOREIGN, AUTO]);
    // The project created after the first apply still has its auto-attached filter.
    expect(emu.state().projects.find((p) => p.name === 'late')?.traffic_filters).toEqual([AUTO]);
    // ecfence's stale If-Match was refused, then it re-read and wrote on top of the other change.
    const onP2 = emu
      .requests()
      .filter((r) => r.path === path)
      .map((r) => `${r.method} ${r.status}`);
    expect(onP2).toEqual([
      'GET 200',
      'PATCH 429',
      'GET 200',
      'PATCH 200',
      'PATCH 412',
      'GET 200',
      'PATCH 200',
    ]);
  });

  it('refuses a saved plan (exit 4) when another writer changed a project it touches', async () => {
    writeProjectFiles(dir, { 'policies/sls.yaml': POLICIES + assoc('[b]', '[a, b, auto]', '[a, b, auto]') });
    const saved = await runCli(['plan', '--out', 'plan.json'], { cwd: dir, env });
    expect(saved.code).toBe(0);
    expect(saved.stdout).toContain(`associate  ${AWS}/b → project security/${P3}`);
    const path = projectPath('security', P3);
    const read = await call(emu, 'GET', path);
    const other = await call(emu, 'PATCH', path, {
      headers: { 'if-match': read.headers.get('etag') ?? '' },
      body: { traffic_filters: [{ id: A }, { id: AUTO }, { id: FOREIGN }] },
    });
    expect(other.status).toBe(200);

    emu.resetRequests();
    const apply = await runCli(['apply', 'plan.json'], { cwd: dir, env });
    expect(apply.code).toBe(4);
    expect(apply.stderr).toContain('stale');
    expect(writes(emu.requests())).toEqual([]);
    expect(projectFilters(P3)).toEqual([A, AUTO, FOREIGN]);
  });
});

describe('serverless: a listing with next_page set', () => {
  let emu: Emulator;
  let dir: string;

  beforeAll(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        force_next_page: true,
        traffic_filters: [
          { id: A, name: 'a', region: AWS, type: 'ip', rules: [{ source: '10.1.0.0/16' }] },
          { id: B, name: 'b', region: AWS, type: 'ip', rules: [{ source: '10.2.0.0/16' }] },
          { id: FOREIGN, name: 'old', region: AWS, type: 'ip', rules: [{ source: '9.9.9.9' }] },
        ],
        projects: [{ type: 'elasticsearch', id: P1, name: 'p1', region_id: AWS, traffic_filters: [A, B] }],
      },
    });
    // Removes b from P1, prunes `old`, and adds a new policy c on P1.
    dir = makeProject({
      'ecfence.yaml': `${config(emu.url)}    prune: true\n`,
      'policies/sls.yaml': `
environment: sls
policies:
  - name: a
    region: ${AWS}
    type: ip
    rules: [{ source: 10.1.0.0/16 }]
  - name: b
    region: ${AWS}
    type: ip
    rules: [{ source: 10.2.0.0/16 }]
  - name: c
    region: ${AWS}
    type: ip
    rules: [{ source: 10.4.0.0/16 }]
associations:
  - project: { type: elasticsearch, id: ${P1} }
    policies: [a, c]
`,
    });
  });
  afterAll(async () => {
    await emu?.close();
  });

  it('refuses every delete and dissociation (exit 4); --no-delete applies only the additions', async () => {
    const refused = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(refused.code).toBe(4);
    expect(refused.stdout).toMatch(
      /refused \[incomplete_listing\] sls: .*next_page.*refusing 1 delete\(s\) and 1 dissociation/,
    );
    expect(refused.stdout).toContain('--no-delete');
    expect(writes(emu.requests())).toEqual([]);

    const additive = await runCli(['apply', '--auto-approve', '--no-delete'], { cwd: dir, env });
    expect(additive.stderr).not.toMatch(/error/i);
    expect(additive.code).toBe(0);
    const c = emu.state().traffic_filters.find((f) => f.name === 'c');
    expect(c).toBeDefined();
    expect(emu.state().projects[0]?.traffic_filters).toEqual([A, B, c?.id]);
    expect(writes(emu.requests()).filter((w) => w.startsWith('DELETE'))).toEqual([]);
    expect(emu.state().traffic_filters.map((f) => f.name)).toContain('old');
  });
});
