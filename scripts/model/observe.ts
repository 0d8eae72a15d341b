/**
 * Watches one `apply` write by write (the emulator calls `onEntry` synchronously after every
 * committed write, before the next one) and checks SPEC's invariants over the ordered request log:
 * never-unfiltered and make-before-break per target, phase order per policy, no write to a policy
 * that must stay as it is, and no request the API (or the official spec subset) rejects.
 */
import type { EmulatorState, RequestLogEntry } from '../../src/emulator/index.js';
import { specAvailable, validateAgainstSpec } from '../../test/support/spec-validator.js';
import { ingressCounts, liveViews, type Expectation, type LiveView, type ModelApi } from './world.js';

type WriteKind = 'create' | 'update' | 'associate' | 'dissociate' | 'delete';

/** One change a committed write made to one policy (or to one of its attachments). */
interface WriteEvent {
  /** 1-based index of the committed write in the run. */
  write: number;
  kind: WriteKind;
  policy: string;
  target?: string;
  request: string;
}

/** Make before break: associations and dissociations are ordered per target, not per policy. */
const RANK: Readonly<Record<WriteKind, number>> = {
  create: 0,
  update: 1,
  associate: 2,
  dissociate: 2,
  delete: 3,
};

const RULESET_PATH = /^\/api\/v1\/deployments\/traffic-filter\/rulesets\/([^/]+)(\/associations)?$/;
const FILTER_PATH = /^\/api\/v1\/serverless\/traffic-filters\/([^/]+)$/;
const PROJECT_PATH = /^\/api\/v1\/serverless\/projects\/[^/]+\/[^/]+$/;

/** Statuses a correct client meets and handles: already deleted, or a project that changed under it. */
function expectedRefusal(entry: RequestLogEntry): boolean {
  if (entry.method === 'DELETE' && entry.status === 404) return true;
  return (
    entry.method === 'PATCH' &&
    PROJECT_PATH.test(entry.path) &&
    (entry.status === 409 || entry.status === 412)
  );
}

/**
 * `psc_endpoint` is a serverless filter type of the current public docs that the vendored spec
 * subset predates (API.md §4.3, SPEC §1.3): its enum is the one thing the subset may reject.
 */
function newerThanSpec(body: unknown, problem: string): boolean {
  return (
    (body as { type?: unknown }).type === 'psc_endpoint' &&
    / \/type must be equal to one of the allowed values/.test(problem)
  );
}

interface TargetWatch {
  start: number;
  lowest: number;
  /** The write after which `lowest` was first seen. */
  at: string;
}

export class RunObserver {
  readonly violations: string[] = [];
  readonly events: WriteEvent[] = [];
  writes = 0;
  /** Requests the emulator answered with an injected fault. */
  faults = 0;
  private previous: LiveView[] = [];
  private watches = new Map<string, TargetWatch>();
  private readonly checkSpec = specAvailable();

  constructor(
    private readonly api: ModelApi,
    private readonly state: () => EmulatorState,
    /** Called once, right after the `killAfter`-th committed write. */
    private readonly kill: () => void,
    private readonly killAfter: number | undefined,
  ) {
    this.previous = liveViews(api, state());
    const counts = ingressCounts(this.previous, this.targetIds());
    for (const [t, n] of counts) this.watches.set(t, { start: n, lowest: n, at: 'start' });
  }

  get killed(): boolean {
    return this.killAfter !== undefined && this.writes >= this.killAfter;
  }

  private targetIds(): string[] {
    const s = this.state();
    return this.api === 'serverless' ? s.projects.map((p) => p.id) : s.deployments.map((d) => d.id);
  }

  onEntry(entry: RequestLogEntry): void {
    if (entry.fault !== undefined) this.faults += 1;
    if (entry.method === 'GET') return;
    if (entry.fault !== undefined && entry.fault !== 'reset_after_commit') return;
    const request = `${entry.method} ${entry.path}`;
    if (entry.status >= 300) {
      if (!expectedRefusal(entry)) {
        this.violations.push(
          `rejected request: ${request} → ${entry.status} ${JSON.stringify(entry.responseBody)}`,
        );
      }
      return;
    }
    this.writes += 1;
    if (this.checkSpec && entry.requestBody !== undefined) {
      for (const p of validateAgainstSpec(
        this.api,
        'request',
        entry.method,
        entry.path,
        undefined,
        entry.requestBody,
      )) {
        if (!newerThanSpec(entry.requestBody, p))
          this.violations.push(`request the spec rejects: ${request}: ${p}`);
      }
    }
    const next = liveViews(this.api, this.state());
    this.record(entry, request, next);
    this.previous = next;
    const counts = ingressCounts(next, this.watches.keys());
    for (const [t, w] of this.watches) {
      const n = counts.get(t) ?? 0;
      if (n < w.lowest) {
        w.lowest = n;
        w.at = `write ${this.writes} (${request})`;
      }
    }
    if (this.writes === this.killAfter) this.kill();
  }

