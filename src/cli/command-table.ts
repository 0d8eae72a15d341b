import type { ParseArgsConfig } from 'node:util';

/**
 * The one table of commands and options. Argument parsing (`parseArgs`), every help text, the
 * did-you-mean of an unknown command, option or value, and the shell completion scripts are all
 * generated from it, so an option added here is parsed, documented and completed at once.
 *
 * To add a command: an entry in COMMANDS (with two or three examples) and a case in `run.ts`.
 */

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** May be given more than once; the values arrive as a list. */
  multiple?: boolean;
  /** Placeholder of the value in help and usage, e.g. `NAME`. */
  value?: string;
  /** The only values accepted: checked before the command runs, offered by completion. */
  choices?: readonly string[];
  /** What the shell completes for the value (when there are no `choices`). */
  complete?: 'file' | 'directory';
  help: string;
}

export interface CommandSpec {
  /** One line, for the list of commands. */
  summary: string;
  /** After `ecfence <command> `: the synopsis of the usage line. */
  synopsis: string;
  /** What the command does, for its help; lines of at most ~100 characters. */
  about: string;
  options: Readonly<Record<string, OptionSpec>>;
  /** Positional arguments: at most `max`, completed as files or from `choices` (then the only ones accepted). */
  positionals?: { max: number; complete?: 'file'; choices?: readonly string[] };
  examples: readonly (readonly [command: string, what: string])[];
}

/** Options every command takes, before or after the command name. */
export const GLOBAL_OPTIONS = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    complete: 'file',
    help: 'config file (default ./ecfence.yaml)',
  },
  'log-level': {
    type: 'string',
    value: 'LEVEL',
    choices: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    help: 'what is logged to stderr (default warn, or ECFENCE_LOG_LEVEL)',
  },
  'log-format': {
    type: 'string',
    value: 'FORMAT',
    choices: ['text', 'json'],
    help: 'text: one readable line per event (default); json: pino JSON lines (or ECFENCE_LOG_FORMAT)',
  },
  help: { type: 'boolean', short: 'h', help: 'show help (also: ecfence help COMMAND)' },
  version: { type: 'boolean', help: 'print the version' },
} as const satisfies Record<string, OptionSpec>;

const ENV_REPEATABLE: OptionSpec = {
  type: 'string',
  multiple: true,
  value: 'NAME',
  help: "only this environment, or those a glob matches ('prod-*'); repeatable; default: all",
};
const PARALLEL_ENVIRONMENTS: OptionSpec = {
  type: 'string',
  value: 'N',
  help: 'environments read (and applied) at once (default 8); each keeps its own request concurrency',
};
const ENV_ONE: OptionSpec = { type: 'string', value: 'NAME', help: 'the environment (required)' };
const FORCE: OptionSpec = {
  type: 'boolean',
  help: 'override the percentage guards (max_delete_percent, max_dissociate_percent)',
};
const NO_DELETE: OptionSpec = {
  type: 'boolean',
  help: 'additive changes only: no delete, no dissociation',
};
const fraction = (help: string): OptionSpec => ({ type: 'string', value: 'P', help });

