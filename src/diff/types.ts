import type { Diagnostic } from '../model/diagnostics.js';
import type { DesiredPolicy, LivePolicy, Target } from '../model/types.js';

/**
 * What the differ finds (pure data): for each declared policy what must change, the live policies
 * to remove, and what a reviewer should see besides. The planner turns these into operations and
 * guards them; nothing here is a decision about order or safety.
 */

/**
 * A field of a policy that differs between live and declared: `description`, `include_by_default`,
 * `rules`, `type` or `region`.
 */
export interface FieldChange {
  field: string;
  before: unknown;
  after: unknown;
}

/** Something the reviewer should see that is not an operation (the plan lists these as notes). */
export interface Note {
  environment: string;
  kind:
    | 'unmanaged' // live policy no file declares (left alone)
    | 'auto_attached' // undeclared association kept because of include_by_default
    | 'unmanaged_association' // association of an unmanaged policy to a managed target
    | 'ambiguous' // two live policies share (region, name) and differ: refused
    | 'duplicate' // identical copies share (region, name): one kept, the others merged into it
    | 'incomplete'; // listing incomplete, deletes refused
  message: string;
  policy?: { region: string; name: string; id?: string };
  target?: Target;
}

/** A declared policy that several live policies claim, not identical copies: nothing is planned for it. */
export interface AmbiguousPolicy {
  region: string;
  name: string;
  /** Ids of every live policy of its region and name, sorted. */
  liveIds: string[];
}

/** What must happen to one declared policy. */
export interface PolicyChange {
  desired: DesiredPolicy;
  /** The live policy this declaration is (identity match), when there is one. */
  live?: LivePolicy;
  /** none: in sync; create: new; update: in place; replace: new policy instead of `replaces[0]`. */
  action: 'none' | 'create' | 'update' | 'replace';
  changes: FieldChange[];
  /** Targets to attach this policy to. */
  associate: Target[];
  /** Targets to detach the matched live policy from. */
  dissociate: Target[];
}

/**
 * A live policy to remove: undeclared with `prune: true`, the old half of a replacement, or an
 * identical copy of a declared policy left by two concurrent applies.
 */
export interface PolicyRemoval {
  live: LivePolicy;
  reason: 'pruned' | 'replaced' | 'duplicate';
  /** The declared policy that replaces it (reason 'replaced'). */
  replacedBy?: DesiredPolicy;
  /**
   * Reason 'duplicate': the targets (by key) the copy that is kept ends up on. An association of
   * this copy with one of them moves to the kept copy; it is not lost.
   */
  keeperTargets?: ReadonlyMap<string, Target>;
  dissociate: Target[];
}

export interface EnvironmentDiff {
  environment: string;
  changes: PolicyChange[];
  removals: PolicyRemoval[];
  notes: Note[];
  /** Declared policies that several live policies claim and that are not identical copies. */
  ambiguous: AmbiguousPolicy[];
  /** Problems in the user's files found only against live state (unknown target, region mismatch). */
  diagnostics: Diagnostic[];
}
