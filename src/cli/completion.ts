import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './command-table.js';

/**
 * `ecfence completion bash|zsh|fish`: completion scripts generated from the command table, so they
 * complete exactly the commands, options and option values that the parser accepts.
 */

export type Shell = 'bash' | 'zsh' | 'fish';

export function completionScript(shell: Shell): string {
  switch (shell) {
    case 'bash':
      return bashScript();
    case 'zsh':
      return zshScript();
    case 'fish':
      return fishScript();
  }
}

type Entry = readonly [name: string, spec: CommandSpec];
const commands = (): Entry[] => Object.entries(COMMANDS);
const globals = (): [string, OptionSpec][] => Object.entries(GLOBAL_OPTIONS);
/** What `help` completes: the commands. */
const HELP_TOPICS = (): string[] => Object.keys(COMMANDS);
const names = (): string[] => [...Object.keys(COMMANDS), 'help'];

function flagsOf(options: readonly [string, OptionSpec][]): string[] {
  return options.flatMap(([name, o]) => [`--${name}`, ...(o.short !== undefined ? [`-${o.short}`] : [])]);
}

// ------------------------------------------------------------------------------------------ bash

/** The `compgen` of an option's value, or undefined when nothing can be offered. */
function bashValue(o: OptionSpec): string | undefined {
  if (o.choices !== undefined) return `COMPREPLY=($(compgen -W '${o.choices.join(' ')}' -- "$cur"))`;
  if (o.complete === 'file') return 'COMPREPLY=($(compgen -f -- "$cur"))';
  if (o.complete === 'directory') return 'COMPREPLY=($(compgen -d -- "$cur"))';
  return undefined;
}

function bashValueCases(options: readonly [string, OptionSpec][], indent: string): string[] {
  return options
    .filter(([, o]) => o.type === 'string')
    .map(([name, o]) => {
      const flags = [`--${name}`, ...(o.short !== undefined ? [`-${o.short}`] : [])].join('|');
      return `${indent}${flags}) ${bashValue(o) ?? 'COMPREPLY=()'}; return ;;`;
    });
}

function bashScript(): string {
  const valueOptions = new Set<string>();
  for (const [, c] of commands()) {
    for (const [name, o] of Object.entries(c.options)) if (o.type === 'string') valueOptions.add(`--${name}`);
  }
  for (const [name, o] of globals()) {
    if (o.type === 'string')
      valueOptions.add(`--${name}`).add(o.short !== undefined ? `-${o.short}` : `--${name}`);
  }
  const perCommand = commands().map(([name, c]) => {
    const options = Object.entries(c.options);
    const positional =
      c.positionals === undefined
        ? 'COMPREPLY=()'
        : 'choices' in c.positionals && c.positionals.choices !== undefined
          ? `COMPREPLY=($(compgen -W '${c.positionals.choices.join(' ')}' -- "$cur"))`
          : 'COMPREPLY=($(compgen -f -- "$cur"))';
    return [
      `    ${name})`,
      '      case "$prev" in',
      ...bashValueCases(options, '        '),
      '      esac',
      `      opts='${flagsOf([...options, ...globals()]).join(' ')}'`,
      `      positional() { ${positional}; }`,
      '      ;;',
    ].join('\n');
  });
  return `# bash completion for ecfence. Load it with: source <(ecfence completion bash)
_ecfence() {
  local cur prev cmd word i opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  cmd=""
  # The command is the first word that is neither an option nor an option's value.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    case "$word" in
      ${[...valueOptions].join('|')}) ((i++)) ;;
      -*) ;;
      *) cmd="$word"; break ;;
    esac
  done
  case "$prev" in
${bashValueCases(globals(), '    ').join('\n')}
  esac
  positional() { COMPREPLY=(); }
  case "$cmd" in
    "")
      opts='${flagsOf(globals()).join(' ')}'
      positional() { COMPREPLY=($(compgen -W '${names().join(' ')}' -- "$cur")); }
      ;;
    help)
      opts='${flagsOf(globals()).join(' ')}'
      positional() { COMPREPLY=($(compgen -W '${HELP_TOPICS().join(' ')}' -- "$cur")); }
      ;;
${perCommand.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    positional
  fi
}
complete -F _ecfence ecfence
`;
}

// ------------------------------------------------------------------------------------------- zsh

