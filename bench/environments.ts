/**
 * Many environments in one run (issue 20): a plan of 100 environments side by side with the same
 * plan run one environment after another, an apply from empty across 20 environments against the
 * ideal, and an apply under a rate limit. Each environment is its own emulator server; the servers
 * share one process apart from the CLI measured (emulator-fleet-main.ts).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import type { FaultConfig, RequestLogEntry, SeedData } from '../src/emulator/index.js';
import type { FleetJob } from './emulator-fleet-main.js';
import { generateEstate, seedOf, yamlFilesOf, type Estate } from './estate.js';
import { BUILT, measureNode, median, type ProcessMeasure } from './measure.js';
import { API_KEY } from './scenarios.js';

export type FleetApi = 'ess' | 'ece' | 'serverless';

export interface EnvironmentsOptions {
  latencyMs: number;
  /** `apply --concurrency`. */
  concurrency: number;
  /** `--parallel-environments` (the CLI default is 8). */
  parallel: number;
  /** Environments of the plan scenario, and policies in each (every scenario). */
  planEnvironments: number;
  applyEnvironments: number;
  policies: number;
  /** Measured runs of the parallel plan, after a warm-up run. */
  planRuns: number;
  /** Requests per second the rate-limited server accepts, and the policies applied against it. */
  rateLimit: number;
  rateLimitPolicies: number;
  progress: (line: string) => void;
}

export const ENVIRONMENT_DEFAULTS = {
  latencyMs: 50,
  concurrency: 8,
  parallel: 8,
  planEnvironments: 100,
  applyEnvironments: 20,
  policies: 100,
  planRuns: 3,
  rateLimit: 50,
  // 500 policies of 3 associations: 2,000 writes.
  rateLimitPolicies: 500,
} as const;

export interface EnvironmentsPlanResult {
  environments: number;
  policiesEach: number;
  byApi: Record<FleetApi, number>;
  exitCode: number;
  runs: number;
  wallMs: number;
  wallRangeMs: [number, number];
  cpuMs: number;
  peakRssMb: number;
  /** The same plan with `--parallel-environments 1`. */
  sequentialWallMs: number;
  /** Requests each environment's server saw in one plan: the fewest and the most, per API. */
  requests: Partial<Record<FleetApi, [number, number]>>;
}

export interface EnvironmentsApplyResult {
  environments: number;
  policiesEach: number;
  exitCode: number;
  converged: boolean;
  operations: number;
  failed: number;
  writes: number;
  /** Executor time, from the apply report. */
  executeMs: number;
  /** writes ÷ (environments at once × concurrency) × latency. */
  idealMs: number;
  wallMs: number;
  peakRssMb: number;
}

export interface RateLimitResult {
  rateLimit: number;
  exitCode: number;
  converged: boolean;
  operations: number;
  failed: number;
  writes: number;
  /** Answers 429, and the others. */
  refused: number;
  accepted: number;
  executeMs: number;
  wallMs: number;
  /** `N × 429: concurrency 8 → L, C at the end`, as the apply report says it. */
  reported: string;
}

export interface EnvironmentsResult {
  options: Omit<EnvironmentsOptions, 'progress'>;
  plan?: EnvironmentsPlanResult;
  apply?: EnvironmentsApplyResult;
  rateLimited?: RateLimitResult;
}

interface Fleet {
  urls: string[];
  requests(i: number): Promise<RequestLogEntry[]>;
  resetRequests(): Promise<void>;
  close(): Promise<void>;
}

