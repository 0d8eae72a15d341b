import { CAPABILITIES } from '../../model/capabilities.js';
import { explainTarget } from '../../explain/explain-target.js';
import type { Explanation, ExplainedRule } from '../../explain/explain-target.js';
import { checkProject } from '../../lint/index.js';
import { hasErrors } from '../../model/diagnostics.js';
import { printDiagnostics } from '../diagnostics-output.js';
import { UserInputError } from '../../model/errors.js';
import { parseIpv4Address } from '../../model/ipv4.js';
import { PROJECT_TYPES, targetLabel } from '../../model/types.js';
import type { ProjectType, SourcePosition, Target } from '../../model/types.js';
import { accessLabel } from '../../plan/exposure.js';
import { toSafeJson } from '../../secrets/untrusted-text.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { paint, type Io } from '../io.js';
import type { Flags } from '../session.js';

const TARGET_ID = /^[a-z0-9]{32}$/;

/**
 * `ecfence explain`: offline, from the YAML only. Exit 0 whenever the target could be explained
 * (whatever the verdict for `--ip`: scripts read `ip.verdict` from `--format json`), 3 on bad
 * flags or files.
 */
export async function runExplain(flags: Flags, io: Io): Promise<ExitCode> {
  // Its values were checked against the command table (command-table.ts) before this runs.
  const format = (flags['format'] as string | undefined) ?? 'text';
  const envName = flags['env'] as string | undefined;
  if (envName === undefined) throw new UserInputError('explain needs --env NAME');
  const target = targetFromFlags(flags);
  const ip = flags['ip'] as string | undefined;
  if (ip !== undefined && parseIpv4Address(ip) === undefined) {
    throw new UserInputError(`--ip '${ip}' is not an IPv4 address (e.g. 203.0.113.7)`);
  }

  const result = checkProject({
    configPath: flags['config'] as string | undefined,
    cwd: io.cwd,
    env: io.env,
    environments: [envName],
    requireCredentials: false,
  });
  printDiagnostics(
    io,
    result.diagnostics.filter((d) => d.severity === 'warning'),
  );
  const env = result.desired?.environments.find((e) => e.config.name === envName);
  if (env === undefined || hasErrors(result.diagnostics)) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    throw new UserInputError('the configuration has errors', errors);
  }
  const kind = CAPABILITIES[env.config.api].targetKind;
  if (target.kind !== kind) {
    throw new UserInputError(
      `${env.config.api} environment '${envName}' attaches policies to ${kind}s: use ${kind === 'project' ? '--project TYPE/ID' : '--deployment ID'}`,
    );
  }

  const explanation = explainTarget(env, result.declared, target, ip);
  io.stdout(format === 'json' ? toSafeJson(explanation) : renderExplanation(explanation, io));
  return EXIT.ok;
}

function targetFromFlags(flags: Flags): Target {
  const deployment = flags['deployment'] as string | undefined;
  const project = flags['project'] as string | undefined;
  if ((deployment === undefined) === (project === undefined)) {
    throw new UserInputError('explain needs exactly one of --deployment ID and --project TYPE/ID');
  }
  if (deployment !== undefined) {
    if (!TARGET_ID.test(deployment)) {
      throw new UserInputError(
        `--deployment '${deployment}' is not a deployment id (32 lowercase letters or digits)`,
      );
    }
    return { kind: 'deployment', id: deployment };
  }
  const [type = '', id = '', ...rest] = (project ?? '').split('/');
  if (rest.length > 0 || !(PROJECT_TYPES as readonly string[]).includes(type) || !TARGET_ID.test(id)) {
    throw new UserInputError(
      `--project '${project ?? ''}' must be TYPE/ID with TYPE one of ${PROJECT_TYPES.join(', ')} and a 32-character id`,
    );
  }
  return { kind: 'project', projectType: type as ProjectType, id };
}

const where = (at: SourcePosition): string => `${at.file}:${at.line}:${at.col}`;

function ruleLine(rule: ExplainedRule): string {
  const value = rule.egress
    ? `${rule.egress.protocol} to ${rule.value}${rule.egress.ports.length > 0 ? ` ports ${rule.egress.ports.join(',')}` : ''}`
    : rule.value;
  const via =
    rule.via === undefined ? '' : ` (from $${rule.via.set}, ${rule.via.label} at ${where(rule.via.at)})`;
  const description = rule.description === undefined ? '' : ` "${rule.description}"`;
  return `rules[${rule.rule}] ${value}${via} at ${where(rule.at)}${description}`;
}

/** The explanation as a reviewer reads it. Pure. */
export function renderExplanation(e: Explanation, io: Pick<Io, 'color'>): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const out: string[] = [];
  const region = e.regions.length === 0 ? '' : `, region ${e.regions.join(' or ')}`;
  out.push(
    paint(io, 'bold', `${targetLabel(e.target)} in ${e.environment} (${e.api}${region}), as declared`),
  );
  for (const at of e.declared_at) out.push(`  associated at ${where(at)}`);
  const addresses =
    e.access === 'unfiltered' ? 'every IPv4 address' : `${n(e.ipv4_addresses)} IPv4 addresses`;
  out.push(
    `  access: ${accessLabel(e.access)} (${addresses})${e.allow_unfiltered ? '; allow_unfiltered: true' : ''}`,
  );

  const section = (title: string, policies: Explanation['policies']) => {
    if (policies.length === 0) return;
    out.push('', title);
    for (const p of policies) {
      out.push(`  ${p.name} (${p.type}, ${p.region})${p.at === undefined ? '' : ` at ${where(p.at)}`}`);
      if (p.rules.length === 0) out.push('    no rules: allows nothing');
      for (const r of p.rules) out.push(`    ${ruleLine(r)}`);
    }
  };
  section(
    'Ingress policies:',
    e.policies.filter((p) => p.ingress),
  );
  section(
    'Egress policies (filter outbound traffic, not who connects):',
    e.policies.filter((p) => !p.ingress),
  );
  if (e.notes.length > 0) {
    out.push('');
    for (const note of e.notes) out.push(paint(io, 'gray', `note: ${note}`));
  }
  if (e.ip !== undefined) {
    out.push('');
    const colour =
      e.ip.verdict === 'not_allowed' ? 'red' : e.ip.verdict === 'unfiltered' ? 'yellow' : 'green';
    out.push(paint(io, colour, `${e.ip.address}: ${e.ip.message}`));
    for (const m of e.ip.matches.slice(1)) out.push(`  also ${m.policy} ${ruleLine(m)}`);
  }
  return `${out.join('\n')}\n`;
}
