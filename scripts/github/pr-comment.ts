/**
 * `node dist/scripts/github/pr-comment.js PLAN.md`: posts the Markdown plan to the pull request as
 * ONE comment that later runs update in place (found by a hidden marker per working directory and
 * environment set), and appends it to the job summary (`$GITHUB_STEP_SUMMARY`).
 *
 * Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_EVENT_PATH (or
 * ECFENCE_PR_NUMBER), GITHUB_STEP_SUMMARY, GITHUB_SHA, GITHUB_SERVER_URL, GITHUB_RUN_ID;
 * ECFENCE_WORKING_DIRECTORY and ECFENCE_ENVIRONMENTS (for the marker), ECFENCE_COMMENT=false to
 * write only the summary, ECFENCE_COMMENT_AUTHOR to only ever update that user's comment.
 * The token is sent only to the origin of GITHUB_API_URL and never printed: everything this script
 * writes (comment, summary, its output) is scrubbed of it, and what GitHub says is shown on one
 * line that cannot be a workflow command. The action runs it with this environment only: no
 * Elastic key reaches it.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  buildCommentBody,
  decideComment,
  findMarkedComment,
  markerFor,
  pullRequestNumber,
  type CommentDecision,
} from './comment.js';
import { GitHubApiError, GitHubClient } from './github-api.js';
import { Redactor } from '../../src/secrets/redactor.js';
import { escapeWorkflowData, oneLine, safeOutput } from '../../src/secrets/untrusted-text.js';

export interface PostResult {
  /** Undefined when no comment was attempted (not a pull request, or commenting is off). */
  decision?: CommentDecision;
  commentId?: number;
  summaryWritten: boolean;
  /** Why the comment was skipped or failed without failing the job. */
  warning?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function readEvent(env: Env): unknown {
  const path = env['GITHUB_EVENT_PATH'];
  if (!path) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** `prod staging` or `prod,staging` → `['prod', 'staging']`. */
export function environmentsFrom(text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).filter((s) => s !== '');
}

/** The secrets this script holds: the token. */
export function redactorFor(env: Env): Redactor {
  const redactor = new Redactor();
  redactor.add(env['GITHUB_TOKEN']);
  return redactor;
}

/** Comment (create or update in place) and job summary; see the file comment for the inputs. */
export async function postPlan(markdown: string, env: Env, redactor = redactorFor(env)): Promise<PostResult> {
  const event = readEvent(env);
  const marker = markerFor(
    env['ECFENCE_WORKING_DIRECTORY'] ?? '.',
    environmentsFrom(env['ECFENCE_ENVIRONMENTS']),
  );
  const head = (event as { pull_request?: { head?: { sha?: unknown } } } | undefined)?.pull_request?.head
    ?.sha;
  const sha = typeof head === 'string' ? head : env['GITHUB_SHA'];
  const runUrl =
    env['GITHUB_SERVER_URL'] && env['GITHUB_REPOSITORY'] && env['GITHUB_RUN_ID']
      ? `${env['GITHUB_SERVER_URL']}/${env['GITHUB_REPOSITORY']}/actions/runs/${env['GITHUB_RUN_ID']}`
      : undefined;
  const body = buildCommentBody({
    marker,
    markdown: redactor.scrub(markdown),
    ...(sha ? { sha } : {}),
    ...(runUrl ? { runUrl } : {}),
  });

  const result: PostResult = { summaryWritten: false };
  const summary = env['GITHUB_STEP_SUMMARY'];
  if (summary) {
    appendFileSync(summary, redactor.scrub(`${markdown.trimEnd()}\n\n`));
    result.summaryWritten = true;
  }

  if (env['ECFENCE_COMMENT'] === 'false') return result;
  const prText = env['ECFENCE_PR_NUMBER'];
  const pr = prText ? Number(prText) : pullRequestNumber(event);
  if (pr === undefined || !Number.isInteger(pr) || pr <= 0) {
    result.warning = 'not a pull request: no comment posted (the job summary has the plan)';
    return result;
  }
  const token = env['GITHUB_TOKEN'];
  const repository = env['GITHUB_REPOSITORY'];
  if (!token || !repository) {
    throw new Error('GITHUB_TOKEN and GITHUB_REPOSITORY must be set to comment on the pull request');
  }
  const client = new GitHubClient({
    apiUrl: env['GITHUB_API_URL'] || 'https://api.github.com',
    token,
    repository,
    redactor,
  });
  const author = env['ECFENCE_COMMENT_AUTHOR'] || undefined;
  try {
    const existing = await client.findComment(pr, (page) => findMarkedComment(page, marker, author));
    const decision = decideComment(existing, body);
    result.decision = decision;
    if (decision.kind === 'create') result.commentId = (await client.createComment(pr, decision.body)).id;
    else if (decision.kind === 'update')
      result.commentId = (await client.updateComment(decision.id, decision.body)).id;
    else result.commentId = decision.id;
  } catch (error) {
    // A pull request from a fork gets a read-only token: the summary still has the plan, and a
    // missing comment must not fail the check that reviewers look at.
    if (error instanceof GitHubApiError && error.status === 403) {
      result.warning = `${error.message}; no comment posted (the job summary has the plan)`;
      return result;
    }
    throw error;
  }
  return result;
}

async function main(
  argv: readonly string[],
  redactor: Redactor,
  say: (text: string) => void,
): Promise<number> {
  const file = argv[0];
  if (!file) {
    say('usage: pr-comment.js PLAN.md   (the output of: ecfence plan --format markdown)');
    return 3;
  }
  const markdown = readFileSync(file, 'utf8');
  const result = await postPlan(markdown, process.env, redactor);
  if (result.warning) {
    // The one workflow command this script means; GitHub's text in it is escaped as data.
    const warning = escapeWorkflowData(redactor.scrub(oneLine(result.warning)));
    process.stdout.write(`::warning title=ecfence plan comment::${warning}\n`);
  }
  if (result.decision) {
    const verb = { create: 'created', update: 'updated', unchanged: 'left unchanged' }[result.decision.kind];
    say(`ecfence: plan comment ${verb} (id ${String(result.commentId)})`);
  }
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const redactor = redactorFor(process.env);
  // Every line this script prints: on one line, no workflow command, scrubbed.
  const say = (text: string): void =>
    void process.stderr.write(`${safeOutput(redactor, oneLine(text), false)}\n`);
  main(process.argv.slice(2), redactor, say).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      say(`ecfence pr-comment: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
