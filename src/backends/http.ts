import * as http from 'node:http';
import type { ClientRequest } from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { got, type CancelableRequest, type Got, type Response } from 'got';
import type { Logger } from '../log.js';
import { ApiError, UserInputError } from '../model/errors.js';
import { Redactor } from '../secrets/redactor.js';
import { oneLine } from '../secrets/untrusted-text.js';
import { isLoopbackHost } from '../secrets/endpoint-policy.js';
import { AdaptiveLimit, type ThrottleStats } from './adaptive-limit.js';

/**
 * The one HTTP client all back ends use (API.md §1, §7, gotchas 27–28).
 *
 * Contract:
 * - Every failure is thrown as `ApiError` (method, path, status, code, retryable, outcomeUnknown);
 *   a got error never escapes, because got errors carry the request options and so the
 *   `Authorization` header.
 * - Credentials appear only in the `Authorization` header: never in a log line, an error message
 *   or a thrown object. They are added to the run's `Redactor`, and everything a server sends
 *   (body, error message and code, ETag) is scrubbed with it as it arrives, before anything cuts
 *   or escapes it; server text in an error message is also put on one line and cut at 500
 *   characters, after the scrub.
 * - A response body is read up to `maxResponseBytes` (after decompression); a longer one is
 *   refused with an `ApiError` naming the request, without reading the rest.
 * - Retries are ours (got's are off) so the rules are explicit: 429 for every method; 500/502/503/504
 *   and dropped connections only for idempotent requests. A non-idempotent request that failed in a
 *   way that may have committed is thrown with `outcomeUnknown: true` for the caller to resolve.
 */

/** Bounds of the retry loop. Tests shrink the delays; production uses the defaults. */
export interface RetryOptions {
  /** Total attempts per request, the first one included. */
  maxAttempts: number;
  /** No retry is started once this much time has passed since the first attempt. */
  maxTotalMs: number;
  /** Backoff base: attempt n waits a random time in [0, min(maxDelayMs, baseDelayMs·2^(n-1))]. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Cap on a server's `Retry-After`. */
  maxRetryAfterMs: number;
  /** Per-attempt timeout. */
  requestTimeoutMs: number;
}

export const DEFAULT_RETRY_OPTIONS: Readonly<RetryOptions> = {
  maxAttempts: 6,
  maxTotalMs: 60_000,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 30_000,
  requestTimeoutMs: 30_000,
};

export type Credentials =
  { kind: 'api_key'; apiKey: string } | { kind: 'basic'; username: string; password: string };

export interface HttpClientOptions {
  /** Environment name, for messages (e.g. "set ca_file for environment X"). */
  environment: string;
  /** Endpoint origin as configured, e.g. `https://api.elastic-cloud.com`. */
  endpoint: string;
  /** Prepended to every request path: `/api/v1` for ess/ece, `` for serverless. */
  basePath: string;
  credentials: Credentials;
  /** Extra trusted CA (PEM), added to Node's root CAs. */
  caPem?: string;
  logger: Logger;
  retry?: Partial<RetryOptions>;
  /** The run's secrets; the credentials are added to it. A client of its own when absent. */
  redactor?: Redactor;
  /** Largest response body accepted, decompressed (default MAX_RESPONSE_BYTES). */
  maxResponseBytes?: number;
  /**
   * Requests in flight at once, at most (default DEFAULT_MAX_IN_FLIGHT); lowered while the API
   * answers 429 and raised again as it recovers (see AdaptiveLimit).
   */
  maxInFlight?: number;
}

/** Requests one environment's client keeps in flight at most, unless told otherwise. */
const DEFAULT_MAX_IN_FLIGHT = 8;

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the base path, starting with `/`. Used verbatim in logs and errors. */
  path: string;
  searchParams?: Record<string, string>;
  json?: unknown;
  headers?: Record<string, string>;
  /**
   * Whether repeating the request cannot change the result. Defaults to true for GET, PUT and
   * DELETE, false otherwise; callers mark idempotent POST/PATCH explicitly.
   */
  idempotent?: boolean;
  /** Non-2xx statuses the caller handles itself (e.g. 404 on delete); returned, not thrown. */
  acceptStatus?: readonly number[];
}

