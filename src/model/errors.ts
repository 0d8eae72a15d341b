import type { Diagnostic } from './diagnostics.js';

/**
 * The three error families (STYLE.md). Deep code throws one of these; only the CLI entry turns
 * them into an exit code, from the one table in `src/cli/exit-codes.ts`.
 */

/** Bad input: flags, config or policy files. Exit 3, printed without a stack. Nothing was sent. */
export class UserInputError extends Error {
  override readonly name = 'UserInputError';
  constructor(
    message: string,
    readonly diagnostics: readonly Diagnostic[] = [],
  ) {
    super(message);
  }
}

/** A safety guard refused the plan (thresholds, protect, unfiltered target, stale plan). Exit 4. */
export class SafetyRefusal extends Error {
  override readonly name = 'SafetyRefusal';
  constructor(
    message: string,
    readonly guard: string,
  ) {
    super(message);
  }
}

/** An API call failed (after retries where they apply). Exit 1 unless it was one op of an apply. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly details: {
      method: string;
      /** Path only, never a full URL with credentials. */
      path: string;
      status?: number;
      /** `errors[].code` / `x-cloud-error-codes` where the API gives one. */
      code?: string;
      retryable: boolean;
      /** True when the request may have reached the server and been committed (reset after send). */
      outcomeUnknown?: boolean;
    },
  ) {
    super(message);
  }
}

/** A bug. Exit 1 with a stack and a request to report it. */
export class InternalError extends Error {
  override readonly name = 'InternalError';
}
