import { realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { CONFIG, codes, load, makeProject, show, where } from './helpers.js';

const POLICY = `environment: cloud
policies:
  - name: office
    region: us-east-1
    type: ip
    rules:
      - source: 10.0.0.0/8
`;

const ECE_ORIGIN = 'https://ece.example.com:12443';

function project(config: string, extra: Record<string, string | Uint8Array> = {}) {
  return makeProject({ 'ecfence.yaml': config, 'policies/cloud.yaml': POLICY, ...extra });
}

describe('config file', () => {
  test('a missing config is one error, not an exception', () => {
    const dir = makeProject({});
    const result = load(dir);
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:0:0 E_CONFIG_NOT_FOUND']);
    expect(result.desired).toBeUndefined();
    expect(where(load(dir, { configPath: 'conf/other.yaml' }).diagnostics)).toEqual([
      'conf/other.yaml:0:0 E_CONFIG_NOT_FOUND',
    ]);
  });

  test('defaults: policies dir, api key variable, endpoint, safety, prune, protect', () => {
    const result = load(project(CONFIG));
    expect(result.diagnostics).toEqual([]);
    const cloud = result.desired?.environments.find((e) => e.config.name === 'cloud')?.config;
    expect(cloud).toMatchObject({
      api: 'ess',
      endpoint: 'https://api.elastic-cloud.com',
      api_key_env: 'EC_API_KEY',
      prune: false,
      protect: [],
      safety: { max_delete_percent: 30, max_dissociate_percent: 30 },
      position: { file: 'ecfence.yaml', line: 2, col: 3 },
    });
    expect(result.files).toEqual(['policies/cloud.yaml']);
  });

  test('safety: top level, overridden per environment field by field', () => {
    const config = `safety: { max_delete_percent: 10, max_dissociate_percent: 20 }
environments:
  cloud: { api: ess, safety: { max_delete_percent: 50 } }
`;
    const env = load(project(config)).desired?.environments[0]?.config;
    expect(env?.safety).toEqual({ max_delete_percent: 50, max_dissociate_percent: 20 });
  });

  test('unknown keys, with a suggestion, at the key', () => {
    const config = `environments:
  cloud:
    api: ess
    endpiont: https://api.elastic-cloud.com
safty: {}
`;
    const result = load(project(config));
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:4:5 E_SCHEMA', 'ecfence.yaml:5:1 E_SCHEMA']);
    expect(result.diagnostics[0]?.message).toMatch(/unknown field 'endpiont'.*did you mean 'endpoint'/);
    expect(result.diagnostics[1]?.message).toMatch(/unknown field 'safty'.*did you mean 'safety'/);
  });

  test('duplicate keys are errors at the second key', () => {
    const result = load(project(`environments:\n  cloud: { api: ess }\n  cloud: { api: ece }\n`));
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:3:3 E_DUPLICATE_KEY']);
    expect(result.diagnostics[0]?.message).toContain("'cloud'");
  });

  test('bad api, percent out of range, env var name that looks like a value', () => {
    const config = `environments:
  cloud:
    api: essx
    api_key_env: essu_abc123==
safety:
  max_delete_percent: 150
`;
    const result = load(project(config));
    expect(where(result.diagnostics)).toEqual([
      'ecfence.yaml:3:10 E_SCHEMA',
      'ecfence.yaml:4:18 E_SCHEMA',
      'ecfence.yaml:6:23 E_SCHEMA',
    ]);
    expect(result.diagnostics[0]?.message).toContain("did you mean 'ess'");
    expect(result.diagnostics[1]?.message).toContain('not its value');
  });

  test('ece needs an endpoint (no default in CAPABILITIES)', () => {
    const result = load(
      project(`environments:\n  onprem:\n    api: ece\n`, { 'policies/cloud.yaml': 'policies: []\n' }),
    );
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:2:3 E_MISSING_ENDPOINT']);
  });

  test.each([
    ['http://api.example.com', 'E_INSECURE_ENDPOINT'],
    ['http://10.0.0.1:9200', 'E_INSECURE_ENDPOINT'],
    ['ftp://api.example.com', 'E_INVALID_ENDPOINT'],
    ['api.elastic-cloud.com', 'E_INVALID_ENDPOINT'],
    ['https://user:secret@api.example.com', 'E_INVALID_ENDPOINT'],
  ])('endpoint %s → %s', (endpoint, code) => {
    const result = load(project(`environments:\n  cloud:\n    api: ess\n    endpoint: ${endpoint}\n`));
    expect(where(result.diagnostics)).toEqual([`ecfence.yaml:4:15 ${code}`]);
    expect(result.diagnostics[0]?.message).not.toContain('secret');
  });

  test.each(['http://127.0.0.1:9200', 'http://127.8.9.10', 'http://localhost:8080/', 'http://[::1]:9200'])(
    'loopback http endpoint %s is allowed (the emulator)',
    (endpoint) => {
      const result = load(project(`environments:\n  cloud:\n    api: ess\n    endpoint: ${endpoint}\n`));
      expect(result.diagnostics).toEqual([]);
      expect(result.desired?.environments[0]?.config.endpoint).toBe(endpoint.replace(/\/$/, ''));
    },
  );

  test('ca_file must exist; it is stored absolute, relative to the config directory', () => {
    const config = `policies: [policies]\nenvironments:\n  onprem:\n    api: ece\n    endpoint: https://ece.example.com:12443\n    ca_file: certs/ca.pem\n`;
    const policy = 'environment: onprem\npolicies: []\n';
    const missing = makeProject({ 'conf/ecfence.yaml': config, 'conf/policies/p.yaml': policy });
    const bad = load(missing, { configPath: 'conf/ecfence.yaml' });
    expect(where(bad.diagnostics)).toEqual(['conf/ecfence.yaml:6:14 E_CA_FILE']);

    const present = makeProject({
      'conf/ecfence.yaml': config,
      'conf/certs/ca.pem': '-----BEGIN CERTIFICATE-----\n',
      'conf/policies/p.yaml': policy,
    });
    const good = load(present, { configPath: 'conf/ecfence.yaml' });
    expect(good.diagnostics).toEqual([]);
    expect(good.desired?.environments[0]?.config.ca_file).toBe(
      join(realpathSync(present), 'conf/certs/ca.pem'),
    );
  });

  test('basic auth: only where CAPABILITIES allow it, and both variables', () => {
    const ess = load(
      project(`environments:\n  cloud:\n    api: ess\n    username_env: U\n    password_env: P\n`),
    );
    expect(where(ess.diagnostics)).toEqual(['ecfence.yaml:4:19 E_AUTH']);
    expect(ess.diagnostics[0]?.message).toContain('supported: api_key');

    const half = load(
      project(
        `environments:\n  cloud:\n    api: ece\n    endpoint: https://e.example.com\n    username_env: U\n`,
      ),
    );
    expect(codes(half.diagnostics)).toEqual(['E_SCHEMA']);
    expect(half.diagnostics[0]?.message).toContain("'username_env' needs 'password_env'");

    const ece = load(
      project(
        `environments:\n  cloud:\n    api: ece\n    endpoint: https://e.example.com\n    username_env: U\n    password_env: P\n`,
      ),
    );
    expect(ece.diagnostics).toEqual([]);
    expect(ece.desired?.environments[0]?.config).toMatchObject({ username_env: 'U', password_env: 'P' });
    expect(ece.desired?.environments[0]?.config.api_key_env).toBeUndefined();
  });

  test('credentials: checked only with requireCredentials, naming the variable, never the value', () => {
    const dir = project(CONFIG, { 'policies/onprem.yaml': 'environment: onprem\npolicies: []\n' });
    expect(load(dir).diagnostics).toEqual([]);
    const missing = load(dir, {
      requireCredentials: true,
      env: { EC_API_KEY: '', ECFENCE_ALLOWED_ENDPOINTS: ECE_ORIGIN },
    });
    expect(where(missing.diagnostics)).toEqual([
      'ecfence.yaml:2:3 E_MISSING_CREDENTIALS',
      'ecfence.yaml:7:18 E_MISSING_CREDENTIALS',
    ]);
    expect(missing.diagnostics[0]?.message).toMatch(/EC_API_KEY, which is empty/);
    expect(missing.diagnostics[1]?.message).toMatch(/ECE_API_KEY, which is not set/);
    const ok = load(dir, {
      requireCredentials: true,
      env: { EC_API_KEY: 'essu_SECRET', ECE_API_KEY: 'x', ECFENCE_ALLOWED_ENDPOINTS: ECE_ORIGIN },
    });
    expect(ok.diagnostics).toEqual([]);
    expect(JSON.stringify(ok)).not.toContain('essu_SECRET');
    // Only the selected environments need credentials.
    const filtered = load(dir, {
      requireCredentials: true,
      environments: ['cloud'],
      env: { EC_API_KEY: 'k' },
    });
    expect(filtered.diagnostics).toEqual([]);
  });

  test('endpoint: with requireCredentials, a key goes only to the official API, loopback or a listed origin', () => {
    const dir = project(CONFIG, { 'policies/onprem.yaml': 'environment: onprem\npolicies: []\n' });
    const keys = { EC_API_KEY: 'k', ECE_API_KEY: 'k' };
    // Offline (validate, explain): no key is sent, nothing to judge.
    expect(load(dir).diagnostics).toEqual([]);
    const refused = load(dir, { requireCredentials: true, env: keys });
    expect(where(refused.diagnostics)).toEqual(['ecfence.yaml:6:15 E_ENDPOINT_NOT_ALLOWED']);
    expect(refused.diagnostics[0]?.message).toContain('environments.onprem.endpoint:');
    expect(refused.diagnostics[0]?.message).toContain('ECFENCE_ALLOWED_ENDPOINTS');
    expect(refused.desired).toBeUndefined();
    // Listed (among others, with blanks): allowed. An entry that is not an https origin is an error.
    const listed = ` https://other.example.com , ${ECE_ORIGIN}/ `;
    const allowed = load(dir, {
      requireCredentials: true,
      env: { ...keys, ECFENCE_ALLOWED_ENDPOINTS: listed },
    });
    expect(allowed.diagnostics).toEqual([]);
    const bad = load(dir, {
      requireCredentials: true,
      env: {
        ...keys,
        ECFENCE_ALLOWED_ENDPOINTS: `${ECE_ORIGIN},http://ece.example.com,https://x.example.com/api`,
      },
    });
    expect(where(bad.diagnostics)).toEqual([
      'ECFENCE_ALLOWED_ENDPOINTS:0:0 E_ALLOWED_ENDPOINTS',
      'ECFENCE_ALLOWED_ENDPOINTS:0:0 E_ALLOWED_ENDPOINTS',
    ]);
    // Only the selected environments are judged.
    expect(load(dir, { requireCredentials: true, environments: ['cloud'], env: keys }).diagnostics).toEqual(
      [],
    );
  });

  test('--env filter: unknown names are reported on <args>; only selected environments are returned', () => {
    const dir = project(CONFIG, { 'policies/onprem.yaml': 'environment: onprem\npolicies: []\n' });
    const bad = load(dir, { environments: ['cloud', 'prod'] });
    expect(where(bad.diagnostics)).toEqual(['<args>:0:0 E_UNKNOWN_ENV']);
    expect(bad.diagnostics[0]?.message).toContain('declared: cloud, onprem');
    const one = load(dir, { environments: ['onprem'] });
    expect(one.desired?.environments.map((e) => e.config.name)).toEqual(['onprem']);
    const all = load(dir);
    expect(all.desired?.environments.map((e) => e.config.name)).toEqual(['cloud', 'onprem']);
  });
});

describe('hostile and broken files', () => {
  test('empty config and empty policy file', () => {
    expect(where(load(project('')).diagnostics)).toEqual(['ecfence.yaml:1:1 E_EMPTY_FILE']);
    expect(where(load(project('# only a comment\n')).diagnostics)).toEqual(['ecfence.yaml:1:1 E_EMPTY_FILE']);
    const emptyPolicy = load(project(CONFIG, { 'policies/empty.yaml': '\n' }));
    expect(where(emptyPolicy.diagnostics)).toEqual(['policies/empty.yaml:1:1 E_EMPTY_FILE']);
  });

  test('a file over 5 MiB is refused without parsing', () => {
    const big = `environment: cloud\n# ${'x'.repeat(6 * 1024 * 1024)}\n`;
    const result = load(project(CONFIG, { 'policies/big.yaml': big }));
    expect(where(result.diagnostics)).toEqual(['policies/big.yaml:0:0 E_FILE_TOO_LARGE']);
  });

  test('binary garbage and invalid UTF-8 are not text', () => {
    const nul = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00]);
    const latin1 = Uint8Array.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]);
    const result = load(project(CONFIG, { 'policies/a.yaml': nul, 'policies/b.yaml': latin1 }));
    expect(where(result.diagnostics)).toEqual([
      'policies/a.yaml:0:0 E_NOT_TEXT',
      'policies/b.yaml:0:0 E_NOT_TEXT',
    ]);
  });

  test('text is read as written: a byte order mark is dropped, a written U+FFFD is kept', () => {
    const policyText = (description: string) =>
      `environment: cloud\npolicies:\n  - name: p\n    region: us-east-1\n    type: ip\n    rules:\n      - { source: 10.0.0.0/8, description: "${description}" }\n`;
    const result = load(
      project(CONFIG, {
        'policies/a.yaml': `\uFEFF${policyText('office')}`,
        'policies/b.yaml': policyText('r\uFFFDsum\u00e9').replace('name: p', 'name: q'),
      }),
    );
    expect(where(result.diagnostics)).toEqual([]);
    // Columns count from the first character written, not from the mark.
    const marked = load(project(CONFIG, { 'policies/a.yaml': '\uFEFFenvironment: nowhere\n' }));
    expect(where(marked.diagnostics)).toEqual(['policies/a.yaml:1:14 E_UNKNOWN_ENV']);
    const descriptions = result.desired?.environments[0]?.policies
      .filter((p) => p.name === 'p' || p.name === 'q')
      .map((p) => p.rules[0]?.description);
    expect(descriptions).toEqual(['office', 'r\uFFFDsum\u00e9']);
    // NUL in otherwise valid UTF-8, and a surrogate encoded as UTF-8 (not valid UTF-8).
    const nul = new TextEncoder().encode('environment: cloud\n# \u0000\n');
    const surrogate = Uint8Array.from([0x61, 0x3a, 0x20, 0xed, 0xa0, 0x80, 0x0a]);
    const refused = load(project(CONFIG, { 'policies/a.yaml': nul, 'policies/b.yaml': surrogate }));
    expect(where(refused.diagnostics)).toEqual([
      'policies/a.yaml:0:0 E_NOT_TEXT',
      'policies/b.yaml:0:0 E_NOT_TEXT',
    ]);
  });

  test('an alias bomb is refused', () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const result = load(project(CONFIG, { 'policies/bomb.yaml': `${lines.join('\n')}\n` }));
    expect(where(result.diagnostics)).toEqual(['policies/bomb.yaml:2:8 E_YAML']);
    expect(result.diagnostics[0]?.message).toContain('alias');
  });

  test('a YAML syntax error is E_YAML at its line and column, and the file is not validated further', () => {
    const text = 'environment: cloud\npolicies:\n  - name: office\n    region: [us-east-1\n    type: ip\n';
    const result = load(project(CONFIG, { 'policies/cloud.yaml': text }));
    expect(where(result.diagnostics)).toEqual(['policies/cloud.yaml:5:5 E_YAML']);
    expect(result.diagnostics[0]?.message).toMatch(/list or .* mapping is not closed/);
  });

  test('a few aliases for honest reuse are fine', () => {
    const text = `environment: cloud
policies:
  - name: a
    region: us-east-1
    type: ip
    rules: &rules
      - source: 10.0.0.0/8
  - name: b
    region: us-east-1
    type: ip
    rules: *rules
`;
    const result = load(project(CONFIG, { 'policies/cloud.yaml': text }));
    expect(result.diagnostics).toEqual([]);
    expect(result.desired?.environments[0]?.policies.map((p) => p.rules)).toEqual([
      [{ source: '10.0.0.0/8' }],
      [{ source: '10.0.0.0/8' }],
    ]);
  });

  test('YAML that is not a mapping, multiple documents, tabs: diagnostics, never exceptions', () => {
    const cases: Record<string, string> = {
      'policies/list.yaml': '- a\n- b\n',
      'policies/scalar.yaml': 'just text\n',
      'policies/multi.yaml': 'environment: cloud\n---\nenvironment: cloud\n',
      'policies/tabs.yaml': 'policies:\n\t- name: x\n',
      'policies/weird.yaml': '? [a, b]\n: c\n!!binary x: 1\n',
    };
    const result = load(project(CONFIG, cases));
    expect(result.desired).toBeUndefined();
    const files = new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.file));
    expect([...files].sort()).toEqual(Object.keys(cases).sort());
  });

  test('random bytes never throw', () => {
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = 'ab:- \n\t[]{}&*!|>\'"#%@`,?$0123456789.';
    for (let i = 0; i < 40; i++) {
      const text = Array.from({ length: 200 }, () => alphabet[next() % alphabet.length]).join('');
      expect(() => load(project(CONFIG, { 'policies/cloud.yaml': text }))).not.toThrow();
    }
  });
});

