import { apiError } from './errors.js';
import type { DeploymentTag, EmulatorFlavor, StoredDeployment } from './types.js';
import { INVALID_INPUT, isObject } from './validate.js';

/*
 * User tags, the two shapes the APIs give them (API.md §2.5, §4.2): ESS/ECE deployments carry
 * `metadata.tags` as a list of `{key, value}` (MetadataItem); serverless projects carry
 * `metadata.tags` as a map (ProjectTags), 1..64 entries, lowercase keys and values.
 */

const PROJECT_BAD_REQUEST = 'project.bad_request';
/** ProjectTags description: a lowercase letter first, `a-z0-9_-`, at most 32 characters. */
const PROJECT_TAG_KEY = /^[a-z][a-z0-9_-]{0,31}$/;
/** ProjectTagValue: 1..128 characters. */
const PROJECT_TAG_VALUE = /^[a-z0-9][a-z0-9_-]{0,127}$/;
const MAX_PROJECT_TAGS = 64;

/** A deployment's tags as given to the admin endpoint or a seed: a list of `{key, value}` strings. */
export function validateDeploymentTags(raw: unknown): DeploymentTag[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw apiError(400, INVALID_INPUT, 'tags must be a list of {key, value}', ['tags']);
  const seen = new Set<string>();
  const tags = raw.map((item, i) => {
    if (
      !isObject(item) ||
      typeof item['key'] !== 'string' ||
      item['key'] === '' ||
      typeof item['value'] !== 'string' ||
      Object.keys(item).some((k) => k !== 'key' && k !== 'value')
    ) {
      throw apiError(400, INVALID_INPUT, `tags[${i}] must be {key: non-empty string, value: string}`, [
        'tags',
      ]);
    }
    if (seen.has(item['key'])) throw apiError(400, INVALID_INPUT, `tags[${i}]: key repeated`, ['tags']);
    seen.add(item['key']);
    return { key: item['key'], value: item['value'] };
  });
  return tags.length > 0 ? tags : undefined;
}

/**
 * `DeploymentMetadata` of a deployment: its tags (the key is omitted when there are none, as the
 * captured payloads' `null` means the same, API.md §7) and, on ECE, the required `last_modified`.
 */
export function deploymentMetadata(d: StoredDeployment, flavor: EmulatorFlavor): Record<string, unknown> {
  const metadata: Record<string, unknown> = {};
  if (flavor === 'ece') metadata['last_modified'] = d.created_at;
  if (d.tags !== undefined && d.tags.length > 0) metadata['tags'] = d.tags.map((t) => ({ ...t }));
  return metadata;
}

function checkProjectTag(key: string, value: unknown, at: string): string {
  if (!PROJECT_TAG_KEY.test(key)) {
    throw apiError(
      400,
      PROJECT_BAD_REQUEST,
      `${at}: tag key must start with a-z and hold at most 32 of a-z0-9_-`,
    );
  }
  if (typeof value !== 'string' || !PROJECT_TAG_VALUE.test(value)) {
    throw apiError(
      400,
      PROJECT_BAD_REQUEST,
      `${at}: the value of tag ${key} must be 1..128 characters of a-z0-9_-, not starting with - or _`,
    );
  }
  return value;
}

/** A project's tags as given to the admin endpoint or a seed (`ProjectTags`); none when empty. */
export function validateProjectTags(raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw apiError(400, PROJECT_BAD_REQUEST, 'tags must be a map of key to value');
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(raw)) tags[key] = checkProjectTag(key, value, 'tags');
  const count = Object.keys(tags).length;
  if (count > MAX_PROJECT_TAGS) {
    throw apiError(400, PROJECT_BAD_REQUEST, `a project has at most ${MAX_PROJECT_TAGS} tags, not ${count}`);
  }
  return count > 0 ? tags : undefined;
}

/**
 * P3 `metadata` (`OptionalMetadata`, `tags` required): the keys sent change, a `null` value removes
 * its key (the value is nullable; the spec says no more). Returns the project's new tags.
 */
export function patchProjectTags(
  current: Readonly<Record<string, string>> | undefined,
  metadata: unknown,
): Record<string, string> | undefined {
  if (!isObject(metadata) || !isObject(metadata['tags']) || Object.keys(metadata['tags']).length === 0) {
    throw apiError(400, PROJECT_BAD_REQUEST, 'metadata must be {tags: {key: value or null, ...}}');
  }
  const unknown = Object.keys(metadata).filter((k) => k !== 'tags');
  if (unknown.length > 0)
    throw apiError(400, PROJECT_BAD_REQUEST, `Unknown metadata field(s): ${unknown.join(', ')}`);
  const next: Record<string, string> = { ...current };
  for (const [key, value] of Object.entries(metadata['tags'])) {
    if (value === null) {
      checkProjectTag(key, 'x', 'metadata.tags');
      delete next[key];
    } else {
      next[key] = checkProjectTag(key, value, 'metadata.tags');
    }
  }
  return validateProjectTags(next);
}

/**
 * The P1 `tags` filter (`style: deepObject`, `explode: true`): `?tags[env]=prod&tags[team]=x`
 * lists the projects that have every one of these tags. Any other spelling of `tags` is refused.
 */
export function projectTagFilter(query: URLSearchParams): Record<string, string> | undefined {
  let filter: Record<string, string> | undefined;
  for (const [name, value] of query) {
    if (name !== 'tags' && !name.startsWith('tags[')) continue;
    const key = /^tags\[([^\][]+)\]$/.exec(name)?.[1];
    if (key === undefined) {
      throw apiError(400, PROJECT_BAD_REQUEST, 'the tags filter is written tags[KEY]=VALUE');
    }
    filter ??= {};
    if (Object.hasOwn(filter, key)) throw apiError(400, PROJECT_BAD_REQUEST, `tags[${key}] given twice`);
    filter[key] = checkProjectTag(key, value, 'tags');
  }
  return filter;
}

/** Whether a project with `tags` has every tag of `filter`. */
export function hasProjectTags(
  tags: Readonly<Record<string, string>> | undefined,
  filter: Readonly<Record<string, string>>,
): boolean {
  return Object.entries(filter).every(
    ([k, v]) => tags !== undefined && Object.hasOwn(tags, k) && tags[k] === v,
  );
}
