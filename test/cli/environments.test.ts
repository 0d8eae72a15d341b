/**
 * Many environments in one run (SPEC §2 "Environments are independent", §3 `--env` globs and
 * `ecfence environments`): the built binary against one emulator per environment, each an
 * independent server with its own request log.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type Emulator,
  type RequestLogEntry,
  type SeedData,
} from '../../src/emulator/index.js';
import type { Plan } from '../../src/plan/types.js';
import { makeProject, runCli, writeProjectFiles } from '../support/cli.js';

const KEY = 'essu_envs_test_key_0123456789';
const ECE_KEY = 'ece_envs_test_key_0123456789';
const REGION = 'azure-japaneast';
const ECE_REGION = 'ece-region';
const DEP = {
  eu: 'e0000000000000000000000000000001',
  us: 'f0000000000000000000000000000002',
  onprem: 'c0000000000000000000000000000003',
};

/**
 * A port nothing listens on, on 127.0.0.2 where the emulators of other cases (on 127.0.0.1) cannot
 * take it: a server that is down.
 */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.2', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const policyFile = (env: string, name: string, region: string, deployment: string, extra = ''): string => `
environment: ${env}
policies:
  - name: ${name}
    region: ${region}
    type: ip
    rules:
      - source: 10.1.0.0/16
${extra}
associations:
  - deployment: ${deployment}
    policies: [${name}]
`;

const writes = (log: readonly RequestLogEntry[]): RequestLogEntry[] => log.filter((e) => e.method !== 'GET');

type Site = 'eu' | 'us' | 'onprem';
type Urls = Record<Site, string>;

const config = (urls: Urls): string => `environments:
  prod-eu:
    api: ess
    endpoint: ${urls.eu}
  prod-us:
    api: ess
    endpoint: ${urls.us}
  onprem:
    api: ece
    endpoint: ${urls.onprem}
    api_key_env: ECE_API_KEY
