import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { markerFor } from '../../scripts/github/comment.js';
import { postPlan } from '../../scripts/github/pr-comment.js';
import { repoRoot, runProcess } from '../support/cli.js';
import { startElsewhere } from '../secrets/hostile-api.js';
import { FAKE_TOKEN, startFakeGitHub, type FakeGitHub } from './fake-github.js';

const PR = 7;

describe('postPlan against a GitHub-like API', () => {
  let github: FakeGitHub;
  let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    github = await startFakeGitHub();
    elsewhere = await startElsewhere();
  });
  afterAll(async () => {
    await Promise.all([github.close(), elsewhere.close()]);
  });
  beforeEach(() => {
    github.comments.clear();
    github.requests.length = 0;
    github.readOnly = false;
    github.hostile = {};
    dir = mkdtempSync(join(tmpdir(), 'ecfence-gh-'));
    const event = join(dir, 'event.json');
    writeFileSync(event, JSON.stringify({ pull_request: { number: PR, head: { sha: 'feedface00112233' } } }));
    env = {
      GITHUB_TOKEN: FAKE_TOKEN,
      GITHUB_REPOSITORY: 'acme/infra',
      GITHUB_API_URL: github.url,
      GITHUB_EVENT_PATH: event,
      GITHUB_STEP_SUMMARY: join(dir, 'summary.md'),
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '99',
      ECFENCE_WORKING_DIRECTORY: 'infra',
      ECFENCE_ENVIRONMENTS: 'prod',
    };
    writeFileSync(env['GITHUB_STEP_SUMMARY'] as string, '');
  });

  const bodies = () => (github.comments.get(PR) ?? []).map((c) => c.body);

  it('creates one comment, then updates that same comment on every push', async () => {
    const first = await postPlan('### ecfence plan\n\nPlan: 1 to create.\n', env);
    expect(first.decision?.kind).toBe('create');
    expect(bodies()).toHaveLength(1);
    expect(bodies()[0]).toContain(markerFor('infra', ['prod']));
    expect(bodies()[0]).toContain('commit feedface0011');
    expect(bodies()[0]).toContain('https://github.com/acme/infra/actions/runs/99');

    const second = await postPlan('### ecfence plan\n\nPlan: 2 to create.\n', env);
    expect(second.decision?.kind).toBe('update');
    expect(second.commentId).toBe(first.commentId);
    expect(bodies()).toHaveLength(1);
    expect(bodies()[0]).toContain('Plan: 2 to create.');

    github.requests.length = 0;
    const third = await postPlan('### ecfence plan\n\nPlan: 2 to create.\n', env);
    expect(third.decision?.kind).toBe('unchanged');
    expect(github.requests.map((r) => r.method)).toEqual(['GET']);
  });

  it('finds its comment on a later page of a long discussion', async () => {
    const many = Array.from({ length: 250 }, (_, i) => ({
      id: i + 1,
      body: `comment ${i}`,
      user: { login: 'alice' },
    }));
    many[230] = {
      id: 231,
      body: `${markerFor('infra', ['prod'])}\nold plan`,
      user: { login: 'github-actions[bot]' },
    };
    github.comments.set(PR, many);
    const result = await postPlan('### ecfence plan\n\nNew.\n', env);
    expect(result).toMatchObject({ decision: { kind: 'update', id: 231 }, commentId: 231 });
    expect(bodies()).toHaveLength(250);
    expect(github.requests.filter((r) => r.method === 'GET')).toHaveLength(3);
  });

  it('keeps separate comments for jobs on other directories or environments', async () => {
    await postPlan('prod plan', env);
    await postPlan('dev plan', { ...env, ECFENCE_ENVIRONMENTS: 'dev' });
    await postPlan('prod plan v2', env);
    expect(bodies()).toHaveLength(2);
    expect(bodies()[0]).toContain('prod plan v2');
    expect(bodies()[1]).toContain('dev plan');
  });

  it('appends the plan to the job summary', async () => {
    await postPlan('### ecfence plan\n\nNo changes.\n', env);
    expect(readFileSync(env['GITHUB_STEP_SUMMARY'] as string, 'utf8')).toBe(
      '### ecfence plan\n\nNo changes.\n\n',
    );
  });

  it('writes only the summary outside a pull request or with comments off', async () => {
    const push = join(dir, 'push.json');
    writeFileSync(push, JSON.stringify({ ref: 'refs/heads/main' }));
    const r1 = await postPlan('plan', { ...env, GITHUB_EVENT_PATH: push });
    expect(r1).toMatchObject({
      summaryWritten: true,
      warning: expect.stringContaining('not a pull request'),
    });
    const r2 = await postPlan('plan', { ...env, ECFENCE_COMMENT: 'false' });
    expect(r2.decision).toBeUndefined();
    expect(github.requests).toEqual([]);
  });

  it('does not fail the job when the token may not comment (fork), and never shows the token', async () => {
    github.readOnly = true;
    const r = await postPlan('plan', env);
    expect(r.warning).toContain('403');
    expect(r.warning).not.toContain(FAKE_TOKEN);
    expect(r.summaryWritten).toBe(true);
  });

  it('reports a wrong token as a warning, without showing it, and still writes the summary', async () => {
    const wrong = 'ghs_wrong_token_canary';
    const r = await postPlan('plan', { ...env, GITHUB_TOKEN: wrong });
    expect(r.warning).toMatch(/401 Bad credentials/);
    expect(r.warning).not.toContain(wrong);
    expect(r).toMatchObject({ summaryWritten: true });
    expect(r.decision).toBeUndefined();
  });

  it('tells an answer without a comment id as a failure, not as "created (id undefined)"', async () => {
    github.hostile = { writesWithoutBody: true };
    const r = await postPlan('plan', env);
    expect(r.warning).toContain('GitHub answered without a comment id');
    expect(r.decision).toBeUndefined();
  });

  it('sends the token to the origin of GITHUB_API_URL only: no Link to another host, no redirect', async () => {
    github.hostile = { nextPageOrigin: elsewhere.url };
    expect((await postPlan('plan', env)).warning).toContain(
      `GitHub API GET /repos/acme/infra/issues/7/comments: 0 refused: ${elsewhere.url} is not GITHUB_API_URL's origin`,
    );
    github.hostile = { redirectWritesTo: elsewhere.url };
    expect((await postPlan('plan', env)).warning).toMatch(
      /POST \/repos\/acme\/infra\/issues\/7\/comments: 307 redirect not followed/,
    );
    expect(elsewhere.hits).toEqual([]);
  });

  it('prints what GitHub says scrubbed and on one line, never as a workflow command', async () => {
    github.hostile = { echo: true };
    github.readOnly = true;
    const plan = join(dir, 'plan.md');
    writeFileSync(plan, '### ecfence plan\n');
    const script = (extra: Record<string, string>) =>
      runProcess(process.execPath, [join(repoRoot, 'dist', 'ci', 'github-comment.js')], {
        env: {
          PATH: process.env['PATH'] ?? '',
          ...env,
          ECFENCE_EXIT_CODE: '0',
          ECFENCE_PLAN_MD: plan,
          ...extra,
        },
      });
    const wrong = 'ghs_CANARY_wrong_token_4d5e6f';
    const [forbidden, denied] = await Promise.all([script({}), script({ GITHUB_TOKEN: wrong })]);
    expect(forbidden.code).toBe(0);
    expect(forbidden.stdout).toBe(
      '::warning title=ecfence plan comment::GitHub API POST /repos/acme/infra/issues/7/comments: 403 ' +
        'Resource not accessible by integration (Bearer [redacted])\\n::error title=Injected::pwned; ' +
        'no comment posted (the job summary has the plan)\n',
    );
    // Any failure of the comment is one warning and does not fail the job.
    expect(denied.code).toBe(0);
    expect(denied.stdout).toBe(
      '::warning title=ecfence plan comment::GitHub API GET /repos/acme/infra/issues/7/comments: 401 ' +
        'Bad credentials (Bearer [redacted])\\n::error title=Injected::pwned; ' +
        'no comment posted (the job summary has the plan)\n',
    );
    expect(denied.stderr).toBe('');
    for (const out of [forbidden.stdout, forbidden.stderr, denied.stdout, denied.stderr]) {
      expect(out).not.toContain(FAKE_TOKEN);
      expect(out).not.toContain(wrong);
    }
  });
});
