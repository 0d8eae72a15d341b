/**
 * Bundles the compiled CLI (dist/src/cli/main.js) into dist/bin/: `ecfence.js`, the entry the
 * package's `bin` names (argument parsing, `--version`, `--help`), and one chunk holding every
 * command (src/cli/commands/index.ts), loaded once a command runs. One chunk for all commands, not
 * one per command: esbuild gives code shared by several commands chunks of its own, and calls
 * between chunks go through module bindings; on `plan` of 5,000 policies that cost ~100 ms of CPU.
 *
 * Why: Node's ESM loader resolves, reads and links every module on its own, and the CLI's ~100
 * modules (ours, got's, the YAML library's) took ~300 ms before `plan` started; the bundle starts it in
 * ~215 ms (node itself: ~100 ms). Whitespace and syntax are minified (names kept, source maps
 * written) because Node parses every byte of a chunk it loads.
 *
 * Only code is bundled. The dependencies loaded with createRequire (yaml, pino, ipaddr.js, the ajv
 * runtime the generated validators use) stay ordinary runtime requires from node_modules, so they
 * load only on the paths that need them. `npm run build` runs this after tsc.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const outdir = join(repoRoot, 'dist', 'bin');

rmSync(outdir, { recursive: true, force: true });
const result = await build({
  entryPoints: { ecfence: join(repoRoot, 'dist', 'src', 'cli', 'main.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  sourcemap: true,
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: true,
  // CommonJS modules bundled into ESM (got's dependencies) call require() for Node built-ins;
  // ESM has no require, so the bundle defines one.
  banner: {
    js: "import { createRequire as __ecfenceRequire } from 'node:module';\nconst require = __ecfenceRequire(import.meta.url);",
  },
});
// What went into each output and what each output imports (test/cli/cli.test.ts reads it).
writeFileSync(join(repoRoot, 'dist', 'bundle-meta.json'), JSON.stringify(result.metafile));

// The CI scripts the GitHub Action and the GitLab recipe run beside the binary, one self-contained
// file each in dist/ci/ (shipped in the package): a separate build, so that they share no chunk
// with the CLI and leave its chunks as they are.
const ciDir = join(repoRoot, 'dist', 'ci');
rmSync(ciDir, { recursive: true, force: true });
await build({
  entryPoints: {
    'github-comment': join(repoRoot, 'dist', 'scripts', 'github', 'pr-comment.js'),
    'gitlab-note': join(repoRoot, 'dist', 'scripts', 'gitlab', 'mr-note.js'),
  },
  outdir: ciDir,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
