import { COMMANDS, GLOBAL_OPTIONS, type CommandName, type OptionSpec } from './command-table.js';

/** Help texts, generated from the command table so that every option a command takes is listed. */

const WIDTH = 100;

/** `-c, --config FILE`: how an option is written in help. */
export function optionLabel(name: string, o: OptionSpec): string {
  const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : '';
  return `${o.short !== undefined ? `-${o.short}, ` : '    '}--${name}${value}`;
}

/** Two columns, the second wrapped at WIDTH with a hanging indent. */
function columns(rows: readonly (readonly [string, string])[]): string[] {
  const left = Math.min(34, Math.max(...rows.map(([l]) => l.length)) + 2);
  const lines: string[] = [];
  for (const [label, text] of rows) {
    const words = text.split(/\s+/);
    const indent = ' '.repeat(left + 2);
    let line = label.length >= left ? `  ${label}\n${indent}` : `  ${label.padEnd(left)}`;
    let room = WIDTH - left - 2;
    for (const word of words) {
      if (word.length > room && room < WIDTH - left - 2) {
        lines.push(line.trimEnd());
        line = indent;
        room = WIDTH - left - 2;
      }
      line += `${word} `;
      room -= word.length + 1;
    }
    lines.push(line.trimEnd());
  }
  return lines;
}

function optionRows(options: Readonly<Record<string, OptionSpec>>): [string, string][] {
  return Object.entries(options).map(([name, o]) => [optionLabel(name, o), o.help]);
}

/** `ecfence help`: commands, global options, where keys go and the exit codes. */
export function renderUsage(): string {
  const commands = Object.entries(COMMANDS).map(([name, c]): [string, string] => [name, c.summary]);
  commands.push(['help [COMMAND]', 'help for a command, with its options and examples']);
  return [
    'ecfence — Elastic Cloud network security as code',
    '',
    'Usage: ecfence <command> [options]',
    '',
    'Commands:',
    ...columns(commands),
    '',
    'Global options (anywhere on the line):',
    ...columns(optionRows(GLOBAL_OPTIONS)),
    '',
    'Run `ecfence help COMMAND` (or `ecfence COMMAND --help`) for its options and examples.',
    '',
    'API keys are sent only to https://api.elastic-cloud.com, loopback (the emulator), or an origin',
    'listed in ECFENCE_ALLOWED_ENDPOINTS (comma-separated, e.g. https://ece.example.com:12443).',
    '',
    'Exit codes: 0 ok, 1 error, 2 changes (plan --detailed-exitcode), 3 invalid input,',
    '            4 refused by a safety guard, 5 apply partly failed.',
    '',
  ].join('\n');
}

/** `ecfence help COMMAND`: usage, what it does, every option it takes (globals too), examples. */
export function renderCommandHelp(name: CommandName): string {
  const c = COMMANDS[name];
  const options = optionRows(c.options);
  return [
    `Usage: ecfence ${name} ${c.synopsis}`,
    '',
    c.about,
    '',
    ...(options.length > 0 ? ['Options:', ...columns(options), ''] : []),
    'Global options:',
    ...columns(optionRows(GLOBAL_OPTIONS)),
    '',
    'Examples:',
    ...c.examples.flatMap(([command, what]) => [`  ${command}`, `      ${what}`]),
    '',
  ].join('\n');
}