export interface HttpResponse {
  status: number;
  /** Parsed JSON body; undefined when the body is empty. */
  body: unknown;
  /** The `ETag` header as sent by the server (quotes kept), when present. */
  etag?: string;
  /** Attempts this call took (1 + retries). */
  attempts: number;
}

export interface HttpCounters extends ThrottleStats {
  /** Requests sent, retries included. */
  requests: number;
  /** Requests that were repeats of an earlier attempt. */
  retries: number;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);

/**
 * Largest response body read: far above any real listing (5,000 rulesets of 20 rules are ~11 MB),
 * small enough that a hostile or broken server cannot exhaust memory.
 */
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** Server text quoted in an error message is cut here (after it is scrubbed). */
const MAX_ERROR_TEXT = 500;

/** Connection errors where the request may have reached the server. */
const DROPPED_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

/** Connection errors where nothing was sent: safe to retry for every method. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'EAI_AGAIN']);

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export class HttpClient {
  private readonly client: Got;
  private readonly retry: RetryOptions;
  private readonly log: Logger;
  private readonly redactor: Redactor;
  private readonly maxResponseBytes: number;
  private readonly environment: string;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly stats = { requests: 0, retries: 0 };
  /** Requests in flight, adapted to the API's pace. */
  private readonly gate: AdaptiveLimit;
  /** First attempts not yet handed to the operating system (see `allSent`). */
  private readonly unsent = new Set<Promise<void>>();

  constructor(options: HttpClientOptions) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw new UserInputError(
        `environment ${options.environment}: endpoint ${JSON.stringify(options.endpoint)} is not a URL`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new UserInputError(
        `environment ${options.environment}: endpoint must use https (got ${url.protocol.replace(':', '')})`,
      );
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      throw new UserInputError(
        `environment ${options.environment}: plain http is only allowed on loopback; use https for ${url.host}`,
      );
    }
    if (url.username || url.password) {
      // Credentials in the URL would end up in logs and errors; they come from env vars only.
      throw new UserInputError(
        `environment ${options.environment}: the endpoint must not contain credentials; use api_key_env`,
      );
    }
    this.environment = options.environment;
    this.retry = { ...DEFAULT_RETRY_OPTIONS, ...options.retry };
    this.log = options.logger;
    this.redactor = options.redactor ?? new Redactor();
    const credentials = options.credentials;
    if (credentials.kind === 'api_key') this.redactor.add(credentials.apiKey);
    else this.redactor.addBasic(credentials.username, credentials.password);
    this.maxResponseBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
    this.gate = new AdaptiveLimit(Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT));
    const authorization = authorizationHeader(credentials);
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({ keepAlive: true }),
    };
    const prefix = `${url.origin}${url.pathname.replace(/\/+$/, '')}${options.basePath}`;
    this.client = got.extend({
      prefixUrl: prefix,
      headers: {
        authorization,
        accept: 'application/json',
        'accept-encoding': 'gzip, deflate, br',
        'user-agent': 'ecfence',
      },
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      // Bodies are read as buffers and decompressed by `readBody`, which bounds the decompressed
      // size: got's own progress events stop once a body passes its (compressed) Content-Length.
      decompress: false,
      timeout: { request: this.retry.requestTimeoutMs },
      agent: this.agents,
      https: {
        rejectUnauthorized: true,
        ...(options.caPem !== undefined
          ? { certificateAuthority: [...tls.rootCertificates, options.caPem] }
          : {}),
      },
    });
  }

  /** The effective retry bounds (defaults merged with the caller's). */
  retryOptions(): RetryOptions {
    return { ...this.retry };
  }

  counters(): HttpCounters {
    return { ...this.stats, ...this.gate.stats() };
  }

  /**
   * Resolves once every request started so far has been handed to the operating system, or has
   * ended: a caller that started a read can then spend the round trip on work of its own.
   */
  async allSent(): Promise<void> {
    await Promise.all(this.unsent);
  }

  /** Closes idle keep-alive sockets. */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const idempotent =
      req.idempotent ?? (req.method === 'GET' || req.method === 'PUT' || req.method === 'DELETE');
    let started: number | undefined;
    for (let attempt = 1; ; attempt++) {
      const epoch = this.gate.tryAcquire() ?? (await this.gate.acquire());
      // Retry bounds count from the first attempt sent, not from the wait for a slot.
      started ??= Date.now();
      const t0 = Date.now();
      this.stats.requests++;
      if (attempt > 1) this.stats.retries++;
      let outcome: Outcome | undefined;
      try {
        outcome = await this.attempt(req, idempotent, attempt, t0);
      } finally {
        this.gate.release(outcome?.kind === 'done');
      }
      if (outcome.kind === 'done') return outcome.response;
      if (outcome.error.details.status === 429) this.gate.throttle(epoch, outcome.retryAfterMs);
      const delay = outcome.retryAfterMs ?? this.backoff(attempt);
      const canRetry =
        outcome.retry &&
        attempt < this.retry.maxAttempts &&
        Date.now() - started + delay <= this.retry.maxTotalMs;
      if (!canRetry) throw outcome.error;
      this.log.debug(
        { method: req.method, path: req.path, status: outcome.error.details.status, attempt, delayMs: delay },
        'retrying request',
      );
      await sleep(delay);
    }
  }

  /** One attempt: its outcome, or a thrown ApiError that no retry can help (body too large). */
  private async attempt(
    req: HttpRequest,
    idempotent: boolean,
    attempt: number,
    t0: number,
  ): Promise<Outcome> {
    try {
      const call = this.client(req.path.replace(/^\//, ''), {
        method: req.method,
        ...(req.searchParams ? { searchParams: req.searchParams } : {}),
        ...(req.json !== undefined ? { json: req.json } : {}),
        ...(req.headers ? { headers: req.headers } : {}),
        responseType: 'buffer',
      });
      if (attempt === 1) this.trackSent(call);
      const tooLarge = this.bound(call);
      let res: Response<Buffer>;
      try {
        res = await call;
      } catch (err) {
        if (tooLarge.refused) throw this.tooLarge(req);
        throw err;
      }
      const text = await this.readBody(req, res);
      this.log.debug(
        { method: req.method, path: req.path, status: res.statusCode, ms: Date.now() - t0, attempt },
        'request',
      );
      return this.classifyResponse(req, res, text, idempotent, attempt);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const code = errorCode(err);
      this.log.debug({ method: req.method, path: req.path, code, ms: Date.now() - t0, attempt }, 'request');
      return this.classifyFailure(req, code, idempotent);
    }
  }

  /**
   * Cancels `call` as soon as its body is known to exceed the cap: by its Content-Length, or by
   * what has arrived. `refused` says whether that is why it failed.
   */
  private bound(call: CancelableRequest<Response<Buffer>>): { refused: boolean } {
    const state = { refused: false };
    const refuse = (): void => {
      state.refused = true;
      call.cancel();
    };
    // The first event comes with the headers (`total` is the Content-Length, if any); the others
    // as the body arrives. Without decompression (see `readBody`) they count the bytes on the wire,
    // and Node never reads past a Content-Length.
    call.on('downloadProgress', (progress: { transferred: number; total?: number }) => {
      if (progress.transferred > this.maxResponseBytes || (progress.total ?? 0) > this.maxResponseBytes)
        refuse();
    });
    return state;
  }

  private tooLarge(req: HttpRequest): ApiError {
    return new ApiError(
      `${req.method} ${req.path}: response larger than ${this.maxResponseBytes} bytes; refused unread`,
      { method: req.method, path: req.path, retryable: false },
    );
  }

  /** The body as text: decompressed (gzip, deflate, br) within the size cap. */
  private async readBody(req: HttpRequest, res: Response<Buffer>): Promise<string> {
    const encoding = headerValue(res.headers['content-encoding'])?.trim().toLowerCase() ?? 'identity';
    if (encoding === 'identity') return res.body.toString('utf8');
    const decompress = DECOMPRESSORS[encoding];
    if (decompress === undefined) {
      throw new ApiError(`${req.method} ${req.path}: response in an unknown encoding`, {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        retryable: false,
      });
    }
    try {
      return (await decompress(res.body, { maxOutputLength: this.maxResponseBytes })).toString('utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw this.tooLarge(req);
      throw new ApiError(`${req.method} ${req.path}: response could not be decompressed (${encoding})`, {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        retryable: false,
      });
    }
  }

  private trackSent(call: CancelableRequest<Response<Buffer>>): void {
    let resolve!: () => void;
    const sent = new Promise<void>((r) => (resolve = r));
    const done = (): void => {
      this.unsent.delete(sent);
      resolve();
    };
    this.unsent.add(sent);
    call.on('request', (request: ClientRequest) => request.once('finish', done));
    call.then(done, done);
  }

  private classifyResponse(
    req: HttpRequest,
    res: Response<Buffer>,
    body: string,
    idempotent: boolean,
    attempt: number,
  ): Outcome {
    const status = res.statusCode;
    if ((status >= 200 && status < 300) || req.acceptStatus?.includes(status)) {
      const etag = headerValue(res.headers['etag']);
      return {
        kind: 'done',
        response: {
          status,
          body: this.parseBody(req, status, body),
          attempts: attempt,
          ...(etag ? { etag: this.redactor.scrub(etag) } : {}),
        },
      };
    }
    const parsed = parseErrorBody(body, headerValue(res.headers['x-cloud-error-codes']));
    // Server text: scrubbed whole, then on one line, then cut (so no cut can split a key).
    const code = parsed.code === undefined ? undefined : this.redactor.cut(oneLine(parsed.code), 100);
    const message =
      parsed.message === undefined ? undefined : this.redactor.cut(oneLine(parsed.message), MAX_ERROR_TEXT);
    const transient = status === 429 || RETRYABLE_STATUS.has(status);
    // A 5xx on a non-idempotent call may come after the server committed the write.
    const outcomeUnknown = !idempotent && RETRYABLE_STATUS.has(status);
    const text = `${req.method} ${req.path} → ${status}${code ? ` ${code}` : ''}${message ? `: ${message}` : ''}`;
    const error = new ApiError(this.redactor.scrub(text), {
      method: req.method,
      path: req.path,
      status,
      ...(code ? { code } : {}),
      retryable: transient,
      ...(outcomeUnknown ? { outcomeUnknown: true } : {}),
    });
    if (status === 429) {
      // The server refused before doing anything: safe to repeat whatever the method.
      const retryAfterMs = parseRetryAfter(headerValue(res.headers['retry-after']));
      return {
        kind: 'failed',
        error,
        retry: true,
        ...(retryAfterMs !== undefined
          ? { retryAfterMs: Math.min(retryAfterMs, this.retry.maxRetryAfterMs) }
          : {}),
      };
    }
    return { kind: 'failed', error, retry: idempotent && RETRYABLE_STATUS.has(status) };
  }

  private classifyFailure(req: HttpRequest, code: string, idempotent: boolean): Outcome {
    const base = { method: req.method, path: req.path, code };
    if (TLS_VERIFY_CODES.has(code)) {
      return {
        kind: 'failed',
        retry: false,
        error: new ApiError(
          `${req.method} ${req.path}: TLS verification failed (${code}). If the endpoint uses a private or ` +
            `self-signed CA, set ca_file for environment ${this.environment} to that CA's PEM file ` +
            `(verification is never switched off)`,
          { ...base, retryable: false },
        ),
      };
    }
    if (NOT_SENT_CODES.has(code)) {
      return {
        kind: 'failed',
        retry: true,
        error: new ApiError(`${req.method} ${req.path}: connection failed (${code})`, {
          ...base,
          retryable: true,
        }),
      };
    }
    if (DROPPED_CODES.has(code)) {
      return {
        kind: 'failed',
        retry: idempotent,
        error: new ApiError(
          `${req.method} ${req.path}: connection dropped (${code})` +
            (idempotent ? '' : '; the request may or may not have been applied'),
          { ...base, retryable: true, ...(idempotent ? {} : { outcomeUnknown: true }) },
        ),
      };
    }
    return {
      kind: 'failed',
      retry: false,
      error: new ApiError(`${req.method} ${req.path}: request failed (${code})`, {
        ...base,
        retryable: false,
      }),
    };
  }

  private parseBody(req: HttpRequest, status: number, text: string): unknown {
    if (text.trim() === '') return undefined;
    try {
      return this.redactor.scrubParsed(JSON.parse(text) as unknown, text);
    } catch {
      // An accepted error status (e.g. 404 on delete) needs no body.
      if (status >= 300) return undefined;
      throw new ApiError(`${req.method} ${req.path} → ${status}: response is not JSON`, {
        method: req.method,
        path: req.path,
        status,
        retryable: false,
      });
    }
  }

  private backoff(attempt: number): number {
    // Full jitter: concurrent clients hitting the same limit spread out instead of retrying together.
    return Math.round(Math.random() * backoffCeiling(this.retry, attempt));
  }
}

