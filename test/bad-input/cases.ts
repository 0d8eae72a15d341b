/**
 * The bad-input corpus: each case is a valid base project with something broken. Every case must
 * exit 3, name the file and line where there is one, print no stack trace, and send no request.
 */

export const KEY = 'essu_bad_input_key_0123456789';
export const DEPLOYMENT = 'a0000000000000000000000000000001';
export const REGION = 'azure-japaneast';

/** `${URL}` in any file is replaced by the emulator's URL. */
export const BASE_FILES: Readonly<Record<string, string>> = {
  'ecfence.yaml': `environments:
  prod:
    api: ess
    endpoint: \${URL}
`,
  // Line numbers below refer to this layout.
  'policies/main.yaml': `environment: prod
policies:
  - name: office
    region: ${REGION}
    type: ip
    rules:
      - source: 10.0.0.0/16
associations:
  - deployment: ${DEPLOYMENT}
    policies: [office]
`,
};

export interface BadInputCase {
  name: string;
  /** Files added or replaced (relative to the project). */
  files?: Record<string, string | Uint8Array>;
  args?: string[];
  /** Environment on top of `EC_API_KEY` (`unsetKey` drops that). */
  env?: Record<string, string>;
  unsetKey?: boolean;
  /** Expected `file:line` prefix of a diagnostic, where the problem has one. */
  where?: string;
  /** Expected in stderr. */
  message: RegExp;
}

const policy = (body: string): Record<string, string> => ({ 'policies/main.yaml': body });
const config = (body: string): Record<string, string> => ({ 'ecfence.yaml': body });
/** The base policy file with `from` replaced by `to`. */
const edit = (from: string, to: string): Record<string, string> => {
  const base = BASE_FILES['policies/main.yaml'] ?? '';
  if (!base.includes(from)) throw new Error(`corpus: '${from}' not in the base policy file`);
  return policy(base.replace(from, to));
};
const editConfig = (from: string, to: string): Record<string, string> => {
  const base = BASE_FILES['ecfence.yaml'] ?? '';
  if (!base.includes(from)) throw new Error(`corpus: '${from}' not in the base config`);
  return config(base.replace(from, to));
};

const aliasBomb = `environment: prod
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
policies: *i
`;

/** Deterministic bytes that are not text (NUL bytes and invalid UTF-8). */
function garbage(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x12345678;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  out[10] = 0;
  return out;
}

/** A YAML file a few MiB long whose only mistake is on its last line. */
function bigFileWithLateError(): { text: string; line: number } {
  const lines = ['environment: prod', 'policies:'];
  for (let i = 0, size = 0; size < 1.5 * 1024 * 1024; i++) {
    size += 300;
    lines.push(
      `  - name: p${i}`,
      `    region: ${REGION}`,
      '    type: ip',
      `    description: ${'x'.repeat(200)}`,
      '    rules:',
      `      - source: 10.${(i >> 8) & 255}.${i & 255}.0/24`,
    );
  }
  lines.push(
    '  - name: broken',
    `    region: ${REGION}`,
    '    type: ip',
    '    rules:',
    '      - source: 999.1.1.1',
  );
  return { text: `${lines.join('\n')}\n`, line: lines.length };
}
const big = bigFileWithLateError();