/** Text inside a single-quoted zsh word, and inside `[...]` of an `_arguments` spec. */
const zshDescription = (text: string): string =>
  text.replace(/'/g, `'\\''`).replace(/[[\]:\\]/g, (c) => `\\${c}`);

function zshAction(o: OptionSpec): string {
  const message = o.value ?? 'value';
  if (o.choices !== undefined) return `:${message}:(${o.choices.join(' ')})`;
  if (o.complete === 'file') return `:${message}:_files`;
  if (o.complete === 'directory') return `:${message}:_files -/`;
  return `:${message}: `;
}

function zshSpecs(options: readonly [string, OptionSpec][]): string[] {
  return options.flatMap(([name, o]) => {
    const description = `[${zshDescription(o.help)}]`;
    const action = o.type === 'string' ? zshAction(o) : '';
    const repeat = o.multiple ? '*' : '';
    const forms = [`--${name}${o.type === 'string' ? '=' : ''}`];
    if (o.short !== undefined) forms.push(`-${o.short}${o.type === 'string' ? '+' : ''}`);
    const exclusive =
      o.multiple || forms.length === 1 ? '' : `(${forms.map((f) => f.replace(/[=+]$/, '')).join(' ')})`;
    return forms.map((form) => `'${exclusive}${repeat}${form}${description}${action}'`);
  });
}

function zshScript(): string {
  const perCommand = commands().map(([name, c]) => {
    const specs = zshSpecs(Object.entries(c.options));
    if (c.positionals !== undefined) {
      const choices = 'choices' in c.positionals ? c.positionals.choices : undefined;
      specs.push(choices !== undefined ? `'1:argument:(${choices.join(' ')})'` : `'1::file:_files'`);
    }
    return `        ${name}) _arguments -S "\${global_specs[@]}" ${specs.join(' ')} ;;`;
  });
  const list = commands().map(([name, c]) => `    '${name}:${zshDescription(c.summary)}'`);
  list.push(`    'help:help for a command'`);
  return `#compdef ecfence
# zsh completion for ecfence. Either put it on $fpath as _ecfence
# (ecfence completion zsh > "\${fpath[1]}/_ecfence") or load it with: source <(ecfence completion zsh)
_ecfence() {
  local curcontext="$curcontext" state line
  local -a global_specs command_list
  global_specs=(
    ${zshSpecs(globals()).join('\n    ')}
  )
  command_list=(
${list.join('\n')}
  )
  _arguments -C -S "\${global_specs[@]}" '1: :->command' '*:: :->argument' && return
  case $state in
    command) _describe -t commands 'ecfence command' command_list ;;
    argument)
      case $words[1] in
        help) _arguments "1:command:(${HELP_TOPICS().join(' ')})" ;;
${perCommand.join('\n')}
      esac
      ;;
  esac
}
if [[ "\${funcstack[1]}" == _ecfence ]]; then
  _ecfence "$@"
else
  compdef _ecfence ecfence
fi
`;
}

// ------------------------------------------------------------------------------------------ fish

const fishQuote = (text: string): string => `'${text.replace(/[\\']/g, (c) => `\\${c}`)}'`;

function fishOption(name: string, o: OptionSpec, condition: string): string {
  const parts = ['complete -c ecfence'];
  if (condition !== '') parts.push(`-n ${fishQuote(condition)}`);
  if (o.short !== undefined) parts.push(`-s ${o.short}`);
  parts.push(`-l ${name}`);
  if (o.type === 'string') {
    if (o.choices !== undefined) parts.push('-x', `-a ${fishQuote(o.choices.join(' '))}`);
    else if (o.complete === 'file') parts.push('-r', '-F');
    else if (o.complete === 'directory') parts.push('-x', `-a ${fishQuote('(__fish_complete_directories)')}`);
    else parts.push('-x');
  }
  parts.push(`-d ${fishQuote(o.help)}`);
  return parts.join(' ');
}

function fishScript(): string {
  const lines = [
    '# fish completion for ecfence. Install it with:',
    '#   ecfence completion fish > ~/.config/fish/completions/ecfence.fish',
    'complete -c ecfence -f',
  ];
  const noCommand = `not __fish_seen_subcommand_from ${names().join(' ')}`;
  for (const [name, c] of commands()) {
    lines.push(`complete -c ecfence -n ${fishQuote(noCommand)} -a ${name} -d ${fishQuote(c.summary)}`);
  }
  lines.push(`complete -c ecfence -n ${fishQuote(noCommand)} -a help -d 'help for a command'`);
  lines.push(
    `complete -c ecfence -n '__fish_seen_subcommand_from help' -a ${fishQuote(HELP_TOPICS().join(' '))}`,
  );
  for (const [name, o] of globals()) lines.push(fishOption(name, o, ''));
  for (const [name, c] of commands()) {
    const when = `__fish_seen_subcommand_from ${name}`;
    for (const [option, o] of Object.entries(c.options)) lines.push(fishOption(option, o, when));
    if (c.positionals === undefined) continue;
    const choices = 'choices' in c.positionals ? c.positionals.choices : undefined;
    lines.push(
      choices !== undefined
        ? `complete -c ecfence -n ${fishQuote(when)} -a ${fishQuote(choices.join(' '))}`
        : `complete -c ecfence -n ${fishQuote(when)} -F`,
    );
  }
  return `${lines.join('\n')}\n`;
}