export const COMMANDS = {
  validate: {
    summary: 'check ecfence.yaml and policy files offline (schema + semantics)',
    synopsis: '[--env NAME]... [--format text|github|gitlab|json] [--strict]',
    about: `Checks the config and every policy file offline and prints every problem at once as
file:line:col: error|warning CODE message, with the line and a caret under the token.
Sends nothing to any API.`,
    options: {
      env: { ...ENV_REPEATABLE, help: 'only this environment (repeatable)' },
      format: {
        type: 'string',
        value: 'FORMAT',
        choices: ['text', 'github', 'gitlab', 'json'],
        help: 'text (default), github (Actions annotations), gitlab (Code Quality report) or json',
      },
      strict: { type: 'boolean', help: 'warnings also fail (exit 3)' },
    },
    examples: [
      ['ecfence validate', 'check everything; exit 3 on any error'],
      ['ecfence validate --format github', 'errors as annotations on the lines of a pull request'],
      [
        'ecfence validate --format gitlab > gl-code-quality-report.json',
        'a GitLab Code Quality report for a merge request',
      ],
    ],
  },
  plan: {
    summary: 'read live state and print the ordered plan; writes nothing',
    synopsis:
      '[--env NAME]... [--out FILE] [--format text|markdown|json] [--detailed-exitcode] [--parallel-environments N]',
    about: `Reads live state (a constant number of API calls per environment, environments in parallel),
diffs it against the YAML and prints the ordered plan. Writes nothing to any API.
Environments are independent: one that cannot be read is named with its host and the reason, the
others are still planned and shown, and the run exits 1. Every format ends with a table of the
environments and their status.`,
    options: {
      env: ENV_REPEATABLE,
      out: {
        type: 'string',
        value: 'FILE',
        complete: 'file',
        help: 'also write the plan as JSON (apply it later with: ecfence apply FILE)',
      },
      format: {
        type: 'string',
        value: 'FORMAT',
        choices: ['text', 'markdown', 'json'],
        help: 'text (default), markdown (PR comment) or json (the plan file)',
      },
      'detailed-exitcode': { type: 'boolean', help: 'exit 2 when there are changes, 0 when there are none' },
      'parallel-environments': PARALLEL_ENVIRONMENTS,
      force: { ...FORCE, help: 'evaluate the percentage guards as overridden' },
      'no-delete': { ...NO_DELETE, help: 'plan additive changes only (no delete, no dissociate)' },
    },
    examples: [
      ['ecfence plan', 'every environment, as text'],
      ['ecfence plan --env prod --out plan.json', 'one environment, and save the plan to apply later'],
      ["ecfence plan --env 'prod-*' --env onprem", 'the environments a glob matches, and one more'],
      [
        'ecfence plan --format markdown --detailed-exitcode > plan.md',
        'a pull-request comment; exit 2 on changes',
      ],
    ],
  },
  apply: {
    summary: 'apply the plan (or exactly a saved plan file), then verify convergence',
    synopsis:
      '[PLANFILE] [--env NAME]... [--auto-approve] [--force] [--no-delete] [--concurrency N] [--parallel-environments N] [--verbose]',
    about: `Without PLANFILE: plans, shows the plan, asks for confirmation (on a terminal; anything but
'yes' cancels, exit 1) and applies it. With PLANFILE: applies exactly that saved plan, refusing it
(exit 4) if the config or any live object it touches changed since it was made. Afterwards re-reads
live state and reports whether it converged: nothing left to do and no policy with two live copies
(exit 5 if not). The report leads with failed and skipped operations, then counts per phase, and
ends with a table of the environments.
Environments are independent: one that cannot be read, or whose plan a guard refuses, gets no
write; the others are applied. A PLANFILE carries its environments, and applies only those that
were read when it was made. Under 429 an environment lowers its concurrency, and raises it again
as the API recovers.`,
    options: {
      env: ENV_REPEATABLE,
      'auto-approve': { type: 'boolean', help: 'do not ask (required when stdin is not a terminal)' },
      force: FORCE,
      'no-delete': { ...NO_DELETE, help: 'additive only: skip deletes and dissociations' },
      concurrency: {
        type: 'string',
        value: 'N',
        help: 'operations in flight at once per environment (default 8; lowered while the API answers 429)',
      },
      'parallel-environments': PARALLEL_ENVIRONMENTS,
      verbose: { type: 'boolean', help: 'list every operation done in the report, not only counts' },
    },
    positionals: { max: 1, complete: 'file' },
    examples: [
      ['ecfence apply', 'plan, confirm on the terminal, apply'],
      ['ecfence apply --auto-approve --env prod', 'in CI: no prompt'],
      ['ecfence apply plan.json', 'exactly the saved plan, refused if it went stale'],
    ],
  },
  export: {
    summary: 'write the live policies and associations as policy YAML (adoption)',
    synopsis: '--env NAME [--out DIR]',
    about: `Reads the live policies and associations of an environment and writes them as policy files, one
per region, named <env>-<region>.yaml, so that \`ecfence plan\` right after reports no changes.
An address list used verbatim by two or more policies becomes a named set in \`sources:\`.
Live policies with an ambiguous name (same region and name) are written commented out, with a
warning. Reads only; writes nothing to any API.`,
    options: {
      env: { ...ENV_REPEATABLE, help: 'the environment of ecfence.yaml to export (repeatable)' },
      out: {
        type: 'string',
        value: 'DIR',
        complete: 'directory',
        help: 'write the files into DIR (created if missing; files of the same name are overwritten); without it, print them to stdout as one YAML stream',
      },
    },
    examples: [
      ['ecfence export --env prod', 'print the live state as YAML'],
      ['ecfence export --env prod --out policies', 'write it as policy files, then: ecfence plan'],
    ],
  },
  'import-terraform': {
    summary: 'policy YAML from a Terraform ec provider state, and the hand-over from Terraform',
    synopsis: 'STATE --env NAME [--env NAME] [--out DIR]',
    about: `Moves traffic filters from Terraform's ec provider to ecfence without destroying anything. Reads
STATE (\`terraform show -json > state.json\`, or a .tfstate file) and writes policy files for every
ec_deployment_traffic_filter, ec_serverless_traffic_filter, ec_deployment_traffic_filter_association,
and the traffic_filter / traffic_filter_ids lists of ec_deployment and project resources, keeping
Terraform's names, so that \`ecfence plan\` against the same estate reports no changes. Then prints
the hand-over: the \`terraform state rm\` commands (or \`removed\` blocks, Terraform 1.7 and later)
for the imported resources, and the \`lifecycle { ignore_changes = [...] }\` line for each
deployment or project resource that would otherwise undo ecfence's associations.
Offline: reads STATE and ecfence.yaml only, and copies from STATE only traffic-filter fields
(plus deployment and project names, as comments): a state holds credentials. Exit 3, with nothing
written, if a resource cannot be declared in its environment.`,
    options: {
      env: {
        ...ENV_REPEATABLE,
        help: 'the environment of ecfence.yaml the policies go to: one ess or ece environment for deployment resources, one serverless environment for serverless ones',
      },
      out: {
        type: 'string',
        value: 'DIR',
        complete: 'directory',
        help: 'write the files (<env>-<region>.yaml) into DIR and the hand-over to stdout; without it, the files go to stdout as one YAML stream and the hand-over to stderr',
      },
    },
    positionals: { max: 1, complete: 'file' },
    examples: [
      [
        'ecfence import-terraform tf.json --env prod --out policies',
        'after terraform show -json > tf.json: write the policy files, print the hand-over',
      ],
      [
        'ecfence import-terraform terraform.tfstate --env prod --env serverless',
        'a state with both kinds of resource: preview the YAML',
      ],
    ],
  },
  explain: {
    summary: 'the effective policy of one deployment or project, and whether an IP gets in',
    synopsis: '--env NAME (--deployment ID | --project TYPE/ID) [--ip ADDRESS] [--format text|json]',
    about: `Shows the effective policy of one target as the YAML declares it: which policies apply, their
rules with each source resolved from $sets, and file:line of every rule. Offline: reads no live
state, so what the API has may differ until the next apply.
With --ip, says whether that address would be allowed and by which rule (policy, rule, file:line),
"not allowed: no ingress rule matches", or that the target is unfiltered (no ingress policy).
Private link policies (vpce, Azure, PSC) match endpoint ids, not IP addresses.
Exits 0 whenever the target is explained, whatever the verdict; with --format json, scripts read
ip.verdict (allowed | not_allowed | unfiltered). Exits 3 on bad flags or files.`,
    options: {
      env: ENV_ONE,
      deployment: { type: 'string', value: 'ID', help: 'an ess/ece deployment' },
      project: {
        type: 'string',
        value: 'TYPE/ID',
        help: 'a serverless project, e.g. elasticsearch/0123456789abcdef0123456789abcdef',
      },
      ip: { type: 'string', value: 'ADDRESS', help: 'an IPv4 address to check' },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json' },
    },
    examples: [
      [
        'ecfence explain --env prod --deployment 5470a0010ebf437bb9294ea9fcba0ba0',
        'the policies of one deployment',
      ],
      [
        'ecfence explain --env prod --deployment 5470a0010ebf437bb9294ea9fcba0ba0 --ip 203.0.113.7',
        'and whether that address gets in',
      ],
    ],
  },
  metadata: {
    summary: 'private connectivity metadata (PrivateLink / PSC) of a serverless environment',
    synopsis: '--env NAME [--region REGION] [--csp aws|azure|gcp] [--format table|json]',
    about: `Prints what you need to create a private endpoint to a serverless region: the endpoint service
name (AWS PrivateLink service, Azure Private Link alias or GCP service attachment), the private
hosted zone domain, and the availability zones. Serverless environments only.`,
    options: {
      env: { ...ENV_REPEATABLE, help: 'the serverless environment (required)' },
      region: { type: 'string', value: 'REGION', help: 'only this region (e.g. aws-eu-west-1)' },
      csp: {
        type: 'string',
        value: 'CSP',
        choices: ['aws', 'azure', 'gcp'],
        help: 'only this cloud provider: aws, azure or gcp',
      },
      format: {
        type: 'string',
        value: 'FORMAT',
        choices: ['table', 'json'],
        help: 'table (default) or json',
      },
    },
    examples: [
      ['ecfence metadata --env serverless', 'every region'],
      ['ecfence metadata --env serverless --region aws-eu-west-1 --format json', 'one region, for a script'],
    ],
  },
  emulator: {
    summary: 'run the local API emulator (ESS + Serverless, or ECE)',
    synopsis: '[--flavor cloud|ece] [--port N] [--state FILE] [--seed FILE] [fault options]',
    about: `Runs the local API emulator on loopback: --flavor cloud serves the Elastic Cloud Hosted
deployments API and the Serverless API on one port; --flavor ece serves the ECE API.`,
    options: {
      flavor: {
        type: 'string',
        value: 'FLAVOR',
        choices: ['cloud', 'ece'],
        help: 'cloud (ESS + Serverless, default) or ece',
      },
      port: { type: 'string', value: 'N', help: 'port (default 9243; 0 = any free port)' },
      host: { type: 'string', value: 'HOST', help: 'loopback address to listen on (default 127.0.0.1)' },
      state: {
        type: 'string',
        value: 'FILE',
        complete: 'file',
        help: 'keep state in FILE (written atomically after every change)',
      },
      seed: {
        type: 'string',
        value: 'FILE',
        complete: 'file',
        help: 'a JSON (*.json) or YAML file of deployments, projects, rulesets, traffic_filters (deployment tags: [{key, value}]; project tags: {key: value}; the format is in the README, "The emulator")',
      },
      'api-key': {
        type: 'string',
        multiple: true,
        value: 'KEY',
        help: 'accept only this API key (repeatable; default: any non-empty key)',
      },
      latency: { type: 'string', value: 'MS', help: 'added latency per request' },
      'rate-429': fraction('answer a fraction P of requests with 429 (see --retry-after)'),
      'retry-after': { type: 'string', value: 'S', help: 'the Retry-After of those 429s, in seconds' },
      'rate-5xx': fraction('answer a fraction P with 503'),
      'rate-reset': fraction('drop a fraction P of connections before processing'),
      'rate-reset-after-commit': fraction('drop a fraction P of connections after the change was committed'),
      'read-lag': {
        type: 'string',
        value: 'N',
        help: 'a policy just created is missing from the next N reads that would show it (listings leave it out, a GET of it answers 404)',
      },
      'rate-limit': {
        type: 'string',
        value: 'N',
        help: 'answer 429 (Retry-After in whole seconds, at least 1) above N requests per second: a token bucket holding one second of requests',
      },
      'fault-seed': { type: 'string', value: 'N', help: 'seed of the fault generator (repeatable runs)' },
    },
    examples: [
      ['ecfence emulator --port 9243', 'Elastic Cloud Hosted and Serverless on http://127.0.0.1:9243'],
      [
        'ecfence emulator --flavor ece --seed seed.yaml --state state.json',
        'ECE, seeded, state kept in a file',
      ],
      ['ecfence emulator --rate-429 0.05 --retry-after 1 --fault-seed 7', 'with repeatable faults'],
    ],
  },
  environments: {
    summary: 'list the environments of ecfence.yaml (name, api), e.g. for a CI matrix',
    synopsis: '[--env NAME]... [--format text|json]',
    about: `Prints the environments of ecfence.yaml with their API, in the order they are declared. With
--format json, one line: [{"name": "...", "api": "..."}, ...], for a CI matrix with one job per
environment. Reads only ecfence.yaml; offline, no key needed.`,
    options: {
      env: {
        ...ENV_REPEATABLE,
        help: "only this environment, or those a glob matches ('prod-*'); repeatable",
      },
      format: { type: 'string', value: 'FORMAT', choices: ['text', 'json'], help: 'text (default) or json' },
    },
    examples: [
      ['ecfence environments', 'one line per environment: name and api'],
      [
        "ecfence environments --env 'prod-*' --format json",
        'one JSON line for a CI matrix (examples/github/plan-matrix.yml)',
      ],
    ],
  },
  completion: {
    summary: 'print a shell completion script (bash, zsh or fish)',
    synopsis: 'bash|zsh|fish',
    about: `Prints a completion script for commands, options and their values. Load it from your shell's
start-up file.`,
    options: {},
    positionals: { max: 1, choices: ['bash', 'zsh', 'fish'] },
    examples: [
      ['source <(ecfence completion bash)', 'bash: in ~/.bashrc'],
      ['ecfence completion zsh > "${fpath[1]}/_ecfence"', 'zsh: once, then restart the shell'],
      ['ecfence completion fish > ~/.config/fish/completions/ecfence.fish', 'fish: once'],
    ],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** Global and command options together, as `parseArgs` takes them. */
export function optionsOf(command: CommandName): Record<string, OptionSpec> {
  return { ...GLOBAL_OPTIONS, ...COMMANDS[command].options };
}

export function parseArgsOptions(
  options: Record<string, OptionSpec>,
): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(options).map(([name, o]) => [
      name,
      {
        type: o.type,
        ...(o.short !== undefined ? { short: o.short } : {}),
        ...(o.multiple ? { multiple: true } : {}),
      },
    ]),
  );
}
