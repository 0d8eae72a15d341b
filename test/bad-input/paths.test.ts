/**
 * Paths that arrive in a pull request (issue 16): every file ecfence would read must be a regular
 * file inside the directory that holds ecfence.yaml, and be read in full. A path that cannot be
 * followed, leaves the repository or is not a regular file stops the run: exit 3, the path named,
 * no stack trace, not one request (so nothing can be planned, let alone deleted), and nothing of
 * a file outside the repository quoted. Runs the built binary, as the bad-input corpus does.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, runCli } from '../support/cli.js';
import { emulatorPerCase } from '../support/emulator-http.js';
import { BASE_FILES, DEPLOYMENT, KEY, REGION } from './cases.js';

/** Text of a file outside the repository: none of it may appear in any output. */
const SECRET = 'outside-secret-3f9a: do-not-echo';
const outside = mkdtempSync(join(tmpdir(), 'ecfence-outside-'));
writeFileSync(join(outside, 'secret.yaml'), `${SECRET}\n`);
writeFileSync(join(outside, 'list.yaml'), `- ${SECRET}\n`);
mkdirSync(join(outside, 'dir'));
writeFileSync(join(outside, 'dir', 'p.yaml'), `environment: prod\n# ${SECRET}\n`);

const root = process.getuid?.() === 0;
const servers: Server[] = [];

interface PathCase {
  name: string;
  /** Makes the broken entry in the project directory `dir` (whose policies/ holds main.yaml). */
  setup: (dir: string) => void | Promise<void>;
  code: string;
  /** The path the message must name. */
  names: string;
  skip?: string;
}

const config = (dir: string, policies: string) =>
  writeFileSync(
    join(dir, 'ecfence.yaml'),
    (BASE_FILES['ecfence.yaml'] ?? '').replace('environments:', `policies: ${policies}\nenvironments:`),
  );

