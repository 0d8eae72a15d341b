import { ALLOWED_ENDPOINTS_VAR, endpointRefusal, readAllowedOrigins } from '../secrets/endpoint-policy.js';
import { diagnostic } from '../model/diagnostics.js';
import type { Diagnostic } from '../model/diagnostics.js';
import type { ConfigModel } from './config.js';
import { positionAt } from './read-yaml.js';

/**
 * Whether each selected environment's endpoint is one a key may be sent to (SPEC §1.1), judged
 * against `ECFENCE_ALLOWED_ENDPOINTS` in `env` — never against anything in the repository.
 *
 * For the commands that connect (plan, apply, export, metadata): each finding is an error, so the
 * run stops before any request. `validate` and `explain` are offline, send no key and depend on
 * the files alone, so they do not ask.
 */
export function checkAllowedEndpoints(
  model: ConfigModel,
  names: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const yaml = model.yaml;
  if (yaml === undefined) return out;
  const allowed = readAllowedOrigins(env[ALLOWED_ENDPOINTS_VAR]);
  for (const problem of allowed.problems) {
    out.push(diagnostic('error', 'E_ALLOWED_ENDPOINTS', problem, { file: ALLOWED_ENDPOINTS_VAR }));
  }
  for (const name of names) {
    const config = model.environments.get(name);
    if (config === undefined) continue;
    const refusal = endpointRefusal(config.endpoint, allowed);
    if (refusal === undefined) continue;
    out.push(
      diagnostic(
        'error',
        'E_ENDPOINT_NOT_ALLOWED',
        `environments.${name}.endpoint: ${refusal}`,
        // A refused endpoint is always written (the default one is allowed).
        positionAt(yaml, ['environments', name, 'endpoint']),
      ),
    );
  }
  return out;
}
