/**
 * Synthetic estates for the benchmark: N policies of 20 rules, 3 × N associations over
 * max(8, N / 2) targets in two regions. One description feeds every consumer: the emulator seed
 * (live state), the YAML a user would commit, the neutral model for the in-process core bench and
 * the id lists the per-resource baseline reads. Everything is deterministic in (flavor, N).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SeedData } from '../src/emulator/index.js';
import type { ProjectType } from '../src/model/types.js';

export type EstateFlavor = 'ess' | 'serverless';

export const RULES_PER_POLICY = 20;
/** The largest estate one organisation can hold: 512 policies of 128 rules. */
export const LARGEST_ESTATE = { size: 512, rulesPerPolicy: 128 } as const;
export const ASSOCIATIONS_PER_POLICY = 3;
export const ENVIRONMENT = 'bench';
const REGIONS = ['aws-us-east-1', 'gcp-us-central1'] as const;
const PROJECT_TYPES_CYCLE: readonly ProjectType[] = ['elasticsearch', 'observability', 'security'];
/** Policies per YAML file, so that loading reads many files as a real repository does. */
const POLICIES_PER_FILE = 250;

export interface EstateRule {
  source: string;
  description?: string;
}

export interface EstatePolicy {
  id: string;
  name: string;
  region: string;
  description: string;
  rules: EstateRule[];
  /** Indexes into `Estate.targets`, all in the policy's region. */
  targets: number[];
}

export interface EstateTarget {
  id: string;
  name: string;
  region: string;
  /** Serverless only. */
  projectType?: ProjectType;
}

export interface Estate {
  flavor: EstateFlavor;
  size: number;
  /** Rules of each policy (RULES_PER_POLICY unless a scenario asks for more). */
  rulesPerPolicy: number;
  policies: EstatePolicy[];
  targets: EstateTarget[];
}

/** What the 10% change consists of, for the report. */
export interface ChangeSummary {
  updated: number;
  moved: number;
  deleted: number;
  created: number;
}

/** A 32-character lowercase id, distinct per kind (first character) and index. */
function idOf(kind: string, index: number): string {
  return `${kind}${index.toString(16).padStart(31, '0')}`;
}

/**
 * `count` distinct, non-overlapping networks in the /24 of policy `index`: the largest power-of-two
 * blocks that fit (/29 for 20 rules, /31 for 128).
 */
function rulesOf(index: number, count: number): EstateRule[] {
  const a = 10 + (Math.floor(index / 65_536) % 200);
  const b = (index >> 8) & 255;
  const c = index & 255;
  const step = 2 ** Math.floor(Math.log2(256 / count));
  const prefix = 32 - Math.log2(step);
  return Array.from({ length: count }, (_, j) => ({
    source: `${a}.${b}.${c}.${j * step}/${prefix}`,
    // Half the rules carry a description, so both absent and present fields are compared.
    ...(j % 2 === 0 ? { description: `Rule ${j} of policy ${index}` } : {}),
  }));
}

function policyName(index: number): string {
  return `bench-${String(index).padStart(5, '0')}`;
}

