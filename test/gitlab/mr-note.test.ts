/**
 * The GitLab side: the merge-request note (created once, then updated in place, whatever the
 * outcome) against a GitLab-like API, and the recipe that runs it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot, runProcess } from '../support/cli.js';
import { startElsewhere } from '../secrets/hostile-api.js';
import { GITLAB_TOKEN, startFakeGitLab, type FakeGitLab } from './fake-gitlab.js';

describe('the merge request note', () => {
  let gitlab: FakeGitLab;
  let elsewhere: Awaited<ReturnType<typeof startElsewhere>>;
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-gl-'));
  const note = (
    exitCode: string,
    files: { md?: string; log?: string },
    extra: Record<string, string> = {},
  ) => {
    writeFileSync(join(dir, 'plan.md'), files.md ?? '');
    writeFileSync(join(dir, 'stderr.log'), files.log ?? '');
    return runProcess(process.execPath, [join(repoRoot, 'dist', 'ci', 'gitlab-note.js')], {
      env: {
        PATH: process.env['PATH'] ?? '',
        ECFENCE_GITLAB_TOKEN: GITLAB_TOKEN,
        CI_API_V4_URL: gitlab.url,
        CI_PROJECT_ID: '42',
        CI_MERGE_REQUEST_IID: '5',
        CI_COMMIT_SHA: 'feedface00112233',
        ECFENCE_EXIT_CODE: exitCode,
        ECFENCE_PLAN_MD: join(dir, 'plan.md'),
        ECFENCE_LOG: join(dir, 'stderr.log'),
        ...extra,
      },
    });
  };

  beforeAll(async () => {
    [gitlab, elsewhere] = await Promise.all([startFakeGitLab(), startElsewhere()]);
  });
  afterAll(async () => {
    await Promise.all([gitlab.close(), elsewhere.close()]);
  });
  beforeEach(() => {
    gitlab.notes.length = 0;
    gitlab.requests.length = 0;
    gitlab.readOnly = false;
    delete gitlab.redirectWritesTo;
  });

  it('is created once and updated in place for every outcome, the token only in PRIVATE-TOKEN', async () => {
    const first = await note('2', { md: '### ecfence plan\n\nPlan: 1 to create.\n' });
    expect(first.stderr).toMatch(/^ecfence: merge request note created \(id 500\)$/m);
    const second = await note('3', { log: "policies/a.yaml:7:17: error E_INVALID_SOURCE 'vpn'\n" });
    expect(second.stderr).toMatch(/note updated \(id 500\)/);
    expect(gitlab.notes).toHaveLength(1);
    expect(gitlab.notes[0]?.body).toMatch(/^<!-- ecfence-plan:\.:all -->\n### ecfence plan: invalid input/);
    expect(gitlab.notes[0]?.body).toContain("E_INVALID_SOURCE 'vpn'");
    expect(gitlab.notes[0]?.body).not.toContain('Plan: 1 to create');
    const fork = await note('0', {}, { ECFENCE_FORK: 'true' });
    expect(fork.code).toBe(0);
    expect(gitlab.notes[0]?.body).toContain('GitLab runs pipelines of merge requests from forks');
    expect(new Set(gitlab.requests.map((r) => r.token))).toEqual(new Set([GITLAB_TOKEN]));
    expect(`${first.stderr}${second.stderr}`).not.toContain(GITLAB_TOKEN);
  });

  it('a note that cannot be posted is one warning, never a failed job, and never follows a redirect', async () => {
    gitlab.readOnly = true;
    const forbidden = await note('2', { md: 'plan' });
    expect(forbidden.code).toBe(0);
    expect(forbidden.stderr).toBe(
      'ecfence: warning: GitLab API POST /api/v4/projects/42/merge_requests/5/notes: 403 403 Forbidden; no note posted (the job log has the plan)\n',
    );
    gitlab.redirectWritesTo = elsewhere.url;
    const redirected = await note('2', { md: 'plan' });
    expect(redirected.stderr).toContain('307 redirect not followed');
    const wrong = await note('2', { md: 'plan' }, { ECFENCE_GITLAB_TOKEN: 'glpat-CANARY-wrong-token' });
    expect(wrong.code).toBe(0);
    expect(wrong.stderr).toContain('401 401 Unauthorized');
    expect(wrong.stderr).not.toContain('glpat-CANARY-wrong-token');
    expect(elsewhere.hits).toEqual([]);
  });
});

describe('the GitLab recipe', () => {
  const recipe = parse(
    readFileSync(join(repoRoot, 'examples', 'gitlab', '.gitlab-ci.yml'), 'utf8'),
  ) as Record<string, { script?: string[]; artifacts?: { reports?: { codequality?: string } } }>;
  const script = (job: string): string => (recipe[job]?.script ?? []).join('\n');

  it('reports validate as Code Quality, and notes every plan outcome on the merge request', () => {
    expect(script('validate')).toContain('ecfence validate --format gitlab > gl-code-quality-report.json');
    expect(recipe['validate']?.artifacts?.reports?.codequality).toBe('gl-code-quality-report.json');
    const plan = script('plan');
    expect(plan).toContain('ecfence plan --format markdown');
    // The note runs whatever the plan's exit code, with the token and none of the job's other variables.
    expect(plan).toMatch(/env -i [^\n]*ECFENCE_GITLAB_TOKEN="\$ECFENCE_GITLAB_TOKEN"[^\n]*gitlab-note\.js/);
    expect(plan.indexOf('gitlab-note.js')).toBeLessThan(plan.lastIndexOf('exit "$code"'));
  });

  it('runs a pinned, prebuilt ecfence from npm, never a build of its sources', () => {
    const setup = JSON.stringify(recipe['default']);
    expect(setup).toMatch(/npm install .*--ignore-scripts.*ecfence@\$ECFENCE_VERSION/);
    expect(setup).not.toMatch(/npm ci|npm run build|git clone/);
  });
});
