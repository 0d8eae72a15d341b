import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { makeProject, load, show } from './helpers.js';

/*
 * Each corpus file is loaded alone with base-config.yaml. `#! CODE` / `#! CODE@COL` comments mark
 * the diagnostics expected on their line; the loader must report exactly those.
 */
const CORPUS = resolve('test/fixtures/load/corpus');
const BASE_CONFIG = readFileSync(join(CORPUS, 'base-config.yaml'), 'utf8');

function expectedOf(relPath: string): string[] {
  const lines = readFileSync(join(CORPUS, relPath), 'utf8').split('\n');
  return lines.flatMap((text, i) => {
    const marker = /#!(.*)$/.exec(text)?.[1] ?? '';
    return [...marker.matchAll(/([EW]_[A-Z_]+)(?:@(\d+))?/g)].map(
      ([, code, col]) => `${relPath}:${i + 1}${col === undefined ? '' : `:${col}`} ${code}`,
    );
  });
}

function loadCase(relPath: string) {
  // The file is copied beside a config of its own: policy paths must stay in the config's directory.
  const dir = makeProject({
    'ecfence.yaml': `${BASE_CONFIG}policies: [${JSON.stringify(relPath)}]\n`,
    [relPath]: readFileSync(join(CORPUS, relPath)),
  });
  const result = load(dir);
  const expected = expectedOf(relPath);
  // A marker without @COL matches any column on its line.
  const actual = result.diagnostics.map((d) => {
    const line = `${d.file}:${d.line} ${d.code}`;
    return expected.includes(line) ? line : `${d.file}:${d.line}:${d.col} ${d.code}`;
  });
  return { result, expected, actual };
}

describe.each(['valid', 'invalid'])('corpus/%s', (kind) => {
  const files = readdirSync(join(CORPUS, kind))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  test.each(files)('%s', (file) => {
    const relPath = `${kind}/${file}`;
    const { result, expected, actual } = loadCase(relPath);
    expect(actual.sort(), show(result)).toEqual(expected.sort());
    expect(result.files).toEqual([relPath]);
    if (kind === 'valid') {
      expect(result.desired, show(result)).toBeDefined();
      expect(expected.every((e) => / W_/.test(e))).toBe(true);
    } else {
      expect(result.desired).toBeUndefined();
      expect(expected.some((e) => / E_/.test(e))).toBe(true);
    }
  });
});

test('every policy type has a valid corpus file and an invalid one', () => {
  const text = (kind: string) =>
    readdirSync(join(CORPUS, kind))
      .map((f) => readFileSync(join(CORPUS, kind, f), 'utf8'))
      .join('\n');
  for (const type of [
    'ip',
    'vpce',
    'gcp_private_service_connect_endpoint',
    'azure_private_endpoint',
    'remote_cluster',
    'egress_firewall',
  ]) {
    expect(text('valid')).toMatch(new RegExp(`type: ${type}\\b`));
    expect(text('invalid')).toMatch(new RegExp(`type: ${type}\\b`));
  }
});
