/**
 * The measured scenarios of one estate (flavor, N): the built CLI against the emulator in another
 * process, and the per-resource baseline reading the same live state.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogEntry } from '../src/emulator/index.js';
import { BASELINE_PARALLELISM, baselinePaths, type BaselineJob, type BaselineResult } from './baseline.js';
import { startEmulatorProcess, type EmulatorProcess } from './emulator-process.js';
import {
  associationCount,
  changeEstate,
  generateEstate,
  RULES_PER_POLICY,
  seedOf,
  writeProject,
  type ChangeSummary,
  type Estate,
  type EstateFlavor,
} from './estate.js';
import { BUILT, measureNode, median, type ProcessMeasure } from './measure.js';

export const API_KEY = 'bench-api-key-0123456789';

export type ScenarioName =
  'plan, no changes' | 'plan, 10% changed' | 'apply, 10% changed' | 'apply, from empty' | 'baseline read';

export interface RequestCounts {
  total: number;
  reads: number;
  writes: number;
  /** Answers outside 2xx (and not the 404 a delete accepts): each one is a failed or refused call. */
  errors: number;
}

export interface ScenarioResult {
  flavor: EstateFlavor;
  size: number;
  rulesPerPolicy: number;
  scenario: ScenarioName;
  exitCode: number;
  /** Plan operations (plan/apply) or resources read (baseline). */
  operations: number;
  requests: RequestCounts;
  wallMs: number;
  cpuMs: number;
  peakRssMb: number;
  /** apply: executor time as the apply report states it. */
  executeMs?: number;
  /**
   * apply: requests sent while executing (every request but the read before and the re-read after),
   * reads included: a serverless project write reads the project for its ETag first.
   */
  executeRequests?: number;
  /**
   * plan: the measured runs after one warm-up run (wall and CPU are their medians, peak RSS their
   * maximum, requests identical in every run); absent = one run.
   */
  runs?: number;
  /** plan with several runs: the fastest and slowest wall time. */
  wallRangeMs?: [number, number];
  /** apply: the run re-read live state and found nothing left to do. */
  converged?: boolean;
  /** apply: every write happened in phase order (create → update → associate → dissociate → delete). */
  ordered?: boolean;
}

export interface EstateResult {
  flavor: EstateFlavor;
  size: number;
  rulesPerPolicy: number;
  policies: number;
  associations: number;
  targets: number;
  change: ChangeSummary;
  scenarios: ScenarioResult[];
}

export interface EstateOptions {
  latencyMs: number;
  concurrency: number;
  /** Run `apply, 10% changed`. */
  applyChanged: boolean;
  /** Run `apply, from empty` (the longest scenario). */
  applyFromEmpty: boolean;
  /** Run the per-resource baseline read. */
  baseline: boolean;
  /** Measured runs of each plan scenario (after one warm-up run). */
  planRuns: number;
  /** Progress lines (stderr). */
  progress: (line: string) => void;
}

function countRequests(log: readonly RequestLogEntry[]): RequestCounts {
  let reads = 0;
  let errors = 0;
  for (const e of log) {
    if (e.method === 'GET') reads += 1;
    const acceptedGone = e.status === 404 && e.method === 'DELETE';
    if ((e.status < 200 || e.status >= 300) && !acceptedGone) errors += 1;
  }
  return { total: log.length, reads, writes: log.length - reads, errors };
}

/** Phase range of a write as the emulator saw it; undefined for reads. */
function phaseOf(e: RequestLogEntry): [number, number] | undefined {
  const { method, path } = e;
  if (method === 'GET') return undefined;
  if (path.startsWith('/api/v1/serverless/projects/')) return [2, 3]; // one write: attach and/or detach
  const sub = /\/associations(\/|$)/.test(path);
  if (method === 'POST') return sub ? [2, 2] : [0, 0];
  if (method === 'PUT' || method === 'PATCH') return [1, 1];
  if (method === 'DELETE') return sub ? [3, 3] : [4, 4];
  return undefined;
}

/**
 * The executor runs phase after phase, so the writes, in the order the emulator answered them,
 * must never go back to an earlier phase. (The emulator itself refuses an association to a policy
 * not yet created and the delete of a policy still associated, which `errors` would show.)
 */
