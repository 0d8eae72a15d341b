import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { POLICY_TYPES, type Rule } from '../../src/model/types.js';
import type {
  AssociateOperation,
  CreateOperation,
  DeleteOperation,
  DissociateOperation,
  ExposureAccess,
  ExposureState,
  Operation,
  Plan,
  PlanEnvironment,
  PlanNote,
  PlanSummary,
  Refusal,
  ReplaceOperation,
  TargetExposure,
  UpdateOperation,
} from '../../src/plan/types.js';
import { ACTIONS } from '../../src/plan/types.js';
import { repoRoot } from '../support/cli.js';
import { ALL_SCENARIOS, hugePlan } from './scenarios.js';

/*
 * Drift between src/plan/types.ts and schemas/plan.schema.json. Each table below lists every
 * property of a plan type as required or optional; `satisfies` makes `npm run typecheck` fail when
 * types.ts gains, loses or changes the optionality of a property, and the tests make the run fail
 * when the schema does not say the same.
 */
type Presence<T> = { [K in keyof T]-?: undefined extends T[K] ? 'optional' : 'required' };

const PLAN = {
  format_version: 'required',
  created_at: 'required',
  config_digest: 'required',
  fingerprints: 'required',
  operations: 'required',
  notes: 'required',
  refusals: 'required',
  summary: 'required',
  exposure: 'optional',
  environments: 'optional',
} as const satisfies Presence<Plan>;
const PLAN_ENVIRONMENT = {
  name: 'required',
  api: 'required',
  endpoint: 'required',
  status: 'required',
  error: 'optional',
} as const satisfies Presence<PlanEnvironment>;
const ENVIRONMENT_STATUSES = { planned: 1, unreadable: 1 } satisfies Record<PlanEnvironment['status'], 1>;
const TARGET_EXPOSURE = {
  environment: 'required',
  target: 'required',
  name: 'optional',
  before: 'required',
  after: 'required',
  delta_ipv4: 'required',
  via: 'required',
  opens_to_internet: 'required',
} as const satisfies Presence<TargetExposure>;
const EXPOSURE_STATE = {
  access: 'required',
  ipv4_addresses: 'required',
  private_endpoints: 'required',
  policies: 'required',
} as const satisfies Presence<ExposureState>;
const ACCESS_KINDS = {
  unfiltered: 1,
  public_allow_list: 1,
  public_allow_list_and_private_link: 1,
  private_link_only: 1,
  other_filters: 1,
} satisfies Record<ExposureAccess, 1>;

const BASE = { id: 'required', environment: 'required', policy: 'required', depends_on: 'required' } as const;
const OPERATIONS = {
  create: { ...BASE, action: 'required', spec: 'required' } as const satisfies Presence<CreateOperation>,
  replace: {
    ...BASE,
    action: 'required',
    spec: 'required',
    replaces: 'required',
    changes: 'required',
  } as const satisfies Presence<ReplaceOperation>,
  update: {
    ...BASE,
    action: 'required',
    spec: 'required',
    changes: 'required',
  } as const satisfies Presence<UpdateOperation>,
  associate: {
    ...BASE,
    action: 'required',
    target: 'required',
    policy_from: 'optional',
  } as const satisfies Presence<AssociateOperation>,
  dissociate: {
    ...BASE,
    action: 'required',
    target: 'required',
  } as const satisfies Presence<DissociateOperation>,
  delete: { ...BASE, action: 'required', reason: 'required' } as const satisfies Presence<DeleteOperation>,
} satisfies Record<Operation['action'], Record<string, 'required' | 'optional'>>;

const NOTE = {
  environment: 'required',
  kind: 'required',
  message: 'required',
  policy: 'optional',
  target: 'optional',
} as const satisfies Presence<PlanNote>;
const REFUSAL = {
  environment: 'required',
  guard: 'required',
  message: 'required',
  override: 'optional',
  blocking: 'required',
} as const satisfies Presence<Refusal>;
const SUMMARY = {
  create: 'required',
  replace: 'required',
  update: 'required',
  associate: 'required',
  dissociate: 'required',
  delete: 'required',
  total: 'required',
  refused: 'optional',
} as const satisfies Presence<PlanSummary>;
const RULE = {
  source: 'optional',
  description: 'optional',
  azure_endpoint_name: 'optional',
  azure_endpoint_guid: 'optional',
  remote_cluster_id: 'optional',
  remote_cluster_org_id: 'optional',
  egress_rule: 'optional',
} as const satisfies Presence<Rule>;

// Closed unions of the plan types, as lists the schema's enums must equal.
const NOTE_KINDS = {
  unmanaged: 1,
  auto_attached: 1,
  unmanaged_association: 1,
  ambiguous: 1,
  duplicate: 1,
  incomplete: 1,
} satisfies Record<PlanNote['kind'], 1>;
const GUARDS = {
  ambiguous_policy: 1,
  protected_policy: 1,
  unfiltered_target: 1,
  max_delete_percent: 1,
  max_dissociate_percent: 1,
  incomplete_listing: 1,
  hidden_associations: 1,
} satisfies Record<Refusal['guard'], 1>;
const DELETE_REASONS = { pruned: 1, replaced: 1, duplicate: 1 } satisfies Record<
  DeleteOperation['reason'],
  1
