import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { checkProject } from '../../src/lint/index.js';
import type { LoadOptions, LoadResult } from '../../src/load/index.js';
import { formatDiagnostic } from '../../src/model/diagnostics.js';
import type { Diagnostic } from '../../src/model/diagnostics.js';

const created: string[] = [];
afterAll(() => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh project directory holding `files` (path → contents); removed after the test file. */
export function makeProject(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-load-'));
  created.push(dir);
  writeFiles(dir, files);
  return dir;
}

export function writeFiles(dir: string, files: Record<string, string | Uint8Array>): void {
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
}

/** Loads and lints the project in `cwd`: everything `validate` reports. */
export function load(cwd: string, options: Omit<LoadOptions, 'cwd'> = {}): LoadResult {
  return checkProject({ env: {}, ...options, cwd });
}

/** `file:line:col CODE` of each diagnostic: compact and exact for assertions. */
export function where(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => `${d.file}:${d.line}:${d.col} ${d.code}`);
}

export function codes(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

export function show(result: LoadResult): string {
  return result.diagnostics.map(formatDiagnostic).join('\n');
}

export function only(result: LoadResult, code: string): Diagnostic {
  const found = result.diagnostics.filter((d) => d.code === code);
  if (found.length !== 1) throw new Error(`expected exactly one ${code}, got:\n${show(result)}`);
  return found[0] as Diagnostic;
}

/** Two environments (ess + ece) and one policy file per environment: a valid starting point. */
export const CONFIG = `environments:
  cloud:
    api: ess
  onprem:
    api: ece
    endpoint: https://ece.example.com:12443
    api_key_env: ECE_API_KEY
`;

/** Deterministic pseudo-random numbers in [0, n), so a failing seeded test is reproducible. */
export function seededRandom(start: number): (n: number) => number {
  let seed = start;
  return (n) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
}

/**
 * One to three random edits of `text`: at a random place, a piece inserted, a character replaced by
 * a piece, or a character deleted.
 */
export function mutateText(text: string, pieces: readonly string[], next: (n: number) => number): string {
  let out = text;
  for (let edits = 1 + next(3); edits > 0; edits--) {
    const at = next(out.length);
    const piece = pieces[next(pieces.length)] ?? '';
    const cut = next(3);
    out = out.slice(0, at) + (cut === 0 ? '' : piece) + out.slice(at + (cut === 1 ? 0 : 1));
  }
  return out;
}
