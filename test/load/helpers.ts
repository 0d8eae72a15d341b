import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';
import { loadProject } from '../../src/load/index.js';
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

export function load(cwd: string, options: Omit<LoadOptions, 'cwd'> = {}): LoadResult {
  return loadProject({ env: {}, ...options, cwd });
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
