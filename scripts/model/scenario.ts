/**
 * The model-based test of plan and apply (issue 23), as a fast-check property: a random live
 * estate, then a random sequence of commands — apply an edited desired state (under random faults,
 * possibly killed after its N-th committed write and run again), add a target, change something
 * behind ecfence's back — and after every apply SPEC's invariants (see `applyStep`).
 *
 * Each apply runs the real CLI code in this process (`run` from src/cli/run.ts, reading the policy
 * files it wrote) against an emulator on a free loopback port. A kill is the emulator dropping
 * every request after the chosen write: the state then holds exactly the writes a SIGKILL would
 * have let through, and the next run starts from it.
 *
 * `test/model-based/` runs a short, seeded campaign in `npm test`; `npm run test:model` runs long ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { run } from '../../src/cli/run.js';
import type { Io } from '../../src/cli/io.js';
import { Redactor } from '../../src/secrets/redactor.js';
import { safeOutput } from '../../src/secrets/untrusted-text.js';
import { startEmulator, type Emulator, type FaultConfig } from '../../src/emulator/index.js';
import { RunObserver } from './observe.js';
import {
  ALL_NAMES,
  API_KEY_VAR,
  MANAGED_NAMES,
  RULE_CHOICES,
  RULE_POOL_SIZE,
  WORLDS,
  compareOutcome,
  concreteDesired,
  concretePolicy,
  concreteTarget,
  estateSeed,
  expectOutcome,
  liveViews,
  regionsOf,
  targetRegions,
  writeProject,
  type DesiredIntent,
  type EstateIntent,
  type ModelApi,
  type ModelTarget,
  type PolicyIntent,
  type TargetIntent,
} from './world.js';

const API_KEY = 'essu_model_test_key_0123456789';
/** Short retry pauses: a fault costs milliseconds, and the bounds the fixes wait for scale with it. */
const RETRY_MAX_MS = '300';
const MAX_TARGETS = 7;

// ---------------------------------------------------------------------------------------------
// What is drawn
// ---------------------------------------------------------------------------------------------

/** One edit of the desired state; edits of an undeclared slot (other than `declare`) do nothing. */
export type DesiredEdit =
  | { edit: 'declare'; slot: number; policy: PolicyIntent }
  | { edit: 'drop'; slot: number }
  | { edit: 'rules'; slot: number; rules: number[] }
  | { edit: 'region'; slot: number; region: number }
  | { edit: 'type'; slot: number; type: number }
  | { edit: 'include_by_default'; slot: number }
  | { edit: 'targets'; slot: number; targets: number[] }
  | { edit: 'prune'; prune: boolean }
  | { edit: 'protect'; protect: number[] }
  | { edit: 'allow_unfiltered'; targets: number[] };
// Issue 17: `previous_names` (rename a slot, keeping the old name as a previous name) and
// `exclusive_targets` (toggle) are edits of their own once the product has them.

export interface FaultIntent {
  rate5xx: number;
  rate429: number;
  rateReset: number;
  rateResetAfterCommit: number;
  /** Reads a fresh policy is missing from (the emulator's `readLag`). */
  readLag: number;
  seed: number;
  /** Scripted faults, for regression scenarios (the generator draws none). */
  script?: FaultConfig['script'];
}

export interface ApplyIntent {
  edits: DesiredEdit[];
  faults: FaultIntent;
  /** Kill the apply right after this many committed writes (then run it again), or never. */
  kill: number | null;
  concurrency: number;
}

type DriftIntent = {
  drift: 'attach' | 'detach' | 'rules';
  policy: number;
  target: number;
  rules: number[];
};

const slotArb = fc.nat(MANAGED_NAMES.length - 1);
const targetsArb = fc.uniqueArray(fc.nat(MAX_TARGETS - 1), { maxLength: 4 });
const rulesArb = fc.uniqueArray(fc.nat(RULE_CHOICES - 1), {
  maxLength: 4,
  selector: (r) => r % RULE_POOL_SIZE,
});

