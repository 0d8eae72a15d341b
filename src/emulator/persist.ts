import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readInputFile } from '../load/input-files.js';
import { EmulatorSetupError } from './errors.js';
import { newHexId } from './ids.js';
import { createEmptyState } from './state.js';
import type { EmulatorState } from './types.js';

/** Largest seed or state file read: far above any estate the benchmark seeds (~7 MB for 5,000 rulesets). */
export const MAX_EMULATOR_FILE_BYTES = 256 * 1024 * 1024;

/** Loads a state file written by `saveState`; undefined when the file does not exist. */
export function loadState(path: string): EmulatorState | undefined {
  if (!existsSync(path)) return undefined;
  const read = readInputFile(path, path, MAX_EMULATOR_FILE_BYTES);
  if ('diagnostics' in read) {
    throw new EmulatorSetupError(`emulator state: ${read.diagnostics.map((d) => d.message).join('; ')}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(read.text);
  } catch (err) {
    throw new EmulatorSetupError(`emulator state file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const state = parsed as Partial<EmulatorState> | null;
  if (state === null || typeof state !== 'object' || state.format !== 'ecfence-emulator-state/1') {
    throw new EmulatorSetupError(
      `emulator state file ${path} is not an ecfence emulator state (format ecfence-emulator-state/1)`,
    );
  }
  // Fill in collections a hand-edited or older file may lack.
  return { ...createEmptyState(), ...state } as EmulatorState;
}

/**
 * Writes the state atomically: a temporary file in the same directory, then a rename over the
 * target, so a reader or a crash never sees a half-written file.
 */
export function saveState(path: string, state: EmulatorState): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${newHexId().slice(0, 8)}.tmp`);
  try {
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { encoding: 'utf8', mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
