/**
 * The pure half of the pull-request comment: which comment is ours, what it says, and whether to
 * create, update or leave it. No I/O here; `github-api.ts` talks to GitHub and `pr-comment.ts`
 * wires the two together.
 */

/** GitHub refuses issue comments longer than this. */
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface IssueComment {
  id: number;
  body?: string | null;
  user?: { login: string } | null;
}

export type CommentDecision =
  | { kind: 'create'; body: string }
  | { kind: 'update'; id: number; body: string }
  | { kind: 'unchanged'; id: number };

const MARKER_START = '<!-- ecfence-plan:';

/** Characters that would end or corrupt an HTML comment are replaced, so the marker stays one comment. */
function markerPart(text: string): string {
  return text.replace(/-{2,}/g, '-').replace(/[<>\s]+/g, '_');
}

/**
 * The hidden marker that identifies the comment of one (working directory, environments) pair, so
 * several jobs on one pull request (a matrix over environments or directories) each keep their own
 * comment instead of overwriting each other's.
 */
export function markerFor(directory: string, environments: readonly string[]): string {
  const dir =
    directory
      .replace(/\\/g, '/')
      .replace(/^\.\/+/, '')
      .replace(/\/+$/, '') || '.';
  const envs = environments.length === 0 ? 'all' : [...new Set(environments)].sort().join(',');
  return `${MARKER_START}${markerPart(dir)}:${markerPart(envs)} -->`;
}

export interface BodyContext {
  marker: string;
  /** The plan as `ecfence plan --format markdown` printed it. */
  markdown: string;
  /** Commit the plan was made from, shown so a reviewer knows which push it describes. */
  sha?: string;
  /** Link to the workflow run (artifacts, full logs). */
  runUrl?: string;
}

/**
 * The comment body: marker first (hidden), the plan, then where it came from. A marker quoted in
 * the text (a file of the pull request can hold one) is broken, so that no other job's search
 * finds this comment.
 */
export function buildCommentBody(context: BodyContext, limit = GITHUB_COMMENT_LIMIT): string {
  const footer: string[] = [];
  if (context.sha) footer.push(`commit ${context.sha.slice(0, 12)}`);
  if (context.runUrl) footer.push(`[workflow run](${context.runUrl})`);
  const tail = footer.length > 0 ? `\n\n<sub>ecfence plan · ${footer.join(' · ')}</sub>\n` : '\n';
  let markdown = context.markdown.trimEnd().replaceAll(MARKER_START, '<!-- ecfence-quoted-plan:');
  const room = limit - context.marker.length - tail.length - 200;
  if (markdown.length > room) {
    // `plan --format markdown` already stays under 60,000 characters; this only guards input
    // that did not come from it.
    markdown = `${markdown.slice(0, room)}\n\n**Truncated.** The full plan is in the workflow run's plan.json artifact.`;
  }
  return `${context.marker}\n${markdown}${tail}`;
}

/** The first comment that carries the marker (and, when given, was written by `author`). */
export function findMarkedComment(
  comments: readonly IssueComment[],
  marker: string,
  author?: string,
): IssueComment | undefined {
  return comments.find(
    (c) =>
      typeof c.body === 'string' &&
      c.body.includes(marker) &&
      (author === undefined || c.user?.login === author),
  );
}

/** Create when there is no comment yet, update it in place when it differs, else leave it alone. */
export function decideComment(existing: IssueComment | undefined, body: string): CommentDecision {
  if (existing === undefined) return { kind: 'create', body };
  if (existing.body === body) return { kind: 'unchanged', id: existing.id };
  return { kind: 'update', id: existing.id, body };
}

/** The `rel="next"` URL of a GitHub `Link` header, if any. */
export function nextPageUrl(link: string | null | undefined): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(',')) {
    const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part.trim());
    if (m?.[1]) return m[1];
  }
  return undefined;
}

/** Pull-request number from the event payload GitHub Actions writes to `GITHUB_EVENT_PATH`. */
export function pullRequestNumber(event: unknown): number | undefined {
  if (typeof event !== 'object' || event === null) return undefined;
  const e = event as {
    pull_request?: { number?: unknown };
    issue?: { number?: unknown; pull_request?: unknown };
  };
  if (typeof e.pull_request?.number === 'number') return e.pull_request.number;
  if (e.issue?.pull_request !== undefined && typeof e.issue.number === 'number') return e.issue.number;
  return undefined;
}

/** What one run of the plan step came to, as the comment and the job summary tell it. */
export interface Outcome {
  /** ecfence's exit code; undefined when it did not run (an earlier step of the job failed). */
  exitCode: number | undefined;
  /** What `plan --format markdown` printed (empty when it printed nothing). */
  markdown: string;
  /** What ecfence wrote to stderr: the errors of invalid input, the API error. */
  log: string;
  /** A pull request from a fork, without the repository's secrets: `validate` ran instead of `plan`. */
  fork: boolean;
  /** Why a fork's run has no secrets, in the words of its CI system (default: GitHub's). */
  forkReason?: string;
}

/** GitHub's rule for pull requests from forks (`Outcome.forkReason`). */
const GITHUB_FORKS = "GitHub gives workflows of pull requests from forks none of the repository's secrets";

/** The most of ecfence's stderr quoted (its end: the verdict is there). */
const MAX_LOG = 20_000;

/** `text` as a code block whose fence no run of backticks in it can close. */
function codeBlock(text: string): string {
  const cut = text.length > MAX_LOG ? `…\n${text.slice(text.length - MAX_LOG)}` : text;
  const longest = Math.max(0, ...(cut.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(Math.max(3, longest + 1));
  return `${fence}text\n${cut.trimEnd()}\n${fence}`;
}

/**
 * The Markdown for every outcome, so the comment never shows a previous run's plan as this one's:
 * the plan (changes, no changes, refused), invalid input with its errors, an error with what ecfence
 * said, a fork (validated only, and why), or ecfence not having run at all.
 */
export function outcomeMarkdown(o: Outcome): string {
  const log = o.log.trim() === '' ? '' : `\n\n${codeBlock(o.log)}`;
  if (o.exitCode === undefined) {
    return '### ecfence plan: not run\n\necfence did not run: an earlier step of the job failed (see the workflow run). There is no plan for this commit.';
  }
  if (o.fork) {
    const verdict = o.exitCode === 0 ? 'They are valid.' : `They have errors (exit ${o.exitCode}):`;
    return (
      '### ecfence plan: validated only (pull request from a fork)\n\n' +
      `There is no plan: ${o.forkReason ?? GITHUB_FORKS}, so ecfence had no API key to read live ` +
      `state with. The files were checked offline with \`ecfence validate\`. ${verdict}${log}\n\n` +
      'A maintainer can see the plan by pushing this branch to the repository.'
    );
  }
  const plan = o.markdown.trim();
  if ((o.exitCode === 0 || o.exitCode === 2 || o.exitCode === 4) && plan !== '') return plan;
  const heading =
    o.exitCode === 3
      ? '### ecfence plan: invalid input\n\nNothing was planned and nothing was sent to any API: the configuration or the policy files have errors (exit 3).'
      : o.exitCode === 1
        ? '### ecfence plan: error\n\nThe plan could not be completed (exit 1): an API call failed after its retries, or an environment could not be read.'
        : `### ecfence plan: failed (exit ${o.exitCode})\n\necfence did not finish the plan.`;
  return `${heading}${log}${plan === '' ? '' : `\n\n${plan}`}`;
}
