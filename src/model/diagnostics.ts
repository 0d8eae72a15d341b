import type { SourcePosition } from './types.js';
import { oneLine } from '../secrets/untrusted-text.js';

/**
 * One finding of `validate` (or of the loader on behalf of `plan`/`apply`): printed as
 * `file:line:col: error|warning CODE message`. Codes are stable and documented in the README.
 */
export interface Diagnostic {
  severity: 'error' | 'warning';
  /** Stable upper-case code, e.g. `E_SCHEMA`, `E_DUPLICATE_POLICY`, `W_CIDR_HOST_BITS`. */
  code: string;
  message: string;
  file: string;
  /** 1-based; 0 when the problem has no line (a missing file, a missing environment variable). */
  line: number;
  col: number;
}

export function diagnostic(
  severity: Diagnostic['severity'],
  code: string,
  message: string,
  at: SourcePosition | { file: string; line?: number; col?: number },
): Diagnostic {
  return { severity, code, message, file: at.file, line: at.line ?? 0, col: at.col ?? 0 };
}

/** One line per diagnostic, whatever a quoted value in it holds. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
  return oneLine(`${where}: ${d.severity} ${d.code} ${d.message}`);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sort by file, line, column so output is stable whatever order the checks ran in. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col || a.code.localeCompare(b.code),
  );
}
