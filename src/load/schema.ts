import type { AnySchemaObject, ErrorObject } from 'ajv';
import configSchemaJson from '../../schemas/ecfence-config.schema.json' with { type: 'json' };
import policyFileSchemaJson from '../../schemas/policy-file.schema.json' with { type: 'json' };
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import { closest } from '../model/suggest.js';
import { describePath, isRecord, positionAt, sourceTextAt } from './read-yaml.js';
import type { PathSegment, YamlFile } from './read-yaml.js';
import * as compiled from '../generated/schema-validators.js';

export const CONFIG_SCHEMA = configSchemaJson as AnySchemaObject;
export const POLICY_FILE_SCHEMA = policyFileSchemaJson as AnySchemaObject;

export type SchemaKind = 'config' | 'policy-file';

export interface SchemaResult {
  diagnostics: Diagnostic[];
  /** Data paths that failed validation: entries under them are not trusted by later steps. */
  invalidPaths: PathSegment[][];
}

/** An ajv validate function: the errors of the last call are left on it. */
interface Validator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

// Compiled ahead of time from schemas/ by scripts/compile-schemas.ts (ajv standalone code, the
// options there): the same functions ajv would generate at start-up, without generating them.
const VALIDATORS: Record<SchemaKind, Validator> = {
  config: compiled.config as Validator,
  'policy-file': compiled.policyFile as Validator,
};

/** Validates a parsed file against its JSON Schema; every error is mapped to `file:line:col`. */
export function validateSchema(kind: SchemaKind, yaml: YamlFile): SchemaResult {
  const validate = VALIDATORS[kind];
  if (validate(yaml.value)) return { diagnostics: [], invalidPaths: [] };
  const errors = selectErrors(validate.errors ?? []);
  const diagnostics: Diagnostic[] = [];
  const invalidPaths: PathSegment[][] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    const described = describeError(error, yaml);
    const key = `${described.path.join('\u0000')}|${described.message}`;
    if (seen.has(key)) continue; // a `type` error can come from both a base and an if/then branch
    seen.add(key);
    invalidPaths.push(described.path);
    const at = positionAt(yaml, described.path, { key: described.atKey });
    diagnostics.push(diagnostic('error', 'E_SCHEMA', described.message, at));
  }
  return { diagnostics, invalidPaths };
}

/**
 * Drops the errors that only restate others: `if` ("must match then") always accompanies the real
 * error inside `then`, `propertyNames` accompanies the error about the name, and the per-branch
 * `required` errors of a `oneOf` are replaced by one message about the choice.
 */
function selectErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const oneOfs = errors.filter((e) => e.keyword === 'oneOf');
  return errors.filter((e) => {
    if (e.keyword === 'if' || e.keyword === 'propertyNames') return false;
    return !oneOfs.some(
      (o) => o !== e && o.instancePath === e.instancePath && e.schemaPath.startsWith(`${o.schemaPath}/`),
    );
  });
}

interface DescribedError {
  path: PathSegment[];
  /** Point at the key rather than the value (unknown field, bad map key). */
  atKey: boolean;
  message: string;
}

