import type { Redactor } from '../../src/secrets/redactor.js';
import { oneLine } from '../../src/secrets/untrusted-text.js';
import { nextPageUrl } from '../github/comment.js';

/** An HTTP error from a CI system's REST API, with the status so callers can tell 403 from 5xx. */
export class CommentApiError extends Error {
  constructor(
    readonly service: string,
    readonly status: number,
    readonly method: string,
    readonly path: string,
    detail: string,
  ) {
    super(`${service} API ${method} ${path}: ${status} ${detail}`);
    this.name = 'CommentApiError';
  }
}

export interface RestClientOptions {
  /** `GitHub`, `GitLab`: how errors name the API. */
  service: string;
  /** Name of the variable `apiUrl` came from, for the refusal of another origin. */
  apiUrlVariable: string;
  /** e.g. `https://api.github.com`; the only origin the credentials go to. */
  apiUrl: string;
  /** The credential header(s) and any the API wants on every request. */
  headers: Record<string, string>;
  /** Scrubs what the API says before it goes into an error message (the token is in it). */
  redactor: Redactor;
  /** At most this many pages are read when searching. */
  maxPages?: number;
}

/** The API's message in an error, cut here (after it is scrubbed). */
const MAX_DETAIL = 300;

/**
 * JSON over global `fetch` to one CI system's API. The credentials go only to the origin of
 * `apiUrl`: a `Link` to another host is not followed and a redirect is never followed, both are
 * errors. What the API says in an error is scrubbed, put on one line and cut before it becomes
 * part of a message.
 */
export class RestClient {
  readonly base: string;
  private readonly origin: string;

  constructor(private readonly options: RestClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
  }

  async request(method: string, url: string, body?: unknown): Promise<Response> {
    const { service, apiUrlVariable, redactor } = this.options;
    const target = new URL(url, this.base);
    if (target.origin !== this.origin) {
      throw new CommentApiError(
        service,
        0,
        method,
        target.pathname,
        `refused: ${oneLine(target.origin)} is not ${apiUrlVariable}'s origin (${this.origin}), and the token goes nowhere else`,
      );
    }
    const res = await fetch(target, {
      method,
      redirect: 'manual',
      headers: {
        accept: 'application/json',
        'user-agent': 'ecfence-comment',
        ...this.options.headers,
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
      throw new CommentApiError(
        service,
        res.status,
        method,
        target.pathname,
        redactor.cut(oneLine(detail), MAX_DETAIL),
      );
    }
    return res;
  }

  /**
   * Walks a paged list (following `Link: rel="next"`, on the API's origin only) and returns the
   * first item `match` accepts, without reading further pages.
   */
  async find<T>(url: string, match: (items: T[]) => T | undefined): Promise<T | undefined> {
    let next: string | undefined = url;
    for (let page = 0; next !== undefined && page < (this.options.maxPages ?? 50); page++) {
      const res = await this.request('GET', next);
      const found = match((await res.json()) as T[]);
      if (found) return found;
      next = nextPageUrl(res.headers.get('link'));
    }
    return undefined;
  }

  async send<T>(method: string, url: string, body: unknown): Promise<T> {
    return (await (await this.request(method, url, body)).json()) as T;
  }
}
