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
  return `<!-- ecfence-plan:${markerPart(dir)}:${markerPart(envs)} -->`;
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

/** The comment body: marker first (hidden), the plan, then where it came from. */
export function buildCommentBody(context: BodyContext): string {
  const footer: string[] = [];
  if (context.sha) footer.push(`commit ${context.sha.slice(0, 12)}`);
  if (context.runUrl) footer.push(`[workflow run](${context.runUrl})`);
  const tail = footer.length > 0 ? `\n\n<sub>ecfence plan · ${footer.join(' · ')}</sub>\n` : '\n';
  let markdown = context.markdown.trimEnd();
  const room = GITHUB_COMMENT_LIMIT - context.marker.length - tail.length - 200;
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