export function writesInPhaseOrder(log: readonly RequestLogEntry[]): boolean {
  let reached = 0;
  for (const e of log) {
    const range = phaseOf(e);
    if (!range) continue;
    if (range[1] < reached) return false;
    reached = Math.max(reached, range[0]);
  }
  return true;
}

/** Operation count from the text plan's summary line. */
function operationsOf(stdout: string): number {
  const m = /Plan: (.*)\./.exec(stdout);
  if (!m?.[1]) return 0;
  return [...m[1].matchAll(/(\d+) to /g)].reduce((n, x) => n + Number(x[1]), 0);
}

async function runCli(
  emulator: EmulatorProcess,
  dir: string,
  args: readonly string[],
): Promise<{ measure: ProcessMeasure; log: RequestLogEntry[] }> {
  await emulator.resetRequests();
  const measure = await measureNode(BUILT.cli, args, {
    cwd: dir,
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], EC_API_KEY: API_KEY, NO_COLOR: '1' },
  });
  return { measure, log: await emulator.requests() };
}

function cliResult(
  estate: Estate,
  scenario: ScenarioName,
  { measure, log }: { measure: ProcessMeasure; log: RequestLogEntry[] },
  readCost = 0,
): ScenarioResult {
  const result: ScenarioResult = {
    flavor: estate.flavor,
    size: estate.size,
    rulesPerPolicy: estate.rulesPerPolicy,
    scenario,
    exitCode: measure.exitCode,
    operations: operationsOf(measure.stdout),
    requests: countRequests(log),
    wallMs: measure.wallMs,
    cpuMs: measure.cpuMs,
    peakRssMb: measure.peakRssMb,
  };
  if (scenario.startsWith('apply')) {
    const m = /Apply: .* of (\d+) in ([\d.]+)s\./.exec(measure.stdout);
    if (m?.[1] && m[2]) {
      result.operations = Number(m[1]);
      result.executeMs = Number(m[2]) * 1000;
    }
    result.executeRequests = Math.max(0, result.requests.total - 2 * readCost);
    result.converged = /Converged: live state matches/.test(measure.stdout);
    result.ordered = writesInPhaseOrder(log);
  }
  return result;
}

function expectExit(result: ScenarioResult, expected: number, measure: ProcessMeasure): void {
  if (result.exitCode !== expected) {
    throw new Error(
      `${result.flavor} N=${result.size} ${result.scenario}: exit ${result.exitCode}, expected ${expected}\n` +
        `${measure.stdout.slice(-2000)}\n${measure.stderr.slice(-2000)}`,
    );
  }
}

function runsText(runs: number): string {
  return `a warm-up run, then ${runs} measured`;
}

/**
 * A plan scenario run `runs` times after a warm-up run (the emulator's first answer of a large
 * listing is slower while its JIT warms up, which says nothing about ecfence): one wall time on a
 * shared machine varies by ±10%, so the median is reported, with the range. Request counts must be
 * the same in every run; a plan changes nothing, so the runs see the same live state.
 */
async function repeatedPlan(
  emulator: EmulatorProcess,
  dir: string,
  estate: Estate,
  scenario: 'plan, no changes' | 'plan, 10% changed',
  exitCode: number,
  runs: number,
): Promise<ScenarioResult> {
  const results: ScenarioResult[] = [];
  for (let i = 0; i <= runs; i++) {
    const run = await runCli(emulator, dir, ['plan', '--detailed-exitcode']);
    const result = cliResult(estate, scenario, run);
    expectExit(result, exitCode, run.measure);
    if (i > 0) results.push(result);
  }
  const [first] = results;
  if (first === undefined) throw new Error('--plan-runs must be at least 1');
  for (const r of results) {
    if (JSON.stringify(r.requests) !== JSON.stringify(first.requests) || r.operations !== first.operations) {
      throw new Error(
        `${estate.flavor} N=${estate.size} ${scenario}: runs differ (requests ${JSON.stringify(r.requests)} ` +
          `vs ${JSON.stringify(first.requests)}, operations ${r.operations} vs ${first.operations})`,
      );
    }
  }
  const walls = results.map((r) => r.wallMs);
  return {
    ...first,
    wallMs: median(walls),
    cpuMs: median(results.map((r) => r.cpuMs)),
    peakRssMb: Math.max(...results.map((r) => r.peakRssMb)),
    runs,
    wallRangeMs: [Math.min(...walls), Math.max(...walls)],
  };
}

