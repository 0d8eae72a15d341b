import type { Redactor } from '../../src/secrets/redactor.js';
import { oneLine } from '../../src/secrets/untrusted-text.js';
import { RestClient } from '../ci/rest-client.js';
import type { IssueComment } from './comment.js';

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

/**
 * The three issue-comment calls the PR comment needs. The token is sent only in the Authorization
 * header, and only to the origin of `apiUrl` (see `RestClient`).
 */
export class GitHubClient {
  private readonly rest: RestClient;

  constructor(private readonly options: GitHubClientOptions) {
    this.rest = new RestClient({
      service: 'GitHub',
      apiUrlVariable: 'GITHUB_API_URL',
      apiUrl: options.apiUrl,
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${options.token}`,
        'x-github-api-version': '2022-11-28',
      },
      redactor: options.redactor,
      ...(options.maxPages !== undefined ? { maxPages: options.maxPages } : {}),
    });
  }

  private url(path: string): string {
    return `${this.rest.base}/repos/${this.options.repository}${path}`;
  }

  /** The first comment of the pull request that `match` accepts, page by page. */
  findComment(issue: number, match: (comments: IssueComment[]) => IssueComment | undefined) {
    return this.rest.find(this.url(`/issues/${issue}/comments?per_page=100`), match);
  }

  createComment(issue: number, body: string): Promise<IssueComment> {
    return this.rest.send('POST', this.url(`/issues/${issue}/comments`), { body });
  }

  updateComment(id: number, body: string): Promise<IssueComment> {
    if (!Number.isSafeInteger(id)) throw new Error(`comment id ${oneLine(String(id))} is not a number`);
    return this.rest.send('PATCH', this.url(`/issues/comments/${id}`), { body });
  }
}
