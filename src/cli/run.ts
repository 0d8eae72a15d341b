import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { EXIT, exitCodeFor, type ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { ApiError, InternalError, SafetyRefusal, UserInputError } from '../model/errors.js';
import { formatDiagnostic } from '../model/diagnostics.js';

/**
 * Entry point. Parses flags, lazily imports the one command it runs (so `--version` stays fast),
 * and turns every error family into its exit code in one place.
 */

const GLOBAL_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

export const COMMAND_OPTIONS = {
  validate: {
    env: { type: 'string', multiple: true },
    format: { type: 'string' },
    strict: { type: 'boolean' },
  },
  plan: {
    env: { type: 'string', multiple: true },
    out: { type: 'string' },
    format: { type: 'string' },
    'detailed-exitcode': { type: 'boolean' },
    force: { type: 'boolean' },
    'no-delete': { type: 'boolean' },
  },
  apply: {
    env: { type: 'string', multiple: true },
    'auto-approve': { type: 'boolean' },
    force: { type: 'boolean' },
    'no-delete': { type: 'boolean' },
    concurrency: { type: 'string' },
  },
  metadata: {
    env: { type: 'string', multiple: true },
    region: { type: 'string' },
    csp: { type: 'string' },
    format: { type: 'string' },
  },
  export: {
    env: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
  explain: {
    env: { type: 'string' },
    deployment: { type: 'string' },
    project: { type: 'string' },
    ip: { type: 'string' },
    format: { type: 'string' },
  },
  emulator: {
    flavor: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    state: { type: 'string' },
    seed: { type: 'string' },
    latency: { type: 'string' },
    'rate-429': { type: 'string' },
    'retry-after': { type: 'string' },
    'rate-5xx': { type: 'string' },
    'rate-reset': { type: 'string' },
    'rate-reset-after-commit': { type: 'string' },
    'fault-seed': { type: 'string' },
    'api-key': { type: 'string', multiple: true },
  },
} as const satisfies Record<string, ParseArgsConfig['options']>;

export type CommandName = keyof typeof COMMAND_OPTIONS;

const USAGE = `ecfence — Elastic Cloud network security as code

Usage: ecfence <command> [options]

Commands:
  validate            check ecfence.yaml and policy files offline (schema + semantics)
  plan                read live state and print the ordered plan; writes nothing
  apply [PLANFILE]    apply the plan (or exactly a saved plan file), then verify convergence
  export --env NAME   write the live policies and associations as policy YAML (adoption)
  explain --env NAME  the effective policy of one deployment or project, and whether an IP gets in
  metadata            private connectivity metadata (PrivateLink / PSC) of a serverless environment
  emulator            run the local API emulator (ESS + Serverless, or ECE)

Global options:
  -c, --config FILE   config file (default ./ecfence.yaml)
  --log-level LEVEL   fatal|error|warn|info|debug|trace (default warn); logs go to stderr
  -h, --help          help for a command: ecfence <command> --help
  --version           print the version

API keys are sent only to https://api.elastic-cloud.com, loopback (the emulator), or an origin
listed in ECFENCE_ALLOWED_ENDPOINTS (comma-separated, e.g. https://ece.example.com:12443).

Exit codes: 0 ok, 1 error, 2 changes (plan --detailed-exitcode), 3 invalid input,
            4 refused by a safety guard, 5 apply partly failed.`;

export const COMMAND_HELP: Record<CommandName, string> = {
  validate: `Usage: ecfence validate [--env NAME]... [--format text|github|json] [--strict]

Checks the config and every policy file offline and prints every problem at once as
file:line:col: error|warning CODE message. Sends nothing to any API.
  --env NAME        only this environment (repeatable)
  --format FORMAT   text (default), github (Actions annotations) or json
  --strict          warnings also fail (exit 3)`,
  plan: `Usage: ecfence plan [--env NAME]... [--out FILE] [--format text|markdown|json] [--detailed-exitcode]

Reads live state (a constant number of API calls per environment), diffs it against the YAML and
prints the ordered plan. Writes nothing to any API.
  --env NAME            only this environment (repeatable; default: all)
  --out FILE            also write the plan as JSON (apply it later with: ecfence apply FILE)
  --format FORMAT       text (default), markdown (PR comment) or json (the plan file)
  --detailed-exitcode   exit 2 when there are changes, 0 when there are none
  --force               evaluate the percentage guards as overridden
  --no-delete           plan additive changes only (no delete, no dissociate)`,
  apply: `Usage: ecfence apply [PLANFILE] [--env NAME]... [--auto-approve] [--force] [--no-delete] [--concurrency N]

Without PLANFILE: plans, shows the plan, asks for confirmation (on a terminal) and applies it.
With PLANFILE: applies exactly that saved plan, refusing it (exit 4) if the config or any live
object it touches changed since it was made. Afterwards re-reads live state and reports whether
it converged: nothing left to do and no policy with two live copies (exit 5 if not).
  --auto-approve     do not ask (required when stdin is not a terminal)
  --force            override the percentage guards (max_delete_percent, max_dissociate_percent)
  --no-delete        additive only: skip deletes and dissociations
  --concurrency N    operations in flight at once (default 8)`,
  metadata: `Usage: ecfence metadata --env NAME [--region REGION] [--csp aws|azure|gcp] [--format table|json]

Prints what you need to create a private endpoint to a serverless region: the endpoint service
name (AWS PrivateLink service, Azure Private Link alias or GCP service attachment), the private
hosted zone domain, and the availability zones. Serverless environments only.
  --env NAME        the serverless environment (required)
  --region REGION   only this region (e.g. aws-eu-west-1)
  --csp CSP         only this cloud provider: aws, azure or gcp
  --format FORMAT   table (default) or json`,
  export: `Usage: ecfence export --env NAME [--out DIR]

Reads the live policies and associations of an environment and writes them as policy files, one
per region, named <env>-<region>.yaml, so that \`ecfence plan\` right after reports no changes.
An address list used verbatim by two or more policies becomes a named set in \`sources:\`.
Live policies with an ambiguous name (same region and name) are written commented out, with a
warning. Reads only; writes nothing to any API.
  --env NAME   the environment of ecfence.yaml to export (repeatable)
  --out DIR    write the files into DIR (created if missing; existing files of the same name are
               overwritten); without it, print them to stdout as one YAML stream`,
  explain: `Usage: ecfence explain --env NAME (--deployment ID | --project TYPE/ID) [--ip ADDRESS] [--format text|json]

Shows the effective policy of one target as the YAML declares it: which policies apply, their
rules with each source resolved from $sets, and file:line of every rule. Offline: reads no live
state, so what the API has may differ until the next apply.
With --ip, says whether that address would be allowed and by which rule (policy, rule, file:line),
"not allowed: no ingress rule matches", or that the target is unfiltered (no ingress policy).
Private link policies (vpce, Azure, PSC) match endpoint ids, not IP addresses.
Exits 0 whenever the target is explained, whatever the verdict; with --format json, scripts read
ip.verdict (allowed | not_allowed | unfiltered). Exits 3 on bad flags or files.
  --env NAME             the environment (required)
  --deployment ID        an ess/ece deployment
  --project TYPE/ID      a serverless project, e.g. elasticsearch/0123456789abcdef0123456789abcdef
  --ip ADDRESS           an IPv4 address to check
  --format FORMAT        text (default) or json`,
  emulator: `Usage: ecfence emulator [--flavor cloud|ece] [--port N] [--state FILE] [--seed FILE] [fault options]

Runs the local API emulator on loopback: --flavor cloud serves the Elastic Cloud Hosted
deployments API and the Serverless API on one port; --flavor ece serves the ECE API.
  --port N                      port (default 9243; 0 = any free port)
  --state FILE                  keep state in FILE (written atomically after every change)
  --seed FILE                   JSON or YAML with deployments, projects, rulesets, traffic_filters
  --api-key KEY                 accept only this API key (repeatable; default: any non-empty key)
  --latency MS                  added latency per request
  --rate-429 P --retry-after S  answer a fraction P of requests with 429 and Retry-After: S
  --rate-5xx P                  answer a fraction P with 503
  --rate-reset P                drop a fraction P of connections before processing
  --rate-reset-after-commit P   drop a fraction P of connections after the change was committed
  --fault-seed N                seed of the fault generator (repeatable runs)`,
};

/**
 * The version from our package.json, the nearest one above this module: dist/src/cli/ when run
 * from tsc's output, dist/bin/ when run from the bundle, src/cli/ under vitest.
 */
function readVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(new URL('package.json', dir), 'utf8');
    } catch {
      // none here: one level up
    }
    const pkg = text === undefined ? undefined : (JSON.parse(text) as { name?: string; version?: string });
    if (pkg?.name === 'ecfence' && pkg.version !== undefined) return pkg.version;
    if (dir.pathname === '/') throw new Error('package.json of ecfence not found above the CLI');
  }
}

