import { relative, resolve } from 'node:path';
import { diagnostic, hasErrors, sortDiagnostics } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { didYouMean } from '../model/suggest.js';
import type { DesiredState } from '../model/types.js';
import { checkSemantics } from './checks.js';
import { checkCredentials, policyPathsOf } from './config.js';
import { checkAllowedEndpoints } from './endpoints.js';
import { buildDesiredState } from './desired.js';
import { collectSourceDecls, isFileLevelError, normalisePolicyFiles } from './normalise.js';
import type { PolicyFileInput } from './normalise.js';
import { applyLintSettings, LINT_CODES, lintPolicies } from '../lint/lint.js';
import { defineLazy } from '../model/lazy.js';
import { collectPolicyFiles } from './input-files.js';
import { readConfig } from './read-config.js';
import { readYamlFile } from './read-yaml.js';
import { collectRuleOrigins } from './rule-origins.js';
import type { RuleOrigin } from './rule-origins.js';
import { validateSchema } from './schema.js';
import { buildSourceTable } from './sources.js';

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
  /** `--env` filter: only these environments end up in the desired state. Unknown names are errors. */
  environments?: string[];
  /**
   * Commands that connect: each selected environment's key variable(s) must be set and non-empty,
   * and its endpoint must be one a key may be sent to.
   */
  requireCredentials?: boolean;
  /**
   * Leave the network lint to `LoadResult.deferredLint` when it cannot produce an error (no lint
   * code in `lint.errors`) and nothing else failed, so that `plan` can lint while its read is on
   * the wire. The findings are the same; only when they are computed changes.
   */
  deferLint?: boolean;
}

export interface LoadResult {
  /** Undefined when there is any error. */
  desired: DesiredState | undefined;
  /** Errors and warnings, de-duplicated and sorted by file, line, column. */
  diagnostics: Diagnostic[];
  /** Policy files read, as shown in diagnostics (relative to the cwd), in reading order. */
  files: string[];
  /** Where each expanded rule of every declared policy was written (for `explain`). */
  origins: RuleOrigin[];
  /**
   * With `deferLint`, when the lint was left for later: computes its findings (warnings only, with
   * `lint.ignore` applied), de-duplicated and sorted. `diagnostics` then holds everything else.
   */
  deferredLint?: () => Diagnostic[];
}

/** Pseudo-file of diagnostics about command-line arguments. */
export const ARGS_FILE = '<args>';

/**
 * Reads ecfence.yaml and every policy file it points at, validates them (schema, formats,
 * semantics, against CAPABILITIES) and returns the normalised desired state. Synchronous; never
 * throws on bad input: every problem, in every file, is a diagnostic with `file:line:col`.
 * Only the reading is I/O; everything after it is pure.
 */
export function loadProject(options: LoadOptions): LoadResult {
  const cwd = resolve(options.cwd ?? process.cwd());
  const show = (abs: string) => relative(cwd, abs) || '.';
  const diagnostics: Diagnostic[] = [];

  // ---- read the config
  const configRead = readConfig(options);
  diagnostics.push(...configRead.diagnostics);
  const { yaml: configYaml, invalidPaths, config, root, configAbs } = configRead;
  if (configYaml === undefined) return { desired: undefined, diagnostics, files: [], origins: [] };

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
  const originsOf = () => collectRuleOrigins(normalised.policies, sources.table);
  const lint = () =>
    lintPolicies({
      policies: normalised.policies,
      associations: normalised.associations,
      sources: sources.table,
      decls,
    });
  const lintCanFail = config.lint.errors.some((code) => (LINT_CODES as readonly string[]).includes(code));
  const finish = (all: readonly Diagnostic[]) => sortDiagnostics(dedupe(applyLintSettings(all, config.lint)));

  const selected = selectEnvironments(options.environments, config.environments, config.brokenEnvironments);
  diagnostics.push(...selected.diagnostics);
  if (options.requireCredentials) {
    const env = options.env ?? process.env;
    diagnostics.push(...checkCredentials(config, selected.names, env));
    diagnostics.push(...checkAllowedEndpoints(config, selected.names, env));
  }

  const files = collected.files.map((f) => show(f.abs));
  if (options.deferLint === true && !lintCanFail && config.usable) {
    const sorted = finish(diagnostics);
    if (!hasErrors(sorted)) {
      const result: LoadResult = {
        desired: buildDesiredState(config, normalised, selected.names),
        diagnostics: sorted,
        files,
        origins: [],
        deferredLint: () => finish(lint()),
      };
      return defineLazy(result, 'origins', originsOf);
    }
  }
  diagnostics.push(...lint());
  const sorted = finish(diagnostics);
  if (hasErrors(sorted) || !config.usable) {
    if (!hasErrors(sorted)) {
      // Not reachable through the schema (environments is required), but never hand out a
      // desired state built from a config that could not be read.
      sorted.push(
        diagnostic('error', 'E_SCHEMA', 'ecfence.yaml: no usable environments', { file: show(configAbs) }),
      );
    }
    const failed: LoadResult = { desired: undefined, diagnostics: sorted, files, origins: [] };
    return defineLazy(failed, 'origins', originsOf);
  }
  // The origins (for `explain`) are built when first read.
  const result: LoadResult = {
    desired: buildDesiredState(config, normalised, selected.names),
    diagnostics: sorted,
    files,
    origins: [],
  };
  return defineLazy(result, 'origins', originsOf);
}

function selectEnvironments(
  requested: readonly string[] | undefined,
  valid: ReadonlyMap<string, unknown>,
  broken: ReadonlySet<string>,
): { names: string[]; diagnostics: Diagnostic[] } {
  if (requested === undefined || requested.length === 0) return { names: [...valid.keys()], diagnostics: [] };
  const declared = [...valid.keys(), ...broken].sort();
  const diagnostics = requested
    .filter((name) => !valid.has(name) && !broken.has(name))
    .map((name) =>
      diagnostic(
        'error',
        'E_UNKNOWN_ENV',
        `--env ${name}: no such environment in ecfence.yaml${didYouMean(name, declared) || ` (declared: ${declared.join(', ') || 'none'})`}`,
        { file: ARGS_FILE },
      ),
    );
  return { names: [...new Set(requested.filter((name) => valid.has(name)))], diagnostics };
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
