import { CAPABILITIES } from '../../model/capabilities.js';
import { exportEnvironment, type ExportedFile } from '../../export/export-environment.js';
import { UserInputError } from '../../model/errors.js';
import { oneLine } from '../../secrets/untrusted-text.js';
import { emitPolicyFiles, readEnvironments, warnIfAlreadyDeclared } from '../adoption.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { environmentLabel } from '../render/text.js';
import { closeBackends, createBackends, loggerFor, readLive, type Flags } from '../session.js';

/**
 * `ecfence export --env NAME [--out DIR]`: writes the live policies and associations of each named
 * environment as policy files (`<env>-<region>.yaml`), or prints them as one YAML stream. Reads
 * only; exit 0, or 3 on bad input, 1 when an environment could not be read (the others are
 * still exported).
 */
export async function runExport(flags: Flags, io: Io): Promise<ExitCode> {
  const patterns = (flags['env'] as string[] | undefined) ?? [];
  if (patterns.length === 0) {
    throw new UserInputError('export needs --env NAME (the environment of ecfence.yaml to export)');
  }
  const out = flags['out'] as string | undefined;
  const logger = loggerFor(flags, io);
  const configs = readEnvironments(flags, io, patterns, { connect: true });
  const names = configs.map((c) => c.name);
  const desired = {
    configDigest: '',
    environments: configs.map((config) => ({ config, policies: [], associations: [], allowUnfiltered: [] })),
  };
  warnIfAlreadyDeclared(flags, io, names, 'export');

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

  for (const u of session.unreadable) {
    io.stderr(`error: environment ${environmentLabel(u)} could not be read: ${u.error}\n`);
  }
  emitPolicyFiles(io, out, files);
  if (out !== undefined) {
    io.stderr(
      `next: make sure ${out} is under 'policies:' in ecfence.yaml, then run ecfence plan: it should report no changes\n`,
    );
  }
  return session.unreadable.length > 0 ? EXIT.error : EXIT.ok;
}
