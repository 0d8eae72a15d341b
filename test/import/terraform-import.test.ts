import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shellQuoted } from '../../src/import/hand-over.js';
import { importTerraformState, isImportedType } from '../../src/import/terraform-import.js';
import { hclQuoted, readStateInstances, StateFormatError } from '../../src/import/terraform-state.js';
import type { EnvironmentConfig } from '../../src/model/types.js';
import { ESS_TFSTATE, filterId, SECRETS, SERVERLESS_SHOW_JSON } from './terraform-fixtures.js';

const environment = (name: string, api: EnvironmentConfig['api'], regions?: string[]): EnvironmentConfig => ({
  name,
  api,
  endpoint: 'https://api.elastic-cloud.com',
  prune: false,
  protect: [],
  safety: { max_delete_percent: 30, max_dissociate_percent: 30 },
  ...(regions ? { regions } : {}),
});

/** The same ESS estate as `terraform show -json` prints it. */
function essAsShowJson(): unknown {
  const resources = ESS_TFSTATE.resources.filter((r) => r.mode === 'managed');
  const entries = (module?: string) =>
    resources
      .filter((r) => (r as { module?: string }).module === module)
      .flatMap((r) =>
        r.instances.map((i) => ({
          mode: r.mode,
          type: r.type,
          name: r.name,
          ...((i as { index_key?: unknown }).index_key !== undefined
            ? { index: (i as { index_key?: unknown }).index_key }
            : {}),
          values: i.attributes,
        })),
      );
  return {
    format_version: '1.0',
    values: {
      root_module: {
        resources: entries(undefined),
        child_modules: [{ address: 'module.edge["eu"]', resources: entries('module.edge["eu"]') }],
      },
    },
  };
}

