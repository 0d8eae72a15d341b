import { checkProject } from '../../lint/index.js';
import { toSafeJson } from '../../secrets/untrusted-text.js';
import { findRepositoryRoot, printDiagnostics } from '../diagnostics-output.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { codeQualityReport, githubAnnotation, pathFromRoot } from '../render/diagnostics.js';
import type { Flags } from '../session.js';

/** `ecfence validate`: offline, every problem at once; exit 3 on any error (or warning with --strict). */
export async function runValidate(flags: Flags, io: Io): Promise<ExitCode> {
  // One of the choices in command-table.ts: checked before this runs.
  const format = (flags['format'] as string | undefined) ?? 'text';
  const result = checkProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    environments: flags['env'] as string[] | undefined,
    requireCredentials: false,
  });
  let errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  let warnings = result.diagnostics.length - errors;
  const failed = errors > 0 || (flags['strict'] === true && warnings > 0);
  if (format === 'json') {
    io.stdout(
      toSafeJson({ valid: !failed, errors, warnings, files: result.files, diagnostics: result.diagnostics }),
    );
  } else if (format === 'github') {
    // GitHub shows an annotation on a changed line only when its path is from the repository root.
    const root = findRepositoryRoot(io, 'GITHUB_WORKSPACE');
    for (const d of result.diagnostics) {
      io.workflowCommands(`${githubAnnotation(d, pathFromRoot(d.file, io.cwd, root))}\n`);
    }
  } else if (format === 'gitlab') {
    const root = findRepositoryRoot(io, 'CI_PROJECT_DIR');
    io.stdout(toSafeJson(codeQualityReport(result.diagnostics, (d) => pathFromRoot(d.file, io.cwd, root))));
  } else {
    // One line per cause: the counts below are of what was printed.
    ({ errors, warnings } = printDiagnostics(io, result.diagnostics));
  }
  const policies = result.desired?.environments.reduce((n, e) => n + e.policies.length, 0) ?? 0;
  const associations = result.desired?.environments.reduce((n, e) => n + e.associations.length, 0) ?? 0;
  io.stderr(
    failed
      ? `invalid: ${errors} error(s), ${warnings} warning(s)\n`
      : `valid: ${result.files.length} file(s), ${policies} policies, ${associations} associations, ${warnings} warning(s)\n`,
  );
  return failed ? EXIT.invalidInput : EXIT.ok;
}
