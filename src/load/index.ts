import { relative, resolve } from 'node:path';
import { diagnostic, hasErrors, sortDiagnostics } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { DesiredState } from '../model/types.js';
import { checkSemantics } from './checks.js';
import { applyLintSettings, checkCredentials, policyPathsOf } from './config.js';
import type { LintSettings } from './config.js';
import { checkAllowedEndpoints } from './endpoints.js';
import { buildDesiredState } from './desired.js';
import { collectSourceDecls, isFileLevelError, normalisePolicyFiles } from './normalise.js';
import type { LocatedAssociationEntry, LocatedPolicy, PolicyFileInput } from './normalise.js';
import { collectPolicyFiles } from './input-files.js';
import { readConfig } from './read-config.js';
import { readYamlFile } from './read-yaml.js';
import { validateSchema } from './schema.js';
import { selectEnvironments } from './select-environments.js';
import { buildSourceTable } from './sources.js';
import type { SourceSetDecl, SourceTable } from './sources.js';

export interface LoadOptions {
  /** Config file; default `ecfence.yaml` in `cwd`. */
  configPath?: string;
  /** Base for relative paths and for the paths shown in diagnostics; default `process.cwd()`. */
  cwd?: string;
  /**
   * The run's environment variables, default `process.env`: credentials (only with
   * `requireCredentials`) and `ECFENCE_ALLOWED_ENDPOINTS` are looked up here.
   */
  env?: Record<string, string | undefined>;
  /**
   * `--env` values (names or globs, see `selectEnvironments`): only these environments end up in the
   * desired state; every policy file is still validated. Unknown names are errors.
   */
  environments?: string[];
  /**
   * Commands that connect: each selected environment's key variable(s) must be set and non-empty,
   * and its endpoint must be one a key may be sent to.
   */
  requireCredentials?: boolean;
}

export interface LoadResult {
  /** Undefined when there is any error. */
  desired: DesiredState | undefined;
  /**
   * The loader's errors and warnings (the network lint's are `lintProject`'s), de-duplicated, with
   * `lint.errors` and `lint.ignore` applied, sorted by file, line, column.
   */
  diagnostics: Diagnostic[];
  /** Policy files read, as shown in diagnostics (relative to the cwd), in reading order. */
  files: string[];
  /** The entries as written, each with its file: what the network lint and `explain` read. */
  declared: Declared;
  /** `lint:` of ecfence.yaml. */
  lint: LintSettings;
}

/** Every declared policy and association entry with the file it is in, and the `sources:` sets. */
export interface Declared {
  policies: readonly LocatedPolicy[];
  associations: readonly LocatedAssociationEntry[];
  /** The expanded source sets, through which rules naming a `$set` are read. */
  sources: SourceTable;
  decls: readonly SourceSetDecl[];
}

const NOTHING_DECLARED: Declared = {
  policies: [],
  associations: [],
  sources: buildSourceTable([], new Set(), false).table,
  decls: [],
};

export { ARGS_FILE } from './select-environments.js';

/**
 * Reads ecfence.yaml and every policy file it points at, validates them (schema, formats,
 * semantics, against CAPABILITIES) and returns the normalised desired state. Synchronous; never
 * throws on bad input: every problem, in every file, is a diagnostic with `file:line:col`.
 * Only the reading is I/O; everything after it is pure. The network lint is a separate step
 * (`lintProject` in src/lint) over what this returns.
 */
export function loadProject(options: LoadOptions): LoadResult {
  const cwd = resolve(options.cwd ?? process.cwd());
  const show = (abs: string) => relative(cwd, abs) || '.';
  const diagnostics: Diagnostic[] = [];

  // ---- read the config
  const configRead = readConfig(options);
  diagnostics.push(...configRead.diagnostics);
  const { yaml: configYaml, invalidPaths, config, root, configAbs } = configRead;
  if (configYaml === undefined) {
    return { desired: undefined, diagnostics, files: [], declared: NOTHING_DECLARED, lint: config.lint };
  }

  // ---- read the policy files
  const collected = collectPolicyFiles(policyPathsOf(configYaml, invalidPaths), root, configRead.configReal);
  diagnostics.push(...collected.diagnostics);
  const inputs: PolicyFileInput[] = [];
  // A path that could not be followed leaves the desired state unknown: nothing may be planned.
  let incomplete = hasErrors(collected.diagnostics);
  for (const { abs, real } of collected.files) {
    const read = readYamlFile(real, show(abs));
    diagnostics.push(...read.diagnostics);
    if (read.yaml === undefined) {
      incomplete = true;
      continue;
    }
    const schema = validateSchema('policy-file', read.yaml);
    diagnostics.push(...schema.diagnostics);
    inputs.push({ yaml: read.yaml, invalidPaths: schema.invalidPaths });
  }
  // ---- pure from here on
  const { decls, brokenNames } = collectSourceDecls(inputs);
  incomplete ||= inputs.some((input) => input.invalidPaths.some(isFileLevelError));
  const sources = buildSourceTable(decls, brokenNames, incomplete);
  diagnostics.push(...sources.diagnostics);
  const normalised = normalisePolicyFiles(inputs, config, sources.table, brokenNames, incomplete);
  diagnostics.push(...normalised.diagnostics);
  diagnostics.push(...checkSemantics(config, normalised));

  const selected = selectEnvironments(options.environments, config.environments, config.brokenEnvironments);
  diagnostics.push(...selected.diagnostics);
  if (options.requireCredentials) {
    const env = options.env ?? process.env;
    diagnostics.push(...checkCredentials(config, selected.names, env));
    diagnostics.push(...checkAllowedEndpoints(config, selected.names, env));
  }

  const sorted = settleDiagnostics(diagnostics, config.lint);
  if (!config.usable && !hasErrors(sorted)) {
    // Not reachable through the schema (environments is required), but never hand out a desired
    // state built from a config that could not be read.
    sorted.push(
      diagnostic('error', 'E_SCHEMA', 'ecfence.yaml: no usable environments', { file: show(configAbs) }),
    );
  }
  return {
    desired: hasErrors(sorted) ? undefined : buildDesiredState(config, normalised, selected.names),
    diagnostics: sorted,
    files: collected.files.map((f) => show(f.abs)),
    declared: {
      policies: normalised.policies,
      associations: normalised.associations,
      sources: sources.table,
      decls,
    },
    lint: config.lint,
  };
}

/** Findings as reported: `lint:` settings applied, each once, in file, line and column order. */
export function settleDiagnostics(diagnostics: readonly Diagnostic[], settings: LintSettings): Diagnostic[] {
  return sortDiagnostics(dedupe(applyLintSettings(diagnostics, settings)));
}

function dedupe(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = JSON.stringify([d.file, d.line, d.col, d.severity, d.code, d.message]);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
