/**
 * The emulator in its own process (the built `ecfence emulator`), so that serving thousands of
 * policies costs none of the CPU or memory measured for ecfence.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogEntry, SeedData } from '../src/emulator/index.js';
import { BUILT } from './measure.js';

export interface EmulatorProcess {
  url: string;
  /** API requests answered since the last reset, in the order they were answered. */
  requests(): Promise<RequestLogEntry[]>;
  resetRequests(): Promise<void>;
  close(): Promise<void>;
}

/** How long a seed of tens of thousands of objects may take to load before we give up. */
const START_TIMEOUT_MS = 120_000;

export async function startEmulatorProcess(options: {
  flavor: 'cloud' | 'ece';
  seed: SeedData;
  latencyMs: number;
}): Promise<EmulatorProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-bench-emulator-'));
  const seedFile = join(dir, 'seed.json');
  writeFileSync(seedFile, JSON.stringify(options.seed));
  const child = spawn(
    process.execPath,
    [
      BUILT.cli,
      'emulator',
      '--flavor',
      options.flavor,
      '--port',
      '0',
      '--seed',
      seedFile,
      '--latency',
      String(options.latencyMs),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let url: string;
  try {
    url = await listeningUrl(child);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A parent that ends without close() (an error, process.exit, a signal the bench turns into an
  // exit) must not leave the emulator running with its estate in memory.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  return {
    url,
    async requests() {
      const res = await fetch(`${url}/_emulator/requests`);
      if (!res.ok) throw new Error(`GET /_emulator/requests → ${res.status}`);
      return ((await res.json()) as { requests: RequestLogEntry[] }).requests;
    },
    async resetRequests() {
      const res = await fetch(`${url}/_emulator/reset-log`, { method: 'POST' });
      if (!res.ok) throw new Error(`POST /_emulator/reset-log → ${res.status}`);
      await res.arrayBuffer();
    },
    async close() {
      process.off('exit', killOnExit);
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the child's stdout until `ecfence emulator (...) listening on URL`. */
function listeningUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`emulator did not start within ${START_TIMEOUT_MS} ms: ${err}`)),
      START_TIMEOUT_MS,
    );
    child.stderr?.on('data', (b: Buffer) => {
      // Keep only the tail: enough to explain a failed start.
      err = (err + b.toString('utf8')).slice(-4000);
    });
    child.stdout?.on('data', (b: Buffer) => {
      out += b.toString('utf8');
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`emulator exited with code ${String(code)} before listening: ${err}`));
    });
  });
}
