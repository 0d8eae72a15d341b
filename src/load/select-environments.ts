import picomatch from 'picomatch';
import { diagnostic, type Diagnostic } from '../model/diagnostics.js';
import { didYouMean } from '../model/suggest.js';

/** Pseudo-file of diagnostics about command-line arguments. */
export const ARGS_FILE = '<args>';

/** Whether `--env` was given a glob (`prod-*`, `eu-?`, `[ab]-prod`) rather than a name. */
const isEnvironmentGlob = (pattern: string): boolean => picomatch.scan(pattern).isGlob;

/**
 * The environments `--env` selects, in declaration order: each value is a name or a glob, and may
 * repeat (`--env 'prod-*' --env onprem`). No value selects every environment. A name that is not
 * declared, or a glob that matches none, is an E_UNKNOWN_ENV error naming it: a CI job sharded by
 * environment must never pass by planning nothing. Environments with errors of their own (`broken`)
 * count as declared, so they are reported once, where they are broken.
 */
export function selectEnvironments(
  requested: readonly string[] | undefined,
  valid: ReadonlyMap<string, unknown>,
  broken: ReadonlySet<string>,
  configShown = 'ecfence.yaml',
): { names: string[]; diagnostics: Diagnostic[] } {
  if (requested === undefined || requested.length === 0) return { names: [...valid.keys()], diagnostics: [] };
  const declared = [...valid.keys(), ...broken];
  const sorted = [...declared].sort();
  const listed = ` (declared: ${sorted.join(', ') || 'none'})`;
  const chosen = new Set<string>();
  const diagnostics: Diagnostic[] = [];
  for (const pattern of requested) {
    if (isEnvironmentGlob(pattern)) {
      // Names are matched whole, dots included (`prod-*` matches `prod-eu.1`).
      const matcher = picomatch(pattern, { dot: true });
      const matches = declared.filter((name) => matcher(name));
      if (matches.length === 0) {
        diagnostics.push(
          diagnostic(
            'error',
            'E_UNKNOWN_ENV',
            `--env '${pattern}' matches no environment in ${configShown}${listed}`,
            { file: ARGS_FILE },
          ),
        );
      }
      for (const name of matches) chosen.add(name);
    } else if (valid.has(pattern) || broken.has(pattern)) {
      chosen.add(pattern);
    } else {
      diagnostics.push(
        diagnostic(
          'error',
          'E_UNKNOWN_ENV',
          `--env ${pattern}: no such environment in ${configShown}${didYouMean(pattern, sorted) || listed}`,
          { file: ARGS_FILE },
        ),
      );
    }
  }
  return { names: [...valid.keys()].filter((name) => chosen.has(name)), diagnostics };
}
