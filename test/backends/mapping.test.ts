import { describe, expect, it } from 'vitest';
import {
  canonicalSpec as essCanonical,
  deploymentToLiveTarget,
  rulesetRequestBody,
  rulesetToLivePolicy,
} from '../../src/backends/deployments/mapping.js';
import { nextFilterIds } from '../../src/backends/serverless/backend.js';
import {
  createFilterBody,
  filterToLivePolicy,
  patchFilterBody,
  projectToLiveTarget,
  typeFromWire,
} from '../../src/backends/serverless/mapping.js';
import { parseErrorBody, parseRetryAfter } from '../../src/backends/http.js';
import type { PolicySpec } from '../../src/model/types.js';

const ctx = { method: 'GET', path: '/x' };

const spec: PolicySpec = {
  region: 'us-east-1',
  name: 'office',
  type: 'ip',
  description: '',
  include_by_default: false,
  rules: [{ source: '10.0.0.0/8' }, { source: '192.168.0.1', description: 'vpn' }],
};

describe('deployments mapping', () => {
  it('reads absent and empty the same and drops rule ids and unknown fields', () => {
    const sparse = rulesetToLivePolicy(ctx, {
      id: 'a',
      name: 'office',
      region: 'us-east-1',
      type: 'ip',
      include_by_default: false,
      rules: [{ id: 'r1', source: '10.0.0.0/8', description: '' }],
      future_field: { x: 1 },
    });
    const full = rulesetToLivePolicy(ctx, {
      id: 'a',
      name: 'office',
      region: 'us-east-1',
      type: 'ip',
      description: '',
      include_by_default: false,
      rules: [{ id: 'r2', source: '10.0.0.0/8' }],
      associations: null,
      total_associations: 0,
    });
    expect(sparse).toEqual(full);
    expect(sparse.rules).toEqual([{ source: '10.0.0.0/8' }]);
    // A source with anything else beside it keeps every managed field, in one order.
    const mixed = rulesetToLivePolicy(ctx, {
      ...full,
      rules: [
        { id: 'r3', source: '10.0.0.0/8', description: 'office', remote_cluster_id: 'c1' },
        { id: 'r4', description: 'vpn', source: '192.168.0.1' },
      ],
    });
    expect(mixed.rules).toEqual([
      { source: '10.0.0.0/8', description: 'office', remote_cluster_id: 'c1' },
      { source: '192.168.0.1', description: 'vpn' },
    ]);
    expect(mixed.rules.map((r) => Object.keys(r))).toEqual([
      ['source', 'description', 'remote_cluster_id'],
      ['source', 'description'],
    ]);
    expect(sparse.description).toBe('');
    expect(sparse.associations).toEqual([]);
    expect(sparse.hiddenAssociations).toBe(0);
  });

  it('fingerprints rules as a set and counts hidden associations', () => {
    const a = rulesetToLivePolicy(ctx, {
      ...rulesetRequestBody(spec),
      id: 'a',
      associations: [
        { entity_type: 'deployment', id: 'd2' },
        { entity_type: 'deployment', id: 'd1' },
      ],
      total_associations: 3,
    });
    const b = rulesetToLivePolicy(ctx, {
      ...rulesetRequestBody({ ...spec, rules: [...spec.rules].reverse() }),
      id: 'a',
      associations: [
        { entity_type: 'deployment', id: 'd1' },
        { entity_type: 'deployment', id: 'd2' },
      ],
      total_associations: 3,
    });
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.associations).toEqual([
      { kind: 'deployment', id: 'd1' },
      { kind: 'deployment', id: 'd2' },
    ]);
    expect(a.hiddenAssociations).toBe(1);
    expect(essCanonical(a)).toBe(essCanonical(b));
  });

  it('writes include_by_default always, omits an empty description, sorts egress ports', () => {
    const body = rulesetRequestBody({
      ...spec,
      type: 'egress_firewall',
      rules: [
        { egress_rule: { target: '1.2.3.4', protocol: 'tcp', ports: [443, 80, 443] } },
        { source: '1.1.1.1', description: '' },
      ],
    });
    expect(body).toEqual({
      name: 'office',
      type: 'egress_firewall',
      region: 'us-east-1',
      include_by_default: false,
      rules: [
        { egress_rule: { target: '1.2.3.4', protocol: 'tcp', ports: [80, 443] } },
        { source: '1.1.1.1' },
      ],
    });
    expect(rulesetRequestBody({ ...spec, description: 'x' })['description']).toBe('x');
    const read = rulesetToLivePolicy(ctx, {
      id: 'e',
      name: 'n',
      region: 'r',
      type: 'egress_firewall',
      include_by_default: true,
      rules: [{ egress_rule: { target: 't', protocol: 'all', ports: null } }],
    });
    expect(read.rules).toEqual([{ egress_rule: { target: 't', protocol: 'all' } }]);
  });

  it("takes a deployment's region from its elasticsearch resource", () => {
    const t = deploymentToLiveTarget(ctx, {
      id: 'd',
      name: 'prod',
      resources: [
        { kind: 'kibana', region: 'other', id: 'k', ref_id: 'k' },
        { kind: 'elasticsearch', region: 'us-east-1', id: 'e', ref_id: 'e' },
      ],
    });
    expect(t).toMatchObject({ target: { kind: 'deployment', id: 'd' }, region: 'us-east-1', name: 'prod' });
  });

  it('reports a malformed listing as an ApiError naming the request', () => {
    expect(() => rulesetToLivePolicy(ctx, { name: 'x' })).toThrow(/GET \/x: unexpected response/);
  });
});

