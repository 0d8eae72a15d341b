/**
 * ESLint rule `local/no-import-cycle`: no module of the project may reach itself through its
 * imports, type-only imports included (`import type` is erased at run time, but a cycle of types
 * is still two modules that cannot be understood, or moved, one without the other). The maintained
 * import plugins skip type-only imports, hence this rule.
 *
 * The imports of the file being linted are read from its syntax tree (so an import planted in it is
 * seen); those of every other module from disk, once per process, by TypeScript's own
 * `preProcessFile`, which lists `import`, `import type`, `export … from` and `import()` alike.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Absolute path of a TypeScript module → the project modules it imports (absolute paths). */
const fromDisk = new Map();

function resolveModule(importer, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const target = resolve(dirname(importer), specifier).replace(/\.js$/, '.ts');
  return target.endsWith('.ts') && existsSync(target) ? target : undefined;
}

function importsIn(file, text) {
  const out = [];
  for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
    const target = resolveModule(file, fileName);
    if (target !== undefined) out.push(target);
  }
  return out;
}

function importsOnDisk(file) {
  let found = fromDisk.get(file);
  if (found === undefined) {
    found = importsIn(file, readFileSync(file, 'utf8'));
    fromDisk.set(file, found);
  }
  return found;
}

/** A path of imports from `start` back to `file`, or undefined (depth-first, each module once). */
function pathBack(start, file) {
  const seen = new Set();
  const walk = (module, trail) => {
    if (module === file) return trail;
    if (seen.has(module)) return undefined;
    seen.add(module);
    for (const target of importsOnDisk(module)) {
      const found = walk(target, [...trail, target]);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

export default {
  meta: {
    type: 'problem',
    docs: { description: 'forbid import cycles between modules, type-only imports included' },
    schema: [],
    messages: { cycle: 'import cycle: {{path}}' },
  },
  create(context) {
    const file = context.filename;
    if (!file.endsWith('.ts')) return {};
    const check = (node, specifier) => {
      if (typeof specifier !== 'string') return;
      const target = resolveModule(file, specifier);
      if (target === undefined) return;
      const back = pathBack(target, file);
      if (back === undefined) return;
      const shown = [file, ...back].map((f) => relative(context.cwd, f)).join(' → ');
      context.report({ node, messageId: 'cycle', data: { path: shown } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
