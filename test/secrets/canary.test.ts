/**
 * The canary suite (issue 22): canary credentials through every command against a server that
 * echoes them back everywhere (ids, names, descriptions, headers, error messages at every position
 * around the 500-character cut, redirects, garbage, an endless body). No form of a canary — as
 * sent, in another case, base64 (of the Basic header value too), decoded Basic, or any 10-character piece of those — may appear on
 * stdout, stderr or in a written file; no output line may be a workflow command; nothing may reach
 * the host a redirect points to.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { makeProject, runCli, type CliResult } from '../support/cli.js';
import { filesUnder, forbiddenPieces, leaks, workflowCommands } from './canaries.js';
import { startElsewhere, startHostileApi, type HostileApi } from './hostile-api.js';

const KEY = 'essu_CANARY_7f3a9c1e5b2d4f60a8b1c3d5e7f90213';
const USER = 'canary-admin';
const PASSWORD = 'CANARY-pass-w0rd-5e1c9a7b3d';
const GITHUB_TOKEN = 'ghs_CANARY_0123456789abcdefXYZ';
const DEPLOYMENT = 'a0000000000000000000000000000001';
const PROJECT = 'c0000000000000000000000000000001';
/** More creates per environment than characters in either Authorization header. */
const CREATES = 70;

const FORBIDDEN = forbiddenPieces([
  KEY,
  USER,
  PASSWORD,
  `${USER}:${PASSWORD}`,
  Buffer.from(`${USER}:${PASSWORD}`).toString('base64'),
  GITHUB_TOKEN,
]);

const policyList = (env: string, region: string): string =>
  [
    `  - name: office\n    environment: ${env}\n    region: ${region}\n    type: ip\n    description: ours\n    rules:\n      - source: 10.0.0.0/8\n`,
    ...Array.from(
      { length: env === 'sls' ? 0 : CREATES },
      (_, i) =>
        `  - name: p${i}\n    environment: ${env}\n    region: ${region}\n    type: ip\n    rules:\n      - source: 10.${i}.0.0/16\n`,
    ),
  ].join('');

const project = (url: string): string =>
  makeProject({
    'ecfence.yaml': `environments:
  hosted: { api: ess, endpoint: '${url}' }
  onprem: { api: ece, endpoint: '${url}', username_env: ECE_USER, password_env: ECE_PASSWORD }
  sls: { api: serverless, endpoint: '${url}' }
  junk: { api: ess, endpoint: '${url}/junk' }
  huge: { api: ess, endpoint: '${url}/huge' }
`,
    'policies/all.yaml': `policies:
${policyList('hosted', 'us-east-1')}${policyList('onprem', 'us-east-1')}${policyList('sls', 'aws-us-east-1')}associations:
  - { environment: hosted, deployment: ${DEPLOYMENT}, policies: [office] }
  - { environment: onprem, deployment: ${DEPLOYMENT}, policies: [office] }
  - { environment: sls, project: { type: elasticsearch, id: ${PROJECT} }, policies: [office] }
`,
  });