const policyArb: fc.Arbitrary<PolicyIntent> = fc.record({
  region: fc.nat(2),
  type: fc.nat(5),
  includeByDefault: fc.boolean(),
  description: fc.nat(3),
  rules: rulesArb,
  targets: targetsArb,
});

const desiredArb: fc.Arbitrary<DesiredIntent> = fc.record({
  policies: fc.array(fc.oneof(fc.constant(null), policyArb), {
    minLength: MANAGED_NAMES.length,
    maxLength: MANAGED_NAMES.length,
  }),
  prune: fc.boolean(),
  protect: fc.uniqueArray(fc.nat(ALL_NAMES.length - 1), { maxLength: 3 }),
  allowUnfiltered: fc.uniqueArray(fc.nat(MAX_TARGETS - 1), { maxLength: 2 }),
});

const targetArb: fc.Arbitrary<TargetIntent> = fc.record({ region: fc.nat(2), projectType: fc.nat(2) });

function estateArb(apis: readonly ModelApi[]): fc.Arbitrary<EstateIntent> {
  return fc.record({
    api: fc.constantFrom(...apis),
    regions: fc.integer({ min: 1, max: 3 }),
    targets: fc.array(targetArb, { minLength: 1, maxLength: 4 }),
    live: fc.array(fc.record({ name: fc.nat(ALL_NAMES.length - 1), policy: policyArb }), { maxLength: 4 }),
    desired: desiredArb,
  });
}

const editArb: fc.Arbitrary<DesiredEdit> = fc.oneof(
  fc.record({ edit: fc.constant('declare' as const), slot: slotArb, policy: policyArb }),
  fc.record({ edit: fc.constant('drop' as const), slot: slotArb }),
  fc.record({ edit: fc.constant('rules' as const), slot: slotArb, rules: rulesArb }),
  fc.record({ edit: fc.constant('region' as const), slot: slotArb, region: fc.nat(2) }),
  fc.record({ edit: fc.constant('type' as const), slot: slotArb, type: fc.nat(5) }),
  fc.record({ edit: fc.constant('include_by_default' as const), slot: slotArb }),
  fc.record({ edit: fc.constant('targets' as const), slot: slotArb, targets: targetsArb }),
  fc.record({ edit: fc.constant('prune' as const), prune: fc.boolean() }),
  fc.record({
    edit: fc.constant('protect' as const),
    protect: fc.uniqueArray(fc.nat(ALL_NAMES.length - 1), { maxLength: 3 }),
  }),
  fc.record({
    edit: fc.constant('allow_unfiltered' as const),
    targets: fc.uniqueArray(fc.nat(MAX_TARGETS - 1), { maxLength: 2 }),
  }),
);

const faultsArb: fc.Arbitrary<FaultIntent> = fc.record({
  rate5xx: fc.constantFrom(0, 0.05, 0.1),
  rate429: fc.constantFrom(0, 0.05),
  rateReset: fc.constantFrom(0, 0.03),
  rateResetAfterCommit: fc.constantFrom(0, 0.05, 0.1),
  readLag: fc.constantFrom(0, 1, 2),
  seed: fc.nat(),
});

const applyArb: fc.Arbitrary<ApplyIntent> = fc.record({
  edits: fc.array(editArb, { maxLength: 3 }),
  faults: faultsArb,
  kill: fc.option(fc.integer({ min: 1, max: 12 }), { nil: null, freq: 3 }),
  concurrency: fc.constantFrom(8, 1, 2),
});

const driftArb: fc.Arbitrary<DriftIntent> = fc.record({
  drift: fc.constantFrom('attach' as const, 'detach' as const, 'rules' as const),
  policy: fc.nat(8),
  target: fc.nat(MAX_TARGETS - 1),
  rules: rulesArb,
});

// ---------------------------------------------------------------------------------------------
// The system under test: an emulator and a project directory
// ---------------------------------------------------------------------------------------------