const CASES: PathCase[] = [
  {
    name: 'a policies: path that does not exist',
    setup: (dir) => config(dir, '[policies, extra]'),
    code: 'E_MISSING_PATH',
    names: "'extra'",
  },
  {
    name: 'a dangling symlink to a policy file (a submodule not checked out)',
    setup: (dir) => symlinkSync(join(dir, 'vendor', 'team.yaml'), join(dir, 'policies', 'team.yaml')),
    code: 'E_DANGLING_SYMLINK',
    names: 'policies/team.yaml',
  },
  {
    name: 'a dangling symlink to a directory, whatever its name',
    setup: (dir) => symlinkSync(join(dir, 'vendor', 'team'), join(dir, 'policies', 'team')),
    code: 'E_DANGLING_SYMLINK',
    names: 'policies/team',
  },
  {
    name: 'a symlink that loops',
    setup: (dir) => {
      symlinkSync(join(dir, 'policies', 'b.yaml'), join(dir, 'policies', 'a.yaml'));
      symlinkSync(join(dir, 'policies', 'a.yaml'), join(dir, 'policies', 'b.yaml'));
    },
    code: 'E_SYMLINK_LOOP',
    names: 'policies/a.yaml',
  },
  {
    name: 'a FIFO with a YAML name in the policies tree (never opened for reading)',
    setup: (dir) => execFileSync('mkfifo', [join(dir, 'policies', 'pipe.yaml')]),
    code: 'E_SPECIAL_FILE',
    names: 'policies/pipe.yaml',
  },
  {
    name: 'a FIFO named in policies:',
    setup: (dir) => {
      execFileSync('mkfifo', [join(dir, 'pipe')]);
      config(dir, '[policies, pipe]');
    },
    code: 'E_SPECIAL_FILE',
    names: "'pipe'",
  },
  {
    name: 'a socket in the policies tree',
    setup: (dir) =>
      new Promise<void>((resolve) => {
        const server = createServer();
        servers.push(server);
        server.listen(join(dir, 'policies', 'agent.sock'), resolve);
      }),
    code: 'E_SPECIAL_FILE',
    names: 'policies/agent.sock',
  },
  {
    name: '/dev/zero in policies:',
    setup: (dir) => config(dir, '[policies, /dev/zero]'),
    code: 'E_PATH_OUTSIDE',
    names: '/dev/zero',
  },
  {
    name: '/ in policies:',
    setup: (dir) => config(dir, '[/]'),
    code: 'E_PATH_OUTSIDE',
    names: "'/'",
  },
  {
    name: 'a file outside the repository in policies:',
    setup: (dir) => config(dir, `[policies, ${join(outside, 'list.yaml')}]`),
    code: 'E_PATH_OUTSIDE',
    names: 'list.yaml',
  },
  {
    name: '../ out of the repository in policies:',
    setup: (dir) => {
      mkdirSync(join(dir, 'repo'));
      writeFileSync(
        join(dir, 'repo', 'ecfence.yaml'),
        (BASE_FILES['ecfence.yaml'] ?? '').replace('environments:', 'policies: [../policies]\nenvironments:'),
      );
    },
    code: 'E_PATH_OUTSIDE',
    names: '../policies',
  },
  {
    name: 'a symlink in the policies tree to a file outside',
    setup: (dir) => symlinkSync(join(outside, 'secret.yaml'), join(dir, 'policies', 'shared.yaml')),
    code: 'E_PATH_OUTSIDE',
    names: 'policies/shared.yaml',
  },
  {
    name: 'a symlink in the policies tree to a directory outside',
    setup: (dir) => symlinkSync(join(outside, 'dir'), join(dir, 'policies', 'shared')),
    code: 'E_PATH_OUTSIDE',
    names: 'policies/shared',
  },
  {
    name: 'a symlink to / in the policies tree',
    setup: (dir) => symlinkSync('/', join(dir, 'policies', 'everything')),
    code: 'E_PATH_OUTSIDE',
    names: 'policies/everything',
  },
  {
    name: "a symlink in the policies tree into the repository's .git directory",
    setup: (dir) => {
      mkdirSync(join(dir, '.git'));
      writeFileSync(join(dir, '.git', 'config'), `extraheader: "AUTHORIZATION: basic ${SECRET}"\n`);
      symlinkSync(join(dir, '.git', 'config'), join(dir, 'policies', 'git.yaml'));
    },
    code: 'E_PATH_OUTSIDE',
    names: 'policies/git.yaml',
  },
  {
    name: 'ecfence.yaml itself a symlink out of its directory',
    setup: (dir) => {
      const config = join(dir, 'ecfence.yaml');
      execFileSync('rm', [config]);
      symlinkSync(join(outside, 'secret.yaml'), config);
    },
    code: 'E_PATH_OUTSIDE',
    names: 'ecfence.yaml',
  },
  {
    name: 'a file in the policies tree that is not a mapping (say, a key) is refused unquoted',
    setup: (dir) => writeFileSync(join(dir, 'policies', 'key.yaml'), `- ${SECRET}\n`),
    code: 'E_NOT_MAPPING',
    names: 'policies/key.yaml',
  },
  {
    name: 'a ca_file outside the repository',
    setup: (dir) =>
      writeFileSync(
        join(dir, 'ecfence.yaml'),
        `${BASE_FILES['ecfence.yaml'] ?? ''}    ca_file: ${join(outside, 'secret.yaml')}\n`,
      ),
    code: 'E_PATH_OUTSIDE',
    names: 'ca_file',
  },
  {
    name: 'a ca_file that is a FIFO',
    setup: (dir) => {
      execFileSync('mkfifo', [join(dir, 'ca.pem')]);
      writeFileSync(join(dir, 'ecfence.yaml'), `${BASE_FILES['ecfence.yaml'] ?? ''}    ca_file: ca.pem\n`);
    },
    code: 'E_SPECIAL_FILE',
    names: 'ca_file',
  },
  {
    name: 'a policy directory that cannot be listed',
    setup: (dir) => {
      mkdirSync(join(dir, 'policies', 'locked'));
      writeFileSync(join(dir, 'policies', 'locked', 'p.yaml'), 'environment: prod\n');
      chmodSync(join(dir, 'policies', 'locked'), 0o000);
    },
    code: 'E_UNREADABLE',
    names: 'policies/locked',
    skip: root ? 'root reads every directory whatever its mode' : undefined,
  },
  {
    name: 'a policy file that cannot be read',
    setup: (dir) => chmodSync(join(dir, 'policies', 'main.yaml'), 0o000),
    code: 'E_UNREADABLE',
    names: 'policies/main.yaml',
    skip: root ? 'root reads every file whatever its mode' : undefined,
  },
];

