/**
 * The comparison point: reading an estate the way a per-resource refresh does (Terraform's `ec`
 * provider refreshes every resource in its state on its own, `-parallelism=10`): one GET per
 * policy and one GET per association, ten in flight, over keep-alive connections (Node's fetch).
 * It only reads and parses; it does no diffing, so it is a lower bound for such a tool.
 */
import type { Estate } from './estate.js';

export interface BaselineJob {
  url: string;
  apiKey: string;
  /** Request paths, relative to `url`. */
  paths: string[];
  parallelism: number;
}

export interface BaselineResult {
  requests: number;
  failed: number;
  wallMs: number;
}

export const BASELINE_PARALLELISM = 10;

/** The GETs a per-resource refresh of `estate` sends. */
export function baselinePaths(estate: Estate): string[] {
  const paths: string[] = [];
  for (const p of estate.policies) {
    if (estate.flavor === 'ess') {
      const ruleset = `/api/v1/deployments/traffic-filter/rulesets/${p.id}`;
      paths.push(`${ruleset}?include_associations=false`);
      for (let i = 0; i < p.targets.length; i++) paths.push(`${ruleset}/associations`);
    } else {
      paths.push(`/api/v1/serverless/traffic-filters/${p.id}`);
      // A serverless association lives on the project: reading one means reading the project.
      for (const t of p.targets) {
        const target = estate.targets[t];
        if (target) paths.push(`/api/v1/serverless/projects/${target.projectType}/${target.id}`);
      }
    }
  }
  return paths;
}

export async function readPerResource(job: BaselineJob): Promise<BaselineResult> {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const headers = { authorization: `ApiKey ${job.apiKey}`, accept: 'application/json' };
  const worker = async (): Promise<void> => {
    for (let i = next++; i < job.paths.length; i = next++) {
      const res = await fetch(`${job.url}${job.paths[i] ?? ''}`, { headers });
      await res.json();
      if (!res.ok) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, job.parallelism) }, () => worker()));
  return { requests: job.paths.length, failed, wallMs: performance.now() - started };
}