describe('serverless mapping', () => {
  it('maps wire type names both ways', () => {
    expect(typeFromWire('private_endpoint')).toBe('azure_private_endpoint');
    expect(typeFromWire('psc_endpoint')).toBe('gcp_private_service_connect_endpoint');
    expect(createFilterBody({ ...spec, type: 'azure_private_endpoint', rules: [] })['type']).toBe(
      'private_endpoint',
    );
    expect(
      createFilterBody({ ...spec, type: 'gcp_private_service_connect_endpoint', rules: [] })['type'],
    ).toBe('psc_endpoint');
    expect(() => createFilterBody({ ...spec, type: 'egress_firewall' })).toThrow(/no serverless equivalent/);
  });

  it('patches only changed fields, rules as a whole ordered list', () => {
    expect(patchFilterBody(spec, spec)).toEqual({});
    expect(patchFilterBody({ ...spec, description: 'd' }, spec)).toEqual({ description: 'd' });
    expect(patchFilterBody(spec, { ...spec, description: 'd' })).toEqual({ description: '' });
    const reordered = { ...spec, rules: [...spec.rules].reverse() };
    expect(patchFilterBody(reordered, spec)).toEqual({ rules: reordered.rules });
    expect(() => patchFilterBody({ ...spec, region: 'x' }, spec)).toThrow(/replacement/);
  });

  it('reads absent description as empty', () => {
    const p = filterToLivePolicy(
      ctx,
      {
        id: 'f',
        name: 'n',
        region: 'r',
        type: 'vpce',
        include_by_default: false,
        rules: [{ source: 'vpce-1' }],
      },
      [],
    );
    expect(p).toMatchObject({
      description: '',
      type: 'vpce',
      rules: [{ source: 'vpce-1' }],
      hiddenAssociations: 0,
    });
  });

  it('computes a project list keeping every other id in place', () => {
    expect(nextFilterIds(['x', 'a', 'y'], ['b', 'x'], ['a'])).toEqual(['x', 'y', 'b']);
    expect(nextFilterIds(['x'], [], ['nope'])).toEqual(['x']);
  });
});

describe('live fingerprints', () => {
  // A saved plan is checked against the fingerprints of a fresh read, possibly by another version:
  // these values must not change with how the mapping computes them.
  it('stay the same across versions', () => {
    const ruleset = {
      id: 'a',
      name: 'n',
      region: 'r',
      type: 'weird',
      rules: null,
      associations: [
        { entity_type: 'deployment', id: 'd2' },
        { entity_type: 'cluster', id: 'c' },
        { entity_type: 'deployment', id: 'd1' },
        { entity_type: 'deployment', id: 'd2' },
      ],
      total_associations: 7,
    };
    expect(rulesetToLivePolicy(ctx, ruleset).fingerprint).toBe(
      '430a9cbcfd9415cf35646b43ec136e2c5c5b3c2b9e3272055e400a58892868c6',
    );
    const resources = [{ kind: 'kibana', region: 'other' }];
    expect(deploymentToLiveTarget(ctx, { id: 'd', resources }).fingerprint).toBe(
      'dbb3051c853547257c2c7ad58ed7fb3e50cedade23d30eb06f1c7c0811bbff1c',
    );
    const filter = {
      id: 'f',
      name: 'n',
      region: 'r',
      type: 'private_endpoint',
      include_by_default: true,
      description: 'd',
      rules: [{ source: 's', description: '', azure_endpoint_name: 'a', azure_endpoint_guid: 'g' }, {}],
    };
    const projects = [
      { kind: 'project', projectType: 'security', id: 'p2' },
      { kind: 'project', projectType: 'elasticsearch', id: 'p1' },
    ] as const;
    expect(filterToLivePolicy(ctx, filter, projects).fingerprint).toBe(
      '4e8b83c54276dd5fdffdac980408fbab0685e2d34c475d8a57384405701f0800',
    );
    const project = {
      id: 'p',
      region_id: 'r',
      name: 'n',
      traffic_filters: [{ id: 'a' }, { id: 'b' }, { id: 'a' }],
    };
    expect(projectToLiveTarget(ctx, 'observability', project).fingerprint).toBe(
      'bde8a8cb6a5568383596a84be83bad04df699df05e01140b8263a8e7b42b5bf7',
    );
  });

  it('are own enumerable properties, computed when read, and replaced when assigned', () => {
    const policy = rulesetToLivePolicy(ctx, { id: 'a', name: 'n', region: 'r', type: 'ip' });
    expect(Object.keys(policy).at(-1)).toBe('fingerprint');
    const first = policy.fingerprint;
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(JSON.stringify(policy))).toEqual({ ...policy, fingerprint: first });
    policy.fingerprint = 'etag';
    expect(policy.fingerprint).toBe('etag');
    expect(rulesetToLivePolicy(ctx, { id: 'a', name: 'n', region: 'r', type: 'ip' }).fingerprint).toBe(first);
  });
});

describe('http helpers', () => {
  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 7_000)).toBe(3000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('parses both error body shapes', () => {
    expect(
      parseErrorBody('{"errors":[{"code":"traffic_filter.not_found","message":"nope","fields":[]}]}'),
    ).toEqual({
      code: 'traffic_filter.not_found',
      message: 'nope',
    });
    expect(parseErrorBody('{"errors":[{"message":"bad","code":"code.error"}]}')).toEqual({
      code: 'code.error',
      message: 'bad',
    });
    expect(parseErrorBody('<html>', 'hdr.code')).toEqual({ code: 'hdr.code' });
  });
});
