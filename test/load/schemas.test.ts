import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { compileSchemaModule, GENERATED_MODULES } from '../../scripts/compile-schemas.js';
import { CONFIG_SCHEMA, POLICY_FILE_SCHEMA } from '../../src/load/schema.js';
import type {
  WrittenAssociation,
  WrittenAzureRule,
  WrittenConfig,
  WrittenEgressFirewallRule,
  WrittenEgressRule,
  WrittenEnvironment,
  WrittenLint,
  WrittenPolicy,
  WrittenPolicyFile,
  WrittenPolicyType,
  WrittenProject,
  WrittenRemoteClusterRule,
  WrittenSafety,
  WrittenSourceRule,
} from '../../src/load/written-types.js';
import {
  API_KINDS,
  EGRESS_PROTOCOLS,
  POLICY_TYPES,
  POLICY_TYPE_ALIASES,
  PROJECT_TYPES,
} from '../../src/model/types.js';

/*
 * The schemas are the source of truth; written-types.ts must say the same. `shape<T>()` only
 * compiles when the listed keys are exactly T's keys and T's required keys (tsc checks test/), and
 * the test then compares those lists with the schema's `properties` and `required`.
 */
type RequiredKeys<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

function shape<T>() {
  return <const All extends readonly (keyof T)[], const Req extends readonly RequiredKeys<T>[]>(
    all: All & (Same<All[number], keyof T> extends true ? unknown : never),
    required: Req & (Same<Req[number], RequiredKeys<T>> extends true ? unknown : never),
  ) => ({ all: all.map(String).sort(), required: required.map(String).sort() });
}

type Schema = Record<string, unknown>;

