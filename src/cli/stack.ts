import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * How an internal error (a bug) is reported: its stack, with every frame in the shipped bundle named
 * by the TypeScript line it was built from (`src/cli/run.ts:95:54`), read from the `.js.map` beside
 * the bundle by Node's own source-map reader. Only when a bug is reported are the maps read: Node's
 * `--enable-source-maps` would read and parse them on every start.
 */
export function internalErrorText(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error: ${sourceMappedStack(text)}\nThis is a bug in ecfence; please report it.\n`;
}

/** `stack` with each `file.js:line:col` that has a source map replaced by its original position. */
export function sourceMappedStack(stack: string): string {
  const maps = new Map<string, SourceMap | undefined>();
  return stack.replace(
    /((?:file:\/\/)?\/[^\s()]+?\.[cm]?js):(\d+):(\d+)/g,
    (whole, file: string, line, col) => {
      const path = file.startsWith('file:') ? fileURLToPath(file) : file;
      if (!maps.has(path)) maps.set(path, readMap(path));
      const entry = maps.get(path)?.findEntry(Number(line) - 1, Number(col) - 1);
      if (entry === undefined || !('originalSource' in entry) || !entry.originalSource) return whole;
      const source = entry.originalSource.replace(/^(?:\.\.\/)+/, '');
      return `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
    },
  );
}

function readMap(path: string): SourceMap | undefined {
  try {
    return new SourceMap(
      JSON.parse(readFileSync(`${path}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0],
    );
  } catch {
    return undefined;
  }
}
