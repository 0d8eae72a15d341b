import { isAbsolute, resolve } from 'node:path';
import { CAPABILITIES } from '../model/capabilities.js';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { EnvironmentConfig, SafetySettings, SourcePosition } from '../model/types.js';
import { isCiTokenVariable } from '../secrets/key-variables.js';
import { checkEndpoint } from './formats.js';
import type { PathProblem, PolicyPathEntry } from './input-files.js';
import { isRecord, positionAt } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';
import type { WrittenConfig, WrittenEnvironment, WrittenLint, WrittenSafety } from './written-types.js';

export const DEFAULT_POLICY_PATHS = ['policies'] as const;
export const DEFAULT_API_KEY_ENV = 'EC_API_KEY';
export const DEFAULT_SAFETY: SafetySettings = { max_delete_percent: 30, max_dissociate_percent: 30 };

/** `lint:` of ecfence.yaml, normalised (absent = empty lists). */
export interface LintSettings {
  errors: string[];
  ignore: string[];
}

/**
 * `lint.ignore` drops a code; `lint.errors` turns its warnings into errors (saying why, so nobody
 * hunts for the rule that made a warning fatal). Errors are never demoted.
 */
export function applyLintSettings(diagnostics: readonly Diagnostic[], settings: LintSettings): Diagnostic[] {
  const ignore = new Set(settings.ignore);
  const errors = new Set(settings.errors);
  return diagnostics.flatMap((d) => {
    if (d.severity !== 'warning') return [d];
    if (ignore.has(d.code)) return [];
    if (errors.has(d.code))
      return [
        { ...d, severity: 'error' as const, message: `${d.message} (an error: lint.errors lists ${d.code})` },
      ];
    return [d];
  });
}

/** The config after validation, as the rest of the loader needs it. */
export interface ConfigModel {
  yaml: YamlFile | undefined;
  /**
   * False when the config could not be read, or has no usable `environments:` map: checks that
   * need the list of environments are then skipped rather than reported against every entry.
   */
  usable: boolean;
  /** Valid environments by name. */
  environments: Map<string, EnvironmentConfig>;
  /** Declared environments that have errors of their own; entries using them are not re-checked. */
  brokenEnvironments: Set<string>;
  /** `ca_file` as written, relative to the config directory (the digest must not depend on where the repo lives). */
  writtenCaFiles: Map<string, string>;
  /** `lint:` (empty lists when absent or invalid). */
  lint: LintSettings;
  diagnostics: Diagnostic[];
}

/** The `policies:` entries of the config (or the default), each with where it was written. */
export function policyPathsOf(yaml: YamlFile, invalidPaths: readonly PathSegment[][]): PolicyPathEntry[] {
  if (invalidPaths.some((p) => p[0] === 'policies')) return [];
  const config = yaml.value as WrittenConfig;
  const written = config.policies;
  if (written === undefined) {
    return DEFAULT_POLICY_PATHS.map((value) => ({ value, at: { file: yaml.file, line: 1, col: 1 } }));
  }
  if (typeof written === 'string') return [{ value: written, at: positionAt(yaml, ['policies']) }];
  return written.map((value, i) => ({ value, at: positionAt(yaml, ['policies', i]) }));
}

/** Absolute `ca_file` paths the config names, so the caller can check them before normalising. */
export function caFilesOf(yaml: YamlFile, configDir: string): string[] {
  const environments = isRecord(yaml.value) ? yaml.value.environments : undefined;
  if (!isRecord(environments)) return [];
  return Object.values(environments).flatMap((env) =>
    isRecord(env) && typeof env.ca_file === 'string' ? [resolve(configDir, env.ca_file)] : [],
  );
}

/**
 * Turns the schema-valid parts of the config into `EnvironmentConfig`s, with the checks that need
 * only the config: endpoint, auth schemes (from CAPABILITIES), CA file, defaults.
 * `caFileProblems` says, by absolute path, why a CA file cannot be used (checked by the caller:
 * it must be a regular file inside the repository); a path it does not list is fine.
 */
