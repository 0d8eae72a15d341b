import { CAPABILITIES } from '../model/capabilities.js';
import type { ExportPolicy, ExportTarget } from '../export/export-environment.js';
import {
  checkAzureEndpointGuid,
  checkAzureEndpointName,
  checkTargetId,
  sourceCheckFor,
  type FormatProblem,
} from '../load/formats.js';
import {
  POLICY_TYPE_ALIASES,
  POLICY_TYPES,
  RULE_FIELDS_BY_TYPE,
  RULE_STRING_FIELDS,
  targetKey,
  type EnvironmentConfig,
  type PolicyType,
  type ProjectType,
  type Rule,
  type Target,
} from '../model/types.js';
import { own, type StateInstance } from './terraform-state.js';

/**
 * `ecfence import-terraform`, the pure part: the instances of a Terraform `ec` provider state →
 * the policies, associations and targets to declare, and the hand-over (which Terraform resources
 * to remove from its state, which to stop managing associations). Only traffic-filter fields are
 * read; everything else an instance holds (deployment credentials among it) is never looked at.
 *
 * What becomes what:
 * - `ec_deployment_traffic_filter` (ess/ece) and `ec_serverless_traffic_filter` (serverless): a
 *   policy, named as in Terraform, with its live id; handed over.
 * - `ec_deployment_traffic_filter_association`: an association; handed over.
 * - `ec_deployment.traffic_filter` and the project resources' `traffic_filter_ids`: associations;
 *   the resource stays in Terraform and must ignore those attributes from now on.
 */

/** Which side of Elastic Cloud a resource type belongs to, and so which environment it goes to. */
export type StateFamily = 'deployments' | 'serverless';

type Role = 'policy' | 'association' | 'deployment' | 'project';

const RESOURCE_TYPES: Readonly<Record<string, { family: StateFamily; role: Role; project?: ProjectType }>> = {
  ec_deployment_traffic_filter: { family: 'deployments', role: 'policy' },
  ec_deployment_traffic_filter_association: { family: 'deployments', role: 'association' },
  ec_deployment: { family: 'deployments', role: 'deployment' },
  ec_serverless_traffic_filter: { family: 'serverless', role: 'policy' },
  ec_elasticsearch_project: { family: 'serverless', role: 'project', project: 'elasticsearch' },
  ec_observability_project: { family: 'serverless', role: 'project', project: 'observability' },
  ec_security_project: { family: 'serverless', role: 'project', project: 'security' },
};

/** The resource types the import reads; every other one in the state is left alone. */
export function isImportedType(type: string): boolean {
  return Object.hasOwn(RESOURCE_TYPES, type);
}

export function familyOf(api: EnvironmentConfig['api']): StateFamily {
  return CAPABILITIES[api].targetKind === 'deployment' ? 'deployments' : 'serverless';
}

/** A problem with one instance: its address and what is wrong, never the value found. */
export interface ImportProblem {
  address: string;
  message: string;
}

export interface ImportedEnvironment {
  config: EnvironmentConfig;
  policies: ExportPolicy[];
  targets: ExportTarget[];
}

/** A Terraform resource instance that ecfence takes over: removed from Terraform's state. */
export interface HandedOver {
  address: string;
  resourceAddress: string;
  /** The policy it declares, or the policy its association belongs to. */
  policyId: string;
}

/** A resource that stays in Terraform but must stop writing associations. */
export interface KeptResource {
  address: string;
  attribute: 'traffic_filter' | 'traffic_filter_ids';
}

export interface TerraformImport {
  environments: ImportedEnvironment[];
  handOver: HandedOver[];
  keep: KeptResource[];
  warnings: string[];
  /** Non-empty: nothing may be written. */
  problems: ImportProblem[];
}

/** Filter ids as the APIs issue them (32 hex on both, in every capture); bounded, plain. */
const POLICY_ID = /^[A-Za-z0-9_-]{1,64}$/;

const FIELD_CHECKS: Readonly<
  Record<string, (type: PolicyType) => ((v: string) => FormatProblem | undefined) | undefined>