export const CASES: readonly BadInputCase[] = [
  // ---- YAML that does not parse
  {
    name: 'unclosed flow sequence',
    files: edit('policies: [office]', 'policies: [office'),
    // The parser notices at the end of the file that the sequence was never closed.
    where: 'policies/main.yaml:11',
    message: /error/,
  },
  {
    name: 'bad indentation in ecfence.yaml',
    files: config('environments:\n  prod:\n    api: ess\n   endpoint: http://127.0.0.1:1\n'),
    where: 'ecfence.yaml:4',
    message: /error/,
  },
  {
    name: 'tab indentation',
    files: edit('    type: ip', '\ttype: ip'),
    where: 'policies/main.yaml:5',
    message: /error/,
  },
  {
    name: 'duplicate key in a policy',
    files: edit('    type: ip', '    type: ip\n    type: vpce'),
    where: 'policies/main.yaml:6',
    message: /duplicate|unique/i,
  },
  {
    name: 'duplicate environment key in ecfence.yaml',
    files: config('environments:\n  prod:\n    api: ess\n    endpoint: ${URL}\n  prod:\n    api: ess\n'),
    where: 'ecfence.yaml:5',
    message: /duplicate|unique/i,
  },
  { name: 'alias bomb (billion laughs)', files: policy(aliasBomb), message: /alias/i },
  {
    name: 'multi-megabyte file (over the size limit)',
    files: policy(`# ${'x'.repeat(100)}\n`.repeat(60_000)),
    where: 'policies/main.yaml',
    message: /MiB/,
  },
  {
    name: 'multi-megabyte file with one bad address on its last line',
    files: policy(big.text),
    where: `policies/main.yaml:${big.line}`,
    message: /999\.1\.1\.1/,
  },
  {
    name: 'binary garbage as a policy file',
    files: { 'policies/main.yaml': garbage(4096) },
    where: 'policies/main.yaml',
    message: /text|UTF-8/i,
  },
  {
    name: 'binary garbage as ecfence.yaml',
    files: { 'ecfence.yaml': garbage(512) },
    where: 'ecfence.yaml',
    message: /text|UTF-8/i,
  },
  {
    name: 'invalid UTF-8 without NUL bytes',
    files: { 'policies/main.yaml': Uint8Array.from([0x65, 0x6e, 0x76, 0x3a, 0x20, 0xc3, 0x28, 0x0a]) },
    where: 'policies/main.yaml',
    message: /UTF-8|text/i,
  },
  { name: 'empty ecfence.yaml', files: config(''), where: 'ecfence.yaml', message: /empty|environments/i },
  {
    name: 'two YAML documents in one file',
    files: policy(`${BASE_FILES['policies/main.yaml'] ?? ''}---\nenvironment: prod\n`),
    where: 'policies/main.yaml:11',
    message: /document/i,
  },

  // ---- schema: unknown keys and wrong types
  {
    name: 'unknown top-level key in a policy file',
    files: edit('environment: prod', 'environment: prod\nrulesets: []'),
    where: 'policies/main.yaml:2',
    message: /rulesets/,
  },
  {
    name: 'unknown key in a policy (typo)',
    files: edit('    rules:', '    rulez:'),
    where: 'policies/main.yaml:',
    message: /rule/,
  },
  {
    name: 'unknown key in an environment (typo)',
    files: editConfig('    endpoint:', '    endpont:'),
    where: 'ecfence.yaml:4',
    message: /endpont/,
  },
  {
    name: 'rules is a string',
    files: edit('    rules:\n      - source: 10.0.0.0/16', '    rules: 10.0.0.0/16'),
    where: 'policies/main.yaml:6',
    message: /rules/,
  },
  {
    name: 'include_by_default is a string',
    files: edit('    type: ip', '    type: ip\n    include_by_default: "yes"'),
    where: 'policies/main.yaml:6',
    message: /include_by_default/,
  },
  {
    name: 'policy without a name',
    files: edit('  - name: office\n    region', '  - region'),
    where: 'policies/main.yaml:3',
    message: /name/,
  },
  {
    name: 'policy without a type',
    files: edit('    type: ip\n', ''),
    where: 'policies/main.yaml:3',
    message: /type/,
  },
  {
    name: 'unknown api kind',
    files: editConfig('api: ess', 'api: aws'),
    where: 'ecfence.yaml:3',
    message: /api/,
  },
  {
    name: 'safety percentage above 100',
    files: config(`${BASE_FILES['ecfence.yaml'] ?? ''}safety:\n  max_delete_percent: 150\n`),
    where: 'ecfence.yaml:6',
    message: /max_delete_percent/,
  },
  {
    name: 'api_key_env holds a value, not a variable name',
    files: editConfig('    endpoint:', '    api_key_env: essu-abc/def==\n    endpoint:'),
    where: 'ecfence.yaml:4',
    message: /api_key_env/,
  },

  // ---- semantics
  {
    name: 'CIDR prefix out of range',
    files: edit('10.0.0.0/16', '10.0.0.0/33'),
    where: 'policies/main.yaml:7',
    message: /10\.0\.0\.0\/33/,
  },
  {
    name: 'IPv4 octet out of range',
    files: edit('10.0.0.0/16', '300.1.1.1'),
    where: 'policies/main.yaml:7',
    message: /300\.1\.1\.1/,
  },
  {
    name: 'undefined source set',
    files: edit('source: 10.0.0.0/16', 'source: $nope'),
    where: 'policies/main.yaml:7',
    message: /nope/,
  },
  {
    name: 'association to an undeclared policy',
    files: edit('policies: [office]', 'policies: [office, nope]'),
    where: 'policies/main.yaml:10',
    message: /nope/,
  },
  {
    name: 'deployment id that is not an id',
    files: edit(DEPLOYMENT, 'prod-search'),
    where: 'policies/main.yaml:9',
    message: /prod-search|deployment/,
  },
  {
    name: 'policy declared twice',
    files: {
      'policies/other.yaml': `environment: prod\npolicies:\n  - name: office\n    region: ${REGION}\n    type: ip\n    rules:\n      - source: 10.9.0.0/16\n`,
    },
    where: 'policies/',
    message: /office/,
  },
  {
    name: 'policy file names an undefined environment',
    files: edit('environment: prod', 'environment: staging'),
    where: 'policies/main.yaml:1',
    message: /staging/,
  },
  {
    name: 'egress_firewall on an ece environment',
    files: {
      ...editConfig('api: ess', 'api: ece'),
      ...edit(
        '    type: ip\n    rules:\n      - source: 10.0.0.0/16',
        '    type: egress_firewall\n    rules:\n      - egress_rule: { target: 10.0.0.0/16, protocol: tcp }',
      ),
    },
    where: 'policies/main.yaml:5',
    message: /egress_firewall/,
  },
  {
    name: 'policies path that does not exist',
    files: config(`policies: [nowhere]\n${BASE_FILES['ecfence.yaml'] ?? ''}`),
    where: 'ecfence.yaml:1',
    message: /nowhere/,
  },

  // ---- config and environment around the files
  {
    name: 'no ecfence.yaml at all',
    files: { 'ecfence.yaml': '' },
    args: ['plan', '--config', 'missing.yaml'],
    message: /missing\.yaml/,
  },
  { name: 'missing API key variable', unsetKey: true, where: 'ecfence.yaml:2', message: /EC_API_KEY/ },
  { name: 'unknown environment (--env nope)', args: ['plan', '--env', 'nope'], message: /nope/ },
  {
    name: 'http:// to a non-loopback host',
    files: editConfig('endpoint: ${URL}', 'endpoint: http://api.example.com'),
    where: 'ecfence.yaml:4',
    message: /http.*loopback|loopback.*http/i,
  },
  {
    name: 'credentials inside the endpoint URL',
    files: editConfig('endpoint: ${URL}', 'endpoint: https://admin:hunter2@ece.example.com:12443'),
    where: 'ecfence.yaml:4',
    message: /credentials/,
  },
  {
    name: 'ca_file that does not exist',
    files: editConfig('    endpoint:', '    ca_file: certs/nope.pem\n    endpoint:'),
    where: 'ecfence.yaml:4',
    message: /ca_file.*nope\.pem|nope\.pem.*ca_file/,
  },
  {
    name: 'ece with username_env but no password_env',
    files: editConfig('api: ess', 'api: ece\n    username_env: ECE_USER'),
    env: { ECE_USER: 'admin' },
    message: /password_env/,
  },
  {
    name: 'bad retry tuning variable',
    env: { ECFENCE_RETRY_ATTEMPTS: '0' },
    message: /ECFENCE_RETRY_ATTEMPTS/,
  },

  // ---- flags
  {
    name: '--concurrency 0',
    args: ['apply', '--auto-approve', '--concurrency', '0'],
    message: /--concurrency/,
  },
  { name: '--format xml', args: ['plan', '--format', 'xml'], message: /--format/ },
  { name: '--log-level loud', args: ['plan', '--log-level', 'loud'], message: /--log-level/ },
  { name: 'unknown flag', args: ['plan', '--yolo'], message: /--yolo/ },
  { name: 'flag that needs a value given none', args: ['plan', '--out'], message: /--out/ },
  { name: 'apply without --auto-approve on a pipe', args: ['apply'], message: /--auto-approve/ },

  // ---- plan files
  {
    name: 'plan file that is not JSON',
    files: { 'plan.json': 'format_version: 1.0\n' },
    args: ['apply', 'plan.json'],
    message: /plan\.json/,
  },
  {
    name: 'plan file of an unknown major version',
    files: { 'plan.json': JSON.stringify({ format_version: '2.0', operations: [] }) },
    args: ['apply', 'plan.json'],
    message: /2\.0|version/,
  },
  {
    name: 'plan file that does not exist',
    args: ['apply', 'missing-plan.json'],
    message: /missing-plan\.json/,
  },
  {
    name: 'two plan files',
    files: { 'a.json': '{}', 'b.json': '{}' },
    args: ['apply', 'a.json', 'b.json'],
    message: /at most one/,
  },
];
