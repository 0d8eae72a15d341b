/**
 * ecfence.yaml arrives in pull requests, so the variables it names for credentials (`api_key_env`,
 * `username_env`, `password_env`) must not be able to pick up a secret the CI system holds for
 * itself: ecfence would send it, as an API key, to the configured endpoint. These names are refused
 * (E_KEY_VARIABLE); the Elastic key belongs in a variable of its own, which the workflow sets.
 * Names are compared without regard to case.
 */

/** CI, package-registry and cloud tokens, by exact name. */
export const CI_TOKEN_VARIABLES: readonly string[] = [
  // GitHub Actions and the GitHub CLI
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GH_ENTERPRISE_TOKEN',
  'GITHUB_ENTERPRISE_TOKEN',
  // GitLab CI (predefined variables)
  'CI_JOB_TOKEN',
  'CI_JOB_JWT',
  'CI_JOB_JWT_V1',
  'CI_JOB_JWT_V2',
  'CI_BUILD_TOKEN',
  'CI_REGISTRY_PASSWORD',
  'CI_DEPLOY_PASSWORD',
  'CI_DEPENDENCY_PROXY_PASSWORD',
  'CI_REPOSITORY_URL',
  // Other CI systems
  'SYSTEM_ACCESSTOKEN',
  'BUILDKITE_AGENT_ACCESS_TOKEN',
  'CIRCLE_OIDC_TOKEN',
  'CIRCLE_OIDC_TOKEN_V2',
  'BITBUCKET_STEP_OIDC_TOKEN',
  // Package registries
  'NPM_TOKEN',
  'NODE_AUTH_TOKEN',
  'YARN_NPM_AUTH_TOKEN',
  'TWINE_PASSWORD',
  'CARGO_REGISTRY_TOKEN',
  'CODECOV_TOKEN',
  // Cloud credentials
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_CLIENT_SECRET',
  'ARM_CLIENT_SECRET',
  'ARM_ACCESS_KEY',
  'GOOGLE_APPLICATION_CREDENTIALS',
  'GOOGLE_CREDENTIALS',
  'GOOGLE_OAUTH_ACCESS_TOKEN',
  'CLOUDSDK_AUTH_ACCESS_TOKEN',
  'VAULT_TOKEN',
];

/** Whole families: GitHub's runner and runtime (`ACTIONS_RUNTIME_TOKEN`, …), GitLab's own. */
export const CI_TOKEN_PREFIXES: readonly string[] = ['ACTIONS_', 'RUNNER_', 'GITLAB_'];

const EXACT = new Set(CI_TOKEN_VARIABLES);

/** Whether `name` is a variable a CI system (or a cloud or registry login) keeps its token in. */
export function isCiTokenVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return EXACT.has(upper) || CI_TOKEN_PREFIXES.some((p) => upper.startsWith(p));
}
