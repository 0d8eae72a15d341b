import { dirname, relative, resolve } from 'node:path';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { caFilesOf, normaliseConfig } from './config.js';
import type { ConfigModel } from './config.js';
import { confineFile, confinePath, inputRoot } from './input-files.js';
import type { InputRoot, PathProblem } from './input-files.js';
import { readYamlFile } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';
import { validateSchema } from './schema.js';

/** ecfence.yaml as read, checked against its schema and normalised. */
export interface ConfigRead {
  /** Undefined when the config could not be read or parsed (see `diagnostics`). */
  yaml: YamlFile | undefined;
  invalidPaths: PathSegment[][];
  config: ConfigModel;
  /** The directory every input must stay in: the one that holds ecfence.yaml. */
  root: InputRoot;
  configAbs: string;
  /** Its real path (never read again as a policy file). */
  configReal: string;
  diagnostics: Diagnostic[];
}

/**
 * Reads ecfence.yaml (default: in `cwd`): the file itself and every `ca_file` it names must be
 * regular files inside the directory that holds it. Never throws on bad input.
 */
export function readConfig(options: {
  configPath?: string | undefined;
  cwd?: string | undefined;
}): ConfigRead {
  const cwd = resolve(options.cwd ?? process.cwd());
  const show = (abs: string) => relative(cwd, abs) || '.';
  const configAbs = resolve(cwd, options.configPath ?? 'ecfence.yaml');
  const configDir = dirname(configAbs);
  const root = inputRoot(configDir);
  const failed = (diagnostics: Diagnostic[], configReal = configAbs): ConfigRead => ({
    yaml: undefined,
    invalidPaths: [],
    config: normaliseConfig(undefined, [], configDir, new Map()),
    root,
    configAbs,
    configReal,
    diagnostics,
  });

  const confined = confinePath(root, configAbs);
  if ('code' in confined) {
    const message =
      confined.code !== 'E_MISSING_PATH'
        ? `config file '${show(configAbs)}' ${confined.reason}`
        : options.configPath === undefined
          ? `no ecfence.yaml in ${cwd} (give one with --config FILE)`
          : `config file '${show(configAbs)}' not found`;
    const code = confined.code === 'E_MISSING_PATH' ? 'E_CONFIG_NOT_FOUND' : confined.code;
    return failed([diagnostic('error', code, message, { file: show(configAbs) })]);
  }
  const read = readYamlFile(confined.real, show(configAbs));
  if (read.yaml === undefined) return failed(read.diagnostics, confined.real);
  const schema = validateSchema('config', read.yaml);
  const caFileProblems = checkCaFiles(caFilesOf(read.yaml, configDir), root);
  const config = normaliseConfig(read.yaml, schema.invalidPaths, configDir, caFileProblems);
  return {
    yaml: read.yaml,
    invalidPaths: schema.invalidPaths,
    config,
    root,
    configAbs,
    configReal: confined.real,
    diagnostics: [...read.diagnostics, ...schema.diagnostics, ...config.diagnostics],
  };
}

/** Why each CA file cannot be used, by absolute path; the usable ones are not listed. Reads none. */
function checkCaFiles(paths: readonly string[], root: InputRoot): Map<string, PathProblem> {
  const problems = new Map<string, PathProblem>();
  for (const abs of paths) {
    const confined = confineFile(root, abs);
    if ('code' in confined) problems.set(abs, confined);
  }
  return problems;
}
