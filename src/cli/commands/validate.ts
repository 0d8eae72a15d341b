import { loadProject } from '../../load/index.js';
import { formatDiagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { UserInputError } from '../../model/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Flags } from '../session.js';
import { escapeWorkflowData, escapeWorkflowProperty, toSafeJson } from '../../secrets/untrusted-text.js';

const FORMATS = ['text', 'github', 'json'] as const;

export function githubAnnotation(d: Diagnostic): string {
  const props = [`file=${escapeWorkflowProperty(d.file)}`];
  if (d.line > 0) props.push(`line=${d.line}`, `col=${d.col}`);
  props.push(`title=${escapeWorkflowProperty(`ecfence ${d.code}`)}`);
  return `::${d.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeWorkflowData(d.message)}`;
}

/** `ecfence validate`: offline, every problem at once; exit 3 on any error (or warning with --strict). */
export async function runValidate(flags: Flags, io: Io): Promise<ExitCode> {
  const format = (flags['format'] as string | undefined) ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) {
    throw new UserInputError(`--format must be one of ${FORMATS.join(', ')} (got '${format}')`);
  }
  const result = loadProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    environments: flags['env'] as string[] | undefined,
    requireCredentials: false,
  });
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  const failed = errors > 0 || (flags['strict'] === true && warnings > 0);
  if (format === 'json') {
    io.stdout(
      toSafeJson({ valid: !failed, errors, warnings, files: result.files, diagnostics: result.diagnostics }),
    );
  } else if (format === 'github') {
    for (const d of result.diagnostics) io.workflowCommands(`${githubAnnotation(d)}\n`);
  } else {
    for (const d of result.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
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
