/**
 * `npm run bench [-- options]`: measures ecfence against estates of growing size, side by side with
 * a per-resource reader of the same estate, and judges the targets of issue 7. See bench/README.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { measureCore, type CoreMeasure } from './core.js';
import { LARGEST_ESTATE, type EstateFlavor } from './estate.js';
import { BUILT, measureNode, median } from './measure.js';
import { judgeTargets, renderReport, type BenchReport, type Machine, type StartupMeasure } from './report.js';
import { runEstate, type EstateResult } from './scenarios.js';
import {
  ENVIRONMENT_DEFAULTS,
  judgeEnvironments,
  renderEnvironments,
  runEnvironments,
} from './environments.js';

const USAGE = `Usage: npm run bench -- [--scenario estates,environments-plan,environments-apply,rate-limit]
                         [--sizes 100,1000,5000] [--latency 20] [--concurrency 8]
                         [--flavors ess,serverless] [--core-size 10000] [--empty-apply-max N]
                         [--plan-runs 5] [--no-baseline] [--no-largest] [--quick] [--out FILE] [--json FILE]`;

/** What `--scenario` selects; all by default. */
export const SCENARIOS = ['estates', 'environments-plan', 'environments-apply', 'rate-limit'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  scenarios: Set<Scenario>;
  sizes: number[];
  latencyMs: number;
  concurrency: number;
  flavors: EstateFlavor[];
  coreSize: number;
  /** Largest N for which `apply, from empty` runs. */
  emptyApplyMax: number;
  baseline: boolean;
  /** Also plan the largest estate one organisation can hold (LARGEST_ESTATE). */
  largest: boolean;
  /** Measured runs of each plan scenario, after a warm-up run. */
  planRuns: number;
  versionRuns: number;
  out?: string;
  json?: string;
}

function numbers(raw: string, name: string): number[] {
  const list = raw.split(',').map((x) => Number(x.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`--${name} must be a comma-separated list of whole numbers ≥ 1 (got '${raw}')`);
  }
  return list;
}

