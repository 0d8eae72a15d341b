import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { UserInputError } from '../model/errors.js';
import { targetKey } from '../model/types.js';
import type { Operation, Plan } from './types.js';

export const PLAN_FORMAT_MAJOR = '1';

/** Writes the plan as JSON atomically (temp file + rename): a reader never sees half a plan. */
export function writePlanFile(path: string, plan: Plan, cwd: string): void {
  const full = resolve(cwd, path);
  const tmp = join(dirname(full), `.${basename(full)}.${process.pid}.tmp`);
  writeFileSync(tmp, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, full);
}

/** Reads a saved plan; refuses a file that is not a plan or has an unknown major format version. */
export function readPlanFile(path: string, cwd: string): Plan {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(resolve(cwd, path), 'utf8'));
  } catch (error) {
    throw new UserInputError(`${path}: cannot read plan file: ${(error as Error).message}`);
  }
  const plan = data as Partial<Plan> | null;
  if (!plan || typeof plan !== 'object' || typeof plan.format_version !== 'string') {
    throw new UserInputError(`${path}: not an ecfence plan file (no format_version)`);
  }
  const major = plan.format_version.split('.')[0];
  if (major !== PLAN_FORMAT_MAJOR) {
    throw new UserInputError(
      `${path}: plan format_version ${plan.format_version} is not supported (this ecfence reads ${PLAN_FORMAT_MAJOR}.x)`,
    );
  }
  if (!Array.isArray(plan.operations) || typeof plan.config_digest !== 'string' || !plan.fingerprints) {
    throw new UserInputError(`${path}: plan file is incomplete (operations, config_digest, fingerprints)`);
  }
  return plan as Plan;
}

/** Live objects an operation reads or writes, as fingerprint keys. */
function touchedKeys(op: Operation): string[] {
  const keys: string[] = [];
  if (op.policy.id) keys.push(`policy:${op.policy.id}`);
  if (op.action === 'replace') keys.push(`policy:${op.replaces.id}`);
  if (op.action === 'associate' || op.action === 'dissociate') keys.push(targetKey(op.target));
  return keys;
}

/**
 * Why a saved plan may no longer be applied: the config changed, an object it touches changed
 * (or vanished), or planning now gives different operations (someone changed live state, or the
 * plan was already applied). Empty when the saved plan is exactly what would be done now.
 */
export function findStaleness(saved: Plan, fresh: Plan): string[] {
  const problems: string[] = [];
  if (saved.config_digest !== fresh.config_digest) {
    problems.push('the configuration (ecfence.yaml or policy files) changed since the plan was made');
  }
  const seen = new Set<string>();
  for (const op of saved.operations) {
    for (const key of touchedKeys(op)) {
      const id = `${op.environment}\u0000${key}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const before = saved.fingerprints[op.environment]?.[key];
      const now = fresh.fingerprints[op.environment]?.[key];
      if (before !== now) {
        const what = key.startsWith('policy:')
          ? `policy ${op.policy.name} (${key.slice(7)})`
          : key.replace(':', ' ');
        problems.push(
          now === undefined
            ? `${op.environment}: ${what} no longer exists`
            : `${op.environment}: ${what} changed`,
        );
      }
    }
  }
  const savedIds = new Set(saved.operations.map((o) => o.id));
  const freshIds = new Set(fresh.operations.map((o) => o.id));
  for (const id of savedIds)
    if (!freshIds.has(id)) problems.push(`operation ${id} is no longer needed (already applied?)`);
  for (const id of freshIds)
    if (!savedIds.has(id)) problems.push(`operation ${id} is now needed but not in the plan`);
  return problems;
}