describe('policy paths', () => {
  test('a missing path is an error at its entry in the config', () => {
    const result = load(
      project(`policies:\n  - policies\n  - extra\nenvironments:\n  cloud: { api: ess }\n`),
    );
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:3:5 E_MISSING_PATH']);
  });

  test('directories are walked recursively and sorted; hidden dirs and the config itself are skipped', () => {
    const dir = makeProject({
      'ecfence.yaml': `policies: [., extra.yml]\n${CONFIG}`,
      'extra.yml': 'environment: onprem\npolicies: []\n',
      'b/z.yaml': 'environment: cloud\npolicies: []\n',
      'b/a.YML': 'environment: cloud\npolicies: []\n',
      'a.yaml': 'environment: cloud\npolicies: []\n',
      '.github/workflows/ci.yaml': 'on: push\n',
      'notes.txt': 'not yaml',
    });
    const result = load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.files).toEqual(['a.yaml', 'b/a.YML', 'b/z.yaml', 'extra.yml']);
  });

  test('an empty policy directory is a warning', () => {
    const dir = makeProject({ 'ecfence.yaml': CONFIG, 'policies/README.md': '' });
    const result = load(dir);
    expect(where(result.diagnostics)).toEqual(['ecfence.yaml:1:1 W_NO_POLICY_FILES']);
    expect(result.desired).toBeDefined();
  });

  test('a directory whose files another entry already read is not called empty', () => {
    const dir = makeProject({
      'ecfence.yaml': `policies: [policies/team, policies]\n${CONFIG}`,
      'policies/team/a.yaml': 'environment: cloud\npolicies: []\n',
    });
    const result = load(dir);
    expect(result.diagnostics).toEqual([]);
    expect(result.files).toEqual(['policies/team/a.yaml']);
  });

  test('paths in diagnostics are relative to the cwd', () => {
    const dir = project(CONFIG, { 'policies/bad.yaml': 'environment: nope\n' });
    const result = load(join(dir, 'policies'), { configPath: '../ecfence.yaml' });
    expect(where(result.diagnostics)).toEqual(['bad.yaml:1:14 E_UNKNOWN_ENV']);
    expect(show(result)).toContain("environment 'nope' is not declared");
  });
});

test('diagnostics are sorted and de-duplicated', () => {
  const text = `environment: cloud
sources:
  bad: [300.0.0.1]
policies:
  - { name: a, region: r, type: ip, rules: [{ source: $bad }, { source: 1.2.3.4/40 }] }
  - { name: b, region: r, type: ip, rules: [{ source: $bad }] }
`;
  const result = load(project(CONFIG, { 'policies/cloud.yaml': text }));
  expect(where(result.diagnostics)).toEqual([
    'policies/cloud.yaml:3:9 E_INVALID_SOURCE',
    'policies/cloud.yaml:5:73 E_INVALID_SOURCE',
  ]);
});
