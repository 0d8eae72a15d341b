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
import { completionScript, type Shell } from '../../src/cli/completion.js';
import { renderCommandHelp } from '../../src/cli/help.js';
import { parseCommandLine } from '../../src/cli/parse-args.js';
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
  it('are read before and after the command, in every form', () => {
    for (const args of [
      ['-c', 'estate/ecfence.yaml', 'validate'],
      ['validate', '-c', 'estate/ecfence.yaml'],
      ['--config=estate/ecfence.yaml', 'validate', '--log-level', 'debug'],
      ['--log-format', 'json', 'validate', '--config', 'estate/ecfence.yaml'],
      ['--env', 'prod', 'plan', '-cestate/ecfence.yaml'],
    ]) {
      expect(parseCommandLine(args), args.join(' ')).toMatchObject({
        kind: 'run',
        flags: { config: 'estate/ecfence.yaml' },
      });
    }
  });

  it.concurrent.each([
    [['-c', 'estate/ecfence.yaml', 'validate']],
    [['validate', '--config=estate/ecfence.yaml']],
  ])('the binary: ecfence %j', async (args) => {
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
  it('of every command lists every option it takes, the globals too, and two or three examples', () => {
    for (const name of Object.keys(COMMANDS) as CommandName[]) {
      expect(parseCommandLine(['help', name])).toEqual({ kind: 'help', command: name });
      expect(parseCommandLine([name, '--help', '--no-such'])).toMatchObject({ kind: 'error' });
      const help = renderCommandHelp(name);
      expect(help).toMatch(new RegExp(`^Usage: ecfence ${name} `));
      for (const option of [...Object.keys(COMMANDS[name].options), ...Object.keys(GLOBAL_OPTIONS)]) {
        expect(help, `${name} --${option}`).toContain(`--${option}`);
      }
      expect(help).toContain('-c, --config FILE');
      const examples = help.slice(help.indexOf('Examples:')).match(/^ {2}ecfence /gm)?.length ?? 0;
      expect(examples, name).toBeGreaterThanOrEqual(2);
    }
  });

  it.concurrent(
    'the binary: help COMMAND is COMMAND --help; help lists every command; nothing is exit 3',
    async () => {
      const [viaHelp, viaFlag, help, none] = await Promise.all([
        runCli(['help', 'plan'], { cwd: project }),
        runCli(['plan', '--help'], { cwd: project }),
        runCli(['help'], { cwd: project }),
        runCli([], { cwd: project }),
      ]);
      expect(viaHelp).toMatchObject({ code: 0, stdout: renderCommandHelp('plan') });
      expect(viaFlag.stdout).toBe(viaHelp.stdout);
      expect(help.code).toBe(0);
      for (const name of Object.keys(COMMANDS)) expect(help.stdout).toMatch(new RegExp(`^ {2}${name} `, 'm'));
      expect(none.code).toBe(3);
      expect(none.stdout).toBe(help.stdout);
    },
  );

  it('the plan formats of the table are those the renderer knows', () => {
    expect(COMMANDS.plan.options.format.choices).toEqual(PLAN_FORMATS);
  });
});

describe('did you mean', () => {
  it.each([
    [['plna'], "unknown command 'plna'; did you mean 'plan'?"],
    [['help', 'aply'], "unknown command 'aply'; did you mean 'apply'?"],
    [['plan', '--evn', 'prod'], "unknown option '--evn' for plan; did you mean '--env'?"],
    [['--confg', 'x', 'validate'], "unknown option '--confg' for validate; did you mean '--config'?"],
    [
      ['validate', '--format', 'jsn'],
      "--format must be one of text, github, gitlab, json (got 'jsn'); did you mean 'json'?",
    ],
    [['validate', '--log-level', 'warning'], "(got 'warning'); did you mean 'warn'?"],
    [['validate', '--out', 'x'], "unknown option '--out' for validate (--out is an option of plan, export"],
    [['completion', 'zhs'], "did you mean 'zsh'?"],
  ])('ecfence %j', (args, message) => {
    const line = parseCommandLine(args);
    expect(line.kind).toBe('error');
    expect(line.kind === 'error' ? line.message : '').toContain(message);
  });

  it.concurrent('the binary: exit 3, the suggestion on stderr, nothing on stdout', async () => {
    const [command, option] = await Promise.all([
      runCli(['plna'], { cwd: project }),
      runCli(['plan', '--evn', 'prod'], { cwd: project }),
    ]);
    for (const r of [command, option]) {
      expect(r.code).toBe(3);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^error: .*; did you mean '[\w-]+'\?\nRun 'ecfence help( \w+)?' for usage\.\n$/,
      );
    }
  });
});

describe('shell completion', () => {
  const script = (shell: Shell): string => {
    const file = join(project, `completion.${shell}`);
    writeFileSync(file, completionScript(shell));
    return file;
  };

  it.concurrent('the binary prints the script of the shell asked for', async () => {
    const r = await runCli(['completion', 'zsh'], { cwd: project });
    expect(r).toMatchObject({ code: 0, stdout: completionScript('zsh') });
  });

  it('bash: parses, and completes commands, options after globals, and option values', async () => {
    const file = script('bash');
    expect((await runProcess('bash', ['-n', file], { env: {} })).code).toBe(0);
    const cases: [string[], string][] = [
      [['ecfence', 'pl'], 'plan'],
      [['ecfence', '-c', 'estate/ecfence.yaml', 'plan', '--det'], '--detailed-exitcode'],
      [['ecfence', 'plan', '--format', ''], 'text markdown json'],
      [['ecfence', 'validate', '--format', 'g'], 'github gitlab'],
      [['ecfence', '--log-level', 'de'], 'debug'],
      [['ecfence', 'help', 'ex'], 'export explain'],
      [['ecfence', 'completion', ''], 'bash zsh fish'],
      [['ecfence', '-c', 'est'], 'estate'],
    ];
    // One shell for every case: each sets the words, completes and prints what it offers.
    const run = cases
      .map(
        ([words]) =>
          `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _ecfence; echo "\${COMPREPLY[*]}"`,
      )
      .join('\n');
    const r = await runProcess('bash', ['-c', `source ${file}\n${run}`], {
      env: { PATH: process.env['PATH'] ?? '' },
      cwd: project,
    });
    expect(r.stdout.trimEnd().split('\n')).toEqual(cases.map(([, offered]) => offered));
  });

  it.skipIf(!has('zsh'))('zsh: parses, and registers _ecfence for ecfence when sourced', async () => {
    const file = script('zsh');
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
    const file = script('fish');
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
