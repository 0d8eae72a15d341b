import { InternalError } from '../../model/errors.js';
import type { LiveEnvironment, LiveTarget, PolicySpec, Target } from '../../model/types.js';
import type { BackendContext } from '../context.js';
import { settleAll } from '../http.js';
import { createOnce } from '../create-once.js';
import type { Backend } from '../types.js';
import { asArray, asObject, requireString } from '../wire.js';
import { canonicalSpec, deploymentToLiveTarget, rulesetRequestBody, rulesetToLivePolicy } from './mapping.js';

/**
 * The ess/ece back end: both speak the same deployments traffic-filter API (API.md §2–3); they
 * differ only in capabilities and auth, which the registry supplies.
 */

const RULESETS = '/deployments/traffic-filter/rulesets';

export function createDeploymentsBackend(ctx: BackendContext): Backend {
  const { http, config, logger } = ctx;
  const inScope = (region: string): boolean =>
    config.regions === undefined || config.regions.includes(region);

  async function listRulesets(
    region?: string,
  ): Promise<{ policies: ReturnType<typeof rulesetToLivePolicy>[]; attempts: number }> {
    const searchParams: Record<string, string> = {
      include_associations: 'true',
      ...(region ? { region } : {}),
    };
    const res = await http.request({ method: 'GET', path: RULESETS, searchParams });
    const wctx = { method: 'GET', path: RULESETS };
    const body = asObject(wctx, res.body, 'ruleset list');
    const policies = asArray(wctx, body['rulesets'], 'rulesets').map((r) => rulesetToLivePolicy(wctx, r));
    return { policies, attempts: res.attempts };
  }

  async function listDeployments(): Promise<{ targets: LiveTarget[]; attempts: number }> {
    const res = await http.request({ method: 'GET', path: '/deployments' });
    const wctx = { method: 'GET', path: '/deployments' };
    const body = asObject(wctx, res.body, 'deployment list');
    const targets = asArray(wctx, body['deployments'], 'deployments').map((d) =>
      deploymentToLiveTarget(wctx, d),
    );
    return { targets, attempts: res.attempts };
  }

  function rulesetPath(id: string): string {
    return `${RULESETS}/${encodeURIComponent(id)}`;
  }

  function deploymentOf(target: Target): string {
    if (target.kind !== 'deployment')
      throw new InternalError(`${config.name}: ${target.kind} target on a deployments API`);
    return target.id;
  }

  return {
    capabilities: ctx.capabilities,

    async read(): Promise<LiveEnvironment> {
      // One unscoped list (its cost does not depend on how many regions are in scope) and one
      // deployment list; regions are filtered here.
      const [rulesets, deployments] = await settleAll([listRulesets(), listDeployments()]);
      return {
        environment: config.name,
        policies: rulesets.policies.filter((p) => inScope(p.region)),
        // Targets of every region are kept so that an association across regions is reported as a
        // region mismatch rather than as an unknown deployment.
        targets: deployments.targets,
        complete: true,
        requests: rulesets.attempts + deployments.attempts,
      };
    },

    async createPolicy(spec: PolicySpec, exclude: readonly string[] = []): Promise<{ id: string }> {
      const wanted = canonicalSpec(spec);
      return createOnce({
        spec,
        logger,
        retry: ctx.retry,
        post: async () => {
          const res = await http.request({ method: 'POST', path: RULESETS, json: rulesetRequestBody(spec) });
          const wctx = { method: 'POST', path: RULESETS };
          return requireString(wctx, asObject(wctx, res.body, 'create response'), 'id', 'create response');
        },
        findMatching: async () => {
          const { policies } = await listRulesets(spec.region);
          return policies
            .filter((p) => !exclude.includes(p.id) && canonicalSpec(p) === wanted)
            .map((p) => p.id);
        },
      });
    },

    async updatePolicy(id: string, spec: PolicySpec): Promise<void> {
      // PUT replaces the whole ruleset (gotcha 18); rule ids are not echoed (gotcha 2).
      await http.request({ method: 'PUT', path: rulesetPath(id), json: rulesetRequestBody(spec) });
    },

    async deletePolicy(id: string): Promise<void> {
      // Never `ignore_associations` (gotcha 14); 404 means already deleted (gotcha 10).
      await http.request({ method: 'DELETE', path: rulesetPath(id), acceptStatus: [404] });
    },

    async associate(policyId: string, target: Target): Promise<void> {
      // 201 created, 200 already there: the POST is idempotent, so retrying it is safe (gotcha 9).
      await http.request({
        method: 'POST',
        path: `${rulesetPath(policyId)}/associations`,
        json: { entity_type: 'deployment', id: deploymentOf(target) },
        idempotent: true,
      });
    },

    async dissociate(policyId: string, target: Target): Promise<void> {
      await http.request({
        method: 'DELETE',
        path: `${rulesetPath(policyId)}/associations/deployment/${encodeURIComponent(deploymentOf(target))}`,
        acceptStatus: [404],
      });
    },

    writeTargetPolicies(): Promise<void> {
      return Promise.reject(new InternalError(`${config.name}: ${config.api} writes associations per pair`));
    },

    requestCount(): number {
      return http.counters().requests;
    },
  };
}