interface World {
  api: ModelApi;
  regions: readonly string[];
  emu: Emulator;
  dir: string;
  targets: ModelTarget[];
  desired: DesiredIntent;
  /** Receives the emulator's requests while an apply runs. */
  observer?: RunObserver;
  /** What happened so far, for the failure message. */
  history: string[];
}

async function openWorld(estate: EstateIntent): Promise<World> {
  const regions = regionsOf(estate);
  const targets = estate.targets.map((t, i) => concreteTarget(estate.api, regions, t, i));
  const names = new Set<number>();
  const live = estate.live.flatMap(({ name, policy }) => {
    const n = name % ALL_NAMES.length;
    if (names.has(n)) return [];
    names.add(n);
    return [concretePolicy(estate.api, regions, targets, ALL_NAMES[n] ?? 'legacy', policy)];
  });
  const holder: { world?: World } = {};
  const emu = await startEmulator({
    flavor: WORLDS[estate.api].flavor,
    port: 0,
    seed: estateSeed(estate.api, targets, live),
    recordBodies: true,
    onRequest: (entry) => holder.world?.observer?.onEntry(entry),
  });
  const world: World = {
    api: estate.api,
    regions,
    emu,
    dir: mkdtempSync(join(tmpdir(), 'ecfence-model-')),
    targets,
    desired: structuredClone(estate.desired),
    history: [],
  };
  holder.world = world;
  return world;
}

