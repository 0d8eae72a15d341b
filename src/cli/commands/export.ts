import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { CAPABILITIES } from '../../backends/capabilities.js';
import { exportEnvironment, joinExportedFiles, type ExportedFile } from '../../export/export-environment.js';
import { UserInputError } from '../../model/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { closeBackends, createBackends, loadDesired, loggerFor, readLive, type Flags } from '../session.js';

/** Temp file + rename: an interrupted export never leaves half a policy file behind. */
function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
}

/**
 * `ecfence export --env NAME [--out DIR]`: writes the live policies and associations of each named
 * environment as policy files (`<env>-<region>.yaml`), or prints them as one YAML stream. Reads
 * only; exit 0, or 3 on bad input, 1 on API errors.
 */
export async function runExport(flags: Flags, io: Io): Promise<ExitCode> {
  const envs = (flags['env'] as string[] | undefined) ?? [];
  if (envs.length === 0) {
    throw new UserInputError('export needs --env NAME (the environment of ecfence.yaml to export)');
  }
  const out = flags['out'] as string | undefined;
  const outDir = out === undefined ? undefined : resolve(io.cwd, out);
  // Made first, so that exporting into the (not yet existing) `policies` directory of a new
  // repository does not fail the load on a missing policy path.
  if (outDir !== undefined) mkdirSync(outDir, { recursive: true });
  const logger = loggerFor(flags, io);
  const desired = loadDesired(flags, io, true);
  const backends = createBackends(desired, io, logger);
  let session;
  try {
    session = await readLive(desired, backends);
  } finally {
    closeBackends(backends.values());
  }

  const files: ExportedFile[] = [];
  for (const env of desired.environments) {
    const live = session.lives.get(env.config.name);
    if (!live) continue;
    if (env.policies.length > 0) {
      io.stderr(
        `warning: environment '${env.config.name}' already declares ${env.policies.length} policies in policy files; the export declares them again (export into an empty directory, or remove the old files)\n`,
      );
    }
    const result = exportEnvironment(live, {
      environment: env.config.name,
      ruleOrder: CAPABILITIES[env.config.api].ruleOrder,
      ...(env.config.regions ? { regions: env.config.regions } : {}),
    });
    for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
    io.stderr(
      `${env.config.name}: exported ${result.policies} policies and ${result.associations} associations in ${result.files.length} file(s)\n`,
    );
    files.push(...result.files);
  }

  if (outDir === undefined) {
    if (files.length > 0) io.stdout(joinExportedFiles(files));
    return EXIT.ok;
  }
  for (const f of files) {
    const path = join(outDir, f.name);
    const existed = existsSync(path);
    writeAtomically(path, f.text);
    io.stderr(`${existed ? 'overwrote' : 'wrote'} ${relative(io.cwd, path) || f.name}\n`);
  }
  return EXIT.ok;
}
