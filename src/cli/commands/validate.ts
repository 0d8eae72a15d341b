import { loadProject } from '../../load/index.js';
import { formatDiagnostic, type Diagnostic } from '../../model/diagnostics.js';
import { UserInputError } from '../../model/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Flags } from '../session.js';

const FORMATS = ['text', 'github', 'json'] as const;

/** GitHub Actions workflow-command escaping (data and properties differ). */
function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubAnnotation(d: Diagnostic): string {
  const props = [`file=${escapeProperty(d.file)}`];
  if (d.line > 0) props.push(`line=${d.line}`, `col=${d.col}`);
  props.push(`title=${escapeProperty(`ecfence ${d.code}`)}`);
  return `::${d.severity === 'error' ? 'error' : 'warning'} ${props.join(',')}::${escapeData(d.message)}`;
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
      `${JSON.stringify({ valid: !failed, errors, warnings, files: result.files, diagnostics: result.diagnostics }, null, 2)}\n`,
    );
  } else if (format === 'github') {
    for (const d of result.diagnostics) io.stdout(`${githubAnnotation(d)}\n`);
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
