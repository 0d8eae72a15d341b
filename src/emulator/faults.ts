import { randomInt } from 'node:crypto';
import type { FaultConfig, FaultKind, ScriptedFault } from './types.js';

/** What to do to one API request. */
export interface FaultDecision {
  latencyMs: number;
  fault?: FaultKind;
  retryAfterSeconds: number;
}

/** mulberry32: tiny, fast, and good enough to make fault sequences reproducible from a seed. */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A rate limit's bucket holds one second of requests, and at least one. */
const bucketSize = (rate: number): number => Math.max(1, rate);

const FAULT_KINDS: readonly FaultKind[] = ['429', '500', '503', 'reset', 'reset_after_commit'];

function checkRate(name: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1))) {
    throw new TypeError(`fault config ${name} must be a number between 0 and 1`);
  }
}

/** Throws a TypeError describing the first invalid field of a fault config. */
export function validateFaultConfig(config: FaultConfig): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new TypeError('fault config must be an object');
  }
  for (const key of ['rate429', 'rate5xx', 'rateReset', 'rateResetAfterCommit'] as const)
    checkRate(key, config[key]);
  if (
    config.rateLimit !== undefined &&
    (typeof config.rateLimit !== 'number' || !Number.isFinite(config.rateLimit) || config.rateLimit <= 0)
  ) {
    throw new TypeError('fault config rateLimit must be a positive number of requests per second');
  }
  for (const key of ['latencyMs', 'retryAfterSeconds', 'seed'] as const) {
    const v = config[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new TypeError(`fault config ${key} must be a non-negative number`);
    }
  }
  const lag = config.readLag;
  if (lag !== undefined && (typeof lag !== 'number' || !Number.isInteger(lag) || lag < 0)) {
    throw new TypeError('fault config readLag must be a non-negative integer (a number of reads)');
  }
  if (
    config.methods !== undefined &&
    (!Array.isArray(config.methods) || config.methods.some((m) => typeof m !== 'string'))
  ) {
    throw new TypeError('fault config methods must be a list of HTTP methods');
  }
  if (config.script !== undefined) {
    if (!Array.isArray(config.script)) throw new TypeError('fault config script must be a list');
    config.script.forEach((s, i) => {
      if (typeof s !== 'object' || s === null || !FAULT_KINDS.includes(s.fault)) {
        throw new TypeError(`fault config script[${i}].fault must be one of ${FAULT_KINDS.join(', ')}`);
      }
      if (s.times !== undefined && (!Number.isInteger(s.times) || s.times < 0)) {
        throw new TypeError(`fault config script[${i}].times must be a non-negative integer`);
      }
      if (s.pathPattern !== undefined) new RegExp(s.pathPattern);
    });
  }
}

interface ScriptSlot {
  entry: ScriptedFault;
  pattern?: RegExp;
  remaining: number;
}

/**
 * Decides, per API request, the latency and the fault to inject. Script entries are consumed in
 * order (the first entry with matching method and path and uses left wins); otherwise one PRNG
 * draw picks at most one random fault, the rates stacked in a fixed order.
 */
export class FaultInjector {
  private config: FaultConfig = {};
  private random: () => number = Math.random;
  private script: ScriptSlot[] = [];
  /** Read-after-write lag: id of a fresh policy → reads it is still missing from. */
  private fresh = new Map<string, number>();
  /** Rate limit: tokens left, and when they were last counted. */
  private bucket = { tokens: 0, at: 0 };

  constructor(
    config: FaultConfig = {},
    private readonly now: () => number = Date.now,
  ) {
    this.set(config);
  }

  set(config: FaultConfig): void {
    validateFaultConfig(config);
    this.config = structuredClone(config);
    this.random = createPrng(config.seed ?? randomInt(2 ** 31));
    this.script = (config.script ?? []).map((entry) => {
      const slot: ScriptSlot = { entry, remaining: entry.times ?? 1 };
      if (entry.pathPattern !== undefined) slot.pattern = new RegExp(entry.pathPattern);
      return slot;
    });
    this.fresh.clear();
    this.bucket = { tokens: bucketSize(config.rateLimit ?? 0), at: this.now() };
  }

  /**
   * The token bucket of `rateLimit`: takes a token and returns 0, or, when none is left, returns
   * the whole seconds (at least 1) until one is back.
   */
  private rateLimited(): number {
    const rate = this.config.rateLimit;
    if (rate === undefined) return 0;
    const now = this.now();
    this.bucket.tokens = Math.min(
      bucketSize(rate),
      this.bucket.tokens + ((now - this.bucket.at) / 1000) * rate,
    );
    this.bucket.at = now;
    if (this.bucket.tokens >= 1) {
      this.bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - this.bucket.tokens) / rate));
  }

  /** A policy was just created: with `readLag`, the next reads that would show it miss it. */
  created(id: string): void {
    const lag = this.config.readLag ?? 0;
    if (lag > 0) this.fresh.set(id, lag);
  }

  /** Whether a read that would show this policy misses it; counts that read. */
  hides(id: string): boolean {
    const left = this.fresh.get(id);
    if (left === undefined) return false;
    if (left <= 1) this.fresh.delete(id);
    else this.fresh.set(id, left - 1);
    return true;
  }

  /** Some policy is still missing from reads (answers must then be built per read). */
  lagging(): boolean {
    return this.fresh.size > 0;
  }

  get(): FaultConfig {
    const config = structuredClone(this.config);
    if (config.script) {
      // Report what is left of the script, so a test can assert it was consumed.
      config.script = this.script
        .filter((s) => s.remaining > 0)
        .map((s) => ({ ...s.entry, times: s.remaining }));
    }
    return config;
  }

  decide(method: string, path: string): FaultDecision {
    const decision: FaultDecision = {
      latencyMs: this.config.latencyMs ?? 0,
      retryAfterSeconds: this.config.retryAfterSeconds ?? 1,
    };
    const wait = this.rateLimited();
    if (wait > 0) {
      decision.fault = '429';
      decision.retryAfterSeconds = wait;
      return decision;
    }
    const upper = method.toUpperCase();
    const slot = this.script.find(
      (s) =>
        s.remaining > 0 &&
        (s.entry.method === undefined || s.entry.method.toUpperCase() === upper) &&
        (s.pattern === undefined || s.pattern.test(path)),
    );
    if (slot) {
      slot.remaining -= 1;
      decision.fault = slot.entry.fault;
      return decision;
    }
    const methods = this.config.methods?.map((m) => m.toUpperCase());
    if (methods !== undefined && !methods.includes(upper)) return decision;
    const { rateReset = 0, rate429 = 0, rate5xx = 0, rateResetAfterCommit = 0 } = this.config;
    if (rateReset + rate429 + rate5xx + rateResetAfterCommit <= 0) return decision;
    const r = this.random();
    let edge = rateReset;
    if (r < edge) decision.fault = 'reset';
    else if (r < (edge += rate429)) decision.fault = '429';
    else if (r < (edge += rate5xx)) decision.fault = '503';
    else if (r < (edge += rateResetAfterCommit)) decision.fault = 'reset_after_commit';
    return decision;
  }
}