async function startFleet(servers: FleetJob['servers']): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-bench-fleet-'));
  const jobFile = join(dir, 'job.json');
  writeFileSync(jobFile, JSON.stringify({ servers } satisfies FleetJob));
  const child = spawn(process.execPath, [join(dirname(BUILT.hook), 'emulator-fleet-main.js'), jobFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const urls = await new Promise<string[]>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (b: Buffer) => {
      text += b.toString('utf8');
      const line = text.split('\n')[0];
      if (text.includes('\n') && line !== undefined) resolve((JSON.parse(line) as { urls: string[] }).urls);
    });
    child.once('exit', (code) => reject(new Error(`emulator fleet exited ${code} before listening`)));
  });
  const admin = async (url: string, path: string, method = 'GET'): Promise<unknown> => {
    const res = await fetch(`${url}/_emulator/${path}`, { method });
    if (!res.ok) throw new Error(`${method} ${url}/_emulator/${path} → ${res.status}`);
    return res.json();
  };
  return {
    urls,
    async requests(i) {
      return ((await admin(urls[i] ?? '', 'requests')) as { requests: RequestLogEntry[] }).requests;
    },
    async resetRequests() {
      await Promise.all(urls.map((url) => admin(url, 'reset-log', 'POST')));
    },
    async close() {
      process.off('exit', killOnExit);
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Member {
  name: string;
  api: FleetApi;
  estate: Estate;
}

function members(count: number, apis: readonly FleetApi[], policies: number): Member[] {
  const estates = new Map<FleetApi, Estate>();
  return Array.from({ length: count }, (_, i) => {
    const api = apis[i % apis.length] ?? 'ess';
    let estate = estates.get(api);
    if (!estate)
      estates.set(api, (estate = generateEstate(api === 'serverless' ? 'serverless' : 'ess', policies)));
    return { name: `env-${String(i).padStart(3, '0')}`, api, estate };
  });
}

/** One server per environment: seeded with its estate (or its targets only), with `faults`. */
function serversOf(list: readonly Member[], withPolicies: boolean, faults: FaultConfig): FleetJob['servers'] {
  return list.map((m) => ({
    flavor: m.api === 'ece' ? 'ece' : 'cloud',
    seed: seedOf(m.estate, withPolicies) satisfies SeedData,
    faults,
  }));
}

/** ecfence.yaml naming every environment at its server, and each one's policies in a directory of its own. */
function writeFleetProject(dir: string, list: readonly Member[], urls: readonly string[]): void {
  rmSync(join(dir, 'policies'), { recursive: true, force: true });
  const environments: Record<string, unknown> = {};
  list.forEach((m, i) => {
    environments[m.name] = { api: m.api, endpoint: urls[i], api_key_env: 'EC_API_KEY' };
    for (const [path, content] of yamlFilesOf(m.estate, m.name)) {
      const file = join(dir, path.replace(/^policies\//, `policies/${m.name}/`));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    }
  });
  writeFileSync(join(dir, 'ecfence.yaml'), stringify({ policies: ['policies'], environments }));
}

const cliEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], EC_API_KEY: API_KEY, NO_COLOR: '1' };

function expectExit(what: string, m: ProcessMeasure, expected: number): void {
  if (m.exitCode !== expected) {
    throw new Error(
      `${what}: exit ${m.exitCode}, expected ${expected}\n${m.stdout.slice(-2000)}\n${m.stderr.slice(-2000)}`,
    );
  }
}

const CONVERGED = /Converged: live state matches/;

/** `Apply: D done, F failed, S skipped of N in T s.` */
function applyLine(stdout: string): { operations: number; failed: number; executeMs: number } {
  const m = /Apply: \d+ done, (\d+) failed, (\d+) skipped of (\d+) in ([\d.]+)s\./.exec(stdout);
  if (!m) return { operations: 0, failed: 0, executeMs: 0 };
  return { operations: Number(m[3]), failed: Number(m[1]) + Number(m[2]), executeMs: Number(m[4]) * 1000 };
}

/**
 * Starts one server per environment (seeded with its estate, or its targets only), writes the
 * project, runs `measure` in it, and stops the servers whatever happens.
 */
async function withFleet<T>(
  list: readonly Member[],
  withPolicies: boolean,
  faults: FaultConfig,
  measure: (fleet: Fleet, dir: string) => Promise<T>,
): Promise<T> {
  const fleet = await startFleet(serversOf(list, withPolicies, faults));
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-bench-envs-'));
  try {
    writeFleetProject(dir, list, fleet.urls);
    return await measure(fleet, dir);
  } finally {
    await fleet.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One measured run of `ecfence ARGS` in `dir`, and what each server saw of it. */
async function runMeasured(
  fleet: Fleet,
  dir: string,
  args: readonly string[],
): Promise<{ m: ProcessMeasure; logs: RequestLogEntry[][] }> {
  await fleet.resetRequests();
  const m = await measureNode(BUILT.cli, args, { cwd: dir, env: cliEnv });
  return { m, logs: await Promise.all(fleet.urls.map((_, i) => fleet.requests(i))) };
}

export async function measurePlan(
  o: Omit<EnvironmentsOptions, 'progress'>,
  say: (t: string) => void,
): Promise<EnvironmentsPlanResult> {
  const list = members(o.planEnvironments, ['ess', 'ece', 'serverless'], o.policies);
  say(`plan: starting ${list.length} emulators`);
  return withFleet(list, true, { latencyMs: o.latencyMs }, async (fleet, dir) => {
    const run = async (parallel: number): Promise<{ m: ProcessMeasure; logs: RequestLogEntry[][] }> => {
      const r = await runMeasured(fleet, dir, [
        'plan',
        '--detailed-exitcode',
        '--parallel-environments',
        String(parallel),
      ]);
      expectExit(`plan of ${list.length} environments`, r.m, 0);
      return r;
    };
    say(
      `plan: ${list.length} environments × ${o.policies} policies, a warm-up run, then ${o.planRuns} measured`,
    );
    await run(o.parallel);
    const runs: ProcessMeasure[] = [];
    let logs: RequestLogEntry[][] = [];
    for (let i = 0; i < o.planRuns; i++) {
      const r = await run(o.parallel);
      runs.push(r.m);
      logs = r.logs;
    }
    say('plan: one environment after another (--parallel-environments 1)');
    const sequential = await run(1);
    const requests: EnvironmentsPlanResult['requests'] = {};
    list.forEach((m, i) => {
      const n = logs[i]?.length ?? 0;
      const [lo, hi] = requests[m.api] ?? [n, n];
      requests[m.api] = [Math.min(lo, n), Math.max(hi, n)];
    });
    const walls = runs.map((r) => r.wallMs);
    const byApi = { ess: 0, ece: 0, serverless: 0 };
    for (const m of list) byApi[m.api] += 1;
    return {
      environments: list.length,
      policiesEach: o.policies,
      byApi,
      exitCode: runs[0]?.exitCode ?? -1,
      runs: runs.length,
      wallMs: median(walls),
      wallRangeMs: [Math.min(...walls), Math.max(...walls)],
      cpuMs: median(runs.map((r) => r.cpuMs)),
      peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)),
      sequentialWallMs: sequential.m.wallMs,
      requests,
    };
  });
}

export async function measureApply(
  o: Omit<EnvironmentsOptions, 'progress'>,
  say: (t: string) => void,
): Promise<EnvironmentsApplyResult> {
  const list = members(o.applyEnvironments, ['ess', 'ece'], o.policies);
  say(`apply: ${list.length} environments × ${o.policies} policies from empty`);
  return withFleet(list, false, { latencyMs: o.latencyMs }, async (fleet, dir) => {
    const { m, logs } = await runMeasured(fleet, dir, [
      'apply',
      '--auto-approve',
      '--concurrency',
      String(o.concurrency),
      '--parallel-environments',
      String(o.parallel),
    ]);
    expectExit(`apply across ${list.length} environments`, m, 0);
    const writes = logs.flat().filter((e) => e.method !== 'GET').length;
    const atOnce = Math.min(o.parallel, list.length) * o.concurrency;
    return {
      environments: list.length,
      policiesEach: o.policies,
      exitCode: m.exitCode,
      converged: CONVERGED.test(m.stdout),
      ...applyLine(m.stdout),
      writes,
      idealMs: (writes / atOnce) * o.latencyMs,
      wallMs: m.wallMs,
      peakRssMb: m.peakRssMb,
    };
  });
}

export async function measureRateLimit(
  o: Omit<EnvironmentsOptions, 'progress'>,
  say: (t: string) => void,
): Promise<RateLimitResult> {
  const list = members(1, ['ess'], o.rateLimitPolicies);
  say(`rate limit: ${o.rateLimitPolicies} policies from empty against ${o.rateLimit} requests/s`);
  const faults = { latencyMs: o.latencyMs, rateLimit: o.rateLimit };
  return withFleet(list, false, faults, async (fleet, dir) => {
    const { m, logs } = await runMeasured(fleet, dir, [
      'apply',
      '--auto-approve',
      '--concurrency',
      String(o.concurrency),
    ]);
    const log = logs[0] ?? [];
    const refused = log.filter((e) => e.status === 429).length;
    return {
      rateLimit: o.rateLimit,
      exitCode: m.exitCode,
      converged: CONVERGED.test(m.stdout),
      ...applyLine(m.stdout),
      writes: log.filter((e) => e.method !== 'GET' && e.status !== 429).length,
      refused,
      accepted: log.length - refused,
      wallMs: m.wallMs,
      reported: /\d+ × 429: concurrency \d+ → \d+, \d+ at the end/.exec(m.stdout)?.[0] ?? 'no 429 reported',
    };
  });
}

/** Targets of issue 20. */
const PLAN_WALL_MS = 5000;
const PLAN_RSS_MB = 500;
const APPLY_SHARE = 0.7;
const REQUEST_LIMIT: Record<FleetApi, { exact?: number; most: number }> = {
  ess: { exact: 2, most: 2 },
  ece: { exact: 2, most: 2 },
  serverless: { most: 6 },
};

const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Each target judged met or not, with the figure it was judged on (bench/report.ts `Target`). */
export function judgeEnvironments(
  r: EnvironmentsResult,
): { name: string; met: boolean | undefined; figure: string }[] {
  const targets: { name: string; met: boolean | undefined; figure: string }[] = [];
  const o = r.options;
  if (r.plan) {
    const p = r.plan;
    targets.push({
      name: `plan of ${p.environments} environments × ${p.policiesEach} policies (ess, ece, serverless) under 5 s and 500 MB`,
      met: p.wallMs < PLAN_WALL_MS && p.peakRssMb < PLAN_RSS_MB,
      figure: `${sec(p.wallMs)} wall (median of ${p.runs}), ${p.peakRssMb.toFixed(0)} MB peak RSS; one environment after another ${sec(p.sequentialWallMs)}: ${(p.sequentialWallMs / p.wallMs).toFixed(1)}× (latency ${o.latencyMs} ms, --parallel-environments ${o.parallel})`,
    });
    const apis = Object.keys(p.requests) as FleetApi[];
    const ok = apis.every((api) => {
      const [lo, hi] = p.requests[api] ?? [0, 0];
      const limit = REQUEST_LIMIT[api];
      return hi <= limit.most && (limit.exact === undefined || lo === limit.exact);
    });
    targets.push({
      name: 'plan requests per environment: exactly 2 (ess, ece), at most 6 (serverless)',
      met: ok,
      figure: apis.map((api) => `${api} ${(p.requests[api] ?? []).join('–')}`).join(', '),
    });
  }
  if (r.apply) {
    const a = r.apply;
    const share = a.executeMs > 0 ? a.idealMs / a.executeMs : 0;
    targets.push({
      name: `apply from empty across ${a.environments} environments × ${a.policiesEach} policies ≥ 70% of ideal`,
      met: share >= APPLY_SHARE && a.converged && a.failed === 0,
      figure: `${a.writes} writes in ${sec(a.executeMs)}; ideal ${sec(a.idealMs)} = writes ÷ (${Math.min(o.parallel, a.environments)} environments × ${o.concurrency}) × ${o.latencyMs} ms: ${(share * 100).toFixed(0)}%${a.converged ? ', converged' : ', NOT converged'}`,
    });
  }
  if (r.rateLimited) {
    const l = r.rateLimited;
    targets.push({
      name: `apply of ${l.writes} writes under a ${l.rateLimit} requests/s limit converges, no operation failed`,
      met: l.exitCode === 0 && l.converged && l.failed === 0,
      figure: `${l.operations} operations, ${l.failed} failed, ${l.refused} answers 429 of ${l.refused + l.accepted} requests; ${sec(l.executeMs)} (${(l.accepted / (l.executeMs / 1000)).toFixed(0)} accepted/s); report: ${l.reported}`,
    });
  }
  return targets;
}

/** The markdown section of the report: its targets, then what was measured. */
export function renderEnvironments(r: EnvironmentsResult): string[] {
  const out = ['## Many environments in one run', ''];
  const o = r.options;
  out.push('| target | verdict | figure |', '| --- | --- | --- |');
  for (const t of judgeEnvironments(r)) {
    out.push(
      `| ${t.name} | ${t.met === undefined ? 'not measured' : t.met ? '**met**' : '**NOT MET**'} | ${t.figure} |`,
    );
  }
  out.push('');
  out.push(
    `Each environment is its own emulator server (all in one process apart from the CLI), ${o.latencyMs} ms latency per request; ` +
      `\`--parallel-environments ${o.parallel}\`, \`--concurrency ${o.concurrency}\`.`,
    '',
  );
  if (r.plan) {
    const p = r.plan;
    out.push(
      `- **plan**, ${p.environments} environments (${p.byApi.ess} ess, ${p.byApi.ece} ece, ${p.byApi.serverless} serverless) × ${p.policiesEach} policies, in sync (exit ${p.exitCode}): ` +
        `${sec(p.wallMs)} wall (${sec(p.wallRangeMs[0])}–${sec(p.wallRangeMs[1])}, median of ${p.runs}), ${sec(p.cpuMs)} CPU, ${p.peakRssMb.toFixed(0)} MB peak RSS. ` +
        `The same plan one environment after another (\`--parallel-environments 1\`): ${sec(p.sequentialWallMs)}, ${(p.sequentialWallMs / p.wallMs).toFixed(1)}× longer. ` +
        `Requests per environment: ${(Object.keys(p.requests) as FleetApi[]).map((api) => `${api} ${(p.requests[api] ?? []).join('–')}`).join(', ')}.`,
    );
  }
  if (r.apply) {
    const a = r.apply;
    out.push(
      `- **apply from empty**, ${a.environments} environments (ess and ece) × ${a.policiesEach} policies: ${a.operations} operations, ${a.writes} writes in ${sec(a.executeMs)} of executor time ` +
        `(${sec(a.wallMs)} wall, ${a.peakRssMb.toFixed(0)} MB peak RSS), ideal ${sec(a.idealMs)}: ${((a.idealMs / Math.max(1, a.executeMs)) * 100).toFixed(0)}%; ${a.converged ? 'converged' : 'NOT converged'}.`,
    );
  }
  if (r.rateLimited) {
    const l = r.rateLimited;
    out.push(
      `- **rate limit** ${l.rateLimit} requests/s (token bucket, 429 + Retry-After): ${l.operations} operations (${l.writes} writes) from empty, exit ${l.exitCode}, ${l.failed} failed, ` +
        `${l.converged ? 'converged' : 'NOT converged'}; ${l.refused} answers 429 of ${l.refused + l.accepted} requests; ${sec(l.executeMs)} of executor time, ` +
        `${(l.accepted / (l.executeMs / 1000)).toFixed(1)} accepted requests/s; the report said: ${l.reported}.`,
    );
  }
  out.push('');
  return out;
}

/** Runs the scenarios asked for, one after the other. */
export async function runEnvironments(
  options: EnvironmentsOptions,
  which: { plan: boolean; apply: boolean; rateLimit: boolean },
): Promise<EnvironmentsResult> {
  const { progress, ...o } = options;
  const result: EnvironmentsResult = { options: o };
  if (which.plan) result.plan = await measurePlan(o, progress);
  if (which.apply) result.apply = await measureApply(o, progress);
  if (which.rateLimit) result.rateLimited = await measureRateLimit(o, progress);
  return result;
}
