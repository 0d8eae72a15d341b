import type { Redactor } from '../../src/secrets/redactor.js';
import { oneLine } from '../../src/secrets/untrusted-text.js';
import { nextPageUrl, type IssueComment } from './comment.js';

/** An HTTP error from the GitHub REST API, with the status so callers can tell 403 from 5xx. */
export class GitHubApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`GitHub API ${method} ${path}: ${status} ${detail}`);
    this.name = 'GitHubApiError';
  }
}

export interface GitHubClientOptions {
  /** e.g. `https://api.github.com` (GITHUB_API_URL on GitHub Enterprise Server differs). */
  apiUrl: string;
  token: string;
  /** `owner/name`. */
  repository: string;
  /** Scrubs what the API says before it goes into an error message (the token is in it). */
  redactor: Redactor;
  /** At most this many pages of comments are read (100 per page). */
  maxPages?: number;
}

/** GitHub's message in an error, cut here (after it is scrubbed). */
const MAX_DETAIL = 300;

/**
 * The three issue-comment calls the PR comment needs, over global `fetch`. The token is sent only
 * in the Authorization header, and only to the origin of `apiUrl`: a `Link` to another host is
 * not followed and a redirect is never followed, both are errors. What the API says in an error is
 * scrubbed, put on one line and cut before it becomes part of a message.
 */
export class GitHubClient {
  private readonly base: string;
  private readonly origin: string;

  constructor(private readonly options: GitHubClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
  }

  private async request(method: string, url: string, body?: unknown): Promise<Response> {
    const target = new URL(url, this.base);
    if (target.origin !== this.origin) {
      throw new GitHubApiError(
        0,
        method,
        target.pathname,
        `refused: ${oneLine(target.origin)} is not GITHUB_API_URL's origin (${this.origin}), and the token goes nowhere else`,
      );
    }
    const res = await fetch(target, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.options.token}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'ecfence-pr-comment',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) {
      let detail = res.status >= 300 && res.status < 400 ? 'redirect not followed' : res.statusText;
      try {
        const parsed = (await res.json()) as { message?: unknown };
        if (typeof parsed.message === 'string') detail = parsed.message;
      } catch {
        // Not JSON: the status text says enough.
      }
      throw new GitHubApiError(
        res.status,
        method,
        target.pathname,
        this.options.redactor.cut(oneLine(detail), MAX_DETAIL),
      );
    }
    return res;
  }

  /**
   * Walks the pull request's comments page by page (following `Link: rel="next"`, on the API's
   * origin only) and returns the first one `match` accepts, without reading further pages.
   */
  async findComment(issue: number, match: (comments: IssueComment[]) => IssueComment | undefined) {
    let url: string | undefined =
      `${this.base}/repos/${this.options.repository}/issues/${issue}/comments?per_page=100`;
    for (let page = 0; url !== undefined && page < (this.options.maxPages ?? 50); page++) {
      const res = await this.request('GET', url);
      const found = match((await res.json()) as IssueComment[]);
      if (found) return found;
      url = nextPageUrl(res.headers.get('link'));
    }
    return undefined;
  }

  async createComment(issue: number, body: string): Promise<IssueComment> {
    const res = await this.request(
      'POST',
      `${this.base}/repos/${this.options.repository}/issues/${issue}/comments`,
      {
        body,
      },
    );
    return (await res.json()) as IssueComment;
  }

  async updateComment(id: number, body: string): Promise<IssueComment> {
    if (!Number.isSafeInteger(id)) throw new Error(`comment id ${oneLine(String(id))} is not a number`);
    const res = await this.request(
      'PATCH',
      `${this.base}/repos/${this.options.repository}/issues/comments/${id}`,
      {
        body,
      },
    );
    return (await res.json()) as IssueComment;
  }
}
