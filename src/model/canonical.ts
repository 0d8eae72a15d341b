import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted recursively: equal data gives equal text. Written directly rather
 * than by sorting a copy and stringifying it (digests serialise the whole desired state), with
 * JSON.stringify's rules: undefined members are left out, undefined array items and non-finite
 * numbers are `null`.
 */
export function canonicalJson(value: unknown): string {
  return canonical(value) ?? 'null';
}

/** Text already in canonical form: embedded as is, so that a sorted set is not serialised twice. */
class CanonicalText {
  constructor(readonly text: string) {}
}

/**
 * A set (a list whose order does not matter) in canonical order, ready to embed in a value given
 * to `canonicalJson` or `fingerprintOf`: the items sorted by their canonical text, each item
 * serialised once.
 */
export function canonicalSet(items: readonly unknown[]): readonly unknown[] {
  return items
    .map(canonicalJson)
    .sort(compareText)
    .map((text) => new CanonicalText(text));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonical(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      if (value instanceof CanonicalText) return value.text;
      return Array.isArray(value) ? canonicalArray(value) : canonicalObject(value as Record<string, unknown>);
    default:
      return undefined;
  }
}

function canonicalArray(items: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < items.length; i++) {
    if (i > 0) text += ',';
    text += canonical(items[i]) ?? 'null';
  }
  return `${text}]`;
}

function canonicalObject(object: Record<string, unknown>): string {
  let text = '{';
  for (const key of sortedKeys(object)) {
    const member = canonical(object[key]);
    if (member === undefined) continue;
    if (text.length > 1) text += ',';
    text += `${JSON.stringify(key)}:${member}`;
  }
  return `${text}}`;
}

const ARRAY_INDEX = /^(?:0|[1-9][0-9]*)$/;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/**
 * Keys in code-unit order, except that array-index keys ('0', '12') come first in numeric order:
 * the order the text has always had, since a JavaScript object built in sorted order still lists
 * such keys first (digests in saved plans must not change).
 */
function sortedKeys(object: Record<string, unknown>): string[] {
  const keys = Object.keys(object).sort();
  const indexes = keys.filter(
    (k) => isDigit(k.charCodeAt(0)) && ARRAY_INDEX.test(k) && Number(k) < 2 ** 32 - 1,
  );
  if (indexes.length === 0) return keys;
  const named = keys.filter((k) => !indexes.includes(k));
  return [...indexes.sort((a, b) => Number(a) - Number(b)), ...named];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** sha256 of the canonical JSON: fingerprints and digests. */
export function fingerprintOf(value: unknown): string {
  return sha256(canonicalJson(value));
}