type Outcome =
  | { kind: 'done'; response: HttpResponse }
  | { kind: 'failed'; error: ApiError; retry: boolean; retryAfterMs?: number };

function authorizationHeader(credentials: Credentials): string {
  return credentials.kind === 'api_key'
    ? `ApiKey ${credentials.apiKey}`
    : `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

type Decompress = (input: Buffer, options: zlib.ZlibOptions & zlib.BrotliOptions) => Promise<Buffer>;

/** The content encodings asked for in `accept-encoding`. */
const DECOMPRESSORS: Readonly<Record<string, Decompress>> = {
  gzip: promisify(zlib.gunzip),
  deflate: promisify(zlib.inflate),
  br: promisify(zlib.brotliDecompress),
};

function errorCode(err: unknown): string {
  if (err && typeof err === 'object') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const message = (err as { message?: unknown }).message;
    if (typeof message === 'string' && /socket hang up/i.test(message)) return 'ECONNRESET';
  }
  return 'UNKNOWN';
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

/**
 * ESS/ECE `{errors:[{code,message,fields}]}` plus `x-cloud-error-codes`; serverless
 * `{errors:[{message,code}]}`. Anything else yields what it can. The text is the server's, whole:
 * the caller scrubs it before it cuts it.
 */
export function parseErrorBody(text: string, headerCode?: string): { code?: string; message?: string } {
  let first: { code?: unknown; message?: unknown } | undefined;
  try {
    const body = JSON.parse(text) as { errors?: unknown };
    if (Array.isArray(body.errors) && body.errors[0] && typeof body.errors[0] === 'object') {
      first = body.errors[0] as { code?: unknown; message?: unknown };
    }
  } catch {
    // Not JSON (e.g. a proxy's HTML page): status alone tells the story.
  }
  const code = typeof first?.code === 'string' && first.code !== '' ? first.code : headerCode;
  const message = typeof first?.message === 'string' && first.message !== '' ? first.message : undefined;
  return { ...(code ? { code } : {}), ...(message ? { message } : {}) };
}

/** `Retry-After` in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Like Promise.all, but waits for every promise to settle before rejecting, so a failed read leaves
 * no request running in the background.
 */
export async function settleAll<T extends readonly unknown[]>(
  promises: readonly [...{ [K in keyof T]: Promise<T[K]> }],
): Promise<T> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exponential backoff ceiling for attempt n (1-based): base·2^(n-1), capped. */
export function backoffCeiling(retry: RetryOptions, attempt: number): number {
  return Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
}