> = {
  source: sourceCheckFor,
  azure_endpoint_name: () => checkAzureEndpointName,
  azure_endpoint_guid: () => checkAzureEndpointGuid,
};

/** Reads the named fields of one instance, collecting problems instead of throwing. */
class Reader {
  constructor(
    private readonly instance: StateInstance,
    private readonly problems: ImportProblem[],
  ) {}

  problem(message: string): void {
    this.problems.push({ address: this.instance.address, message });
  }

  /** A string field; null, absent and '' are all absent. */
  text(object: Readonly<Record<string, unknown>>, field: string, label = field): string | undefined {
    const value = own(object, field);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value === 'string') return value;
    this.problem(`${label} must be a string`);
    return undefined;
  }

  required(field: string): string | undefined {
    const value = this.text(this.instance.attributes, field);
    if (value === undefined) this.problem(`${field} is missing`);
    return value;
  }

  flag(field: string): boolean {
    const value = own(this.instance.attributes, field);
    if (value === undefined || value === null) return false;
    if (typeof value === 'boolean') return value;
    this.problem(`${field} must be true or false`);
    return false;
  }

  list(field: string): unknown[] {
    const value = own(this.instance.attributes, field);
    if (value === undefined || value === null) return [];
    if (Array.isArray(value)) return value;
    this.problem(`${field} must be a list`);
    return [];
  }

  /** A list of traffic filter ids (`traffic_filter`, `traffic_filter_ids`). */
  policyIds(field: string): string[] {
    return this.list(field).flatMap((item, i) => {
      if (typeof item === 'string' && POLICY_ID.test(item)) return [item];
      this.problem(`${field}[${i}] is not a traffic filter id`);
      return [];
    });
  }

  policyId(field: string): string | undefined {
    const id = this.required(field);
    if (id !== undefined && !POLICY_ID.test(id)) this.problem(`${field} is not a traffic filter id`);
    return id !== undefined && POLICY_ID.test(id) ? id : undefined;
  }

  targetId(field: string): string | undefined {
    const id = this.required(field);
    if (id !== undefined && checkTargetId(id) !== undefined) {
      this.problem(`${field} is not a deployment or project id (32 lowercase letters or digits)`);
      return undefined;
    }
    return id;
  }
}

interface ReadPolicy {
  policy: ExportPolicy;
  instance: StateInstance;
  family: StateFamily;
}

