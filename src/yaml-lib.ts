import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * `yaml`, loaded on first use (synchronously: it ships CommonJS for Node). The loader needs it only
 * for a file the fast reader declines or a position someone reads; export and the emulator's seed
 * files need it always. Required here rather than imported, so that it stays out of the bundle's
 * commands chunk, which every command compiles (it was a fifth of the chunk).
 */
let yamlModule: typeof Yaml | undefined;
export function yamlLib(): typeof Yaml {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