/** Target indexes per region, in index order. */
function targetsByRegion(targets: readonly EstateTarget[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  targets.forEach((t, i) => {
    const list = out.get(t.region);
    if (list) list.push(i);
    else out.set(t.region, [i]);
  });
  return out;
}

/** The estate in sync: what the emulator is seeded with and what the base YAML declares. */
export function generateEstate(
  flavor: EstateFlavor,
  size: number,
  rulesPerPolicy: number = RULES_PER_POLICY,
): Estate {
  if (!Number.isInteger(rulesPerPolicy) || rulesPerPolicy < 1 || rulesPerPolicy > 128) {
    throw new Error(`rules per policy must be a whole number from 1 to 128 (got ${rulesPerPolicy})`);
  }
  const targetCount = Math.max(8, Math.ceil(size / 2));
  const targets: EstateTarget[] = Array.from({ length: targetCount }, (_, i) => {
    const region = REGIONS[i % REGIONS.length] ?? REGIONS[0];
    if (flavor === 'ess') return { id: idOf('d', i), name: `deployment-${i}`, region };
    const projectType = PROJECT_TYPES_CYCLE[i % PROJECT_TYPES_CYCLE.length] ?? 'elasticsearch';
    return { id: idOf('5', i), name: `project-${i}`, region, projectType };
  });
  const byRegion = targetsByRegion(targets);
  const seen = new Map<string, number>();
  const policies: EstatePolicy[] = Array.from({ length: size }, (_, i) => {
    const region = REGIONS[i % REGIONS.length] ?? REGIONS[0];
    // The m-th policy of a region takes the next three targets of that region round-robin, so
    // every target carries about six policies.
    const m = seen.get(region) ?? 0;
    seen.set(region, m + 1);
    const pool = byRegion.get(region) ?? [];
    const picks = new Set<number>();
    for (let t = 0; t < ASSOCIATIONS_PER_POLICY && t < pool.length; t++) {
      const target = pool[(m * ASSOCIATIONS_PER_POLICY + t) % pool.length];
      if (target !== undefined) picks.add(target);
    }
    return {
      id: idOf(flavor === 'ess' ? 'a' : 'f', i),
      name: policyName(i),
      region,
      description: `Benchmark policy ${i}`,
      rules: rulesOf(i, rulesPerPolicy),
      targets: [...picks],
    };
  });
  return { flavor, size, rulesPerPolicy, policies, targets };
}

/**
 * Every tenth policy changes: of those, two in five get an edited rule and description (update),
 * two in five move one association to another target of the region (associate + dissociate),
 * one in five is removed (dissociations + delete, `prune: true`) and as many new policies are
 * added (create + associations). The policy count stays N.
 */
export function changeEstate(base: Estate): { estate: Estate; summary: ChangeSummary } {
  const summary: ChangeSummary = { updated: 0, moved: 0, deleted: 0, created: 0 };
  const byRegion = targetsByRegion(base.targets);
  const policies: EstatePolicy[] = [];
  base.policies.forEach((p, i) => {
    if (i % 10 !== 0) {
      policies.push(p);
      return;
    }
    const kind = (i / 10) % 5;
    if (kind === 4) {
      summary.deleted += 1;
      return;
    }
    const pool = byRegion.get(p.region) ?? [];
    const spare = pool.find((t) => !p.targets.includes(t));
    if (kind >= 2 && spare !== undefined && p.targets.length > 0) {
      summary.moved += 1;
      policies.push({ ...p, targets: [spare, ...p.targets.slice(1)] });
      return;
    }
    summary.updated += 1;
    const [first, ...rest] = p.rules;
    // The first network halved: still inside the policy's /24, still distinct from the others.
    const source = (first?.source ?? '10.0.0.0/29').replace(/\/(\d+)$/, (_, bits) => `/${Number(bits) + 1}`);
    const changedFirst = { ...first, source };
    policies.push({ ...p, description: `${p.description} (changed)`, rules: [changedFirst, ...rest] });
  });
  for (let k = 0; k < summary.deleted; k++) {
    const index = base.size + k;
    const region = REGIONS[index % REGIONS.length] ?? REGIONS[0];
    const pool = byRegion.get(region) ?? [];
    const targets = new Set<number>();
    for (let t = 0; t < ASSOCIATIONS_PER_POLICY && t < pool.length; t++) {
      const target = pool[(k * ASSOCIATIONS_PER_POLICY + t) % pool.length];
      if (target !== undefined) targets.add(target);
    }
    summary.created += 1;
    // Ids are server-assigned: a new policy has none until it is created.
    policies.push({
      id: '',
      name: `${policyName(index)}-new`,
      region,
      description: `Benchmark policy ${index}`,
      rules: rulesOf(index, base.rulesPerPolicy),
      targets: [...targets],
    });
  }
  return { estate: { ...base, policies }, summary };
}

/** Associations as declared: per target, the names of its policies. */
function associationsByTarget(estate: Estate): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const p of estate.policies) {
    for (const t of p.targets) {
      const names = out.get(t);
      if (names) names.push(p.name);
      else out.set(t, [p.name]);
    }
  }
  return out;
}

