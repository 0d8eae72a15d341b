import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

/*
 * The layer rule (ARCHITECTURE.md) holds because `npm run lint` refuses a backward import or a
 * cycle. Each case plants one line in a real module's text and lints it as that module.
 */
const eslint = new ESLint({ cwd: repoRoot });

async function problemsWith(file: string, planted: string): Promise<string[]> {
  const text = `${readFileSync(join(repoRoot, file), 'utf8')}\n${planted}\n`;
  const [result] = await eslint.lintText(text, { filePath: join(repoRoot, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId ?? ''}: ${m.message}`);
}

describe('the lint holds the layers', () => {
  it('refuses an import against the direction of the layers, a type-only one too', async () => {
    const problems = await problemsWith(
      'src/diff/rules.ts',
      "import type { Plan } from '../plan/types.js';\nexport type Planned = Plan;",
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^no-restricted-imports: '\.\.\/plan\/types\.js' import is restricted.*src\/diff may import only model/,
      ),
    ]);
  });

  it('refuses the loader importing a back end', async () => {
    const problems = await problemsWith(
      'src/load/formats.ts',
      "export { createBackend } from '../backends/registry.js';",
    );
    expect(problems).toEqual([expect.stringMatching(/^no-restricted-imports: .*src\/load may import only/)]);
  });

  it('refuses an import cycle inside one layer, made of type-only imports', async () => {
    const problems = await problemsWith(
      'src/load/sources.ts',
      "import type { LoadResult } from './index.js';\nexport type Loaded = LoadResult;",
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^local\/no-import-cycle: import cycle: src\/load\/sources\.ts → src\/load\/index\.ts → .*src\/load\/sources\.ts$/,
      ),
    ]);
  });

  it('passes the modules as they are', async () => {
    expect(await problemsWith('src/load/sources.ts', '')).toEqual([]);
    expect(await problemsWith('src/cli/run.ts', '')).toEqual([]);
  });
});