`;

/**
 * Three independent servers (two Elastic Cloud, one ECE), empty but for one deployment each, and
 * a project declaring one policy attached to it per environment. `rulesets`: live policies of
 * prod-eu.
 */
async function fleet(rulesets: NonNullable<SeedData['rulesets']> = []): Promise<{
  emulators: Record<Site, Emulator>;
  urls: Urls;
  dir: string;
  close: () => Promise<void>;
}> {
  const cloud = (id: string, name: string, extra: Partial<SeedData> = {}) =>
    startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: { deployments: [{ id, name, region: REGION }], ...extra },
    });
  const emulators: Record<Site, Emulator> = {
    eu: await cloud(DEP.eu, 'eu', { rulesets }),
    us: await cloud(DEP.us, 'us'),
    onprem: await startEmulator({
      flavor: 'ece',
      port: 0,
      apiKeys: [ECE_KEY],
      seed: { deployments: [{ id: DEP.onprem, name: 'onprem', region: ECE_REGION }] },
    }),
  };
  const urls = { eu: emulators.eu.url, us: emulators.us.url, onprem: emulators.onprem.url };
  const dir = makeProject({
    'ecfence.yaml': config(urls),
    'policies/eu.yaml': policyFile('prod-eu', 'eu-office', REGION, DEP.eu),
    'policies/us.yaml': policyFile('prod-us', 'us-office', REGION, DEP.us),
    'policies/onprem.yaml': policyFile('onprem', 'onprem-office', ECE_REGION, DEP.onprem),
  });
  return {
    emulators,
    urls,
    dir,
    close: async () => {
      await Promise.all(Object.values(emulators).map((e) => e.close()));
    },
  };
}

// Each case has servers and a project of its own: the cases run side by side.
describe.concurrent('many environments (built binary, one emulator per environment)', () => {
  const env = {
    EC_API_KEY: KEY,
    ECE_API_KEY: ECE_KEY,
    ECFENCE_RETRY_ATTEMPTS: '1',
    ECFENCE_RETRY_MAX_MS: '0',
  };

  it('with one server down, plans and applies the others as if it were absent, names it with its host, exits 1', async ({
    expect,
    onTestFinished,
  }) => {
    const { urls, dir, close } = await fleet();
    onTestFinished(close);
    const port = await closedPort();
    writeProjectFiles(dir, { 'ecfence.yaml': config({ ...urls, us: `http://127.0.0.2:${port}` }) });
    const [down, without] = await Promise.all([
      runCli(['plan', '--format', 'json'], { cwd: dir, env }),
      runCli(['plan', '--format', 'json', '--env', 'prod-eu', '--env', 'onprem'], { cwd: dir, env }),
    ]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      new RegExp(`environment prod-us \\(ess, 127\\.0\\.0\\.2:${port}\\) could not be read: .*ECONNREFUSED`),
    );
    const plan = JSON.parse(down.stdout) as Plan;
    expect(plan.environments?.map((e) => [e.name, e.status])).toEqual([
      ['onprem', 'planned'],
      ['prod-eu', 'planned'],
      ['prod-us', 'unreadable'],
    ]);
    expect(plan.environments?.[2]).toMatchObject({ endpoint: `http://127.0.0.2:${port}` });
    expect(plan.environments?.[2]?.error).toMatch(/ECONNREFUSED/);
    expect(without.code).toBe(0);
    expect(plan.operations).toEqual((JSON.parse(without.stdout) as Plan).operations);
    expect(plan.operations).toHaveLength(4);

    const markdown = await runCli(['plan', '--format', 'markdown'], { cwd: dir, env });
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toMatch(/\[!CAUTION\]\n> \*\*1 environment\(s\) could not be read/);
    expect(markdown.stdout).toMatch(
      /\| prod-us \| ess \| 127\.0\.0\.2:\d+ \| NOT READ: .*ECONNREFUSED.* \|\n*$/,
    );

    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
    expect(apply.code).toBe(1);
    expect(apply.stdout).toMatch(/Apply: 4 done, 0 failed, 0 skipped of 4/);
    expect(apply.stdout).toMatch(/^ {2}prod-us \(ess, 127\.0\.0\.2:\d+\) +NOT READ: nothing applied$/m);
    expect(apply.stdout).toMatch(
      /^ {2}prod-eu \(ess, 127\.0\.0\.1:\d+\) +2 done, 0 failed, 0 skipped; converged$/m,
    );
    expect(apply.stdout).toContain(
      'Converged in the 2 environment(s) applied; 1 environment(s) not applied (not read, or refused by a guard) may still differ',
    );
    const after = await runCli(['plan', '--detailed-exitcode', '--env', 'prod-eu', '--env', 'onprem'], {
      cwd: dir,
      env,
    });
    expect(after.code).toBe(0);
  });

  it('--env globs contact only the matching servers; a glob matching nothing is exit 3 before any request', async ({
    expect,
    onTestFinished,
  }) => {
    const { emulators, dir, close } = await fleet();
    onTestFinished(close);
    const plan = await runCli(['plan', '--env', 'prod-*'], { cwd: dir, env });
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/^prod-eu: 2 operation\(s\)$/m);
    expect(plan.stdout).toMatch(/^prod-us: 2 operation\(s\)$/m);
    expect(emulators.eu.requests()).toHaveLength(2);
    expect(emulators.us.requests()).toHaveLength(2);
    expect(emulators.onprem.requests()).toHaveLength(0);

    emulators.eu.resetRequests();
    emulators.us.resetRequests();
    const none = await runCli(['plan', '--env', 'prod-*', '--env', 'staging-*'], { cwd: dir, env });
    expect(none.code).toBe(3);
    expect(none.stderr).toContain("--env 'staging-*' matches no environment in ecfence.yaml");
    const badParallel = await runCli(['plan', '--parallel-environments', '0'], { cwd: dir, env });
    expect(badParallel.code).toBe(3);
    expect(badParallel.stderr).toContain('--parallel-environments must be a whole number from 1 to 256');
    for (const e of Object.values(emulators)) expect(e.requests()).toHaveLength(0);

    const [list, json] = await Promise.all([
      runCli(['environments'], { cwd: dir }),
      runCli(['environments', '--env', 'prod-*', '--env', 'onprem', '--format', 'json'], { cwd: dir }),
    ]);
    expect(list).toMatchObject({ code: 0, stdout: 'prod-eu  ess\nprod-us  ess\nonprem   ece\n' });
    expect(json.code).toBe(0);
    expect(json.stdout.trimEnd().split('\n')).toHaveLength(1);
    expect(JSON.parse(json.stdout)).toEqual([
      { name: 'prod-eu', api: 'ess' },
      { name: 'prod-us', api: 'ess' },
      { name: 'onprem', api: 'ece' },
    ]);
  });

  it('a guard refusing one environment holds back only that one; the others are applied (exit 4)', async ({
    expect,
    onTestFinished,
  }) => {
    // prod-eu: the live policy is attached to the deployment, and the YAML detaches it, which would
    // leave the deployment open to the internet: refused.
    const { emulators, dir, close } = await fleet([
      {
        name: 'eu-office',
        region: REGION,
        type: 'ip',
        rules: [{ source: '10.1.0.0/16' }],
        associations: [DEP.eu],
      },
    ]);
    onTestFinished(close);
    writeProjectFiles(dir, {
      'policies/eu.yaml': policyFile('prod-eu', 'eu-office', REGION, DEP.eu).replace(
        /associations:[^]*$/,
        '',
      ),
    });
    {
      const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env });
      expect(apply.code).toBe(4);
      expect(apply.stderr).toMatch(
        /refused \[unfiltered_target\]: environment prod-eu: nothing of it is applied/,
      );
      expect(apply.stdout).toMatch(/^ {2}prod-eu \(ess, [^)]+\) +REFUSED by a guard: nothing applied$/m);
      expect(apply.stdout).toMatch(/^ {2}onprem \(ece, [^)]+\) +2 done, 0 failed, 0 skipped; converged$/m);
      expect(writes(emulators.eu.requests())).toEqual([]);
      expect(writes(emulators.us.requests())).toHaveLength(2);
      expect(writes(emulators.onprem.requests())).toHaveLength(2);
    }
  });

  it('a saved plan carries its environments; apply never contacts one that could not be read when it was made', async ({
    expect,
    onTestFinished,
  }) => {
    const { emulators, dir, close } = await fleet();
    onTestFinished(close);
    const badKey = { ...env, ECE_API_KEY: 'ece_wrong_key_0123456789' };
    const plan = await runCli(['plan', '--out', 'plan.json'], { cwd: dir, env: badKey });
    expect(plan.code).toBe(1);
    expect(plan.stderr).toMatch(/environment onprem \(ece, 127\.0\.0\.1:\d+\) could not be read: .*401/);
    const saved = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as Plan;
    expect(saved.format_version).toBe('1.1');
    expect(saved.environments?.find((e) => e.name === 'onprem')?.status).toBe('unreadable');

    emulators.onprem.resetRequests();
    // Even with the right key now, the file holds nothing reviewed for onprem: it is not applied.
    const apply = await runCli(['apply', 'plan.json'], { cwd: dir, env });
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('environment onprem could not be read when plan.json was made');
    expect(apply.stdout).toMatch(/Apply: 4 done, 0 failed, 0 skipped of 4/);
    expect(emulators.onprem.requests()).toEqual([]);
    expect(writes(emulators.eu.requests())).toHaveLength(2);

    // A 1.0 file (written before `environments`) covers the environments it has fingerprints of.
    const old = await runCli(['plan', '--env', 'onprem', '--out', 'old.json'], { cwd: dir, env });
    expect(old.code).toBe(0);
    const { environments: _listed, ...v10 } = JSON.parse(readFileSync(join(dir, 'old.json'), 'utf8')) as Plan;
    writeProjectFiles(dir, { 'old.json': JSON.stringify({ ...v10, format_version: '1.0' }) });
    emulators.eu.resetRequests();
    const applied = await runCli(['apply', 'old.json'], { cwd: dir, env });
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/Apply: 2 done, 0 failed, 0 skipped of 2/);
    expect(emulators.eu.requests()).toEqual([]);
  });
});

