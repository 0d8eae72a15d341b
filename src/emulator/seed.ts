import { readInputFile } from '../load/input-files.js';
import { parseYamlText } from '../load/read-yaml.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { EmulatorApiError, EmulatorSetupError } from './errors.js';
import { MAX_EMULATOR_FILE_BYTES } from './persist.js';
import { newHexId, newUniqueId } from './ids.js';
import { addDeployment, type DeploymentInput } from './deployments.js';
import { addProject, createFilter, type ProjectInput } from './state.js';
import type { EmulatorFlavor, EmulatorState, RegionMetadata, SeedData, StoredRuleset } from './types.js';
import { isObject, validateRulesetRequest } from './validate.js';

/**
 * Reads a seed file or passes an object through. A `.json` file is read as JSON (a large estate's
 * seed is JSON, read many times faster than YAML); anything else by the loader's YAML reader.
 * Problems are `EmulatorSetupError`s naming the file, line and column.
 */
export function loadSeedData(seed: SeedData | string): SeedData {
  if (typeof seed !== 'string') return seed;
  const read = readInputFile(seed, seed, MAX_EMULATOR_FILE_BYTES);
  if ('diagnostics' in read) throw setupError(read.diagnostics);
  const parsed = /\.json$/i.test(seed) ? parseJsonSeed(read.text, seed) : parseYamlSeed(read.text, seed);
  if (!isObject(parsed))
    throw new EmulatorSetupError(`emulator seed ${seed} must be a mapping at the top level`);
  return parsed as SeedData;
}

function parseYamlSeed(text: string, file: string): unknown {
  const read = parseYamlText(text, file, file);
  if (read.yaml !== undefined) return read.yaml.value;
  // An empty seed is an empty emulator.
  if (read.diagnostics.every((d) => d.code === 'E_EMPTY_FILE')) return {};
  throw setupError(read.diagnostics);
}

function parseJsonSeed(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const message = (err as Error).message;
    const reason = message
      // V8 quotes the text around the error; the location says where it is.
      .replace(/, (?:\.\.\.)?".*" is not valid JSON$/s, '')
      .replace(/ in JSON at position \d+.*$/s, '');
    // JSON.parse gives an offset at best: the YAML reader (JSON is YAML) says where it stopped.
    const offset = /at position (\d+)/.exec(message)?.[1];
    const located =
      offset === undefined ? firstErrorAt(text, file) : `${file}:${lineColOf(text, Number(offset))}`;
    throw new EmulatorSetupError(`${located ?? file}: emulator seed is not valid JSON (${reason})`);
  }
}

function firstErrorAt(text: string, file: string): string | undefined {
  const error = parseYamlText(text, file, file).diagnostics.find((d) => d.severity === 'error');
  return error === undefined ? undefined : `${file}:${error.line}:${error.col}`;
}

function lineColOf(text: string, offset: number): string {
  const before = text.slice(0, offset);
  return `${before.split('\n').length}:${offset - before.lastIndexOf('\n')}`;
}

function setupError(diagnostics: readonly Diagnostic[]): EmulatorSetupError {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  return new EmulatorSetupError(`emulator seed ${errors.map(formatDiagnostic).join('\n')}`);
}

const SEED_KEYS = ['deployments', 'projects', 'rulesets', 'traffic_filters', 'metadata', 'force_next_page'];

function fail(at: string, message: string): never {
  throw new EmulatorSetupError(`invalid emulator seed at ${at}: ${message}`);
}

function listOf(seed: Record<string, unknown>, key: string): Record<string, unknown>[] {
  const v = seed[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(key, 'must be a list');
  return v.map((item, i) => {
    if (!isObject(item)) fail(`${key}[${i}]`, 'must be a mapping');
    // YAML reads an unquoted all-digit id as a number; say so instead of "invalid id".
    if (typeof item['id'] === 'number') fail(`${key}[${i}].id`, 'must be a string (quote it in YAML)');
    for (const list of ['associations', 'traffic_filters']) {
      const ids = item[list];
      if (Array.isArray(ids) && ids.some((x) => typeof x !== 'string')) {
        fail(`${key}[${i}].${list}`, 'must be a list of id strings (quote numeric ids in YAML)');
      }
    }
    return item;
  });
}

function wrap<T>(at: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EmulatorApiError) fail(at, err.message);
    throw err;
  }
}

/**
 * Adds the seed's objects to `state` (normally empty), validating them with the same rules the API
 * applies to requests. Throws `EmulatorSetupError` naming the first bad entry.
 */