  /** The events of one committed write: from the state it left, and from its path for writes that change nothing visible. */
  private record(entry: RequestLogEntry, request: string, next: readonly LiveView[]): void {
    const write = this.writes;
    const before = new Map(this.previous.map((v) => [v.id, v]));
    const after = new Map(next.map((v) => [v.id, v]));
    const add = (kind: WriteKind, policy: string, target?: string): void => {
      this.events.push({ write, kind, policy, request, ...(target !== undefined ? { target } : {}) });
    };
    for (const [id, v] of after) {
      const old = before.get(id);
      if (!old) add('create', id);
      for (const t of v.targets) if (!old?.targets.includes(t)) add('associate', id, t);
      for (const t of old?.targets ?? []) if (!v.targets.includes(t)) add('dissociate', id, t);
    }
    for (const id of before.keys()) if (!after.has(id)) add('delete', id);

    const ruleset = RULESET_PATH.exec(entry.path);
    const filter = FILTER_PATH.exec(entry.path);
    const policy = ruleset?.[1] ?? filter?.[1];
    if (policy === undefined) return;
    if ((entry.method === 'PUT' && ruleset && !ruleset[2]) || (entry.method === 'PATCH' && filter))
      add('update', policy);
    // An association that was there already (200) is a write all the same.
    const target = (entry.requestBody as { id?: unknown } | undefined)?.id;
    if (entry.method === 'POST' && ruleset?.[2] && typeof target === 'string') {
      if (!this.events.some((e) => e.write === write && e.kind === 'associate'))
        add('associate', policy, target);
    }
  }

  /** Invariants over the whole run, given the end state and what SPEC says the run must do. */
  finish(end: EmulatorState, expected: Expectation, allowUnfiltered: readonly string[]): string[] {
    const problems = [...this.violations];
    const endCounts = ingressCounts(liveViews(this.api, end), this.watches.keys());
    for (const [t, w] of this.watches) {
      const last = endCounts.get(t) ?? 0;
      if (w.start > 0 && w.lowest === 0 && !allowUnfiltered.includes(t)) {
        problems.push(`never-unfiltered: target ${t} had ${w.start} ingress policies and none after ${w.at}`);
      } else if (w.lowest < Math.min(w.start, last)) {
        problems.push(
          `make-before-break: target ${t} went ${w.start} → ${w.lowest} (after ${w.at}) → ${last}`,
        );
      }
    }
    problems.push(...this.orderProblems());
    const quiet = new Set([...expected.inSync, ...expected.untouched.map((u) => u.id)]);
    for (const e of this.events) {
      if (quiet.has(e.policy))
        problems.push(`write to a policy that must stay as it is: ${e.kind} ${e.policy} by ${e.request}`);
    }
    return problems;
  }

  private orderProblems(): string[] {
    const problems: string[] = [];
    const lastRank = new Map<string, { rank: number; event: WriteEvent }>();
    const firstDetach = new Map<string, WriteEvent>();
    let lastCreateOrUpdate: WriteEvent | undefined;
    let firstDelete: WriteEvent | undefined;
    for (const e of this.events) {
      const prior = lastRank.get(e.policy);
      if (prior && RANK[e.kind] < prior.rank) {
        problems.push(
          `phase order of ${e.policy}: ${e.kind} (write ${e.write}) after ${prior.event.kind} (write ${prior.event.write})`,
        );
      }
      if (!prior || RANK[e.kind] >= prior.rank) lastRank.set(e.policy, { rank: RANK[e.kind], event: e });
      if (e.target !== undefined) {
        const detached = firstDetach.get(e.target);
        if (e.kind === 'dissociate' && !detached) firstDetach.set(e.target, e);
        if (e.kind === 'associate' && detached && detached.write < e.write) {
          problems.push(
            `make-before-break on ${e.target}: attach of ${e.policy} (write ${e.write}) after a detach (write ${detached.write})`,
          );
        }
      }
      if (e.kind === 'create' || e.kind === 'update') lastCreateOrUpdate = e;
      if (e.kind === 'delete') firstDelete ??= e;
    }
    if (firstDelete && lastCreateOrUpdate && lastCreateOrUpdate.write > firstDelete.write) {
      problems.push(
        `phase order: ${lastCreateOrUpdate.kind} of ${lastCreateOrUpdate.policy} (write ${lastCreateOrUpdate.write}) after a delete (write ${firstDelete.write})`,
      );
    }
    return problems;
  }
}