function readRules(r: Reader, type: PolicyType, family: StateFamily): Rule[] {
  const field = family === 'serverless' ? 'rules' : 'rule';
  return r.list(field).flatMap((raw, i): Rule[] => {
    const label = `${field}[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      r.problem(`${label} must be an object`);
      return [];
    }
    const object = raw as Record<string, unknown>;
    const rule: Rule = {};
    // `id` is server-issued and never read.
    for (const name of RULE_STRING_FIELDS) {
      const value = r.text(object, name, `${label}.${name}`);
      if (value === undefined) continue;
      rule[name] = value;
      if (name === 'description') continue;
      if (!RULE_FIELDS_BY_TYPE[type].includes(name)) {
        r.problem(`${label}.${name} does not belong to a ${type} policy`);
        continue;
      }
      const found = FIELD_CHECKS[name]?.(type)?.(value);
      if (found?.severity === 'error') r.problem(`${label}.${name}: ${found.code} ${found.message}`);
    }
    for (const required of RULE_FIELDS_BY_TYPE[type]) {
      if (!Object.hasOwn(rule, required)) r.problem(`${label}.${required} is missing (required by ${type})`);
    }
    return [rule];
  });
}

/** The policy name ecfence declares: Terraform's, unless the environment's API cannot take it. */
function policyName(
  name: string | undefined,
  instance: StateInstance,
  limit: number | undefined,
): {
  name: string;
  note?: string;
} {
  if (name !== undefined && (limit === undefined || name.length <= limit)) return { name };
  const fromAddress = `${instance.name}${instance.key === undefined ? '' : `-${String(instance.key)}`}`
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .slice(0, limit ?? 128);
  return {
    name: fromAddress,
    note: `named after ${instance.address}: its live name is ${name === undefined ? 'empty' : `${name.length} characters long`}, which ecfence cannot declare; rename the live policy to this name before the plan, or the plan creates a new one`,
  };
}

function readPolicy(
  instance: StateInstance,
  family: StateFamily,
  config: EnvironmentConfig,
  problems: ImportProblem[],
  warnings: string[],
): ReadPolicy | undefined {
  const r = new Reader(instance, problems);
  const before = problems.length;
  const id = r.policyId('id');
  const region = r.required('region');
  const rawType = r.required('type');
  const caps = CAPABILITIES[config.api];
  let type: PolicyType | undefined;
  if (rawType !== undefined) {
    // The serverless wire names (`private_endpoint`, `psc_endpoint`) are the ecfence types' aliases.
    const alias = family === 'serverless' && Object.hasOwn(POLICY_TYPE_ALIASES, rawType);
    const canonical = alias ? (POLICY_TYPE_ALIASES[rawType] as string) : rawType;
    if (!(POLICY_TYPES as readonly string[]).includes(canonical)) {
      r.problem('type is not a traffic filter type ecfence knows');
    } else if (!caps.policyTypes.includes(canonical as PolicyType)) {
      r.problem(
        `type ${canonical} is not supported by ${config.api} environment '${config.name}' (supported: ${caps.policyTypes.join(', ')})`,
      );
    } else type = canonical as PolicyType;
  }
  if (region !== undefined && config.regions !== undefined && !config.regions.includes(region)) {
    r.problem(
      `region ${region} is outside the regions of environment '${config.name}' (${config.regions.join(', ')}); add it to 'regions:' in ecfence.yaml`,
    );
  }
  const description = r.text(instance.attributes, 'description') ?? '';
  const limit = caps.limits.description;
  if (limit !== undefined && description.length > limit)
    r.problem(`description is longer than ${limit} characters`);
  const include = r.flag('include_by_default');
  const rules = type === undefined ? [] : readRules(r, type, family);
  const named = policyName(r.text(instance.attributes, 'name'), instance, caps.limits.name);
  if (problems.length > before || id === undefined || region === undefined || type === undefined)
    return undefined;
  if (named.note !== undefined) warnings.push(`${instance.address}: ${named.note}`);
  const policy: ExportPolicy = {
    id,
    name: named.name,
    region,
    type,
    description,
    include_by_default: include,
    rules,
    associations: [],
    hiddenAssociations: 0,
    notes: [`from ${instance.address}`, ...(named.note !== undefined ? [named.note] : [])],
  };
  return { policy, instance, family };
}

function samePolicy(a: ExportPolicy, b: ExportPolicy): boolean {
  const spec = (p: ExportPolicy) =>
    JSON.stringify([p.name, p.region, p.type, p.description, p.include_by_default, p.rules]);
  return spec(a) === spec(b);
}

/**
 * Converts the instances of a state for the given environments (one per family present). Returns
 * problems instead of throwing, every one of them, so a user fixes them all in one go.
 */
export function importTerraformState(
  instances: readonly StateInstance[],
  environments: Partial<Record<StateFamily, EnvironmentConfig>>,
): TerraformImport {
  const problems: ImportProblem[] = [];
  const warnings: string[] = [];
  const result: TerraformImport = { environments: [], handOver: [], keep: [], warnings, problems };

  const missing = new Map<StateFamily, string[]>();
  for (const instance of instances) {
    const { family } = RESOURCE_TYPES[instance.type] ?? {};
    if (family !== undefined && environments[family] === undefined) {
      missing.set(family, [...(missing.get(family) ?? []), instance.address]);
    }
  }
  for (const [family, addresses] of missing) {
    const kind = family === 'deployments' ? 'an ess or ece' : 'a serverless';
    problems.push({
      address: addresses[0] as string,
      message: `the state holds ${addresses.length} ${family === 'deployments' ? 'deployment' : 'serverless'} resource(s): give --env NAME of ${kind} environment for them`,
    });
  }
  if (problems.length > 0) return result;

  // Policies first: associations name them by id.
  const policies = new Map<string, ReadPolicy>();
  for (const instance of instances) {
    const kind = RESOURCE_TYPES[instance.type];
    const config = kind && environments[kind.family];
    if (kind?.role !== 'policy' || config === undefined) continue;
    const read = readPolicy(instance, kind.family, config, problems, warnings);
    if (read === undefined) continue;
    const known = policies.get(read.policy.id);
    if (known === undefined) {
      policies.set(read.policy.id, read);
    } else if (!samePolicy(known.policy, read.policy)) {
      warnings.push(
        `${read.instance.address} and ${known.instance.address} hold the same traffic filter (id ${read.policy.id}) with different contents: the first is imported; terraform refresh, then import again`,
      );
    }
    if (known === undefined || samePolicy(known.policy, read.policy)) {
      result.handOver.push({
        address: instance.address,
        resourceAddress: instance.resourceAddress,
        policyId: read.policy.id,
      });
    }
  }

  const targets = new Map<string, ExportTarget & { family: StateFamily }>();
  const pairs = new Set<string>();
  const associate = (
    owner: StateInstance,
    family: StateFamily,
    target: Target,
    policyId: string,
  ): boolean => {
    const policy = policies.get(policyId);
    if (policy === undefined || policy.family !== family) {
      warnings.push(
        `${owner.address}: associated with traffic filter ${policyId}, which this state does not hold as a ${family === 'deployments' ? 'deployment' : 'serverless'} traffic filter: the association is not imported (ecfence leaves a filter it does not manage alone)`,
      );
      return false;
    }
    const pair = `${targetKey(target)} ${policyId}`;
    if (!pairs.has(pair)) {
      pairs.add(pair);
      policy.policy.associations.push(target);
    }
    return true;
  };

  for (const instance of instances) {
    const kind = RESOURCE_TYPES[instance.type];
    if (kind === undefined || kind.role === 'policy') continue;
    const r = new Reader(instance, problems);
    const before = problems.length;
    if (kind.role === 'association') {
      const deployment = r.targetId('deployment_id');
      const policyId = r.policyId('traffic_filter_id');
      if (problems.length > before || deployment === undefined || policyId === undefined) continue;
      if (associate(instance, kind.family, { kind: 'deployment', id: deployment }, policyId)) {
        result.handOver.push({
          address: instance.address,
          resourceAddress: instance.resourceAddress,
          policyId,
        });
      }
      continue;
    }
    const id = r.targetId('id');
    const region = r.text(instance.attributes, kind.role === 'deployment' ? 'region' : 'region_id');
    const name = r.text(instance.attributes, 'name');
    const attribute = kind.role === 'deployment' ? 'traffic_filter' : 'traffic_filter_ids';
    const filterIds = r.policyIds(attribute);
    if (problems.length > before || id === undefined) continue;
    const target: Target =
      kind.project === undefined
        ? { kind: 'deployment', id }
        : { kind: 'project', projectType: kind.project, id };
    if (region !== undefined) {
      targets.set(targetKey(target), {
        target,
        region,
        ...(name !== undefined ? { name } : {}),
        family: kind.family,
      });
    }
    for (const policyId of filterIds) associate(instance, kind.family, target, policyId);
    if (filterIds.length > 0) result.keep.push({ address: instance.address, attribute });
  }
  if (problems.length > 0) return result;

  for (const family of ['deployments', 'serverless'] as const) {
    const config = environments[family];
    if (config === undefined) continue;
    result.environments.push({
      config,
      policies: [...policies.values()].filter((p) => p.family === family).map((p) => p.policy),
      targets: [...targets.values()].filter((t) => t.family === family).map(({ family: _f, ...t }) => t),
    });
  }
  return result;
}