export function normaliseConfig(
  yaml: YamlFile | undefined,
  invalidPaths: readonly PathSegment[][],
  configDir: string,
  caFileProblems: ReadonlyMap<string, PathProblem>,
): ConfigModel {
  const model: ConfigModel = {
    yaml,
    usable: false,
    environments: new Map(),
    brokenEnvironments: new Set(),
    writtenCaFiles: new Map(),
    lint: { errors: [], ignore: [] },
    diagnostics: [],
  };
  if (yaml !== undefined && isRecord(yaml.value) && !invalidPaths.some((p) => p[0] === 'lint')) {
    model.lint = normaliseLint(yaml, (yaml.value as unknown as WrittenConfig).lint, model.diagnostics);
  }
  if (yaml === undefined || !isRecord(yaml.value) || !isRecord(yaml.value.environments)) return model;
  if (invalidPaths.some((p) => p.length === 1 && p[0] === 'environments')) return model;
  model.usable = true;
  const config = yaml.value as unknown as WrittenConfig;
  const topSafetyBroken = invalidPaths.some((p) => p[0] === 'safety');
  const topSafety = topSafetyBroken ? undefined : config.safety;

  for (const [name, env] of Object.entries(config.environments)) {
    if (invalidPaths.some((p) => p[0] === 'environments' && p[1] === name)) {
      model.brokenEnvironments.add(name);
      continue;
    }
    const normalised = normaliseEnvironment(yaml, name, env, topSafety, configDir, caFileProblems, model);
    if (normalised === undefined) model.brokenEnvironments.add(name);
    else model.environments.set(name, normalised);
  }
  return model;
}

function normaliseLint(
  yaml: YamlFile,
  lint: WrittenLint | undefined,
  diagnostics: Diagnostic[],
): LintSettings {
  const errors = [...(lint?.errors ?? [])];
  const ignore = [...(lint?.ignore ?? [])];
  ignore.forEach((code, i) => {
    if (!errors.includes(code)) return;
    diagnostics.push(
      diagnostic(
        'error',
        'E_LINT_CONFIG',
        `lint.ignore[${i}]: ${code} is also listed in lint.errors; a code is either an error or ignored`,
        positionAt(yaml, ['lint', 'ignore', i]),
      ),
    );
  });
  return { errors, ignore };
}