describe('canaries never leave', () => {
  let api: HostileApi;
  let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;
  let dir: string;
  const results: { label: string; result: CliResult }[] = [];
  const env = { EC_API_KEY: KEY, ECE_USER: USER, ECE_PASSWORD: PASSWORD, GITHUB_TOKEN };
  const run = async (label: string, args: string[], cwd = dir): Promise<CliResult> => {
    const result = await runCli(args, { cwd, env });
    results.push({ label, result });
    return result;
  };
  const all = ['--env', 'hosted', '--env', 'onprem', '--env', 'sls'];

  beforeAll(async () => {
    elsewhere = await startElsewhere();
    api = await startHostileApi({ redirectTo: elsewhere.url });
    dir = project(api.url);
  });
  afterAll(async () => {
    await Promise.all([api.close(), elsewhere.close()]);
  });

  it('plans, applies, exports and reads metadata against a server that echoes the credentials', async () => {
    const [text, markdown, json] = await Promise.all([
      run('plan text, trace logs', ['plan', ...all, '--log-level', 'trace']),
      run('plan markdown', ['plan', ...all, '--format', 'markdown']),
      run('plan json --out', ['plan', ...all, '--format', 'json', '--out', 'plan.json']),
      run('validate', ['validate']),
      run('validate json', ['validate', '--format', 'json']),
    ]);
    for (const r of [text, markdown, json]) expect(r.code, r.stderr).toBe(0);
    // The echoes arrived and were redacted: the plans show the live description that is replaced.
    expect(markdown.stdout).toContain('[redacted]');
    expect(text.stdout).toMatch(/description: ".*\[redacted\].*" → "ours"/);

    const apply = await run('apply, debug logs', ['apply', '--auto-approve', ...all, '--log-level', 'debug']);
    expect(apply.code).toBe(1);
    expect(apply.stdout.match(/^ {4}failed /gm)?.length).toBeGreaterThanOrEqual(2 * CREATES);
    expect(apply.stdout).toContain('→ 307');
    const creates = api.requests.filter((r) => r.method === 'POST').length;
    expect(creates).toBeGreaterThanOrEqual(2 * CREATES);

    const saved = await run('apply PLANFILE', ['apply', 'plan.json', ...all]);
    expect(saved.code).toBe(1);

    const [exported, printed, table, metadataJson] = await Promise.all([
      run('export --out', ['export', ...all, '--out', 'exported']),
      run('export to stdout', ['export', '--env', 'hosted', '--env', 'onprem']),
      run('metadata', ['metadata', '--env', 'sls']),
      run('metadata json', ['metadata', '--env', 'sls', '--format', 'json']),
    ]);
    for (const r of [exported, printed, table, metadataJson]) expect(r.code, r.stderr).toBe(0);
    // Server text stays inside its strings: the export is YAML, on stdout as in the files.
    const docs = parseAllDocuments(printed.stdout);
    expect(docs.length).toBe(2);
    for (const doc of docs) expect(doc.errors).toEqual([]);
    expect(table.stdout).toContain('[redacted]');
  });

  it('answers garbage and an endless body with an error naming the request, holding neither', async () => {
    const [junk, huge] = await Promise.all([
      run('plan on garbage', ['plan', '--env', 'junk', '--log-level', 'debug']),
      run('plan on an endless body', ['plan', '--env', 'huge']),
    ]);
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain('GET /deployments/traffic-filter/rulesets → 200: response is not JSON');
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/GET \/deployments.*: response larger than 67108864 bytes; refused unread/);
  });

  it('refuses a CI token variable as the key variable, before sending anything', async () => {
    const sent = api.requests.length;
    const tokenDir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: '${api.url}'\n    api_key_env: GITHUB_TOKEN\n`,
      'policies/none.yaml': 'policies: []\n',
    });
    const [validate, plan, github] = await Promise.all([
      run('validate GITHUB_TOKEN', ['validate'], tokenDir),
      run('plan GITHUB_TOKEN', ['plan'], tokenDir),
      run('validate github GITHUB_TOKEN', ['validate', '--format', 'github'], tokenDir),
    ]);
    for (const r of [validate, plan]) {
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(
        'ecfence.yaml:5:18: error E_KEY_VARIABLE environments.prod.api_key_env: GITHUB_TOKEN',
      );
    }
    expect(github.code).toBe(3);
    expect(github.stdout).toMatch(/^::error file=ecfence\.yaml,line=5,col=18,title=ecfence E_KEY_VARIABLE::/);
    expect(api.requests.length).toBe(sent);
  });

  it('no output and no written file carries a canary, and no line is a workflow command', () => {
    expect(results.length).toBeGreaterThanOrEqual(16);
    for (const { label, result } of results) {
      expect(leaks(result.stdout, FORBIDDEN), `${label} stdout`).toEqual([]);
      expect(leaks(result.stderr, FORBIDDEN), `${label} stderr`).toEqual([]);
      expect(workflowCommands(result.stderr), `${label} stderr`).toEqual([]);
      // Annotations are the point of --format github (and say nothing from a server).
      if (!label.startsWith('validate github')) {
        expect(workflowCommands(result.stdout), `${label} stdout`).toEqual([]);
      }
    }
    const written = filesUnder(dir).filter((f) => !f.endsWith('.yaml') || f.includes('exported'));
    expect(written.some((f) => f.endsWith('plan.json'))).toBe(true);
    expect(written.some((f) => f.includes('exported'))).toBe(true);
    for (const file of written) expect(leaks(readFileSync(file, 'latin1'), FORBIDDEN), file).toEqual([]);
    expect(elsewhere.hits).toEqual([]);
  });
});