async function runBaseline(emulator: EmulatorProcess, estate: Estate, dir: string): Promise<ScenarioResult> {
  const job: BaselineJob = {
    url: emulator.url,
    apiKey: API_KEY,
    paths: baselinePaths(estate),
    parallelism: BASELINE_PARALLELISM,
  };
  const jobFile = join(dir, 'baseline-job.json');
  writeFileSync(jobFile, JSON.stringify(job));
  await emulator.resetRequests();
  const measure = await measureNode(BUILT.baseline, [jobFile], {
    cwd: dir,
    env: { PATH: process.env['PATH'] },
  });
  const log = await emulator.requests();
  if (measure.exitCode !== 0) throw new Error(`baseline failed: ${measure.stderr.slice(-2000)}`);
  const reported = JSON.parse(measure.stdout) as BaselineResult;
  return {
    flavor: estate.flavor,
    size: estate.size,
    rulesPerPolicy: estate.rulesPerPolicy,
    scenario: 'baseline read',
    exitCode: reported.failed === 0 ? 0 : 1,
    operations: estate.policies.length + associationCount(estate),
    requests: countRequests(log),
    wallMs: measure.wallMs,
    cpuMs: measure.cpuMs,
    peakRssMb: measure.peakRssMb,
  };
}

/** Runs every scenario of one estate, each CLI run as its own process. */
export async function runEstate(
  flavor: EstateFlavor,
  size: number,
  options: EstateOptions,
  rulesPerPolicy: number = RULES_PER_POLICY,
): Promise<EstateResult> {
  const base = generateEstate(flavor, size, rulesPerPolicy);
  const { estate: changed, summary } = changeEstate(base);
  const scenarios: ScenarioResult[] = [];
  const dir = mkdtempSync(join(tmpdir(), `ecfence-bench-${flavor}-${size}x${rulesPerPolicy}-`));
  const say = (text: string): void =>
    options.progress(
      `${flavor} N=${size}${rulesPerPolicy === RULES_PER_POLICY ? '' : ` × ${rulesPerPolicy} rules`}: ${text}`,
    );
  const emulatorFlavor = 'cloud';
  // Requests of one live-state read, as the first plan measured it.
  let readCost = 0;
  try {
    say('starting the emulator with the estate');
    let emulator = await startEmulatorProcess({
      flavor: emulatorFlavor,
      seed: seedOf(base),
      latencyMs: options.latencyMs,
    });
    try {
      writeProject(dir, base, emulator.url);
      say(`plan, no changes (${runsText(options.planRuns)})`);
      const r1 = await repeatedPlan(emulator, dir, base, 'plan, no changes', 0, options.planRuns);
      scenarios.push(r1);
      readCost = r1.requests.total;

      writeProject(dir, changed, emulator.url);
      say(`plan, 10% changed (${runsText(options.planRuns)})`);
      scenarios.push(await repeatedPlan(emulator, dir, base, 'plan, 10% changed', 2, options.planRuns));

      if (options.baseline) {
        say('baseline: per-resource read');
        scenarios.push(await runBaseline(emulator, base, dir));
      }

      if (options.applyChanged) {
        say('apply, 10% changed');
        const apply = await runCli(emulator, dir, [
          'apply',
          '--auto-approve',
          '--concurrency',
          String(options.concurrency),
        ]);
        const r3 = cliResult(base, 'apply, 10% changed', apply, r1.requests.total);
        expectExit(r3, 0, apply.measure);
        scenarios.push(r3);
      }
    } finally {
      await emulator.close();
    }

    if (options.applyFromEmpty) {
      say('starting the emulator with the targets only');
      emulator = await startEmulatorProcess({
        flavor: emulatorFlavor,
        seed: seedOf(base, false),
        latencyMs: options.latencyMs,
      });
      try {
        writeProject(dir, base, emulator.url);
        say('apply, from empty');
        const fromEmpty = await runCli(emulator, dir, [
          'apply',
          '--auto-approve',
          '--concurrency',
          String(options.concurrency),
        ]);
        const r4 = cliResult(base, 'apply, from empty', fromEmpty, readCost);
        expectExit(r4, 0, fromEmpty.measure);
        scenarios.push(r4);
      } finally {
        await emulator.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    flavor,
    size,
    rulesPerPolicy,
    policies: base.policies.length,
    associations: associationCount(base),
    targets: base.targets.length,
    change: summary,
    scenarios,
  };
}
