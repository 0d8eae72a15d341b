/**
 * Terraform states as the `ec` provider writes them (attribute names from its resource schemas:
 * `ec_deployment_traffic_filter` with its `rule` set, `ec_serverless_traffic_filter` with its
 * `rules` list, `ec_deployment_traffic_filter_association`, `ec_deployment.traffic_filter`, the
 * project resources' `traffic_filter_ids`), with modules, `count` and `for_each` instances and the
 * sensitive values a real state holds; and, written separately, emulator seeds of the same estate.
 */
import type { SeedData } from '../../src/emulator/index.js';

/** Secrets a real state holds; they must never come out of the import. */
export const SECRETS = ['Sup3rS3cretPassw0rd-canary', 'apm-token-canary-71d2', 'sls-password-canary-0e4a'];

export const dep = (c: string): string => c.repeat(32);
export const filterId = (n: number): string => n.toString(16).padStart(32, 'f');
/** A for_each key with everything an address must quote: quotes, brackets, `${`, an apostrophe. */
export const HOSTILE_KEY = `it's "ops" [1] \${x}`;

const PROVIDER = 'provider["registry.terraform.io/elastic/ec"]';
const rule = (id: string, source: string | null, description: string | null = null) => ({
  azure_endpoint_guid: null,
  azure_endpoint_name: null,
  description,
  id,
  source,
});

/** ESS as a `.tfstate` file (format version 4). */
export const ESS_TFSTATE = {
  version: 4,
  terraform_version: '1.7.5',
  serial: 42,
  lineage: '0b7c6c2e-6f3e-4c1a-9c57-6f7c2a1d9e10',
  outputs: { es_password: { value: SECRETS[0], type: 'string', sensitive: true } },
  resources: [
    {
      mode: 'data',
      type: 'ec_stack',
      name: 'latest',
      provider: PROVIDER,
      instances: [
        { schema_version: 0, attributes: { id: '8.15.0', region: 'us-east-1', version: '8.15.0' } },
      ],
    },
    {
      mode: 'managed',
      type: 'ec_deployment',
      name: 'search',
      provider: PROVIDER,
      instances: [
        {
          schema_version: 2,
          attributes: {
            alias: 'search',
            apm_secret_token: SECRETS[1],
            deployment_template_id: 'aws-io-optimized-v2',
            elasticsearch_password: SECRETS[0],
            elasticsearch_username: 'elastic',
            id: dep('a'),
            name: 'search',
            region: 'us-east-1',
            tags: { team: 'search' },
            traffic_filter: [filterId(1)],
            version: '8.15.0',
          },
          sensitive_attributes: [[{ type: 'get_attr', value: 'elasticsearch_password' }]],
          private: 'eyJzY2hlbWFfdmVyc2lvbiI6IjIifQ==',
        },
      ],
    },
    {
      mode: 'managed',
      type: 'ec_deployment',
      name: 'logs',
      provider: PROVIDER,
      instances: [
        {
          schema_version: 2,
          attributes: {
            elasticsearch_password: SECRETS[0],
            id: dep('b'),
            name: 'logs',
            region: 'us-east-1',
            traffic_filter: [],
          },
          sensitive_attributes: [],
        },
      ],
    },
    {
      mode: 'managed',
      type: 'ec_deployment_traffic_filter',
      name: 'office',
      provider: PROVIDER,
      instances: [
        {
          schema_version: 0,
          attributes: {
            description: 'Office networks',
            id: filterId(1),
            include_by_default: false,
            name: 'office',
            region: 'us-east-1',
            rule: [
              rule('a1'.padEnd(32, '0'), '10.20.0.0/16'),
              rule('a2'.padEnd(32, '0'), '192.168.0.0/16', 'HQ'),
            ],
            type: 'ip',
          },
          sensitive_attributes: [],
        },
      ],
    },
    {
      module: 'module.edge["eu"]',
      mode: 'managed',
      type: 'ec_deployment_traffic_filter',
      name: 'vpn',
      provider: PROVIDER,
      each: 'map',
      instances: [
        {
          index_key: HOSTILE_KEY,
          schema_version: 0,
          attributes: {
            description: null,
            id: filterId(2),
            include_by_default: true,
            name: 'vpn-ops',
            region: 'us-east-1',
            rule: [rule('b1'.padEnd(32, '0'), '203.0.113.0/24', 'VPN')],
            type: 'ip',
          },
          sensitive_attributes: [],
        },
      ],
    },
    {
      mode: 'managed',
      type: 'ec_deployment_traffic_filter',
      name: 'pl',
      provider: PROVIDER,
      each: 'list',
      instances: [
        {
          index_key: 0,
          schema_version: 0,
          attributes: {
            description: '',
            id: filterId(3),
            include_by_default: false,
            name: 'azure-pl',
            region: 'azure-eastus2',
            rule: [
              {
                azure_endpoint_guid: '78c64959-fd88-41cc-81ac-1cfcdb1ac32e',
                azure_endpoint_name: 'my-azure-pl',
                description: null,
                id: 'c1'.padEnd(32, '0'),
                source: null,
              },
            ],
            type: 'azure_private_endpoint',
          },
          sensitive_attributes: [],
        },
      ],
    },
    {
      mode: 'managed',
      type: 'ec_deployment_traffic_filter_association',
      name: 'logs_vpn',
      provider: PROVIDER,
      instances: [
        {
          schema_version: 0,
          attributes: {
            deployment_id: dep('b'),
            id: '7b0f6c1c-1d2e-4f3a-8b9c-0d1e2f3a4b5c',
            traffic_filter_id: filterId(2),
          },
          sensitive_attributes: [],
        },
      ],
    },
    {
      mode: 'managed',
      type: 'aws_vpc_endpoint',
      name: 'es',
      provider: 'provider["registry.terraform.io/hashicorp/aws"]',
      instances: [{ schema_version: 0, attributes: { id: 'vpce-0123456789abcdef0' } }],
    },
  ],
  check_results: null,
};

