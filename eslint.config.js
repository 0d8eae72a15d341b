import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import noImportCycle from './eslint-local/no-import-cycle.js';

/**
 * The layers of src/ (ARCHITECTURE.md): each folder, or top-level module, and what its files may
 * import besides themselves. Everything a layer does not list is refused by `no-restricted-imports`,
 * type-only imports included, so imports point one way: model ← load ← lint, model ← diff ← plan
 * ← execute / export / explain ← cli, with the back ends and the emulator beside the core.
 */
const LAYERS = {
  generated: [],
  secrets: [],
  'yaml-lib': [],
  log: ['secrets'],
  model: ['secrets'],
  load: ['model', 'secrets', 'yaml-lib', 'generated'],
  lint: ['model', 'secrets', 'load'],
  diff: ['model'],
  plan: ['model', 'secrets', 'diff'],
  backends: ['model', 'secrets', 'log'],
  execute: ['model', 'secrets', 'log', 'plan', 'backends'],
  // diff: only until the rule identity moves to the policy-type registry in model.
  export: ['model', 'secrets', 'yaml-lib', 'diff'],
  explain: ['model', 'secrets', 'load', 'lint', 'plan'],
  import: ['model', 'secrets', 'load', 'export'],
  // The emulator reads seeds with the loader's one YAML reader, and nothing else of the core.
  emulator: ['model', 'secrets', 'log', 'yaml-lib', 'load/read-yaml', 'load/input-files'],
};
// The command line, at the top, may import every layer.
LAYERS.cli = Object.keys(LAYERS);
const ALL = Object.keys(LAYERS);
/** Layers that are one module, `src/<name>.ts`, rather than a folder. */
const SINGLE_FILES = new Set(['yaml-lib', 'log']);

/** An import of `target` (a layer, or one module of it) from a file of src/<layer>/ or src/<layer>.ts. */
function importPattern(target, fromTopLevel) {
  const up = fromTopLevel ? '\\./' : '(?:\\.\\./)+';
  const [folder, module] = target.split('/');
  const rest = SINGLE_FILES.has(folder) ? '\\.js$' : module === undefined ? '/' : `/${module}\\.js$`;
  return `^${up}${folder}${rest}`;
}

function layerRules(layer) {
  const allowed = new Set(LAYERS[layer]);
  const forbidden = ALL.filter((name) => name !== layer && !allowed.has(name));
  // A layer allowed only some modules of another: every other module of it is refused.
  const partly = [...allowed].filter((a) => a.includes('/')).map((a) => a.split('/')[0]);
  const patterns = forbidden
    .filter((name) => !partly.includes(name))
    .map((name) => ({
      regex: importPattern(name, SINGLE_FILES.has(layer)),
      message: `src/${layer} may import only ${LAYERS[layer].join(', ') || 'nothing of src/'} (ARCHITECTURE.md, "Layers")`,
    }));
  for (const folder of new Set(partly)) {
    const modules = [...allowed].filter((a) => a.startsWith(`${folder}/`)).map((a) => a.split('/')[1]);
    patterns.push({
      regex: `^(?:\\.\\./)+${folder}/(?!(?:${modules.join('|')})\\.js$)`,
      message: `src/${layer} may import only ${modules.join(', ')} of src/${folder} (ARCHITECTURE.md, "Layers")`,
    });
  }
  return {
    files: [SINGLE_FILES.has(layer) ? `src/${layer}.ts` : `src/${layer}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        URL: 'readonly',
      },
    },
    plugins: { local: { rules: { 'no-import-cycle': noImportCycle } } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['src/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'], rules: { 'local/no-import-cycle': 'error' } },
  ...ALL.map(layerRules),
  { files: ['src/cli/**', 'scripts/**', 'bench/**', 'test/**'], rules: { 'no-console': 'off' } },
);
