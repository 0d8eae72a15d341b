import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  END,
  normaliseMarkdown,
  readSchemas,
  renderYamlReference,
  START,
} from '../../scripts/yaml-reference.js';
import { repoRoot } from '../support/cli.js';

describe('README YAML reference', () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const { config, policy } = readSchemas(repoRoot);

  it('is exactly what the schemas generate (run `npm run docs` after changing schemas/)', () => {
    const section = readme.slice(readme.indexOf(START), readme.indexOf(END) + END.length);
    expect(normaliseMarkdown(section)).toBe(normaliseMarkdown(renderYamlReference(config, policy)));
  });

  it('documents every key of every schema object', () => {
    const keys = new Set<string>();
    const collect = (s: unknown): void => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      if (o['properties'] && typeof o['properties'] === 'object') {
        for (const k of Object.keys(o['properties'] as object)) keys.add(k);
      }
      for (const v of Object.values(o)) collect(v);
    };
    collect(config);
    collect(policy);
    const text = normaliseMarkdown(readme);
    for (const key of keys) expect(text, `README lacks \`${key}\``).toContain(`| \`${key}\`|`);
  });
});
