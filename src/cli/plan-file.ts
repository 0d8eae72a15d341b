import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { UserInputError } from '../model/errors.js';
import { targetKey } from '../model/types.js';
import type { Operation, Plan } from '../plan/types.js';

export const PLAN_FORMAT_MAJOR = '1';

/** A plan file larger than this is refused unread: far above the plan of any real estate. */
export const MAX_PLAN_FILE_BYTES = 64 * 1024 * 1024;

/** Schema errors listed before "and N more". */
const ERRORS_SHOWN = 5;

interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

/**
 * Reads a saved plan. A saved plan may come from a pull request's artifact, so it is untrusted
 * input: it is size-bounded and validated against schemas/plan.schema.json before anything uses
 * it, and every way it can be wrong is a UserInputError (exit 3) naming the file and the path of
 * the bad field, never an internal error.
 */
export async function readPlanFile(path: string, cwd: string): Promise<Plan> {
  const full = resolve(cwd, path);
  let data: unknown;
  try {
    const size = statSync(full).size;
    if (size > MAX_PLAN_FILE_BYTES) {
      throw new Error(`${size} bytes is more than a plan file can be (${MAX_PLAN_FILE_BYTES})`);
    }
    data = JSON.parse(readFileSync(full, 'utf8'));
  } catch (error) {
    throw new UserInputError(`${path}: cannot read plan file: ${(error as Error).message}`);
  }
  const version = (data as { format_version?: unknown } | null)?.format_version;
  if (data === null || typeof data !== 'object' || typeof version !== 'string') {
    throw new UserInputError(`${path}: not an ecfence plan file (no format_version)`);
  }
  if (version.split('.')[0] !== PLAN_FORMAT_MAJOR) {
    throw new UserInputError(
      `${path}: plan format_version ${version} is not supported (this ecfence reads ${PLAN_FORMAT_MAJOR}.x)`,
    );
  }
  // Loaded here only: the validator is large, and only `apply PLANFILE` needs it.
  const validate = (await import('../generated/plan-schema.js')).plan as SchemaValidator;
  if (!validate(data)) {
    const errors = validate.errors ?? [];
    const lines = errors.slice(0, ERRORS_SHOWN).map((e) => `  ${describeSchemaError(e)}`);
    if (errors.length > ERRORS_SHOWN) lines.push(`  … and ${errors.length - ERRORS_SHOWN} more`);
    throw new UserInputError(`${path}: not a valid ecfence plan file:\n${lines.join('\n')}`);
  }
  return data as Plan;
}

/** `/operations/0/policy: must be object`: the JSON pointer of the bad field, then what is wrong. */
function describeSchemaError(error: ErrorObject): string {
  const extra = (error.params as { additionalProperty?: unknown }).additionalProperty;
  const detail = typeof extra === 'string' ? ` (${JSON.stringify(extra)})` : '';
  return `${error.instancePath || '/'}: ${error.message ?? 'is invalid'}${detail}`;
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
