import { parseArgs } from 'node:util';
import { closest, didYouMean } from '../model/suggest.js';
import {
  COMMANDS,
  GLOBAL_OPTIONS,
  isCommand,
  optionsOf,
  parseArgsOptions,
  type CommandName,
  type OptionSpec,
} from './command-table.js';

/**
 * The command line, read the conventional way (git, kubectl, terraform): global options anywhere,
 * before or after the command; `ecfence help COMMAND`; an unknown command, option or value is an
 * error that names the closest valid one. Built on `node:util` `parseArgs` (strict): it does the
 * GNU-style reading (`--opt=value`, `-cFILE`, `--`), and the command table gives it its options,
 * so no second table of options exists anywhere.
 */

export type Flags = Record<string, string | boolean | string[] | undefined>;

export type CommandLine =
  | { kind: 'usage'; ok: boolean }
  | { kind: 'version' }
  | { kind: 'help'; command: CommandName }
  | { kind: 'run'; command: CommandName; flags: Flags; positionals: string[] }
  | { kind: 'error'; message: string; command?: CommandName };

/** Every option of every command (and the globals), by long name, then by short name. */
function allOptions(): { long: Map<string, OptionSpec>; short: Map<string, OptionSpec> } {
  const long = new Map<string, OptionSpec>(Object.entries(GLOBAL_OPTIONS));
  for (const c of Object.values(COMMANDS)) {
    for (const [name, o] of Object.entries(c.options)) if (!long.has(name)) long.set(name, o);
  }
  const short = new Map<string, OptionSpec>();
  for (const o of long.values()) if (o.short !== undefined) short.set(o.short, o);
  return { long, short };
}

/**
 * The index of the command word: the first argument that is a command and neither an option nor the
 * value of one (or, when none is a command, the first such argument, to be reported as unknown).
 * An option that takes a value (for any command) takes the next argument, so
 * `ecfence -c estate/ecfence.yaml validate` and `ecfence --env prod plan` both find their command,
 * and so does `ecfence --confg x validate`, whose unknown option is then reported as such.
 */
function commandIndex(argv: readonly string[]): number {
  const { long, short } = allOptions();
  let first = -1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') {
      if (isCommand(arg) || arg === 'help' || arg === 'version') return i;
      if (first === -1) first = i;
      continue;
    }
    if (arg.includes('=')) continue;
    const spec = arg.startsWith('--')
      ? long.get(arg.slice(2))
      : arg.length === 2
        ? short.get(arg.slice(1))
        : undefined;
    if (spec?.type === 'string') i++;
  }
  return first;
}

const optionName = (name: string): string => (name.length === 1 ? `-${name}` : `--${name}`);

/** Reads the command line; never throws. */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  if (argv.length === 0) return { kind: 'usage', ok: false };
  const at = commandIndex(argv);
  const word = at === -1 ? undefined : argv[at];
  const rest = at === -1 ? [...argv] : [...argv.slice(0, at), ...argv.slice(at + 1)];

  if (word === undefined || word === 'help' || word === 'version') {
    const globals = readOptions(rest, GLOBAL_OPTIONS, word === 'help' ? 1 : 0);
    if ('error' in globals) return { kind: 'error', message: globals.error };
    if (word === 'version' || (word === undefined && globals.flags['version'] === true))
      return { kind: 'version' };
    const topic = globals.positionals[0];
    if (word === undefined && globals.flags['help'] !== true) {
      return { kind: 'error', message: 'no command given' };
    }
    if (topic === undefined) return { kind: 'usage', ok: true };
    return isCommand(topic) ? { kind: 'help', command: topic } : unknownCommand(topic);
  }
  if (!isCommand(word)) return unknownCommand(word);

  const command = word;
  const spec = COMMANDS[command];
  const read = readOptions(
    rest,
    optionsOf(command),
    'positionals' in spec ? spec.positionals.max : 0,
    command,
  );
  if ('error' in read) return { kind: 'error', message: read.error, command };
  if (read.flags['help'] === true) return { kind: 'help', command };
  if (read.flags['version'] === true) return { kind: 'version' };
  const choices =
    'positionals' in spec && 'choices' in spec.positionals ? spec.positionals.choices : undefined;
  for (const p of read.positionals) {
    if (choices !== undefined && !(choices as readonly string[]).includes(p)) {
      return {
        kind: 'error',
        message: `${command} takes one of ${choices.join(', ')} (got '${p}')${didYouMean(p, choices)}`,
        command,
      };
    }
  }
  return { kind: 'run', command, flags: read.flags, positionals: read.positionals };
}

function unknownCommand(word: string): CommandLine {
  const names = [...Object.keys(COMMANDS), 'help'];
  return {
    kind: 'error',
    message: `unknown command '${word}'${didYouMean(word, names) || ` (commands: ${names.join(', ')})`}`,
  };
}

/**
 * The options and positionals of `args` against `options`: an unknown option names the closest
 * known one (or the commands that take it), a value outside an option's choices the closest choice.
 */
function readOptions(
  args: readonly string[],
  options: Readonly<Record<string, OptionSpec>>,
  maxPositionals: number,
  command?: CommandName,
): { flags: Flags; positionals: string[] } | { error: string } {
  // A lenient pass first, to name what is wrong better than parseArgs' own message would.
  const { tokens } = parseArgs({
    args: [...args],
    options: parseArgsOptions(options),
    strict: false,
    tokens: true,
  });
  for (const t of tokens) {
    if (t.kind !== 'option' || Object.hasOwn(options, t.name)) continue;
    return { error: unknownOption(t.rawName, options, command) };
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      options: parseArgsOptions(options),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return { error: (error as Error).message };
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals[maxPositionals] as string;
    const where = command === undefined ? '' : `${command} `;
    return {
      error:
        maxPositionals === 0
          ? `${where}takes no argument '${extra}'${command === undefined ? '' : didYouMean(extra, Object.keys(COMMANDS))}`
          : `${where}takes at most ${maxPositionals === 1 ? 'one argument' : `${maxPositionals} arguments`} (got '${parsed.positionals.join("' '")}')`,
    };
  }
  const flags = parsed.values as Flags;
  for (const [name, value] of Object.entries(flags)) {
    const choices = options[name]?.choices;
    if (choices === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      if (typeof v === 'string' && !choices.includes(v)) {
        return {
          error: `--${name} must be one of ${choices.join(', ')} (got '${v}')${didYouMean(v, choices)}`,
        };
      }
    }
  }
  return { flags, positionals: parsed.positionals };
}

function unknownOption(
  raw: string,
  options: Readonly<Record<string, OptionSpec>>,
  command?: CommandName,
): string {
  const name = raw.replace(/^--?/, '');
  const where = command === undefined ? '' : ` for ${command}`;
  const match = closest(name, Object.keys(options));
  if (match !== undefined) return `unknown option '${raw}'${where}; did you mean '${optionName(match)}'?`;
  const elsewhere = Object.entries(COMMANDS)
    .filter(([, c]) => Object.hasOwn(c.options, name))
    .map(([n]) => n);
  const others = elsewhere.length > 0 ? ` (${optionName(name)} is an option of ${elsewhere.join(', ')})` : '';
  return `unknown option '${raw}'${where}${others}`;
}
