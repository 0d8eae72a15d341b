import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { CAPABILITIES } from '../../backends/capabilities.js';
import { exportEnvironment, joinExportedFiles, type ExportedFile } from '../../export/export-environment.js';
import { caFilesOf, checkCredentials, normaliseConfig } from '../../load/config.js';
import { checkAllowedEndpoints } from '../../load/endpoints.js';
import { loadProject } from '../../load/index.js';
import { readYamlFile } from '../../load/read-yaml.js';
import { validateSchema } from '../../load/schema.js';
import { diagnostic, hasErrors, type Diagnostic } from '../../model/diagnostics.js';
import { didYouMean } from '../../model/suggest.js';
import { UserInputError } from '../../model/errors.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import type { DesiredState } from '../../model/types.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { closeBackends, createBackends, loggerFor, readLive, type Flags } from '../session.js';

/**
 * Only ecfence.yaml is read: export is how a repository gets its first policy files, so a missing
 * `policies` directory (or a broken policy file) must not stop it. Throws UserInputError (exit 3)
 * before any request.
 */
function loadEnvironments(flags: Flags, io: Io, names: readonly string[]): DesiredState {
  const configAbs = resolve(io.cwd, (flags['config'] as string | undefined) ?? 'ecfence.yaml');
  const shown = relative(io.cwd, configAbs) || configAbs;
  const read = readYamlFile(configAbs, shown);
  const diagnostics: Diagnostic[] = [...read.diagnostics];
  if (read.yaml !== undefined) {
    const schema = validateSchema('config', read.yaml);
    diagnostics.push(...schema.diagnostics);
    const existing = new Set(caFilesOf(read.yaml, dirname(configAbs)).filter((f) => existsSync(f)));
    const model = normaliseConfig(read.yaml, schema.invalidPaths, dirname(configAbs), existing);
    diagnostics.push(...model.diagnostics);
    for (const name of names) {
      if (!model.environments.has(name) && !model.brokenEnvironments.has(name)) {
        const declared = [...model.environments.keys(), ...model.brokenEnvironments].sort();
        diagnostics.push(
          diagnostic(
            'error',
            'E_UNKNOWN_ENV',
            `--env ${name}: no such environment in ${shown}${didYouMean(name, declared) || ` (declared: ${declared.join(', ') || 'none'})`}`,
            { file: '<args>' },
          ),
        );
      }
    }
    diagnostics.push(...checkCredentials(model, names, io.env));
    diagnostics.push(...checkAllowedEndpoints(model, names, io.env));
    if (!hasErrors(diagnostics)) {
      return {
        configDigest: '',
        environments: names.flatMap((name) => {
          const config = model.environments.get(name);
          return config ? [{ config, policies: [], associations: [], allowUnfiltered: [] }] : [];
        }),
      };
    }
  }
  const errors = diagnostics.filter((d) => d.severity === 'error');
  throw new UserInputError('the configuration has errors; nothing was sent to any API', errors);
}

/**
 * `ecfence export --env NAME [--out DIR]`: writes the live policies and associations of each named
 * environment as policy files (`<env>-<region>.yaml`), or prints them as one YAML stream. Reads
 * only; exit 0, or 3 on bad input, 1 on API errors.
 */
export async function runExport(flags: Flags, io: Io): Promise<ExitCode> {
  const names = [...new Set((flags['env'] as string[] | undefined) ?? [])];
  if (names.length === 0) {
    throw new UserInputError('export needs --env NAME (the environment of ecfence.yaml to export)');
  }
  const out = flags['out'] as string | undefined;
  const outDir = out === undefined ? undefined : resolve(io.cwd, out);
  const logger = loggerFor(flags, io);
  const desired = loadEnvironments(flags, io, names);

  // Policies the repository already declares would be declared twice; say so, without failing.
  const existing = loadProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    environments: names,
  }).desired;

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
    const declared =
      existing?.environments.find((e) => e.config.name === env.config.name)?.policies.length ?? 0;
    if (declared > 0) {
      io.stderr(
        `warning: environment '${env.config.name}' already declares ${declared} policies in policy files; the export declares them again (export into an empty directory, or remove the old files)\n`,
      );
    }
    const result = exportEnvironment(live, {
      environment: env.config.name,
      ruleOrder: CAPABILITIES[env.config.api].ruleOrder,
      ...(env.config.regions ? { regions: env.config.regions } : {}),
    });
    for (const w of result.warnings) io.stderr(`warning: ${oneLine(w)}\n`);
    io.stderr(
      `${env.config.name}: exported ${result.policies} policies and ${result.associations} associations in ${result.files.length} file(s)\n`,
    );
    files.push(...result.files);
  }

  if (outDir === undefined) {
    if (files.length > 0) io.stdout(joinExportedFiles(files));
    return EXIT.ok;
  }
  mkdirSync(outDir, { recursive: true });
  for (const f of files) {
    const path = join(outDir, f.name);
    const existed = existsSync(path);
    // Atomic: an interrupted export never leaves half a policy file behind.
    io.writeFile(path, f.text);
    io.stderr(`${existed ? 'overwrote' : 'wrote'} ${relative(io.cwd, path) || f.name}\n`);
  }
  io.stderr(
    `next: make sure ${out} is under 'policies:' in ecfence.yaml, then run ecfence plan: it should report no changes\n`,
  );
  return EXIT.ok;
}
