import { ApiError, InternalError, SafetyRefusal, UserInputError } from '../model/errors.js';

/** SPEC §4: the one table of exit codes. Only the CLI entry sets `process.exitCode`. */
export const EXIT = {
  ok: 0,
  error: 1,
  changes: 2,
  invalidInput: 3,
  refused: 4,
  partial: 5,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UserInputError) return EXIT.invalidInput;
  if (error instanceof SafetyRefusal) return EXIT.refused;
  if (error instanceof ApiError) return EXIT.error;
  if (error instanceof InternalError) return EXIT.error;
  return EXIT.error;
}
