import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { didYouMean, someOf } from '../model/suggest.js';
import type { SourcePosition } from '../model/types.js';
import { describePath, positionAt } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';

/*
 * Named address sets (`sources:`) are global across all policy files, not file-local: the usual
 * reason to name a set is to share it (office and VPN ranges used by several environments'
 * policies), and a global namespace lets that set live in one file. The price is that a name can
 * be defined only once in the whole file set (E_DUPLICATE_SOURCE).
 */

/** A set as written: `sources.<name>` of one file. */
export interface SourceSetDecl {
  name: string;
  yaml: YamlFile;
  items: readonly string[];
}

/** One address after expansion, with where its literal text was written. */
export interface Address {
  value: string;
  at: SourcePosition;
  /** How the literal's place is named in messages: `sources.office[1]`, `policies[0].rules[2].source`. */
  label: string;
}

export interface SourceTable {
  /** The fully expanded addresses of a set, in written order; undefined when no such set exists. */
  get(name: string): readonly Address[] | undefined;
  /** Every defined set name (for "did you mean" lists). */
  readonly names: readonly string[];
  /** Some file could not be read completely: a missing set may be in it, so it is not reported. */
  readonly incomplete: boolean;
}

export function isReference(value: string): boolean {
  return value.startsWith('$');
}

/**
 * Resolves every set (nested `$name` references included) once. `brokenNames` are sets that exist
 * but failed schema validation: references to them are not reported again.
 */
export function buildSourceTable(
  decls: readonly SourceSetDecl[],
  brokenNames: ReadonlySet<string>,
  incomplete: boolean,
): { table: SourceTable; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const byName = new Map<string, SourceSetDecl>();
  for (const decl of decls) {
    const first = byName.get(decl.name);
    if (first !== undefined) {
      const firstAt = positionAt(first.yaml, ['sources', decl.name], { key: true });
      diagnostics.push(
        diagnostic(
          'error',
          'E_DUPLICATE_SOURCE',
          `sources.${decl.name}: source set '${decl.name}' is already defined at ${firstAt.file}:${firstAt.line}:${firstAt.col} (set names are shared by all policy files)`,
          positionAt(decl.yaml, ['sources', decl.name], { key: true }),
        ),
      );
      continue;
    }
    byName.set(decl.name, decl);
  }

  const resolved = new Map<string, Address[]>();
  const resolve = (name: string, stack: string[]): Address[] => {
    const done = resolved.get(name);
    if (done !== undefined) return done;
    const decl = byName.get(name);
    if (decl === undefined) return [];
    const out: Address[] = [];
    stack.push(name);
    decl.items.forEach((item, index) => {
      const path: PathSegment[] = ['sources', name, index];
      const at = positionAt(decl.yaml, path);
      const label = describePath(decl.yaml.value, path);
      if (!isReference(item)) {
        out.push({ value: item, at, label });
        return;
      }
      const target = item.slice(1);
      if (stack.includes(target)) {
        const cycle = [...stack.slice(stack.indexOf(target)), target].map((n) => `$${n}`).join(' → ');
        diagnostics.push(
          diagnostic(
            'error',
            'E_SOURCE_CYCLE',
            `${label}: '${item}' makes a cycle of source sets: ${cycle}`,
            at,
          ),
        );
        return;
      }
      if (!byName.has(target)) {
        if (!brokenNames.has(target) && !incomplete)
          diagnostics.push(unresolved(label, item, at, byName.keys()));
        return;
      }
      out.push(...resolve(target, stack));
    });
    stack.pop();
    resolved.set(name, out);
    return out;
  };
  for (const name of byName.keys()) resolve(name, []);

  const table: SourceTable = {
    get: (name) => (byName.has(name) ? resolve(name, []) : undefined),
    names: [...byName.keys()].sort(),
    incomplete,
  };
  return { table, diagnostics };
}

/**
 * Expands a `source`/`target` value: a literal is itself, `$name` is the set's addresses. Unknown
 * names give E_UNRESOLVED_SOURCE at the reference (unless the set exists but is broken).
 */
export function expandAddress(
  table: SourceTable,
  brokenNames: ReadonlySet<string>,
  value: string,
  /** Where `value` is written; looked up only when it is reported. */
  at: () => SourcePosition,
  label: () => string,
): { addresses: Address[]; diagnostics: Diagnostic[] } {
  if (!isReference(value)) return { addresses: [{ value, at: at(), label: label() }], diagnostics: [] };
  const name = value.slice(1);
  const addresses = table.get(name);
  if (addresses !== undefined) return { addresses: [...addresses], diagnostics: [] };
  if (brokenNames.has(name) || table.incomplete) return { addresses: [], diagnostics: [] };
  return { addresses: [], diagnostics: [unresolved(label(), value, at(), table.names)] };
}

function unresolved(label: string, ref: string, at: SourcePosition, names: Iterable<string>): Diagnostic {
  const known = [...names].sort();
  const list =
    known.length > 0 ? `defined sets: ${someOf(known.map((n) => `$${n}`))}` : 'no sets are defined';
  const hint = didYouMean(ref.slice(1), known).replace(" '", " '$");
  return diagnostic(
    'error',
    'E_UNRESOLVED_SOURCE',
    `${label}: '${ref}' does not name a source set${hint || ` (${list})`}`,
    at,
  );
}