/** Emulator seed of the estate's live state (`withPolicies: false`: targets only, for apply from empty). */
export function seedOf(estate: Estate, withPolicies = true): SeedData {
  if (estate.flavor === 'ess') {
    return {
      deployments: estate.targets.map((t) => ({ id: t.id, name: t.name, region: t.region })),
      rulesets: withPolicies
        ? estate.policies.map((p) => ({
            id: p.id,
            name: p.name,
            region: p.region,
            type: 'ip',
            description: p.description,
            include_by_default: false,
            rules: p.rules.map((r) => ({ ...r })),
            associations: p.targets.map((t) => estate.targets[t]?.id ?? ''),
          }))
        : [],
    };
  }
  const filtersOf = new Map<number, string[]>();
  if (withPolicies) {
    for (const p of estate.policies) {
      for (const t of p.targets) filtersOf.set(t, [...(filtersOf.get(t) ?? []), p.id]);
    }
  }
  return {
    traffic_filters: withPolicies
      ? estate.policies.map((p) => ({
          id: p.id,
          name: p.name,
          region: p.region,
          type: 'ip',
          description: p.description,
          include_by_default: false,
          rules: p.rules.map((r) => ({ ...r })),
        }))
      : [],
    projects: estate.targets.map((t, i) => ({
      type: t.projectType ?? 'elasticsearch',
      id: t.id,
      name: t.name,
      region_id: t.region,
      traffic_filters: filtersOf.get(i) ?? [],
    })),
  };
}

/** The YAML files a user would commit for this estate, as relative path → content. */
export function yamlFilesOf(estate: Estate, environment: string = ENVIRONMENT): Map<string, string> {
  const files = new Map<string, string>();
  for (let start = 0; start < estate.policies.length; start += POLICIES_PER_FILE) {
    const chunk = estate.policies.slice(start, start + POLICIES_PER_FILE);
    const doc = {
      environment,
      policies: chunk.map((p) => ({
        name: p.name,
        region: p.region,
        type: 'ip',
        description: p.description,
        rules: p.rules,
      })),
    };
    const n = String(start / POLICIES_PER_FILE).padStart(3, '0');
    files.set(`policies/policies-${n}.yaml`, stringify(doc));
  }
  const associations = [...associationsByTarget(estate).entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, names]) => {
      const t = estate.targets[index];
      if (!t) throw new Error(`no target ${index}`);
      return estate.flavor === 'ess'
        ? { deployment: t.id, policies: names }
        : { project: { type: t.projectType ?? 'elasticsearch', id: t.id }, policies: names };
    });
  files.set('policies/associations.yaml', stringify({ environment, associations }));
  return files;
}

/** ecfence.yaml for one environment at `endpoint`. */
export function configYaml(flavor: EstateFlavor, endpoint: string): string {
  return stringify({
    policies: ['policies'],
    environments: {
      [ENVIRONMENT]: { api: flavor, endpoint, api_key_env: 'EC_API_KEY', prune: true },
    },
    safety: { max_delete_percent: 30, max_dissociate_percent: 30 },
  });
}

/** Writes ecfence.yaml and the policy files of `estate` into `dir` (replacing earlier policy files). */
export function writeProject(dir: string, estate: Estate, endpoint: string): void {
  rmSync(join(dir, 'policies'), { recursive: true, force: true });
  mkdirSync(join(dir, 'policies'), { recursive: true });
  writeFileSync(join(dir, 'ecfence.yaml'), configYaml(estate.flavor, endpoint));
  for (const [path, content] of yamlFilesOf(estate)) writeFileSync(join(dir, path), content);
}

/** Number of declared (policy, target) pairs. */
export function associationCount(estate: Estate): number {
  return estate.policies.reduce((n, p) => n + p.targets.length, 0);
}
