/**
 * The command line as a user types it (the built binary): global options anywhere, `help COMMAND`,
 * did-you-mean for what is misspelt, and shell completion scripts that their shells accept.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { COMMANDS, GLOBAL_OPTIONS, type CommandName } from '../../src/cli/command-table.js';
import { PLAN_FORMATS } from '../../src/cli/render/index.js';
import { makeProject, runCli, runProcess } from '../support/cli.js';

const project = makeProject({
  'estate/ecfence.yaml': 'environments:\n  prod:\n    api: ess\n',
  'estate/policies/a.yaml':
    'environment: prod\npolicies:\n  - name: office\n    region: us-east-1\n    type: ip\n    rules:\n      - source: 10.0.0.0/8\n',
});

/** Whether `shell` is installed here (zsh and fish are optional: their tests skip without them). */
const has = (shell: string): boolean => spawnSync(shell, ['--version'], { stdio: 'ignore' }).status === 0;

describe('global options anywhere on the line', () => {
  it.concurrent.each([
    [['-c', 'estate/ecfence.yaml', 'validate']],
    [['validate', '-c', 'estate/ecfence.yaml']],
    [['--config=estate/ecfence.yaml', 'validate', '--log-level', 'debug']],
    [['--log-format', 'json', 'validate', '--config', 'estate/ecfence.yaml']],
  ])('ecfence %j', async (args) => {
    const r = await runCli(args, { cwd: project });
    expect(r.stderr).toMatch(/^valid: 1 file\(s\), 1 policies/m);
    expect(r.code).toBe(0);
  });
});

describe('logs on stderr', () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ flavor: 'cloud', port: 0 });
  });
  afterAll(() => emulator.close());

  it('are readable lines by default, pino JSON only when asked', async () => {
    const dir = makeProject({
      'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${emulator.url}\n`,
      'policies/a.yaml': 'environment: prod\npolicies: []\n',
    });
    const env = { EC_API_KEY: 'essu_log_format_key' };
    const [text, json, fromEnv] = await Promise.all([
      runCli(['plan', '--log-level', 'info'], { cwd: dir, env }),
      runCli(['--log-format', 'json', 'plan', '--log-level', 'info'], { cwd: dir, env }),
      runCli(['plan', '--log-level', 'info'], { cwd: dir, env: { ...env, ECFENCE_LOG_FORMAT: 'json' } }),
    ]);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(/^info: live state read \(env=prod, requests=2, policies=0\)$/m);
    expect(text.stderr).not.toContain('{"level"');
    for (const r of [json, fromEnv]) {
      expect(r.stderr).toMatch(/^\{"level":30,.*"msg":"live state read"\}$/m);
    }
    const bad = await runCli(['plan'], { cwd: dir, env: { ...env, ECFENCE_LOG_FORMAT: 'yaml' } });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("ECFENCE_LOG_FORMAT must be one of text, json (got 'yaml')");
  });
});

