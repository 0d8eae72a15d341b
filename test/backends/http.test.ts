import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient, MAX_RESPONSE_BYTES } from '../../src/backends/http.js';
import { createBackend } from '../../src/backends/registry.js';
import { startEmulator } from '../../src/emulator/index.js';
import { ApiError } from '../../src/model/errors.js';
import { silentLogger } from '../../src/log.js';
import type { RetryOptions } from '../../src/backends/http.js';
import { CANARY_KEY, FAST_RETRY, envConfig, memoryLogger, selfSignedCert } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A loopback server answering with `handler`; returns its origin. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function client(endpoint: string, retry: Partial<RetryOptions> = {}, maxResponseBytes?: number): HttpClient {
  const c = new HttpClient({
    environment: 'test',
    endpoint,
    basePath: '/api/v1',
    credentials: { kind: 'api_key', apiKey: CANARY_KEY },
    logger: silentLogger(),
    retry: { ...FAST_RETRY, ...retry },
    ...(maxResponseBytes === undefined ? {} : { maxResponseBytes }),
  });
  cleanups.push(() => c.close());
  return c;
}

describe('http layer', () => {
  it('sends path, query, JSON body and headers, and returns status, JSON and ETag', async () => {
    const seen: { method?: string; url?: string; headers?: IncomingMessage['headers']; body?: string }[] = [];
    const url = await serve((req, res, body) => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json', etag: '"v2"' });
      res.end(JSON.stringify({ ok: true }));
    });
    const res = await client(`${url}/base/`).request({
      method: 'PATCH',
      path: '/things/a%2Fb',
      searchParams: { q: 'x y' },
      json: { list: [1, 2] },
      headers: { 'if-match': '"v1"' },
    });
    expect(res).toEqual({ status: 200, body: { ok: true }, etag: '"v2"', attempts: 1 });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      method: 'PATCH',
      url: '/base/api/v1/things/a%2Fb?q=x+y',
      body: '{"list":[1,2]}',
      headers: {
        authorization: `ApiKey ${CANARY_KEY}`,
        'content-type': 'application/json',
        'if-match': '"v1"',
        'user-agent': 'ecfence',
      },
    });
  });

  it('allSent resolves once the requests have reached the server, before any answer', async () => {
    const received: string[] = [];
    const answer: (() => void)[] = [];
    const url = await serve((req, res) => {
      received.push(`${req.method} ${req.url}`);
      answer.push(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"n":1}'));
    });
    const c = client(url);
    await c.allSent(); // nothing started: resolves at once
    const pending = [c.request({ method: 'GET', path: '/a' }), c.request({ method: 'GET', path: '/b' })];
    let sent = false;
    const leaving = c.allSent().then(() => (sent = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toBe(false); // a fresh connection is not even open yet
    await leaving; // and this does not wait for an answer: none is sent until `answer` runs
    // The server reads a request after it left: wait for it, with no answer sent yet.
    while (received.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(received.sort()).toEqual(['GET /api/v1/a', 'GET /api/v1/b']);
    for (const send of answer) send();
    expect((await Promise.all(pending)).map((r) => r.body)).toEqual([{ n: 1 }, { n: 1 }]);
    await c.allSent();
  });

  it('allSent also resolves when a request cannot leave', async () => {
    const c = client('http://127.0.0.1:1', { maxAttempts: 1 });
    const failing = c.request({ method: 'GET', path: '/a' });
    await c.allSent();
    await expect(failing).rejects.toBeInstanceOf(ApiError);
  });

  it('reads compressed answers', async () => {
    const url = await serve((req, res) => {
      const accepted = String(req.headers['accept-encoding']);
      if (!accepted.includes('gzip')) {
        res.writeHead(406).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ items: ['a'] })));
    });
    expect((await client(url).request({ method: 'GET', path: '/x' })).body).toEqual({ items: ['a'] });
  });

  it('refuses a body over the cap while it streams, naming the request, and reads no further', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let sent = 0;
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      let closed = false;
      res.on('close', () => (closed = true));
      // An endless body, written as fast as the client reads it.
      const pump = (): void => {
        while (!closed && sent < 4 * MAX_RESPONSE_BYTES && res.write(chunk)) sent += chunk.length;
        if (!closed) res.once('drain', pump);
      };
      pump();
    });
    const error = await client(url)
      .request({ method: 'GET', path: '/deployments' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).message).toBe(
      `GET /deployments: response larger than ${MAX_RESPONSE_BYTES} bytes; refused unread`,
    );
    expect((error as ApiError).details.retryable).toBe(false);
    // Socket buffers aside, the client stopped reading at the cap.
    expect(sent).toBeLessThan(MAX_RESPONSE_BYTES + 16 * chunk.length);
  });

  it('refuses a body whose Content-Length or decompressed size is over the cap', async () => {
    const cap = 64 * 1024;
    const bomb = gzipSync(Buffer.alloc(64 * cap, 0x20));
    const url = await serve((req, res) => {
      if (req.url?.endsWith('/announced')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(cap + 1) });
        res.write('{"items":[');
        return; // the rest never comes: the client must not wait for it
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    });
    for (const path of ['/announced', '/bomb']) {
      await expect(client(url, {}, cap).request({ method: 'GET', path })).rejects.toThrow(
        `GET ${path}: response larger than ${cap} bytes; refused unread`,
      );
    }
    expect(bomb.length).toBeLessThan(cap);
  });

  it('repeats a GET whose answer was cut off, and reports a cut-off create as of unknown outcome', async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls += 1;
      if (calls % 2 === 1) {
        // Half a body, then the connection goes away.
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"items":');
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"items":[]}');
    });
    const http = client(url);
    expect(await http.request({ method: 'GET', path: '/x' })).toMatchObject({
      body: { items: [] },
      attempts: 2,
    });
    const err = (await http
      .request({ method: 'POST', path: '/x', json: {} })
      .catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.details).toMatchObject({ method: 'POST', retryable: true, outcomeUnknown: true });
    expect(calls).toBe(3);
  });

  it('gives up on an answer that does not come within the request timeout', async () => {
    let calls = 0;
    const url = await serve(() => {
      calls += 1; // never answers
    });
    const http = client(url, { requestTimeoutMs: 100, maxAttempts: 2 });
    const get = (await http.request({ method: 'GET', path: '/slow' }).catch((e: unknown) => e)) as ApiError;
    expect(get).toBeInstanceOf(ApiError);
    expect(get.details).toMatchObject({ code: 'ETIMEDOUT', retryable: true });
    expect(get.details.outcomeUnknown).toBeUndefined();
    expect(calls).toBe(2);
    const post = (await http
      .request({ method: 'POST', path: '/slow', json: {} })
      .catch((e: unknown) => e)) as ApiError;
    expect(post.details).toMatchObject({ code: 'ETIMEDOUT', outcomeUnknown: true });
    expect(calls).toBe(3);
    expect(JSON.stringify(post) + post.message).not.toContain(CANARY_KEY);
  });

  it('treats 403 as an error, never as "gone"', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-cloud-error-codes': 'root.forbidden' });
      res.end(JSON.stringify({ errors: [{ code: 'root.forbidden', message: 'not allowed' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const backend = createBackend(envConfig('ess', `http://127.0.0.1:${port}`), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
    cleanups.push(() => backend.close());
    for (const call of [
      () => backend.deletePolicy('x'),
      () => backend.dissociate('x', { kind: 'deployment', id: 'd' }),
      () => backend.read(),
    ]) {
      const err = (await call().catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.details).toMatchObject({ status: 403, code: 'root.forbidden', retryable: false });
      expect(err.message).toContain('403 root.forbidden: not allowed');
    }
    expect(backend.counters().retries).toBe(0);
  });

  it('retries 429 even on a non-idempotent create', async () => {
    const emu = await startEmulator({ flavor: 'cloud' });
    cleanups.push(() => emu.close());
    const backend = createBackend(envConfig('serverless', emu.url), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
      retry: FAST_RETRY,
    });
    cleanups.push(() => backend.close());
    emu.setFaults({ retryAfterSeconds: 0, script: [{ method: 'POST', fault: '429', times: 2 }] });
    await backend.createPolicy({
      region: 'aws-us-east-1',
      name: 'x',
      type: 'ip',
      description: '',
      include_by_default: false,
      rules: [{ source: '1.1.1.1' }],
    });
    expect(emu.requests().map((r) => r.status)).toEqual([429, 429, 201]);
  });

  it('authenticates with HTTP Basic on ece and rejects a wrong key with 401', async () => {
    const emu = await startEmulator({
      flavor: 'ece',
      basicAuth: { username: 'admin', password: 'CANARY-pass-0001' },
      apiKeys: ['right-key'],
      seed: { rulesets: [{ name: 'a', region: 'ece-region', type: 'ip', rules: [{ source: '1.1.1.1' }] }] },
    });
    cleanups.push(() => emu.close());
    const basic = createBackend(envConfig('ece', emu.url, { username_env: 'U', password_env: 'P' }), {
      env: { U: 'admin', P: 'CANARY-pass-0001' },
      logger: silentLogger(),
    });
    cleanups.push(() => basic.close());
    expect((await basic.read()).policies.map((p) => p.name)).toEqual(['a']);

    const { logger, lines } = memoryLogger();
    const wrong = createBackend(envConfig('ece', emu.url), { env: { EC_API_KEY: CANARY_KEY }, logger });
    cleanups.push(() => wrong.close());
    const err = (await wrong.read().catch((e: unknown) => e)) as ApiError;
    expect(err.details).toMatchObject({ status: 401, retryable: false });
    expect(JSON.stringify(err) + err.message + lines.join('')).not.toContain(CANARY_KEY);
  });

  describe('TLS', () => {
    it('names ca_file when the certificate is not trusted, and works with it', async () => {
      const { cert, key, certFile } = selfSignedCert();
      const emu = await startEmulator({ flavor: 'cloud', tls: { cert, key } });
      cleanups.push(() => emu.close());
      const url = emu.url.replace(/^http:/, 'https:');
      const untrusted = createBackend(envConfig('ess', url), {
        env: { EC_API_KEY: CANARY_KEY },
        logger: silentLogger(),
        retry: FAST_RETRY,
      });
      cleanups.push(() => untrusted.close());
      const err = (await untrusted.read().catch((e: unknown) => e)) as ApiError;
      expect(err).toBeInstanceOf(ApiError);
      expect(err.message).toMatch(/TLS verification failed/);
      expect(err.message).toContain('set ca_file for environment test-ess');
      expect(err.details.retryable).toBe(false);
      expect(untrusted.counters().retries).toBe(0);

      const trusted = createBackend(envConfig('ess', url, { ca_file: certFile }), {
        env: { EC_API_KEY: CANARY_KEY },
        logger: silentLogger(),
      });
      cleanups.push(() => trusted.close());
      expect((await trusted.read()).complete).toBe(true);
    });
  });
});
