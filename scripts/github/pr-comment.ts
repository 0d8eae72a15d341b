/**
 * `node dist/ci/github-comment.js`: tells the pull request what the plan step came to, as ONE
 * comment that later runs update in place (found by a hidden marker per working directory and
 * environment set), and appends the same to the job summary (`$GITHUB_STEP_SUMMARY`). Every
 * outcome is told (see `outcomeMarkdown`), so the comment never shows an earlier run's plan.
 *
 * The outcome: ECFENCE_EXIT_CODE (empty: ecfence did not run), ECFENCE_PLAN_MD (the Markdown plan),
 * ECFENCE_LOG (ecfence's stderr), ECFENCE_FORK=true (a fork's pull request: validated only).
 * Environment: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_API_URL, GITHUB_EVENT_PATH (or
 * ECFENCE_PR_NUMBER), GITHUB_STEP_SUMMARY, GITHUB_SHA, GITHUB_SERVER_URL, GITHUB_RUN_ID;
 * ECFENCE_WORKING_DIRECTORY and ECFENCE_ENVIRONMENTS (for the marker), ECFENCE_COMMENT=false to
 * write only the summary, ECFENCE_COMMENT_AUTHOR to only ever update that user's comment.
 * A comment that cannot be posted (a fork's read-only token, an outage) is one warning and never
 * fails the job: the summary still has the outcome.
 * The token is sent only to the origin of GITHUB_API_URL and never printed: everything this script
 * writes (comment, summary, its output) is scrubbed of it, and what GitHub says is shown on one
 * line that cannot be a workflow command. The action runs it with this environment only: no
 * Elastic key reaches it.
 */
import { appendFileSync } from 'node:fs';
import {
  buildCommentBody,
  decideComment,
  findMarkedComment,
  markerFor,
  outcomeMarkdown,
  pullRequestNumber,
  type CommentDecision,
} from './comment.js';
import { GitHubClient } from './github-api.js';
import { environmentsFrom, isMainModule, outcomeFrom, readBounded } from '../ci/inputs.js';
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
  try {
    return JSON.parse(readBounded(env['GITHUB_EVENT_PATH'], 16 * 1024 * 1024)) as unknown;
  } catch {
    return undefined;
  }
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
    result.warning =
      'GITHUB_TOKEN and GITHUB_REPOSITORY must be set to comment; no comment posted (the job summary has the plan)';
    return result;
  }
  const author = env['ECFENCE_COMMENT_AUTHOR'] || undefined;
  try {
    const client = new GitHubClient({
      apiUrl: env['GITHUB_API_URL'] || 'https://api.github.com',
      token,
      repository,
      redactor,
    });
    const existing = await client.findComment(pr, (page) => findMarkedComment(page, marker, author));
    const decision = decideComment(existing, body);
    const id =
      decision.kind === 'create'
        ? (await client.createComment(pr, decision.body)).id
        : decision.kind === 'update'
          ? (await client.updateComment(decision.id, decision.body)).id
          : decision.id;
    if (!Number.isSafeInteger(id)) throw new Error('GitHub answered without a comment id');
    result.decision = decision;
    result.commentId = id;
  } catch (error) {
    // A fork's read-only token (403), a wrong token, an outage: the summary has the plan, and a
    // missing comment must not fail the check that reviewers look at. Reported once, here.
    const reason = error instanceof Error ? error.message : String(error);
    result.warning = `${reason}; no comment posted (the job summary has the plan)`;
  }
  return result;
}

async function main(redactor: Redactor, say: (text: string) => void): Promise<number> {
  const result = await postPlan(outcomeMarkdown(outcomeFrom(process.env)), process.env, redactor);
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

if (isMainModule(import.meta.url)) {
  const redactor = redactorFor(process.env);
  // Every line this script prints: on one line, no workflow command, scrubbed.
  const say = (text: string): void =>
    void process.stderr.write(`${safeOutput(redactor, oneLine(text), false)}\n`);
  main(redactor, say).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
      say(`ecfence pr-comment: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