describe('help', () => {
  it.concurrent(
    'ecfence help COMMAND is the command help, with every option, globals and examples',
    async () => {
      for (const name of Object.keys(COMMANDS) as CommandName[]) {
        const [viaHelp, viaFlag] = await Promise.all([
          runCli(['help', name], { cwd: project }),
          runCli([name, '--help'], { cwd: project }),
        ]);
        expect(viaHelp.code).toBe(0);
        expect(viaHelp.stdout).toBe(viaFlag.stdout);
        expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: ecfence ${name} `));
        for (const option of [...Object.keys(COMMANDS[name].options), ...Object.keys(GLOBAL_OPTIONS)]) {
          expect(viaHelp.stdout, `${name} --${option}`).toContain(`--${option}`);
        }
        expect(viaHelp.stdout).toContain('-c, --config FILE');
        const examples = viaHelp.stdout.slice(viaHelp.stdout.indexOf('Examples:'));
        expect(examples.match(/^ {2}ecfence /gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
      }
    },
  );

  it.concurrent('ecfence help lists every command; no command at all is exit 3', async () => {
    const [help, none] = await Promise.all([
      runCli(['help'], { cwd: project }),
      runCli([], { cwd: project }),
    ]);
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
    expect(none.code).toBe(3);
    expect(none.stdout).toBe(help.stdout);
  });

  it('the plan formats of the table are those the renderer knows', () => {
    expect(COMMANDS.plan.options.format.choices).toEqual(PLAN_FORMATS);
  });
});

describe('did you mean', () => {
  it.concurrent.each([
    [['plna'], "unknown command 'plna'; did you mean 'plan'?"],
    [['help', 'aply'], "unknown command 'aply'; did you mean 'apply'?"],
    [['plan', '--evn', 'prod'], "unknown option '--evn' for plan; did you mean '--env'?"],
    [['--confg', 'x', 'validate'], "unknown option '--confg' for validate; did you mean '--config'?"],
    [
      ['validate', '--format', 'jsn'],
      "--format must be one of text, github, gitlab, json (got 'jsn'); did you mean 'json'?",
    ],
    [['validate', '--log-level', 'warning'], "(got 'warning'); did you mean 'warn'?"],
    [
      ['validate', '--out', 'x'],
      "unknown option '--out' for validate (--out is an option of plan, export, import-terraform)",
    ],
    [['completion', 'zhs'], "did you mean 'zsh'?"],
  ])('ecfence %j', async (args, message) => {
    const r = await runCli(args, { cwd: project });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/^Run 'ecfence help( \w+)?' for usage\.$/m);
  });
});

describe('shell completion', () => {
  const script = async (shell: string): Promise<string> => {
    const r = await runCli(['completion', shell], { cwd: project });
    expect(r.code).toBe(0);
    const file = join(project, `completion.${shell}`);
    writeFileSync(file, r.stdout);
    return file;
  };

  it('bash: parses, and completes commands, options after globals, and option values', async () => {
    const file = await script('bash');
    expect((await runProcess('bash', ['-n', file], { env: {} })).code).toBe(0);
    const complete = async (...words: string[]): Promise<string> => {
      const r = await runProcess(
        'bash',
        [
          '-c',
          `source ${file}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ecfence; echo "\${COMPREPLY[*]}"`,
        ],
        { env: { PATH: process.env['PATH'] ?? '' }, cwd: project },
      );
      return r.stdout.trim();
    };
    expect(await complete('ecfence', 'pl')).toBe('plan');
    expect(await complete('ecfence', '-c', 'estate/ecfence.yaml', 'plan', '--det')).toBe(
      '--detailed-exitcode',
    );
    expect(await complete('ecfence', 'plan', '--format', '')).toBe('text markdown json');
    expect(await complete('ecfence', 'validate', '--format', 'g')).toBe('github gitlab');
    expect(await complete('ecfence', '--log-level', 'de')).toBe('debug');
    expect(await complete('ecfence', 'help', 'ex')).toBe('export explain');
    expect(await complete('ecfence', 'completion', '')).toBe('bash zsh fish');
    expect(await complete('ecfence', '-c', 'est')).toBe('estate');
  });

  it.skipIf(!has('zsh'))('zsh: parses, and registers _ecfence for ecfence when sourced', async () => {
    const file = await script('zsh');
    expect((await runProcess('zsh', ['-n', file], { env: {} })).code).toBe(0);
    const r = await runProcess(
      'zsh',
      [
        '-f',
        '-c',
        `autoload -Uz compinit && compinit -u -D && source ${file} && print -r -- $_comps[ecfence]`,
      ],
      { env: { PATH: process.env['PATH'] ?? '', HOME: project } },
    );
    expect(r.stdout.trim()).toBe('_ecfence');
  });

  it.skipIf(!has('fish'))('fish: parses, and completes commands and option values', async () => {
    const file = await script('fish');
    expect((await runProcess('fish', ['-n', file], { env: {} })).code).toBe(0);
    const r = await runProcess(
      'fish',
      ['--no-config', '-c', `source ${file}; complete -C 'ecfence pl'; complete -C 'ecfence plan --format '`],
      { env: { PATH: process.env['PATH'] ?? '', HOME: project } },
    );
    const words = r.stdout.split('\n').map((l) => l.split('\t')[0]);
    expect(words).toEqual(['plan', 'json', 'markdown', 'text', '']);
  });
});
