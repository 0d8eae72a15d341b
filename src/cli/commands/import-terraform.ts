import { closeSync, constants, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { CAPABILITIES } from '../../model/capabilities.js';
import { exportEnvironment, type ExportedFile } from '../../export/export-environment.js';
import { renderHandOver } from '../../import/hand-over.js';
import {
  familyOf,
  importTerraformState,
  isImportedType,
  type StateFamily,
} from '../../import/terraform-import.js';
import { readStateInstances, StateFormatError } from '../../import/terraform-state.js';
import { diagnostic } from '../../model/diagnostics.js';
import { UserInputError } from '../../model/errors.js';
import type { EnvironmentConfig } from '../../model/types.js';
import { emitPolicyFiles, readEnvironments, warnIfAlreadyDeclared } from '../adoption.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import type { Flags } from '../session.js';

/** A state of thousands of deployments is tens of MB; anything far larger is not a state. */
export const MAX_STATE_BYTES = 64 * 1024 * 1024;

function invalid(shown: string, message: string): UserInputError {
  return new UserInputError(`${shown}: ${message}; nothing was written`, [
    diagnostic('error', 'E_TF_STATE', message, { file: shown }),
  ]);
}

/**
 * The state file's text: a regular file (never a FIFO or device, which could block or never
 * end), at most MAX_STATE_BYTES, UTF-8 (a byte-order mark is dropped) or UTF-16 with its mark, as
 * PowerShell's `>` writes `terraform show -json`.
 */
function readStateText(path: string, shown: string): string {
  let fd: number;
  try {
    if (!statSync(path).isFile()) throw invalid(shown, 'not a regular file');
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    throw invalid(shown, `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_STATE_BYTES) {
      throw invalid(shown, `is ${size} bytes; a Terraform state is read up to ${MAX_STATE_BYTES} bytes`);
    }
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    const bytes = buffer.subarray(0, read);
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes.subarray(2));
    if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes.subarray(2));
    const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    return bytes.toString('utf8', start);
  } finally {
    closeSync(fd);
  }
}

/** `--env` names → the environment of each family; at most one per family. */
function environmentsByFamily(
  configs: readonly EnvironmentConfig[],
): Partial<Record<StateFamily, EnvironmentConfig>> {
  const byFamily: Partial<Record<StateFamily, EnvironmentConfig>> = {};
  for (const config of configs) {
    const family = familyOf(config.api);
    const other = byFamily[family];
    if (other !== undefined) {
      const kind = family === 'deployments' ? 'ess/ece' : 'serverless';
      throw new UserInputError(
        `--env ${other.name} and --env ${config.name} are both ${kind} environments: give at most one ess or ece environment and one serverless environment`,
      );
    }
    byFamily[family] = config;
  }
  return byFamily;
}

/**
 * `ecfence import-terraform STATE --env NAME [--env NAME] [--out DIR]`: policy files for the
 * traffic filters and associations a Terraform `ec` provider state holds, and the hand-over that
 * takes them out of Terraform without destroying anything. Offline: reads the state and
 * ecfence.yaml, sends nothing anywhere. Exit 0, or 3 on bad input (nothing written).
 */
export function runImportTerraform(flags: Flags, positionals: readonly string[], io: Io): ExitCode {
  if (positionals.length !== 1) {
    throw new UserInputError(
      'import-terraform needs exactly one STATE: `terraform show -json` output or a .tfstate file',
    );
  }
  const names = [...new Set((flags['env'] as string[] | undefined) ?? [])];
  if (names.length === 0) {
    throw new UserInputError(
      'import-terraform needs --env NAME: the environment of ecfence.yaml the policies belong to (one ess or ece, one serverless)',
    );
  }
  const out = flags['out'] as string | undefined;
  const byFamily = environmentsByFamily(readEnvironments(flags, io, names, { connect: false }));

  const path = resolve(io.cwd, positionals[0] as string);
  const shown = relative(io.cwd, path) || path;
  let doc: unknown;
  try {
    doc = JSON.parse(readStateText(path, shown));
  } catch (error) {
    if (error instanceof UserInputError) throw error;
    // JSON.parse's message quotes the text around the error: a state holds secrets.
    throw invalid(shown, 'is not JSON: give `terraform show -json` output or a .tfstate file');
  }
  let instances;
  try {
    ({ instances } = readStateInstances(doc, isImportedType));
  } catch (error) {
    if (error instanceof StateFormatError) throw invalid(shown, `${error.at}: ${error.message}`);
    throw error;
  }

  const imported = importTerraformState(instances, byFamily);
  if (imported.problems.length > 0) {
    const diagnostics = imported.problems.map((p) =>
      diagnostic('error', 'E_TF_STATE', `${p.address}: ${p.message}`, { file: shown }),
    );
    throw new UserInputError(
      `${diagnostics.length} problem(s) in ${shown}; nothing was written`,
      diagnostics,
    );
  }
  warnIfAlreadyDeclared(flags, io, names, 'import');

  const files: ExportedFile[] = [];
  const skipped = new Set<string>();
  for (const w of imported.warnings) io.stderr(`warning: ${w}\n`);
  for (const env of imported.environments) {
    const result = exportEnvironment(env, {
      environment: env.config.name,
      ruleOrder: CAPABILITIES[env.config.api].ruleOrder,
      origin: '`ecfence import-terraform` from a Terraform state',
    });
    for (const w of result.warnings) io.stderr(`warning: ${w}; they stay in Terraform\n`);
    for (const id of result.skipped) skipped.add(id);
    io.stderr(
      `${env.config.name}: imported ${result.policies} policies and ${result.associations} associations in ${result.files.length} file(s)\n`,
    );
    files.push(...result.files);
  }

  emitPolicyFiles(io, out, files);
  const handOver = renderHandOver({
    handOver: imported.handOver.filter((h) => !skipped.has(h.policyId)),
    keep: imported.keep,
    environments: imported.environments.map((e) => e.config.name),
  });
  if (imported.keep.length > 0) {
    io.stderr(
      `warning: ${imported.keep.length} deployment or project resource(s) in Terraform would undo ecfence's associations until their blocks ignore_changes (see the hand-over)\n`,
    );
  }
  if (out === undefined) {
    io.stderr(handOver);
    return EXIT.ok;
  }
  io.stdout(handOver);
  io.stderr(
    `next: make sure ${out} is under 'policies:' in ecfence.yaml and run ecfence plan: it should report no changes; then follow the hand-over above\n`,
  );
  return EXIT.ok;
}