export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    io.stdout(`${USAGE}\n`);
    return first === undefined ? EXIT.invalidInput : EXIT.ok;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    io.stdout(`${readVersion()}\n`);
    return EXIT.ok;
  }
  if (!(first in COMMAND_OPTIONS)) {
    io.stderr(`error: unknown command '${first}'\n\n${USAGE}\n`);
    return EXIT.invalidInput;
  }
  const command = first as CommandName;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv.slice(1),
      options: { ...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[command] },
      allowPositionals: command === 'apply',
      strict: true,
    });
  } catch (error) {
    io.stderr(`error: ${(error as Error).message}\n\n${COMMAND_HELP[command]}\n`);
    return EXIT.invalidInput;
  }
  if (parsed.values.help) {
    io.stdout(`${COMMAND_HELP[command]}\n`);
    return EXIT.ok;
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  try {
    const commands = await import('./commands/index.js');
    switch (command) {
      case 'validate':
        return await commands.runValidate(values, io);
      case 'plan':
        return await commands.runPlan(values, io);
      case 'apply':
        return await commands.runApply(values, parsed.positionals, io);
      case 'metadata':
        return await commands.runMetadata(values, io);
      case 'export':
        return await commands.runExport(values, io);
      case 'explain':
        return await commands.runExplain(values, io);
      case 'emulator':
        return await commands.runEmulator(values, io);
    }
  } catch (error) {
    reportError(error, io);
    return exitCodeFor(error);
  }
}

function reportError(error: unknown, io: Io): void {
  if (error instanceof UserInputError) {
    for (const d of error.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
    io.stderr(`error: ${error.message}\n`);
  } else if (error instanceof SafetyRefusal) {
    io.stderr(`refused [${error.guard}]: ${error.message}\n`);
  } else if (error instanceof ApiError) {
    io.stderr(`error: ${error.message}\n`);
  } else if (error instanceof InternalError || error instanceof Error) {
    io.stderr(
      `internal error: ${error.stack ?? error.message}\nThis is a bug in ecfence; please report it.\n`,
    );
  } else {
    io.stderr(`internal error: ${String(error)}\nThis is a bug in ecfence; please report it.\n`);
  }
}
