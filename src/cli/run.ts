import { readFileSync } from 'node:fs';
import { EXIT, exitCodeFor, type ExitCode } from './exit-codes.js';
import type { Io } from './io.js';
import { ApiError, SafetyRefusal, UserInputError } from '../model/errors.js';
import { internalErrorText } from './stack.js';
import { printDiagnostics } from './diagnostics-output.js';
import { completionScript, type Shell } from './completion.js';
import { renderCommandHelp, renderUsage } from './help.js';
import { parseCommandLine } from './parse-args.js';

/**
 * Entry point. Reads the command line (parse-args.ts, from the table in command-table.ts), lazily
 * imports the one command it runs (so `--version` and help stay fast), and turns every error
 * family into its exit code in one place.
 */

/**
 * The version from our package.json, the nearest one above this module: dist/src/cli/ when run
 * from tsc's output, dist/bin/ when run from the bundle, src/cli/ under vitest.
 */
function readVersion(): string {
  for (let dir = new URL('./', import.meta.url); ; dir = new URL('../', dir)) {
    let text: string | undefined;
    try {
      text = readFileSync(new URL('package.json', dir), 'utf8');
    } catch {
      // none here: one level up
    }
    const pkg = text === undefined ? undefined : (JSON.parse(text) as { name?: string; version?: string });
    if (pkg?.name === 'ecfence' && pkg.version !== undefined) return pkg.version;
    if (dir.pathname === '/') throw new Error('package.json of ecfence not found above the CLI');
  }
}

export async function run(argv: readonly string[], io: Io): Promise<ExitCode> {
  const line = parseCommandLine(argv);
  switch (line.kind) {
    case 'usage':
      io.stdout(renderUsage());
      return line.ok ? EXIT.ok : EXIT.invalidInput;
    case 'version':
      io.stdout(`${readVersion()}\n`);
      return EXIT.ok;
    case 'help':
      io.stdout(renderCommandHelp(line.command));
      return EXIT.ok;
    case 'error':
      io.stderr(
        `error: ${line.message}\nRun 'ecfence help${line.command === undefined ? '' : ` ${line.command}`}' for usage.\n`,
      );
      return EXIT.invalidInput;
    case 'run':
      break;
  }
  const { command, flags, positionals } = line;
  try {
    if (command === 'completion') {
      io.stdout(completionScript(positionals[0] as Shell));
      return EXIT.ok;
    }
    const commands = await import('./commands/index.js');
    switch (command) {
      case 'validate':
        return await commands.runValidate(flags, io);
      case 'plan':
        return await commands.runPlan(flags, io);
      case 'apply':
        return await commands.runApply(flags, positionals, io);
      case 'metadata':
        return await commands.runMetadata(flags, io);
      case 'export':
        return await commands.runExport(flags, io);
      case 'import-terraform':
        return commands.runImportTerraform(flags, positionals, io);
      case 'explain':
        return await commands.runExplain(flags, io);
      case 'emulator':
        return await commands.runEmulator(flags, io);
      case 'environments':
        return commands.runEnvironments(flags, io);
    }
  } catch (error) {
    reportError(error, io);
    return exitCodeFor(error);
  }
}

function reportError(error: unknown, io: Io): void {
  if (error instanceof UserInputError) {
    printDiagnostics(io, error.diagnostics);
    io.stderr(`error: ${error.message}\n`);
  } else if (error instanceof SafetyRefusal) {
    io.stderr(`refused [${error.guard}]: ${error.message}\n`);
  } else if (error instanceof ApiError) {
    io.stderr(`error: ${error.message}\n`);
  } else {
    io.stderr(internalErrorText(error));
  }
}