async function closeWorld(world: World): Promise<void> {
  await world.emu.close();
  rmSync(world.dir, { recursive: true, force: true });
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in this process, in the project directory, as `ecfence ARGS` would. */
async function cli(world: World, args: readonly string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  // What a run's stdout and stderr would carry, kept here; the commands run write no file.
  const redactor = new Redactor();
  const io: Io = {
    stdout: (t) => void (stdout += safeOutput(redactor, t, false)),
    stderr: (t) => void (stderr += safeOutput(redactor, t, false)),
    workflowCommands: (t) => void (stdout += redactor.scrub(t)),
    writeFile: () => {
      throw new Error('the model test runs no command that writes a file');
    },
    redactor,
    isTty: false,
    stdinIsTty: false,
    color: false,
    env: { [API_KEY_VAR]: API_KEY, ECFENCE_RETRY_MAX_MS: RETRY_MAX_MS, ECFENCE_RETRY_ATTEMPTS: '8' },
    cwd: world.dir,
  };
  const code = await run([...args, '--log-level', 'silent'], io);
  return { code, stdout, stderr };
}

function faultConfig(f: FaultIntent, attempt: number): FaultConfig {
  return {
    rate5xx: f.rate5xx,
    rate429: f.rate429,
    retryAfterSeconds: 0,
    rateReset: f.rateReset,
    rateResetAfterCommit: f.rateResetAfterCommit,
    readLag: f.readLag,
    seed: f.seed + attempt,
    ...(f.script !== undefined && attempt === 0 ? { script: f.script } : {}),
  };
}

/** Nothing more reaches the server: what it sees of a client killed with SIGKILL. */
const KILLED: FaultConfig = { rateReset: 1 };

function applyEdits(desired: DesiredIntent, edits: readonly DesiredEdit[]): DesiredIntent {
  const next = structuredClone(desired);
  for (const e of edits) {
    if (e.edit === 'prune') next.prune = e.prune;
    else if (e.edit === 'protect') next.protect = [...e.protect];
    else if (e.edit === 'allow_unfiltered') next.allowUnfiltered = [...e.targets];
    else if (e.edit === 'declare') next.policies[e.slot] = structuredClone(e.policy);
    else if (e.edit === 'drop') next.policies[e.slot] = null;
    else {
      const p = next.policies[e.slot];
      if (!p) continue;
      if (e.edit === 'rules') p.rules = [...e.rules];
      else if (e.edit === 'region') p.region = e.region;
      else if (e.edit === 'type') p.type = e.type;
      else if (e.edit === 'include_by_default') p.includeByDefault = !p.includeByDefault;
      else p.targets = [...e.targets];
    }
  }
  return next;
}

const tail = (text: string, n = 2500): string => (text.length > n ? `…${text.slice(-n)}` : text);

/**
 * Applies the desired state once (and again after a kill), checking after every run:
 * never-unfiltered and make-before-break per target, phase order, no write to a policy that must
 * stay as it is, no request the API or the spec subset rejects (RunObserver); and after the run
 * that was not killed: a refusal exactly when SPEC's guards say so (and then no write at all),
 * live state equal to SPEC's outcome (managed policies as declared, no duplicate, unmanaged ones
 * untouched or pruned), the next plan empty, and apply's own convergence line telling the truth.
 */
async function applyStep(world: World, intent: ApplyIntent, label: string): Promise<void> {
  const { api, emu } = world;
  world.desired = applyEdits(world.desired, intent.edits);
  const desired = concreteDesired(api, world.regions, world.targets, world.desired);
  writeProject(world.dir, api, emu.url, world.targets, desired);
  let kill = intent.kill ?? undefined;
  for (let attempt = 0; ; attempt++) {
    const start = emu.state();
    const expected = expectOutcome(api, liveViews(api, start), targetRegions(api, start), desired);
    const observer = new RunObserver(
      api,
      () => emu.state(),
      () => emu.setFaults(KILLED),
      kill,
    );
    world.observer = observer;
    // The last run is without faults: it has to get to the end.
    emu.setFaults(attempt < MAX_FAULTY_RUNS ? faultConfig(intent.faults, attempt) : {});
    const result = await cli(world, ['apply', '--auto-approve', '--concurrency', String(intent.concurrency)]);
    emu.setFaults({});
    world.observer = undefined;
    const end = emu.state();
    const problems = observer.finish(end, expected, desired.allowUnfiltered);
    if (result.stderr.includes('internal error')) problems.push('apply failed with an internal error');
    const ended = observer.killed
      ? `killed after write ${kill}`
      : observer.faults > 0 && gaveUpOnFaults(result)
        ? 'retries ran out on injected faults'
        : undefined;
    if (!ended) problems.push(...(await judgeCompleteRun(world, result, expected, observer.writes, end)));
    const what = `${label}, run ${attempt + 1}${ended ? ` (${ended})` : ''}: exit ${result.code}, ${observer.writes} writes, ${observer.faults} faults`;
    world.history.push(what);
    if (problems.length > 0) {
      throw new Error(
        [
          `${what}`,
          ...problems.map((p) => `  ✗ ${p}`),
          `history: ${world.history.join(' | ')}`,
          `apply stdout:\n${tail(result.stdout)}`,
          `apply stderr:\n${tail(result.stderr)}`,
        ].join('\n'),
      );
    }
    if (!ended) return;
    kill = undefined;
  }
}

/** Runs with faults before the last one, which has none. */
const MAX_FAULTY_RUNS = 3;

/** What a failure caused by injected faults says: the status, a dropped connection, a re-read that failed. */
const FAULT_REASON =
  /→ (429|500|503)\b|connection dropped|re-reading to resolve it failed|could not be read again/;

/**
 * Exit 1 or 5 because retries ran out on injected faults (a legitimate end under heavy faults,
 * followed by a rerun): every failure the run reports names a fault, and there is at least one.
 */
function gaveUpOnFaults(result: CliRun): boolean {
  if (result.code !== 1 && result.code !== 5) return false;
  const out = result.stdout.split('\n');
  const reasons = [
    ...out.flatMap((line, i) => (/^\s+failed\s/.test(line) ? [out[i + 1] ?? ''] : [])),
    ...result.stderr.split('\n').filter((line) => line.startsWith('error:')),
    ...out.filter((line) => line.startsWith('Not converged: live state could not be read again')),
  ];
  return reasons.length > 0 && reasons.every((r) => FAULT_REASON.test(r));
}

async function judgeCompleteRun(
  world: World,
  result: CliRun,
  expected: ReturnType<typeof expectOutcome>,
  writes: number,
  end: ReturnType<Emulator['state']>,
): Promise<string[]> {
  const problems: string[] = [];
  if (expected.blocking.length > 0) {
    if (result.code !== 4)
      problems.push(`expected a refusal (${expected.blocking.join('; ')}), got exit ${result.code}`);
    if (writes > 0) problems.push(`a refused plan wrote ${writes} time(s)`);
    return problems;
  }
  const code = expected.ambiguous.length > 0 ? 4 : 0;
  if (result.code !== code) problems.push(`expected exit ${code}, got ${result.code}`);
  problems.push(...compareOutcome(world.api, liveViews(world.api, end), expected));
  // Convergence, judged independently: a plan without faults right after must have nothing to do.
  const replan = await cli(world, ['plan', '--format', 'json']);
  let pending: string[];
  try {
    const plan = JSON.parse(replan.stdout) as {
      operations: { id: string }[];
      notes: { kind: string; message: string }[];
    };
    // A declared policy with two live copies is not converged either (SPEC §2).
    const copies = plan.notes.filter((n) => n.kind === 'ambiguous' || n.kind === 'duplicate');
    pending = [...plan.operations.map((o) => o.id), ...copies.map((n) => n.message)];
  } catch {
    return [...problems, `the plan after apply failed: exit ${replan.code}: ${tail(replan.stderr, 800)}`];
  }
  if (pending.length > 0 && expected.ambiguous.length === 0) {
    problems.push(`not converged: the next plan has ${pending.join(', ')}`);
  }
  const claim = /^(Not converged|Converged)[^\n]*/m.exec(result.stdout)?.[0];
  if (claim !== undefined && claim.startsWith('Converged') !== (pending.length === 0)) {
    problems.push(`apply reported "${claim}" but the next plan has ${pending.join(', ') || 'nothing to do'}`);
  }
  return problems;
}

/** Target ids of the world, in region `region`. */
const targetsIn = (world: World, region: string): ModelTarget[] =>
  world.targets.filter((t) => t.region === region);

async function api(world: World, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(world.emu.url + path, {
    method,
    headers: { authorization: `ApiKey ${API_KEY}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status >= 300) throw new Error(`drift ${method} ${path} → ${res.status}: ${await res.text()}`);
}

/** A change made behind ecfence's back (console, another tool), through the API. */
async function driftStep(world: World, intent: DriftIntent, label: string): Promise<void> {
  world.history.push(label);
  const state = world.emu.state();
  const views = liveViews(world.api, state);
  const p = views[intent.policy % Math.max(1, views.length)];
  if (!p) return;
  const serverless = world.api === 'serverless';
  const base = serverless
    ? '/api/v1/serverless/traffic-filters'
    : '/api/v1/deployments/traffic-filter/rulesets';
  if (intent.drift === 'rules') {
    const rules = concretePolicy(world.api, [p.region], [], p.name, {
      region: 0,
      type: WORLDS[world.api].types.indexOf(p.type),
      includeByDefault: false,
      description: 0,
      rules: intent.rules,
      targets: [],
    }).rules;
    if (serverless) return api(world, 'PATCH', `${base}/${p.id}`, { rules });
    const body = {
      name: p.name,
      type: p.type,
      region: p.region,
      include_by_default: p.includeByDefault,
      ...(p.description !== '' ? { description: p.description } : {}),
      rules,
    };
    return api(world, 'PUT', `${base}/${p.id}`, body);
  }
  const candidates =
    intent.drift === 'attach'
      ? targetsIn(world, p.region).filter((t) => !p.targets.includes(t.id))
      : world.targets.filter((t) => p.targets.includes(t.id));
  const t = candidates[intent.target % Math.max(1, candidates.length)];
  if (!t) return;
  if (!serverless) {
    return intent.drift === 'attach'
      ? api(world, 'POST', `${base}/${p.id}/associations`, { entity_type: 'deployment', id: t.id })
      : api(world, 'DELETE', `${base}/${p.id}/associations/deployment/${t.id}`);
  }
  const project = state.projects.find((x) => x.id === t.id);
  if (!project) return;
  const ids =
    intent.drift === 'attach'
      ? [...project.traffic_filters, p.id]
      : project.traffic_filters.filter((id) => id !== p.id);
  return api(world, 'PATCH', `/api/v1/serverless/projects/${project.type}/${project.id}`, {
    traffic_filters: ids.map((id) => ({ id })),
  });
}

/** A deployment or project created in the console: include_by_default policies of its region attach to it. */
function addTargetStep(world: World, intent: TargetIntent, label: string): void {
  world.history.push(label);
  const t = concreteTarget(world.api, world.regions, intent, world.targets.length);
  if (t.projectType !== undefined) {
    world.emu.addProject({
      type: t.projectType,
      id: t.id,
      name: `project-${world.targets.length}`,
      region_id: t.region,
    });
  } else {
    world.emu.addDeployment({ id: t.id, name: `deployment-${world.targets.length}`, region: t.region });
  }
  world.targets.push(t);
}

// ---------------------------------------------------------------------------------------------
// Commands and the property
// ---------------------------------------------------------------------------------------------

interface CommandModel {
  targets: number;
  steps: number;
}

type ModelCommand = fc.AsyncCommand<CommandModel, World>;

/** One step of a scenario: how fast-check generates, shrinks and prints it (`name(intent)`). */
class StepCommand<I> implements ModelCommand {
  constructor(
    private readonly name: string,
    readonly intent: I,
    private readonly perform: (world: World, intent: I, label: string) => Promise<void> | void,
    private readonly fits: (m: Readonly<CommandModel>) => boolean = () => true,
  ) {}
  check(m: Readonly<CommandModel>): boolean {
    return this.fits(m);
  }
  async run(m: CommandModel, w: World): Promise<void> {
    m.steps += 1;
    await this.perform(w, this.intent, `step ${m.steps}: ${this.toString()}`);
    m.targets = w.targets.length;
  }
  toString(): string {
    return `${this.name}(${JSON.stringify(this.intent)})`;
  }
}

/** Commands for the generator, and for a hand-written scenario (a regression test from a shrunk counterexample). */
export const step = {
  apply: (intent: ApplyIntent): ModelCommand => new StepCommand('apply', intent, applyStep),
  addTarget: (intent: TargetIntent): ModelCommand =>
    new StepCommand('addTarget', intent, addTargetStep, (m) => m.targets < MAX_TARGETS),
  drift: (intent: DriftIntent): ModelCommand => new StepCommand('drift', intent, driftStep),
};

export interface ModelOptions {
  apis: readonly ModelApi[];
  /** Commands after the first apply (default 4). */
  maxCommands?: number;
}

/**
 * The property: open the drawn estate, apply its desired state, run the drawn commands, close.
 * A failure throws with the step, the broken invariants, the history and apply's output; fast-check
 * adds its seed and the shrunk counterexample (the estate and the commands, replayable as is).
 */
export function modelProperty(options: ModelOptions) {
  const commands = fc.commands(
    [
      applyArb.map(step.apply),
      applyArb.map(step.apply),
      applyArb.map(step.apply),
      targetArb.map(step.addTarget),
      driftArb.map(step.drift),
    ],
    { maxCommands: options.maxCommands ?? 4 },
  );
  return fc.asyncProperty(estateArb(options.apis), applyArb, commands, async (estate, first, cmds) => {
    await runScenario(estate, first, cmds);
  });
}

/** Runs one scenario (also how a regression test replays a shrunk counterexample); returns its history. */
export async function runScenario(
  estate: EstateIntent,
  first: ApplyIntent,
  commands: Iterable<ModelCommand> = [],
): Promise<string[]> {
  const world = await openWorld(estate);
  try {
    await step.apply(first).run({ targets: world.targets.length, steps: -1 }, world);
    await fc.asyncModelRun(
      () => ({ model: { targets: world.targets.length, steps: 0 }, real: world }),
      commands,
    );
    return world.history;
  } finally {
    await closeWorld(world);
  }
}