export function applySeed(state: EmulatorState, flavor: EmulatorFlavor, input: SeedData): void {
  const seed = input as unknown as Record<string, unknown>;
  if (!isObject(seed)) fail('top level', 'must be a mapping');
  for (const key of Object.keys(seed)) {
    if (!SEED_KEYS.includes(key)) fail(key, `unknown key; expected one of ${SEED_KEYS.join(', ')}`);
  }

  // Seeded objects existed before the emulator started, so nothing auto-attaches to them.
  listOf(seed, 'deployments').forEach((d, i) =>
    wrap(`deployments[${i}]`, () =>
      addDeployment(state, d as unknown as DeploymentInput, { autoAttach: false }),
    ),
  );

  // Built once and kept up to date: rebuilding it per ruleset made large seeds quadratic.
  const taken = new Set([...state.rulesets.map((x) => x.id), ...state.deployments.map((x) => x.id)]);
  const deploymentsById = new Map(state.deployments.map((d) => [d.id, d]));
  listOf(seed, 'rulesets').forEach((r, i) => {
    const at = `rulesets[${i}]`;
    const req = wrap(at, () =>
      validateRulesetRequest(flavor, { ...r, include_by_default: r['include_by_default'] ?? false }),
    );
    const id = r['id'];
    if (id !== undefined && (typeof id !== 'string' || id === ''))
      fail(`${at}.id`, 'must be a non-empty string');
    if (typeof id === 'string' && taken.has(id)) fail(`${at}.id`, `duplicate id ${id}`);
    const hidden = r['hidden_associations'] ?? 0;
    if (typeof hidden !== 'number' || !Number.isInteger(hidden) || hidden < 0) {
      fail(`${at}.hidden_associations`, 'must be a non-negative integer');
    }
    const associations = r['associations'] ?? [];
    if (!Array.isArray(associations)) fail(`${at}.associations`, 'must be a list of deployment ids');
    const assoc: string[] = [];
    for (const dep of associations) {
      const d = typeof dep === 'string' ? deploymentsById.get(dep) : undefined;
      if (!d) fail(`${at}.associations`, `unknown deployment ${String(dep)}`);
      if (d.region !== req.region) {
        fail(
          `${at}.associations`,
          `deployment ${d.id} is in region ${d.region}, the ruleset in ${req.region}`,
        );
      }
      if (!assoc.includes(d.id)) assoc.push(d.id);
    }
    const ruleset: StoredRuleset = {
      id: typeof id === 'string' ? id : newUniqueId(taken),
      name: req.name,
      type: req.type,
      include_by_default: req.include_by_default,
      region: req.region,
      rules: req.rules.map((rule) => ({ id: newHexId(), ...rule })),
      associations: assoc,
      hidden_associations: hidden,
    };
    if (req.description !== undefined) ruleset.description = req.description;
    state.rulesets.push(ruleset);
    taken.add(ruleset.id);
  });

  // A set, not a scan of the filters so far: a seed of thousands of filters was quadratic.
  const filterIds = new Set(state.traffic_filters.map((x) => x.id));
  listOf(seed, 'traffic_filters').forEach((f, i) => {
    const at = `traffic_filters[${i}]`;
    const id = f['id'];
    if (id !== undefined && (typeof id !== 'string' || id.length !== 32))
      fail(`${at}.id`, 'must be exactly 32 characters');
    if (typeof id === 'string' && filterIds.has(id)) fail(`${at}.id`, `duplicate id ${id}`);
    const { id: _id, ...body } = f;
    const made = wrap(at, () => createFilter(state, body, typeof id === 'string' ? id : undefined));
    filterIds.add((made.body as { id: string }).id);
  });

  listOf(seed, 'projects').forEach((p, i) =>
    wrap(`projects[${i}]`, () => addProject(state, p as unknown as ProjectInput, { autoAttach: false })),
  );

  if (seed['metadata'] !== undefined) {
    const metadata = listOf(seed, 'metadata');
    metadata.forEach((m, i) => {
      for (const key of ['region', 'vpc_service_name', 'private_hosted_zone_domain_name'] as const) {
        if (typeof m[key] !== 'string') fail(`metadata[${i}].${key}`, 'must be a string');
      }
      const zones = m['availability_zones'];
      if (
        !Array.isArray(zones) ||
        !zones.every((z) => isObject(z) && typeof z['name'] === 'string' && typeof z['id'] === 'string')
      ) {
        fail(`metadata[${i}].availability_zones`, 'must be a list of {name, id}');
      }
    });
    state.metadata = metadata as unknown as RegionMetadata[];
  }

  const force = seed['force_next_page'];
  if (force !== undefined) {
    if (force !== true && force !== false && force !== 'traffic_filters' && force !== 'projects') {
      fail('force_next_page', 'must be true, false, "traffic_filters" or "projects"');
    }
    state.force_next_page = force;
  }
}
