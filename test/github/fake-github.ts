import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeComment {
  id: number;
  body: string;
  user: { login: string };
}

/**
 * A small local server that answers the issue-comment calls of the GitHub REST API the way GitHub
 * does: paginated list with a `Link` header, create (201), update (200), 401 without the token,
 * 403 for a read-only token. The boundary of the PR-comment script, not the thing under test.
 */
export interface FakeGitHub {
  url: string;
  comments: Map<number, FakeComment[]>;
  requests: { method: string; path: string }[];
  /** Respond 403 to writes (a fork's read-only token). */
  readOnly: boolean;
  /**
   * Misbehaviour for the canary tests: error messages that echo the Authorization header and
   * carry a workflow command on a line of their own; a `Link: rel="next"` to this origin instead
   * of the API's; writes answered with a redirect to this origin, or with no comment at all.
   */
  hostile: {
    echo?: boolean;
    nextPageOrigin?: string;
    redirectWritesTo?: string;
    writesWithoutBody?: boolean;
  };
  close(): Promise<void>;
}

const TOKEN = 'ghs_fake_token_for_tests';
export const FAKE_TOKEN = TOKEN;

async function readBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function startFakeGitHub(
  repository = 'acme/infra',
  login = 'github-actions[bot]',
): Promise<FakeGitHub> {
  let nextId = 1000;
  const fake: FakeGitHub = {
    url: '',
    comments: new Map(),
    requests: [],
    readOnly: false,
    hostile: {},
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', fake.url);
      fake.requests.push({ method: req.method ?? '', path: url.pathname });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, message: string) =>
        send(status, {
          message: fake.hostile.echo
            ? `${message} (${req.headers.authorization ?? ''})\n::error title=Injected::pwned`
            : message,
        });
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return fail(401, 'Bad credentials');
      const list = /^\/repos\/([^/]+\/[^/]+)\/issues\/(\d+)\/comments$/.exec(url.pathname);
      const one = /^\/repos\/([^/]+\/[^/]+)\/issues\/comments\/(\d+)$/.exec(url.pathname);
      if ((list?.[1] ?? one?.[1]) !== repository) return send(404, { message: 'Not Found' });
      if (list && req.method === 'GET') {
        const all = fake.comments.get(Number(list[2])) ?? [];
        const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
        const page = Number(url.searchParams.get('page') ?? 1);
        const last = Math.max(1, Math.ceil(all.length / perPage));
        const links: string[] = [];
        const at = (p: number) => `<${fake.url}${url.pathname}?per_page=${perPage}&page=${p}>`;
        if (fake.hostile.nextPageOrigin !== undefined) {
          links.push(`<${fake.hostile.nextPageOrigin}${url.pathname}?page=2>; rel="next"`);
        } else if (page < last) links.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
        if (page > 1) links.push(`${at(1)}; rel="first"`, `${at(page - 1)}; rel="prev"`);
        return send(
          200,
          all.slice((page - 1) * perPage, page * perPage),
          links.length ? { link: links.join(', ') } : {},
        );
      }
      if (fake.hostile.redirectWritesTo !== undefined) {
        res.writeHead(307, { location: `${fake.hostile.redirectWritesTo}${url.pathname}` });
        return res.end();
      }
      if (fake.readOnly) return fail(403, 'Resource not accessible by integration');
      const body = (await readBody(req)) as { body?: unknown } | undefined;
      if (typeof body?.body !== 'string') return send(422, { message: 'body is required' });
      if (fake.hostile.writesWithoutBody) return send(201, {});
      if (list && req.method === 'POST') {
        const comment = { id: nextId++, body: body.body, user: { login } };
        const issue = Number(list[2]);
        fake.comments.set(issue, [...(fake.comments.get(issue) ?? []), comment]);
        return send(201, comment);
      }
      if (one && req.method === 'PATCH') {
        for (const comments of fake.comments.values()) {
          const c = comments.find((x) => x.id === Number(one[2]));
          if (c) {
            c.body = body.body;
            return send(200, c);
          }
        }
        return send(404, { message: 'Not Found' });
      }
      return send(404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
