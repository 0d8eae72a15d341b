import { afterAll, beforeAll } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

/** A response as the tests look at it: status, lower-cased headers, parsed JSON body (or undefined). */
export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Authorization header value; default `ApiKey test-key`; `null` sends none. */
  auth?: string | null;
}

/** One request to the emulator with plain `fetch`. */
export async function call(
  emu: Emulator,
  method: string,
  path: string,
  opts: CallOptions = {},
): Promise<CallResult> {
  const headers: Record<string, string> = { ...opts.headers };
  const auth = opts.auth === undefined ? 'ApiKey test-key' : opts.auth;
  if (auth !== null) headers['authorization'] = auth;
  const init: RequestInit = { method, headers };
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  const res = await fetch(emu.url + path, init);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/** Shorthand for typed access to a JSON body in assertions. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyJson = any;

/**
 * One emulator per case of a suite whose cases run side by side (each then counts its own
 * requests): started before the cases, closed after them. The array fills in `beforeAll`.
 */
export function emulatorPerCase(count: number, options: EmulatorOptions): Emulator[] {
  const emulators: Emulator[] = [];
  beforeAll(async () => {
    for (let i = 0; i < count; i++) emulators.push(await startEmulator(options));
  });
  afterAll(async () => {
    await Promise.all(emulators.map((e) => e.close()));
  });
  return emulators;
}
