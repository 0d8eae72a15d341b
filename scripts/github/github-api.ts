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
  /** At most this many pages of comments are read (100 per page). */
  maxPages?: number;
}

/**
 * The three issue-comment calls the PR comment needs, over global `fetch`. The token is sent only
 * in the Authorization header and never appears in an error message.
 */
export class GitHubClient {
  private readonly base: string;

  constructor(private readonly options: GitHubClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
  }

  private async request(method: string, url: string, body?: unknown): Promise<Response> {
    const res = await fetch(url, {
      method,
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
      let detail = res.statusText;
      try {
        const parsed = (await res.json()) as { message?: unknown };
        if (typeof parsed.message === 'string') detail = parsed.message;
      } catch {
        // Not JSON: the status text says enough.
      }
      throw new GitHubApiError(res.status, method, new URL(url).pathname, detail);
    }
    return res;
  }

  /**
   * Walks the pull request's comments page by page (following `Link: rel="next"`) and returns the
   * first one `match` accepts, without reading further pages.
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
