import { CAPABILITIES } from '../../model/capabilities.js';
import { createHttpClient } from '../../backends/registry.js';
import { readMetadata, type TrafficFilterMetadata } from '../../backends/serverless/metadata.js';
import { UserInputError } from '../../model/errors.js';
import { didYouMean } from '../../model/suggest.js';
import { oneLine, toSafeJson } from '../../secrets/untrusted-text.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { Io } from '../io.js';
import { loadDesired, loggerFor, retryFromEnv, type Flags } from '../session.js';

/** Fixed-width table of what a user copies into their cloud console to create a private endpoint. */
export function renderMetadataTable(metadata: TrafficFilterMetadata): string {
  if (metadata.regions.length === 0) return 'No private connectivity metadata matches.\n';
  // Every cell is the API's text: shown on one line.
  const rows = metadata.regions.map((r) =>
    [
      r.region,
      r.csp ?? '',
      r.service_name ?? '',
      r.hosted_zone ?? '',
      r.availability_zones.map((z) => `${z.name} (${z.id})`).join(', '),
    ].map(oneLine),
  );
  const header = ['REGION', 'CSP', 'SERVICE NAME', 'HOSTED ZONE DOMAIN', 'AVAILABILITY ZONES'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

/** `ecfence metadata --env NAME [--region R] [--csp aws|azure|gcp] [--format table|json]`. */
export async function runMetadata(flags: Flags, io: Io): Promise<ExitCode> {
  const envName = flags['env'] as string[] | undefined;
  if (!envName || envName.length !== 1) throw new UserInputError('metadata needs exactly one --env NAME');
  // --csp and --format were checked against their choices (command-table.ts) before this runs.
  const csp = flags['csp'] as string | undefined;
  const format = (flags['format'] as string | undefined) ?? 'table';
  const desired = loadDesired(flags, io, true);
  const env = desired.environments[0];
  if (!env) throw new UserInputError(`environment '${envName[0]}' is not in the configuration`);
  if (!CAPABILITIES[env.config.api].metadata) {
    throw new UserInputError(
      `environment '${env.config.name}' uses the ${env.config.api} API, which serves no private connectivity metadata (serverless environments do)`,
    );
  }
  const logger = loggerFor(flags, io);
  const http = createHttpClient(env.config, {
    env: io.env,
    logger,
    retry: retryFromEnv(io.env),
    redactor: io.redactor,
  });
  try {
    const region = flags['region'] as string | undefined;
    const metadata = await readMetadata(http, { ...(region ? { region } : {}), ...(csp ? { csp } : {}) });
    if (region && metadata.regions.length === 0) {
      // The API answers an unknown region with nothing: name the region that was probably meant.
      const all = await readMetadata(http, csp ? { csp } : {});
      const hint = didYouMean(
        region,
        all.regions.map((r) => r.region),
      );
      if (hint !== '')
        io.stderr(`No private connectivity metadata for region '${oneLine(region)}'${oneLine(hint)}\n`);
    }
    io.stdout(format === 'json' ? toSafeJson(metadata) : renderMetadataTable(metadata));
    return EXIT.ok;
  } finally {
    http.close();
  }
}