>;

interface ObjectSchema {
  properties: Record<string, unknown>;
  required?: string[];
  additionalProperties?: boolean;
  enum?: string[];
}
const schema = JSON.parse(
  readFileSync(join(repoRoot, 'schemas', 'plan.schema.json'), 'utf8'),
) as ObjectSchema & {
  definitions: Record<string, ObjectSchema & { properties: Record<string, { enum?: string[] }> }>;
};
const def = (name: string) => {
  const d = schema.definitions[name];
  if (!d) throw new Error(`schema has no definition ${name}`);
  return d;
};

function presenceOf(s: ObjectSchema): Record<string, 'required' | 'optional'> {
  const required = new Set(s.required ?? []);
  return Object.fromEntries(
    Object.keys(s.properties).map((k) => [k, required.has(k) ? 'required' : 'optional'] as const),
  );
}

let validator: ValidateFunction | undefined;
function validatePlan(plan: unknown): string[] {
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(schema);
  // Through JSON, exactly as the file is written and read.
  const ok = validator(JSON.parse(JSON.stringify(plan)));
  return ok ? [] : (validator.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
}

describe('schemas/plan.schema.json', () => {
  it.each(Object.entries(ALL_SCENARIOS))('validates the %s plan built by buildPlan', (_name, build) => {
    expect(validatePlan(build())).toEqual([]);
  });

  it('covers every action, notes and refusals across the scenarios', () => {
    const plans = Object.values(ALL_SCENARIOS).map((build) => build());
    const actions = new Set(plans.flatMap((p) => p.operations.map((o) => o.action)));
    expect([...actions].sort()).toEqual([...ACTIONS].sort());
    expect(plans.some((p) => p.refusals.length > 0 && p.notes.length > 0)).toBe(true);
    expect(plans.some((p) => p.operations.some((o) => o.action === 'associate' && o.policy_from))).toBe(true);
  });

  it('rejects what is not a 1.x plan, and extra (possibly secret) properties', () => {
    const plan = hugePlan(1);
    expect(validatePlan({ ...plan, format_version: '2.0' })).not.toEqual([]);
    expect(validatePlan({ ...plan, format_version: '1.7' })).toEqual([]);
    expect(validatePlan({ ...plan, api_key: 'x' })).not.toEqual([]);
    const [op] = plan.operations;
    expect(validatePlan({ ...plan, operations: [{ ...op, headers: { authorization: 'x' } }] })).not.toEqual(
      [],
    );
    expect(validatePlan({ ...plan, operations: [{ ...op, action: 'upsert' }] })).not.toEqual([]);
  });

  it('has the same properties, and the same required ones, as src/plan/types.ts', () => {
    expect(presenceOf(schema)).toEqual(PLAN);
    for (const action of ACTIONS) {
      expect({ action, props: presenceOf(def(`${action}Operation`)) }).toEqual({
        action,
        props: OPERATIONS[action],
      });
      expect(def(`${action}Operation`).properties['action']).toEqual({ const: action });
      expect(def(`${action}Operation`).additionalProperties).toBe(false);
    }
    expect(presenceOf(def('note'))).toEqual(NOTE);
    expect(presenceOf(def('refusal'))).toEqual(REFUSAL);
    expect(presenceOf(def('summary'))).toEqual(SUMMARY);
    expect(presenceOf(def('rule'))).toEqual(RULE);
    expect(presenceOf(def('targetExposure'))).toEqual(TARGET_EXPOSURE);
    expect(presenceOf(def('exposureState'))).toEqual(EXPOSURE_STATE);
    expect(presenceOf(def('planEnvironment'))).toEqual(PLAN_ENVIRONMENT);
    expect(def('exposureState').properties['access']?.enum?.sort()).toEqual(Object.keys(ACCESS_KINDS).sort());
  });

  it('has the same enumerations as src/plan/types.ts and src/model/types.ts', () => {
    expect(def('note').properties['kind']?.enum?.sort()).toEqual(Object.keys(NOTE_KINDS).sort());
    expect(def('refusal').properties['guard']?.enum?.sort()).toEqual(Object.keys(GUARDS).sort());
    expect(def('deleteOperation').properties['reason']?.enum?.sort()).toEqual(
      Object.keys(DELETE_REASONS).sort(),
    );
    expect(def('policyType').enum).toEqual([...POLICY_TYPES]);
    expect(def('planEnvironment').properties['status']?.enum?.sort()).toEqual(
      Object.keys(ENVIRONMENT_STATUSES).sort(),
    );
    const operationRefs = (schema.definitions['operation'] as unknown as { oneOf: { $ref: string }[] }).oneOf;
    expect(operationRefs.map((r) => r.$ref)).toEqual(ACTIONS.map((a) => `#/definitions/${a}Operation`));
  });
});