function normaliseEnvironment(
  yaml: YamlFile,
  name: string,
  env: WrittenEnvironment,
  topSafety: WrittenSafety | undefined,
  configDir: string,
  caFileProblems: ReadonlyMap<string, PathProblem>,
  model: ConfigModel,
): EnvironmentConfig | undefined {
  const caps = CAPABILITIES[env.api];
  const at = (field?: string) =>
    positionAt(yaml, field === undefined ? ['environments', name] : ['environments', name, field], {
      key: field === undefined,
    });
  const before = model.diagnostics.length;
  const error = (code: string, message: string, where: SourcePosition) =>
    model.diagnostics.push(diagnostic('error', code, message, where));

  let endpoint = env.endpoint ?? caps.defaultEndpoint;
  if (endpoint === undefined) {
    error(
      'E_MISSING_ENDPOINT',
      `environments.${name}: an ${env.api} environment needs 'endpoint' (the ${env.api} API has no default), e.g. https://ece-coordinator.example.com:12443`,
      at(),
    );
  } else {
    const checked = checkEndpoint(endpoint);
    if ('code' in checked)
      error(checked.code, `environments.${name}.endpoint: ${checked.message}`, at('endpoint'));
    else endpoint = checked.endpoint;
  }

  const basic = env.username_env !== undefined && env.password_env !== undefined;
  if (basic && !caps.auth.includes('basic')) {
    error(
      'E_AUTH',
      `environments.${name}: HTTP Basic auth (username_env/password_env) is not supported by the ${env.api} API (supported: ${caps.auth.join(', ')}); use api_key_env`,
      at('username_env'),
    );
  }
  if (basic && env.api_key_env !== undefined) {
    error(
      'E_AUTH',
      `environments.${name}: give either api_key_env or username_env + password_env, not both`,
      at('api_key_env'),
    );
  }
  if (!basic && !caps.auth.includes('api_key')) {
    error(
      'E_AUTH',
      `environments.${name}: API keys are not supported by the ${env.api} API (supported: ${caps.auth.join(', ')})`,
      at(),
    );
  }

  for (const field of ['api_key_env', 'username_env', 'password_env'] as const) {
    const variable = env[field];
    if (variable !== undefined && isCiTokenVariable(variable)) {
      error(
        'E_KEY_VARIABLE',
        `environments.${name}.${field}: ${variable} holds a CI system's own token, and ecfence would send it to the API; put the Elastic credentials in variables of their own (e.g. EC_API_KEY), set by the workflow`,
        at(field),
      );
    }
  }

  let caFile: string | undefined;
  if (env.ca_file !== undefined) {
    caFile = resolve(configDir, env.ca_file);
    const problem = caFileProblems.get(caFile);
    if (problem?.code === 'E_MISSING_PATH') {
      const shown = isAbsolute(env.ca_file)
        ? env.ca_file
        : `${env.ca_file}, relative to the config's directory`;
      error('E_CA_FILE', `environments.${name}.ca_file: CA file not found (${shown})`, at('ca_file'));
    } else if (problem !== undefined) {
      error(problem.code, `environments.${name}.ca_file: '${env.ca_file}' ${problem.reason}`, at('ca_file'));
    }
    model.writtenCaFiles.set(name, env.ca_file);
  }

  if (model.diagnostics.length > before || endpoint === undefined) return undefined;
  return {
    name,
    api: env.api,
    endpoint,
    ...(basic
      ? { username_env: env.username_env, password_env: env.password_env }
      : { api_key_env: env.api_key_env ?? DEFAULT_API_KEY_ENV }),
    ...(caFile === undefined ? {} : { ca_file: caFile }),
    ...(env.regions === undefined ? {} : { regions: [...env.regions] }),
    prune: env.prune ?? false,
    protect: [...(env.protect ?? [])],
    safety: {
      max_delete_percent:
        env.safety?.max_delete_percent ?? topSafety?.max_delete_percent ?? DEFAULT_SAFETY.max_delete_percent,
      max_dissociate_percent:
        env.safety?.max_dissociate_percent ??
        topSafety?.max_dissociate_percent ??
        DEFAULT_SAFETY.max_dissociate_percent,
    },
    position: positionAt(yaml, ['environments', name], { key: true }),
  };
}

/**
 * With `requireCredentials` (plan/apply): the variables an environment names must be set and
 * non-empty. Only names are ever printed, never values.
 */
export function checkCredentials(
  model: ConfigModel,
  names: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const yaml = model.yaml;
  if (yaml === undefined) return out;
  for (const name of names) {
    const config = model.environments.get(name);
    if (config === undefined) continue;
    const needed: [field: string, variable: string | undefined][] = config.api_key_env
      ? [['api_key_env', config.api_key_env]]
      : [
          ['username_env', config.username_env],
          ['password_env', config.password_env],
        ];
    for (const [field, variable] of needed) {
      if (variable === undefined) continue;
      const value = env[variable];
      if (value !== undefined && value !== '') continue;
      const path = ['environments', name, field];
      const written = isRecord(yaml.value) && hasPath(yaml.value, path);
      out.push(
        diagnostic(
          'error',
          'E_MISSING_CREDENTIALS',
          `environment '${name}' needs credentials in the environment variable ${variable}, which is ${value === '' ? 'empty' : 'not set'}`,
          positionAt(yaml, written ? path : ['environments', name], { key: !written }),
        ),
      );
    }
  }
  return out;
}

function hasPath(value: unknown, path: readonly string[]): boolean {
  let current = value;
  for (const segment of path) {
    if (!isRecord(current) || !(segment in current)) return false;
    current = current[segment];
  }
  return true;
}
