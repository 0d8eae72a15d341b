import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { joinExportedFiles, type ExportedFile } from '../export/export-environment.js';
import { checkCredentials } from '../load/config.js';
import { checkAllowedEndpoints } from '../load/endpoints.js';
import { checkProject } from '../lint/index.js';
import { readConfig } from '../load/read-config.js';
import { selectEnvironments } from '../load/select-environments.js';
import { hasErrors, type Diagnostic } from '../model/diagnostics.js';
import { UserInputError } from '../model/errors.js';
import type { EnvironmentConfig } from '../model/types.js';
import type { Io } from './io.js';
import type { Flags } from './session.js';

/*
 * What the commands that write policy files for an estate that already exists (`export` from live
 * state, `import-terraform` from a Terraform state) share: reading only ecfence.yaml, and one way
 * of writing the files.
 */

/**
 * The environments of ecfence.yaml that `patterns` select (`--env` names or globs; all when
 * undefined), reading nothing else: these commands are how a repository gets its first policy
 * files, so a missing `policies` directory (or a broken policy file) must not stop them. `connect`: the command will send the key, so it must be set and its
 * endpoint allowed. Throws UserInputError (exit 3) before any request.
 */
export function readEnvironments(
  flags: Flags,
  io: Io,
  patterns: readonly string[] | undefined,
  options: { connect: boolean },
): EnvironmentConfig[] {
  const read = readConfig({ configPath: flags['config'] as string | undefined, cwd: io.cwd });
  const shown = relative(io.cwd, read.configAbs) || read.configAbs;
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  if (read.yaml !== undefined) {
    const model = read.config;
    const selected = selectEnvironments(patterns, model.environments, model.brokenEnvironments, shown);
    diagnostics.push(...selected.diagnostics);
    const names = selected.names;
    if (options.connect) {
      diagnostics.push(...checkCredentials(model, names, io.env));
      diagnostics.push(...checkAllowedEndpoints(model, names, io.env));
    }
    if (!hasErrors(diagnostics)) {
      return names.flatMap((name) => {
        const config = model.environments.get(name);
        return config ? [config] : [];
      });
    }
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  throw new UserInputError('the configuration has errors; nothing was sent to any API', errors);
}

/**
 * Policies the repository already declares for an environment would be declared twice by the new
 * files; says so on stderr, without failing.
 */
export function warnIfAlreadyDeclared(flags: Flags, io: Io, names: readonly string[], verb: string): void {
  const existing = checkProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    environments: [...names],
  }).desired;
  for (const name of names) {
    const declared = existing?.environments.find((e) => e.config.name === name)?.policies.length ?? 0;
    if (declared > 0) {
      io.stderr(
        `warning: environment '${name}' already declares ${declared} policies in policy files; the ${verb} declares them again (${verb} into an empty directory, or remove the old files)\n`,
      );
    }
  }
}

/**
 * Writes generated policy files into `out` (created if missing; files of the same name are
 * overwritten), saying so on stderr; without `out`, prints them to stdout as one YAML stream.
 */
export function emitPolicyFiles(io: Io, out: string | undefined, files: readonly ExportedFile[]): void {
  if (out === undefined) {
    if (files.length > 0) io.stdout(joinExportedFiles(files));
    return;
  }
  const outDir = resolve(io.cwd, out);
  mkdirSync(outDir, { recursive: true });
  for (const f of files) {
    const path = join(outDir, f.name);
    const existed = existsSync(path);
    // Atomic: an interrupted run never leaves half a policy file behind.
    io.writeFile(path, f.text);
    io.stderr(`${existed ? 'overwrote' : 'wrote'} ${relative(io.cwd, path) || f.name}\n`);
  }
}
