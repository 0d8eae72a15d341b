import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CI_TOKEN_PREFIXES, CI_TOKEN_VARIABLES, isCiTokenVariable } from '../../src/secrets/key-variables.js';
import { repoRoot } from '../support/cli.js';

describe('CI token variables', () => {
  it('are refused by name, family and in any case; the Elastic key variables are not', () => {
    for (const name of [
      'GITHUB_TOKEN',
      'github_token',
      'ACTIONS_RUNTIME_TOKEN',
      'RUNNER_TEMP',
      'CI_JOB_TOKEN',
    ]) {
      expect(isCiTokenVariable(name), name).toBe(true);
    }
    for (const name of ['GITLAB_TOKEN', 'NPM_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'CI_REGISTRY_PASSWORD']) {
      expect(isCiTokenVariable(name), name).toBe(true);
    }
    for (const name of ['EC_API_KEY', 'ECE_PASSWORD', 'CI_EC_API_KEY', 'MY_GITHUB_TOKEN_NAME']) {
      expect(isCiTokenVariable(name), name).toBe(false);
    }
  });

  it('are all listed in the README', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Secrets'), readme.indexOf('## Reviewing a plan'));
    for (const name of CI_TOKEN_VARIABLES) {
      // A family written as NAME* in the README covers its members.
      const listed =
        section.includes(`\`${name}\``) ||
        [...section.matchAll(/`([A-Z_]+)\*`/g)].some((m) => name.startsWith(m[1] ?? '-'));
      expect(listed, name).toBe(true);
    }
    for (const prefix of CI_TOKEN_PREFIXES) expect(section).toContain(`\`${prefix}*\``);
  });
});