describe('apply at the API pace (built binary)', () => {
  let emulator: Emulator;
  const seen: { at: number; status: number }[] = [];
  const RATE = 20;
  const POLICIES = 20;

  beforeAll(async () => {
    emulator = await startEmulator({
      flavor: 'cloud',
      port: 0,
      seed: { deployments: [{ id: DEP.eu, name: 'eu', region: REGION }] },
      onRequest: (e) => seen.push({ at: Date.now(), status: e.status }),
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('under a rate limit, lowers its concurrency, keeps to the limit on average and converges', async () => {
    const names = Array.from({ length: POLICIES }, (_, i) => `office-${i}`);
    const dir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'policies/main.yaml': `environment: prod
policies:
${names.map((n, i) => `  - { name: ${n}, region: ${REGION}, type: ip, rules: [{ source: 10.${i}.0.0/16 }] }`).join('\n')}
associations:
  - deployment: ${DEP.eu}
    policies: [${names.join(', ')}]
`,
    });
    emulator.setFaults({ rateLimit: RATE });
    seen.length = 0;
    const apply = await runCli(['apply', '--auto-approve'], { cwd: dir, env: { EC_API_KEY: KEY } });
    expect(apply.stderr).toBe('');
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('Converged: live state matches the configuration.');
    expect(apply.stdout).toMatch(/Apply: 40 done, 0 failed, 0 skipped of 40/);
    // The report says how often the API refused and how far the concurrency went down.
    expect(apply.stdout).toMatch(
      /^ {2}prod \(ess, [^)]+\) +40 done.*; \d+ × 429: concurrency 8 → \d, \d at the end$/m,
    );

    const accepted = seen.filter((r) => r.status !== 429);
    const refused = seen.length - accepted.length;
    expect(accepted.length).toBeGreaterThanOrEqual(2 * POLICIES + 4);
    expect(refused).toBeGreaterThan(0);
    // Respected on average: over the run, the server saw (refusals included) not much more than
    // its limit, plus the one second's worth its bucket starts with.
    const seconds = ((seen.at(-1)?.at ?? 0) - (seen[0]?.at ?? 0)) / 1000;
    expect(seen.length).toBeLessThanOrEqual(RATE * (seconds + 1) * 1.5);
    expect(refused).toBeLessThanOrEqual(accepted.length / 2);
  });
});
