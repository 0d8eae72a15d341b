import { loadProject, settleDiagnostics } from '../load/index.js';
import type { LoadOptions, LoadResult } from '../load/index.js';
import type { LintSettings } from '../load/config.js';
import { hasErrors, sortDiagnostics } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { LINT_CODES, lintPolicies } from './lint.js';

/**
 * The network lint's findings over a loaded project: warnings, unless `lint.errors` promotes their
 * code (`lint.ignore` drops it), each once, sorted.
 */
export function lintProject(loaded: LoadResult): Diagnostic[] {
  return settleDiagnostics(lintPolicies(loaded.declared), loaded.lint);
}

/**
 * True when `lint.errors` lists a lint code: then the lint can fail the run, and must run before
 * any request is sent.
 */
export function lintCanFail(settings: LintSettings): boolean {
  return settings.errors.some((code) => (LINT_CODES as readonly string[]).includes(code));
}

/** The loaded project with the lint's findings among its diagnostics (no desired state on an error). */
export function withLint(loaded: LoadResult, findings: readonly Diagnostic[]): LoadResult {
  if (findings.length === 0) return loaded;
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...findings]);
  return { ...loaded, diagnostics, desired: hasErrors(diagnostics) ? undefined : loaded.desired };
}

/** Load, then lint: everything `validate` reports. */
export function checkProject(options: LoadOptions): LoadResult {
  const loaded = loadProject(options);
  return withLint(loaded, lintProject(loaded));
}
