import type { Capabilities } from '../model/capabilities.js';
import type { LiveEnvironment, LiveTarget, PolicySpec, Target } from '../model/types.js';

/**
 * A back end reads one environment's whole live state and performs single operations.
 *
 * Contract:
 * - `read()` costs a constant number of requests, whatever the number of policies.
 * - Every write is safe to retry by the caller: creates resolve an unknown outcome by re-reading
 *   by name before any retry, dissociate and delete treat 404 as done, associate treats 200 and 201
 *   as done.
 * - A 403 is never read as "gone".
 * - Methods throw `ApiError` (model/errors.ts) on failure.
 */
export interface Backend {
  readonly capabilities: Capabilities;
  read(): Promise<LiveEnvironment>;
  /** Returns the new policy's id. `exclude` lists live ids that are not the new one (replacement). */
  createPolicy(spec: PolicySpec, exclude?: readonly string[]): Promise<{ id: string }>;
  /** `before` is the live policy as read; back ends that patch send only what changed. */
  updatePolicy(id: string, spec: PolicySpec, before: PolicySpec): Promise<void>;
  deletePolicy(id: string): Promise<void>;
  /** per-pair back ends. */
  associate(policyId: string, target: Target): Promise<void>;
  dissociate(policyId: string, target: Target): Promise<void>;
  /** per-target back ends: add and remove ids on the target's list, keeping every other id. */
  writeTargetPolicies(target: LiveTarget, add: readonly string[], remove: readonly string[]): Promise<void>;
  /** Requests sent so far (for reports and benchmarks). */
  requestCount(): number;
}
