import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small local server that answers the merge-request note calls of GitLab's REST API the way
 * GitLab does: paginated list with a `Link` header, create (201), update (200), 401 without the
 * token, 403 for a token that may not write. The boundary of the note script, not the thing under test.
 */
export interface FakeGitLab {
  /** CI_API_V4_URL. */
  url: string;
  notes: { id: number; body: string; author: { username: string } }[];
  requests: { method: string; path: string; token: string | undefined }[];
  readOnly: boolean;
  /** Writes answered with a redirect to this origin. */
  redirectWritesTo?: string;
  close(): Promise<void>;
}

export const GITLAB_TOKEN = 'glpat-CANARY-fake-gitlab-token';
const NOTES = /^\/api\/v4\/projects\/([^/]+)\/merge_requests\/(\d+)\/notes(?:\/(\d+))?$/;

export async function startFakeGitLab(project = '42', iid = 5): Promise<FakeGitLab> {
  let nextId = 500;
  const fake: FakeGitLab = {
    url: '',
    notes: [],
    requests: [],
    readOnly: false,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', fake.url);
      const token = req.headers['private-token'];
      fake.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        token: typeof token === 'string' ? token : undefined,
      });
      const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (token !== GITLAB_TOKEN) return send(401, { message: '401 Unauthorized' });
      const m = NOTES.exec(url.pathname);
      if (!m || m[1] !== project || Number(m[2]) !== iid) return send(404, { message: '404 Not found' });
      if (req.method === 'GET' && m[3] === undefined) {
        const perPage = Number(url.searchParams.get('per_page') ?? 20);
        const page = Number(url.searchParams.get('page') ?? 1);
        const more = page * perPage < fake.notes.length;
        const link = `<${fake.url}${url.pathname}?per_page=${perPage}&page=${page + 1}>; rel="next"`;
        return send(200, fake.notes.slice((page - 1) * perPage, page * perPage), more ? { link } : {});
      }
      if (fake.redirectWritesTo !== undefined) {
        res.writeHead(307, { location: `${fake.redirectWritesTo}${url.pathname}` });
        return res.end();
      }
      if (fake.readOnly) return send(403, { message: '403 Forbidden' });
      let text = '';
      for await (const chunk of req) text += String(chunk);
      const body = (JSON.parse(text || '{}') as { body?: unknown }).body;
      if (typeof body !== 'string') return send(400, { message: 'body is missing' });
      if (req.method === 'POST' && m[3] === undefined) {
        const note = { id: nextId++, body, author: { username: 'project_42_bot' } };
        fake.notes.push(note);
        return send(201, note);
      }
      const note = fake.notes.find((n) => n.id === Number(m[3]));
      if (req.method === 'PUT' && note) {
        note.body = body;
        return send(200, note);
      }
      return send(404, { message: '404 Not found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4`;
  return fake;
}