/** Live state holds a policy nobody else declares: a run that skipped a file would plan its delete. */
const seed = {
  deployments: [{ id: DEPLOYMENT, name: 'prod', region: REGION }],
  rulesets: [
    {
      name: 'office',
      region: REGION,
      type: 'ip',
      include_by_default: false,
      rules: [{ source: '10.0.0.0/16' }],
      associations: [DEPLOYMENT],
    },
  ],
};

describe.concurrent('unreadable, outside and special paths exit 3, named, with no request', () => {
  const emulators = emulatorPerCase(CASES.length, { flavor: 'cloud', port: 0, seed });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it.for(CASES.map((c, i) => [c.name, i] as const))('%s', async ([, index], { expect, skip }) => {
    const c = CASES[index];
    const emu = emulators[index];
    if (!c || !emu) throw new Error(`no case ${index}`);
    if (c.skip !== undefined) skip(c.skip);
    const dir = makeProject({});
    for (const [path, text] of Object.entries(BASE_FILES)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      // prune: a policy file left unread would mean a delete.
      const content = text.replaceAll('${URL}', emu.url);
      writeFileSync(join(dir, path), path === 'ecfence.yaml' ? `${content}    prune: true\n` : content);
    }
    await c.setup(dir);
    const cwd = c.name.startsWith('../') ? join(dir, 'repo') : dir;
    for (const args of [['validate'], ['apply', '--auto-approve']]) {
      const r = await runCli(args, { cwd, env: { EC_API_KEY: KEY } });
      const shown = `${args.join(' ')}: exit ${r.code}\nstdout: ${r.stdout.slice(0, 800)}\nstderr: ${r.stderr.slice(0, 1500)}`;
      expect(r.code, shown).toBe(3);
      expect(r.stderr, shown).toContain(c.code);
      expect(r.stderr, shown).toContain(c.names);
      expect(r.stderr, shown).not.toContain('    at ');
      expect(r.stdout + r.stderr, shown).not.toContain(SECRET);
      expect(r.stdout + r.stderr, shown).not.toContain('do-not-echo');
    }
    expect(emu.requests()).toEqual([]);
  });
});

describe('paths that stay inside are fine', () => {
  it('a symlink to a file or directory inside the repository is read, once', async () => {
    const dir = makeProject({
      'ecfence.yaml': 'policies: [policies, policies-link.yaml]\nenvironments:\n  prod:\n    api: ess\n',
      'shared/p.yaml': 'environment: prod\npolicies:\n  - { name: a, region: r, type: ip, rules: [] }\n',
    });
    symlinkSync(join(dir, 'shared'), join(dir, 'policies'));
    symlinkSync(join(dir, 'shared', 'p.yaml'), join(dir, 'policies-link.yaml'));
    const r = await runCli(['validate'], { cwd: dir });
    expect(r.code).toBe(0);
    // Read once: the same policy twice would be E_DUPLICATE_POLICY.
    expect(r.stdout + r.stderr).toContain('valid: 1 file(s), 1 policies');
  });
});