/** The live estate ESS_TFSTATE describes, plus a policy Terraform never knew. */
export const ESS_SEED: SeedData = {
  deployments: [
    { id: dep('a'), name: 'search', region: 'us-east-1' },
    { id: dep('b'), name: 'logs', region: 'us-east-1' },
  ],
  rulesets: [
    {
      id: filterId(1),
      name: 'office',
      region: 'us-east-1',
      type: 'ip',
      description: 'Office networks',
      rules: [{ source: '192.168.0.0/16', description: 'HQ' }, { source: '10.20.0.0/16' }],
      associations: [dep('a')],
    },
    {
      id: filterId(2),
      name: 'vpn-ops',
      region: 'us-east-1',
      type: 'ip',
      include_by_default: true,
      rules: [{ source: '203.0.113.0/24', description: 'VPN' }],
      associations: [dep('b')],
    },
    {
      id: filterId(3),
      name: 'azure-pl',
      region: 'azure-eastus2',
      type: 'azure_private_endpoint',
      rules: [
        { azure_endpoint_name: 'my-azure-pl', azure_endpoint_guid: '78c64959-fd88-41cc-81ac-1cfcdb1ac32e' },
      ],
    },
    {
      name: 'console-made',
      region: 'us-east-1',
      type: 'ip',
      rules: [{ source: '198.51.100.7' }],
      associations: [dep('a')],
    },
  ],
};

const SLS_PROVIDER = 'registry.terraform.io/elastic/ec';
const slsId = (c: string): string => c.repeat(32);

/** Serverless as `terraform show -json` prints it. */
export const SERVERLESS_SHOW_JSON = {
  format_version: '1.0',
  terraform_version: '1.9.8',
  values: {
    root_module: {
      resources: [
        {
          address: 'ec_serverless_traffic_filter.office',
          mode: 'managed',
          type: 'ec_serverless_traffic_filter',
          name: 'office',
          provider_name: SLS_PROVIDER,
          schema_version: 0,
          values: {
            description: 'Office',
            id: filterId(11),
            include_by_default: false,
            name: 'sls-office',
            region: 'aws-us-east-1',
            rules: [
              { description: 'HQ', source: '192.168.0.0/16' },
              { description: null, source: '10.0.0.0/8' },
            ],
            type: 'ip',
          },
          sensitive_values: { rules: [{}, {}] },
        },
        {
          address: 'ec_elasticsearch_project.search',
          mode: 'managed',
          type: 'ec_elasticsearch_project',
          name: 'search',
          provider_name: SLS_PROVIDER,
          schema_version: 0,
          values: {
            alias: 'search-d1e2f3',
            cloud_id: 'search:ZXhhbXBsZQ==',
            credentials: { password: SECRETS[2], username: 'admin' },
            id: slsId('1'),
            name: 'search',
            region_id: 'aws-us-east-1',
            traffic_filter_ids: [filterId(11), filterId(12)],
            type: 'elasticsearch',
          },
          sensitive_values: { credentials: { password: true } },
        },
      ],
      child_modules: [
        {
          address: 'module.security',
          resources: [
            {
              address: 'module.security.ec_security_project.siem[0]',
              mode: 'managed',
              type: 'ec_security_project',
              name: 'siem',
              index: 0,
              provider_name: SLS_PROVIDER,
              schema_version: 0,
              values: {
                credentials: { password: SECRETS[2], username: 'admin' },
                id: slsId('2'),
                name: 'siem',
                region_id: 'aws-us-east-1',
                traffic_filter_ids: [filterId(11)],
              },
              sensitive_values: { credentials: { password: true } },
            },
          ],
          child_modules: [
            {
              address: 'module.security.module.pl["prod"]',
              resources: [
                {
                  address: 'module.security.module.pl["prod"].ec_serverless_traffic_filter.vpce',
                  mode: 'managed',
                  type: 'ec_serverless_traffic_filter',
                  name: 'vpce',
                  provider_name: SLS_PROVIDER,
                  schema_version: 0,
                  values: {
                    description: null,
                    id: filterId(12),
                    include_by_default: false,
                    name: 'sls-privatelink',
                    region: 'aws-us-east-1',
                    rules: [{ description: 'prod VPC', source: 'vpce-0123456789abcdef0' }],
                    type: 'vpce',
                  },
                  sensitive_values: {},
                },
              ],
            },
          ],
        },
      ],
    },
  },
};

export const SERVERLESS_SEED: SeedData = {
  traffic_filters: [
    {
      id: filterId(11),
      name: 'sls-office',
      region: 'aws-us-east-1',
      type: 'ip',
      description: 'Office',
      rules: [{ source: '192.168.0.0/16', description: 'HQ' }, { source: '10.0.0.0/8' }],
    },
    {
      id: filterId(12),
      name: 'sls-privatelink',
      region: 'aws-us-east-1',
      type: 'vpce',
      rules: [{ source: 'vpce-0123456789abcdef0', description: 'prod VPC' }],
    },
  ],
  projects: [
    {
      type: 'elasticsearch',
      id: slsId('1'),
      name: 'search',
      region_id: 'aws-us-east-1',
      traffic_filters: [filterId(11), filterId(12)],
    },
    {
      type: 'security',
      id: slsId('2'),
      name: 'siem',
      region_id: 'aws-us-east-1',
      traffic_filters: [filterId(11)],
    },
  ],
};
