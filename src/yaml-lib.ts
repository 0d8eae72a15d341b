import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

/**
 * `yaml`, the one YAML library, loaded on first use (synchronously: it ships CommonJS for Node).
 * Required here rather than imported, so that it stays out of the bundle's commands chunk, which
 * every command compiles (it was a fifth of the chunk), and commands that read no YAML never load it.
 */
let yamlModule: typeof Yaml | undefined;
export function yamlLib(): typeof Yaml {
  return (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);
}