describe('reading Terraform states', () => {
  it('reads a .tfstate and `terraform show -json` of one estate into the same instances', () => {
    const fromFile = readStateInstances(ESS_TFSTATE, isImportedType);
    const fromShow = readStateInstances(essAsShowJson(), isImportedType);
    expect(fromFile.format).toBe('tfstate');
    expect(fromShow.format).toBe('show-json');
    const view = (r: typeof fromFile) =>
      r.instances.map((i) => [i.address, i.resourceAddress, i.attributes['id']]).sort();
    expect(view(fromShow)).toEqual(view(fromFile));
    // Data sources and other providers' resources are not read.
    expect(fromFile.instances.map((i) => i.type)).not.toContain('ec_stack');
    expect(fromFile.instances.map((i) => i.type)).not.toContain('aws_vpc_endpoint');
  });

  it('writes addresses as Terraform does and as one shell word whatever the key holds', () => {
    const key = fc.string({
      unit: fc.constantFrom(
        'a',
        '"',
        "'",
        '\\',
        '$',
        '{',
        '%',
        '\n',
        ' ',
        '[',
        ']',
        '\u202e',
        '😀',
        '\u0000',
      ),
    });
    fc.assert(
      fc.property(key, (k) => {
        const quoted = hclQuoted(k);
        // Nothing that could hide or run: no control or format character survives.
        expect(quoted).not.toMatch(/\p{Cc}|\p{Cf}/u);
        const state = {
          version: 4,
          resources: [
            {
              mode: 'managed',
              module: `module.m[${quoted}]`,
              type: 'ec_deployment_traffic_filter',
              name: 'f',
              instances: [{ index_key: k, attributes: {} }],
            },
          ],
        };
        const [instance] = readStateInstances(state, isImportedType).instances;
        // The module key read back and written again is the same text: parse and print agree.
        expect(instance?.address).toBe(`module.m[${quoted}].ec_deployment_traffic_filter.f[${quoted}]`);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', '"', "'", '\\', '$', '`', ' ', '[', ';', '*') }),
        (word) => {
          expect(execFileSync('sh', ['-c', `printf %s ${shellQuoted(word)}`]).toString()).toBe(word);
        },
      ),
      { numRuns: 25 },
    );
    expect(hclQuoted('${a} %{b} $c')).toBe('"$${a} %%{b} $c"');
  });

  it('refuses what is not a Terraform state, naming the place and never the content', () => {
    const secret = 'hunter2-canary';
    const refusals: unknown[] = [
      [],
      { version: 3 },
      { format_version: '1.0', planned_values: {} },
      {
        version: 4,
        resources: [{ mode: 'managed', type: 'ec_deployment', name: 'x', module: secret, instances: [] }],
      },
      {
        version: 4,
        resources: [{ mode: 'managed', type: 'ec_deployment', name: `x ${secret}`, instances: [{}] }],
      },
      {
        version: 4,
        resources: [{ mode: 'managed', type: 'ec_deployment', name: 'x', instances: [{ index_key: -1 }] }],
      },
    ];
    for (const doc of refusals) {
      const error = (() => {
        try {
          readStateInstances(doc, isImportedType);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error, JSON.stringify(doc)).toBeInstanceOf(StateFormatError);
      expect(`${(error as StateFormatError).at} ${error?.message}`).not.toContain(secret);
    }
    // Child modules nested deeper than any configuration: refused, not a stack overflow.
    let module: Record<string, unknown> = { address: 'module.m', resources: [] };
    for (let i = 0; i < 10_000; i += 1) module = { address: 'module.m', child_modules: [module] };
    expect(() =>
      readStateInstances({ format_version: '1.0', values: { root_module: module } }, isImportedType),
    ).toThrow(/modules nest more than 64 deep/);
  });
});

describe('importing a state', () => {
  const instances = readStateInstances(ESS_TFSTATE, isImportedType).instances;

  it('declares the filters under their Terraform names with every association, and reads nothing else', () => {
    const result = importTerraformState(instances, { deployments: environment('hosted', 'ess') });
    expect(result.problems).toEqual([]);
    const [env] = result.environments;
    expect(env?.policies.map((p) => [p.name, p.id, p.associations.map((t) => t.id)])).toEqual([
      ['office', filterId(1), ['a'.repeat(32)]],
      ['vpn-ops', filterId(2), ['b'.repeat(32)]],
      ['azure-pl', filterId(3), []],
    ]);
    // Credentials, other attributes, other providers' resources: none of it is carried along.
    const elsewhere = [...SECRETS, 'eyJzY2hlbWFf', 'aws-io-optimized', 'vpce-0123456789abcdef0', '"team"'];
    for (const text of elsewhere) expect(JSON.stringify(result)).not.toContain(text);
    expect(result.keep).toEqual([{ address: 'ec_deployment.search', attribute: 'traffic_filter' }]);
    expect(result.handOver.map((h) => h.resourceAddress)).toEqual([
      'ec_deployment_traffic_filter.office',
      'module.edge.ec_deployment_traffic_filter.vpn',
      'ec_deployment_traffic_filter.pl',
      'ec_deployment_traffic_filter_association.logs_vpn',
    ]);
  });

  it('names a policy after its address when ecfence cannot declare its live name, and says so', () => {
    const renamed = instances.map((i) =>
      i.address === 'ec_deployment_traffic_filter.pl[0]'
        ? { ...i, attributes: { ...i.attributes, name: '' } }
        : i,
    );
    const result = importTerraformState(renamed, { deployments: environment('hosted', 'ess') });
    const policy = result.environments[0]?.policies.find((p) => p.id === filterId(3));
    expect(policy?.name).toBe('pl-0');
    expect(policy?.notes?.join('\n')).toContain('rename the live policy to this name before the plan');
    expect(result.warnings).toEqual([
      expect.stringMatching(/^ec_deployment_traffic_filter\.pl\[0\]: named after/),
    ]);
  });

  it('reports every resource ecfence cannot declare in that environment, by address and field', () => {
    const result = importTerraformState(instances, {
      deployments: environment('onprem', 'ece', ['ece-region']),
    });
    expect(result.problems.map((p) => `${p.address}: ${p.message}`)).toEqual([
      expect.stringMatching(
        /^ec_deployment_traffic_filter\.office: region us-east-1 is outside the regions of environment 'onprem'/,
      ),
      expect.stringMatching(
        /^module\.edge\["eu"\]\.ec_deployment_traffic_filter\.vpn\[.*\]: region us-east-1 is outside/,
      ),
      expect.stringMatching(
        /^ec_deployment_traffic_filter\.pl\[0\]: type azure_private_endpoint is not supported by ece/,
      ),
      expect.stringMatching(/^ec_deployment_traffic_filter\.pl\[0\]: region azure-eastus2 is outside/),
    ]);
    expect(result.environments).toEqual([]);
    const serverlessOnly = importTerraformState(instances, { serverless: environment('sls', 'serverless') });
    expect(serverlessOnly.problems).toEqual([
      {
        address: 'ec_deployment.search',
        message:
          'the state holds 6 deployment resource(s): give --env NAME of an ess or ece environment for them',
      },
    ]);
  });

  it('leaves an association to a filter the state does not hold in Terraform, with a warning', () => {
    const serverless = readStateInstances(SERVERLESS_SHOW_JSON, isImportedType).instances;
    const withoutVpce = serverless.filter((i) => !i.address.endsWith('.vpce'));
    const result = importTerraformState(withoutVpce, { serverless: environment('sls', 'serverless') });
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      expect.stringContaining(
        `ec_elasticsearch_project.search: associated with traffic filter ${filterId(12)}, which this state does not hold`,
      ),
    ]);
    expect(result.environments[0]?.policies[0]?.associations).toEqual([
      { kind: 'project', projectType: 'elasticsearch', id: '1'.repeat(32) },
      { kind: 'project', projectType: 'security', id: '2'.repeat(32) },
    ]);
  });
});
