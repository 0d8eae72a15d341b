/**
 * Every command, in the one module `run` imports once it knows a command will run (`--version` and
 * `--help` load none of it). One module rather than one per command: the bundle
 * (scripts/bundle.ts) then keeps the commands' code in one chunk, where calls are direct, instead
 * of spreading it over a dozen chunks that call each other through module bindings.
 */
export { runApply } from './apply.js';
export { runEmulator } from './emulator.js';
export { runEnvironments } from './environments.js';
export { runExplain } from './explain.js';
export { runExport } from './export.js';
export { runImportTerraform } from './import-terraform.js';
export { runMetadata } from './metadata.js';
export { runPlan } from './plan.js';
export { runValidate } from './validate.js';