function wholeNumber(raw: string | undefined, name: string, fallback: number, min = 0): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${name} must be a whole number ≥ ${min} (got '${raw}')`);
  return n;
}

export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string' },
      sizes: { type: 'string' },
      latency: { type: 'string' },
      concurrency: { type: 'string' },
      flavors: { type: 'string' },
      'core-size': { type: 'string' },
      'empty-apply-max': { type: 'string' },
      'plan-runs': { type: 'string' },
      'no-baseline': { type: 'boolean' },
      'no-largest': { type: 'boolean' },
      quick: { type: 'boolean' },
      out: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const quick = values.quick === true;
  const flavors = (values.flavors ?? 'ess,serverless').split(',').map((f) => f.trim());
  for (const f of flavors) {
    if (f !== 'ess' && f !== 'serverless')
      throw new Error(`--flavors takes ess and/or serverless (got '${f}')`);
  }
  const scenarios = (values.scenario ?? SCENARIOS.join(',')).split(',').map((x) => x.trim());
  for (const x of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(x))
      throw new Error(`--scenario takes ${SCENARIOS.join(', ')} (got '${x}')`);
  }
  return {
    scenarios: new Set(scenarios as Scenario[]),
    sizes:
      values.sizes !== undefined ? numbers(values.sizes, 'sizes') : quick ? [100, 1000] : [100, 1000, 5000],
    latencyMs: wholeNumber(values.latency, 'latency', 20),
    concurrency: wholeNumber(values.concurrency, 'concurrency', 8, 1),
    flavors: flavors as EstateFlavor[],
    coreSize: wholeNumber(values['core-size'], 'core-size', 10_000, 1),
    emptyApplyMax: wholeNumber(
      values['empty-apply-max'],
      'empty-apply-max',
      quick ? 1000 : Number.MAX_SAFE_INTEGER,
    ),
    baseline: values['no-baseline'] !== true,
    largest: values['no-largest'] !== true && !quick,
    planRuns: wholeNumber(values['plan-runs'], 'plan-runs', quick ? 3 : 5, 1),
    versionRuns: quick ? 5 : 15,
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.json !== undefined ? { json: values.json } : {}),
  };
}

export function machine(): Machine {
  let cpuModel = cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m?.[1]) cpuModel = m[1].trim();
  } catch {
    // Not Linux: os.cpus() already named the model.
  }
  return {
    cpus: cpus().length,
    cpuModel,
    memoryGb: totalmem() / 1024 ** 3,
    node: process.versions.node,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString().slice(0, 10),
  };
}

/** `ecfence --version` as a user starts it, against bare Node running an empty script. */
export async function measureStartup(runs: number): Promise<StartupMeasure> {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-bench-startup-'));
  try {
    const empty = join(dir, 'empty.mjs');
    writeFileSync(empty, '');
    const env = { PATH: process.env['PATH'] };
    const version: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      const v = await measureNode(BUILT.cli, ['--version'], { cwd: dir, env });
      if (v.exitCode !== 0) throw new Error(`ecfence --version exited ${v.exitCode}: ${v.stderr}`);
      version.push(v.wallMs);
      bare.push((await measureNode(empty, [], { cwd: dir, env })).wallMs);
    }
    return { runs, medianMs: median(version), minMs: Math.min(...version), nodeMedianMs: median(bare) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runBench(
  options: BenchOptions,
  progress: (line: string) => void,
): Promise<BenchReport> {
  progress('start-up: ecfence --version');
  const startup = await measureStartup(options.versionRuns);
  const core: CoreMeasure[] = [];
  for (const flavor of options.flavors) {
    progress(`core: buildPlan ${flavor} N=${options.coreSize}`);
    core.push(...measureCore(flavor, options.coreSize));
  }
  const estates: EstateResult[] = [];
  for (const flavor of options.flavors) {
    for (const size of options.sizes) {
      const started = Date.now();
      estates.push(
        await runEstate(flavor, size, {
          latencyMs: options.latencyMs,
          concurrency: options.concurrency,
          applyChanged: true,
          applyFromEmpty: size <= options.emptyApplyMax,
          baseline: options.baseline,
          planRuns: options.planRuns,
          progress,
        }),
      );
      progress(`${flavor} N=${size}: done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    }
  }
  if (options.largest) {
    // Its plans only: the apply scenarios of the sized estates measure the executor already.
    for (const flavor of options.flavors) {
      estates.push(
        await runEstate(
          flavor,
          LARGEST_ESTATE.size,
          {
            latencyMs: options.latencyMs,
            concurrency: options.concurrency,
            applyChanged: false,
            applyFromEmpty: false,
            baseline: false,
            planRuns: options.planRuns,
            progress,
          },
          LARGEST_ESTATE.rulesPerPolicy,
        ),
      );
    }
  }
  const reportOptions = {
    sizes: options.sizes,
    latencyMs: options.latencyMs,
    concurrency: options.concurrency,
    coreSize: options.coreSize,
  };
  return {
    machine: machine(),
    options: reportOptions,
    estates,
    core,
    startup,
    targets: judgeTargets(estates, core, startup, reportOptions),
  };
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    return 3;
  }
  const started = Date.now();
  const progress = (line: string): void =>
    console.error(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${line}`);
  const parts: string[] = [];
  // The estates' report as before, with the many-environments figures beside it.
  let json: Record<string, unknown> = {};
  let missed = false;
  if (options.scenarios.has('estates')) {
    const report = await runBench(options, progress);
    parts.push(renderReport(report));
    json = { ...report };
    missed ||= report.targets.some((t) => t.met === false);
  } else {
    const m = machine();
    parts.push(
      '# ecfence benchmark results',
      '',
      `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGb.toFixed(0)} GB RAM, ${m.platform}, Node ${m.node}. Date: ${m.date}.`,
      '',
    );
  }
  const which = {
    plan: options.scenarios.has('environments-plan'),
    apply: options.scenarios.has('environments-apply'),
    rateLimit: options.scenarios.has('rate-limit'),
  };
  if (which.plan || which.apply || which.rateLimit) {
    const result = await runEnvironments(
      { ...ENVIRONMENT_DEFAULTS, concurrency: options.concurrency, progress },
      which,
    );
    parts.push(renderEnvironments(result).join('\n'));
    json['environments'] = result;
    missed ||= judgeEnvironments(result).some((t) => t.met === false);
  }
  const markdown = parts.join('\n');
  console.log(markdown);
  if (options.out !== undefined) writeFileSync(options.out, markdown);
  if (options.json !== undefined) writeFileSync(options.json, `${JSON.stringify(json, null, 2)}\n`);
  return missed ? 1 : 0;
}

// Only when run as the entry point, so that the smoke test can import runBench and friends.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Interrupted: exit through 'exit', where each emulator process this run started is killed.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
