import type { Capabilities } from '../../src/model/capabilities.js';
import type { Backend } from '../../src/backends/types.js';
import { fingerprintOf } from '../../src/model/canonical.js';
import { ApiError } from '../../src/model/errors.js';
import {
  targetKey,
  type LiveEnvironment,
  type LiveTarget,
  type PolicySpec,
  type Target,
} from '../../src/model/types.js';

/** One call the executor made, in the order calls started. */
export interface BackendCall {
  method:
    'createPolicy' | 'updatePolicy' | 'deletePolicy' | 'associate' | 'dissociate' | 'writeTargetPolicies';
  /** Policy id or name, and the target key where there is one. */
  policy?: string;
  target?: string;
  add?: readonly string[];
  remove?: readonly string[];
}

interface StoredPolicy {
  spec: PolicySpec;
  targets: Set<string>;
}

/**
 * A faithful in-memory fake of the `Backend` interface, for testing the executor's scheduling
 * (not a back end's HTTP behaviour: that runs against the emulator). It keeps policies and
 * associations, honours the per-pair / per-target split of its capabilities (a per-target fake
 * refuses per-pair calls, as the executor must never make them), can fail chosen calls with an
 * `ApiError`, delays every write, and records calls and the peak number of writes in flight.
 */
export class MemoryBackend implements Backend {
  readonly calls: BackendCall[] = [];
  maxInFlight = 0;
  private inFlight = 0;
  private nextId = 1;
  private readonly policies = new Map<string, StoredPolicy>();
  private readonly targets = new Map<string, { target: Target; region: string }>();

  constructor(
    readonly capabilities: Capabilities,
    private readonly options: {
      environment?: string;
      /** Milliseconds every write takes. */
      delayMs?: number;
      /** Return true to fail that call with an ApiError. */
      fail?: (call: BackendCall) => boolean;
    } = {},
  ) {}

  addTarget(target: Target, region = 'us-east-1'): this {
    this.targets.set(targetKey(target), { target, region });
    return this;
  }

  addPolicy(id: string, spec: PolicySpec, targets: Target[] = []): this {
    this.policies.set(id, { spec, targets: new Set(targets.map(targetKey)) });
    return this;
  }

  /** Target keys a policy is associated with, sorted. */
  associationsOf(id: string): string[] {
    return [...(this.policies.get(id)?.targets ?? [])].sort();
  }

  policyIds(): string[] {
    return [...this.policies.keys()].sort();
  }

  async read(): Promise<LiveEnvironment> {
    const policies = [...this.policies].map(([id, p]) => {
      const associations = [...p.targets]
        .map((k) => this.targets.get(k)?.target)
        .filter((t): t is Target => !!t);
      return {
        ...p.spec,
        id,
        associations,
        hiddenAssociations: 0,
        fingerprint: fingerprintOf({ ...p.spec, id }),
      };
    });
    const targets: LiveTarget[] = [...this.targets.values()].map(({ target, region }) => {
      const policyIds = [...this.policies]
        .filter(([, p]) => p.targets.has(targetKey(target)))
        .map(([id]) => id);
      return {
        target,
        region,
        fingerprint: fingerprintOf({ target, policyIds }),
        ...(this.capabilities.associationWrites === 'per-target' ? { policyIds } : {}),
      };
    });
    return {
      environment: this.options.environment ?? 'prod',
      policies,
      targets,
      complete: true,
      requests: 2,
    };
  }

  createPolicy(spec: PolicySpec): Promise<{ id: string }> {
    return this.write({ method: 'createPolicy', policy: spec.name }, () => {
      const id = `NEW${this.nextId++}`;
      this.policies.set(id, { spec, targets: new Set() });
      return { id };
    });
  }

  updatePolicy(id: string, spec: PolicySpec): Promise<void> {
    return this.write({ method: 'updatePolicy', policy: id }, () => {
      this.mustGet(id).spec = spec;
    });
  }

  deletePolicy(id: string): Promise<void> {
    return this.write({ method: 'deletePolicy', policy: id }, () => {
      const p = this.policies.get(id);
      if (p && p.targets.size > 0) this.error(400, `ruleset ${id} is still associated`);
      this.policies.delete(id);
    });
  }

  associate(policyId: string, target: Target): Promise<void> {
    return this.write({ method: 'associate', policy: policyId, target: targetKey(target) }, () => {
      this.perPairOnly();
      this.mustGet(policyId).targets.add(targetKey(target));
    });
  }

  dissociate(policyId: string, target: Target): Promise<void> {
    return this.write({ method: 'dissociate', policy: policyId, target: targetKey(target) }, () => {
      this.perPairOnly();
      this.policies.get(policyId)?.targets.delete(targetKey(target));
    });
  }

  writeTargetPolicies(target: LiveTarget, add: readonly string[], remove: readonly string[]): Promise<void> {
    const k = targetKey(target.target);
    return this.write(
      { method: 'writeTargetPolicies', target: k, add: [...add], remove: [...remove] },
      () => {
        if (this.capabilities.associationWrites !== 'per-target') this.error(405, 'per-pair back end');
        for (const id of add) this.mustGet(id).targets.add(k);
        for (const id of remove) this.policies.get(id)?.targets.delete(k);
      },
    );
  }

  requestCount(): number {
    return this.calls.length;
  }

  private async write<T>(call: BackendCall, apply: () => T): Promise<T> {
    this.calls.push(call);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, this.options.delayMs ?? 1));
      if (this.options.fail?.(call)) this.error(500, `injected failure of ${call.method}`);
      return apply();
    } finally {
      this.inFlight -= 1;
    }
  }

  private mustGet(id: string): StoredPolicy {
    const p = this.policies.get(id);
    if (!p) this.error(404, `ruleset ${id} not found`);
    return p;
  }

  private perPairOnly(): void {
    if (this.capabilities.associationWrites !== 'per-pair')
      this.error(405, 'per-target back end: write the list');
  }

  private error(status: number, message: string): never {
    throw new ApiError(message, { method: 'POST', path: '/memory', status, retryable: false });
  }
}
