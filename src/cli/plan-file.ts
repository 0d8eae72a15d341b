import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { ErrorObject } from 'ajv';
import { UserInputError } from '../model/errors.js';
import type { Plan } from '../plan/types.js';

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