function describeError(error: ErrorObject, yaml: YamlFile): DescribedError {
  const base = parsePointer(error.instancePath);
  const parent: AnySchemaObject = isRecord(error.parentSchema) ? error.parentSchema : {};
  const hint = typeof parent.$comment === 'string' ? parent.$comment.replace(/^hint:\s*/, '') : undefined;
  const withHint = (text: string) => (hint === undefined ? text : `${text} (${hint})`);
  const label = (path: PathSegment[]) => describePath(yaml.value, path);
  const p = error.params as Record<string, unknown>;
  const what = typeof parent.title === 'string' ? ` of ${article(parent.title)} ${parent.title}` : '';

  // An error about a map key (propertyNames): `error.propertyName` names the key.
  const propertyName = (error as ErrorObject & { propertyName?: string }).propertyName;
  if (propertyName !== undefined) {
    const path = [...base, propertyName];
    return {
      path,
      atKey: true,
      message: `${label(path)}: name '${propertyName}' is not valid${hintOf(parent)}`,
    };
  }

  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String(p.additionalProperty);
      const allowed = isRecord(parent.properties) ? Object.keys(parent.properties) : [];
      const path = [...base, extra];
      const suggestion = closest(extra, allowed);
      const context = what === '' ? '' : ` in ${article(String(parent.title))} ${String(parent.title)}`;
      return {
        path,
        atKey: true,
        message:
          `${label(path)}: unknown field '${extra}'${context}` +
          (suggestion ? ` (did you mean '${suggestion}'?)` : '') +
          (allowed.length > 0 ? `; allowed: ${allowed.join(', ')}` : ''),
      };
    }
    case 'required':
      // At the key that holds the incomplete mapping: the mapping itself starts at its first field.
      return {
        path: base,
        atKey: true,
        message: `${label(base)}: missing required field '${String(p.missingProperty)}'${what}`,
      };
    case 'dependencies':
      return {
        path: [...base, String(p.property)],
        atKey: true,
        message: `${label(base)}: '${String(p.property)}' needs '${String(p.missingProperty)}' as well`,
      };
    case 'oneOf': {
      const branches = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
      const names = branches.flatMap((b) => (isRecord(b) && Array.isArray(b.required) ? b.required : []));
      const choice = names.map((n) => `'${String(n)}'`).join(' or ');
      return {
        path: base,
        atKey: false,
        message:
          p.passingSchemas === null
            ? `${label(base)}: needs one of ${choice}`
            : `${label(base)}: has more than one of ${choice}; give exactly one`,
      };
    }
    case 'type': {
      const expected = Array.isArray(p.type) ? p.type.join(' or ') : String(p.type);
      // YAML reads unquoted 123, 1e5, true, null as non-strings: show what was written and the fix.
      const written = sourceTextAt(yaml, base);
      const quote =
        expected === 'string' && written !== undefined && written !== '' && !/^["']/.test(written)
          ? `, not ${describeValue(error.data)}; quote it: '${written}'`
          : `, not ${describeValue(error.data)}`;
      return {
        path: base,
        atKey: false,
        message: `${label(base)}: must be ${article(expected)} ${expected}${quote}`,
      };
    }
    case 'enum': {
      const allowed = Array.isArray(p.allowedValues) ? p.allowedValues.map(String) : [];
      const suggestion = typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      return {
        path: base,
        atKey: false,
        message:
          `${label(base)}: ${describeValue(error.data)} is not one of: ${allowed.join(', ')}` +
          (suggestion ? ` (did you mean '${suggestion}'?)` : ''),
      };
    }
    case 'minItems':
      return {
        path: base,
        atKey: false,
        message: withHint(
          `${label(base)}: must have at least ${String(p.limit)} item${p.limit === 1 ? '' : 's'}`,
        ),
      };
    case 'minProperties':
      return {
        path: base,
        atKey: false,
        message: `${label(base)}: must have at least ${String(p.limit)} entr${p.limit === 1 ? 'y' : 'ies'}`,
      };
    case 'minLength':
      return { path: base, atKey: false, message: `${label(base)}: must not be empty` };
    case 'minimum':
    case 'maximum': {
      const range =
        typeof parent.minimum === 'number' && typeof parent.maximum === 'number'
          ? `between ${parent.minimum} and ${parent.maximum}`
          : `${error.keyword === 'minimum' ? '≥' : '≤'} ${String(p.limit)}`;
      return {
        path: base,
        atKey: false,
        message: `${label(base)}: ${describeValue(error.data)} must be ${range}`,
      };
    }
    case 'pattern':
      return {
        path: base,
        atKey: false,
        message: `${label(base)}: ${describeValue(error.data)} is not valid${hintOf(parent) || ` (expected ${String(p.pattern)})`}`,
      };
    case 'uniqueItems': {
      const path = [...base, Number(p.i)];
      return {
        path,
        atKey: false,
        message: `${label(base)}: items ${String(p.j)} and ${String(p.i)} are the same; list each value once`,
      };
    }
    default:
      return {
        path: base,
        atKey: false,
        message: withHint(`${label(base)}: ${error.message ?? 'is not valid'}`),
      };
  }
}

function hintOf(schema: AnySchemaObject): string {
  return typeof schema.$comment === 'string' ? `: ${schema.$comment.replace(/^hint:\s*/, '')}` : '';
}

function parsePointer(pointer: string): PathSegment[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? 'an' : 'a';
}

/** Short, safe rendering of a value in a message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `'${shown}'`;
  }
  return `${typeof value} ${String(value)}`;
}