function at(root: Schema, pointer: string): Schema {
  let node: unknown = root;
  for (const part of pointer.split('/').filter(Boolean)) node = (node as Schema)[part];
  const ref = (node as Schema).$ref;
  return typeof ref === 'string' ? at(root, ref.replace(/^#/, '')) : (node as Schema);
}

const CASES: [string, Schema, string, { all: string[]; required: string[] }][] = [
  [
    'WrittenConfig',
    CONFIG_SCHEMA,
    '',
    shape<WrittenConfig>()(['policies', 'environments', 'safety', 'lint'], ['environments']),
  ],
  [
    'WrittenEnvironment',
    CONFIG_SCHEMA,
    '/definitions/environment',
    shape<WrittenEnvironment>()(
      [
        'api',
        'endpoint',
        'api_key_env',
        'username_env',
        'password_env',
        'ca_file',
        'regions',
        'prune',
        'protect',
        'safety',
      ],
      ['api'],
    ),
  ],
  [
    'WrittenSafety',
    CONFIG_SCHEMA,
    '/definitions/safety',
    shape<WrittenSafety>()(['max_delete_percent', 'max_dissociate_percent'], []),
  ],
  ['WrittenLint', CONFIG_SCHEMA, '/definitions/lint', shape<WrittenLint>()(['errors', 'ignore'], [])],
  [
    'WrittenPolicyFile',
    POLICY_FILE_SCHEMA,
    '',
    shape<WrittenPolicyFile>()(['environment', 'sources', 'policies', 'associations'], []),
  ],
  [
    'WrittenPolicy',
    POLICY_FILE_SCHEMA,
    '/definitions/policy',
    shape<WrittenPolicy>()(
      ['name', 'region', 'type', 'environment', 'description', 'include_by_default', 'rules'],
      ['name', 'region', 'type', 'rules'],
    ),
  ],
  ...(['ipRule', 'vpceRule', 'pscRule'] as const).map(
    (name) =>
      [
        `WrittenSourceRule (${name})`,
        POLICY_FILE_SCHEMA,
        `/definitions/${name}`,
        shape<WrittenSourceRule>()(['source', 'description'], ['source']),
      ] as [string, Schema, string, { all: string[]; required: string[] }],
  ),
  [
    'WrittenAzureRule',
    POLICY_FILE_SCHEMA,
    '/definitions/azureRule',
    shape<WrittenAzureRule>()(
      ['azure_endpoint_name', 'azure_endpoint_guid', 'description'],
      ['azure_endpoint_name', 'azure_endpoint_guid'],
    ),
  ],
  [
    'WrittenRemoteClusterRule',
    POLICY_FILE_SCHEMA,
    '/definitions/remoteClusterRule',
    shape<WrittenRemoteClusterRule>()(
      ['remote_cluster_id', 'remote_cluster_org_id', 'description'],
      ['remote_cluster_id', 'remote_cluster_org_id'],
    ),
  ],
  [
    'WrittenEgressFirewallRule',
    POLICY_FILE_SCHEMA,
    '/definitions/egressFirewallRule',
    shape<WrittenEgressFirewallRule>()(['egress_rule', 'description'], ['egress_rule']),
  ],
  [
    'WrittenEgressRule',
    POLICY_FILE_SCHEMA,
    '/definitions/egressFirewallRule/properties/egress_rule',
    shape<WrittenEgressRule>()(['target', 'protocol', 'ports'], ['target', 'protocol']),
  ],
  [
    'WrittenAssociation',
    POLICY_FILE_SCHEMA,
    '/definitions/association',
    shape<WrittenAssociation>()(
      ['environment', 'deployment', 'project', 'policies', 'allow_unfiltered'],
      ['policies'],
    ),
  ],
  [
    'WrittenProject',
    POLICY_FILE_SCHEMA,
    '/definitions/association/properties/project',
    shape<WrittenProject>()(['type', 'id'], ['type', 'id']),
  ],
];

describe('written-types.ts matches the schemas', () => {
  test.each(CASES)('%s', (_name, root, pointer, expected) => {
    const schema = at(root, pointer);
    expect(Object.keys(schema.properties as Schema).sort()).toEqual(expected.all);
    expect([...((schema.required as string[] | undefined) ?? [])].sort()).toEqual(expected.required);
    expect(schema.additionalProperties).toBe(false);
  });

  test('enums match the model', () => {
    const writtenTypes: readonly WrittenPolicyType[] = [...POLICY_TYPES, 'private_endpoint', 'psc_endpoint'];
    expect(at(POLICY_FILE_SCHEMA, '/definitions/policy/properties/type').enum).toEqual(writtenTypes);
    expect(writtenTypes).toEqual([...POLICY_TYPES, ...Object.keys(POLICY_TYPE_ALIASES)]);
    expect(at(CONFIG_SCHEMA, '/definitions/environment/properties/api').enum).toEqual([...API_KINDS]);
    expect(
      at(POLICY_FILE_SCHEMA, '/definitions/egressFirewallRule/properties/egress_rule/properties/protocol')
        .enum,
    ).toEqual([...EGRESS_PROTOCOLS]);
    expect(
      at(POLICY_FILE_SCHEMA, '/definitions/association/properties/project/properties/type').enum,
    ).toEqual([...PROJECT_TYPES]);
  });

  test('every policy type (and alias) selects exactly one rule schema', () => {
    const branches = at(POLICY_FILE_SCHEMA, '/definitions/policy').allOf as Schema[];
    const typesOf = (branch: Schema): unknown[] => {
      const type = ((branch.if as Schema).properties as Schema).type as Schema;
      return type.enum !== undefined ? (type.enum as unknown[]) : [type.const];
    };
    const selected = branches.flatMap(typesOf).sort();
    expect(selected).toEqual([...POLICY_TYPES, ...Object.keys(POLICY_TYPE_ALIASES)].sort());
  });
});

describe('schemas document every field (the README reference is generated from them)', () => {
  function undocumented(node: unknown, root: Schema, path: string): string[] {
    if (node === null || typeof node !== 'object') return [];
    const schema = node as Schema;
    const out: string[] = [];
    if (schema.properties !== undefined) {
      for (const [key, value] of Object.entries(schema.properties as Schema)) {
        const field = value as Schema;
        const described =
          typeof field.description === 'string' ||
          (typeof field.$ref === 'string' &&
            typeof at(root, field.$ref.replace(/^#/, '')).description === 'string');
        // Properties inside if/then/else only narrow a field documented beside them.
        if (!described && !/\/(if|then|else)\b/.test(path)) out.push(`${path}/properties/${key}`);
      }
    }
    for (const [key, value] of Object.entries(schema)) {
      if (key === 'enum' || key === 'required') continue;
      out.push(...undocumented(value, root, `${path}/${key}`));
    }
    return out;
  }

  test.each([
    ['ecfence-config', CONFIG_SCHEMA],
    ['policy-file', POLICY_FILE_SCHEMA],
  ])('%s', (_name, schema) => {
    expect(undocumented(schema, schema, '')).toEqual([]);
    expect(typeof schema.description).toBe('string');
  });
});

test('the compiled schema validators are in step with schemas/ (npm run schemas rewrites them)', async () => {
  for (const module of GENERATED_MODULES) {
    const expected = await compileSchemaModule(resolve('.'), module);
    expect(readFileSync(module.file, 'utf8'), module.file).toBe(expected);
  }
});
