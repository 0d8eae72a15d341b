import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends/registry.js';
import type { ConnectedBackend } from '../../src/backends/registry.js';
import { startEmulator } from '../../src/emulator/index.js';
import type { Emulator } from '../../src/emulator/index.js';
import { ApiError } from '../../src/model/errors.js';
import type { Logger } from '../../src/log.js';
import type { PolicySpec } from '../../src/model/types.js';
import { silentLogger } from '../../src/log.js';
import { CANARY_KEY, FAST_RETRY, envConfig, memoryLogger } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch {
      // Already closed by the test itself.
    }
  }
});

async function setup(
  seed: Parameters<typeof startEmulator>[0]['seed'] = {},
  logger: Logger = silentLogger(),
): Promise<{ emu: Emulator; backend: ConnectedBackend }> {
  const emu = await startEmulator({ flavor: 'cloud', seed });
  cleanups.push(() => emu.close());
  const backend = createBackend(envConfig('ess', emu.url), {
    env: { EC_API_KEY: CANARY_KEY },
    logger,
    retry: FAST_RETRY,
  });
  cleanups.push(() => backend.close());
  return { emu, backend };
}

const office: PolicySpec = {
  region: 'us-east-1',
  name: 'office',
  type: 'ip',
  description: 'Office networks',
  include_by_default: false,
  rules: [{ source: '10.0.0.0/8', description: 'lan' }, { source: '192.168.1.1' }],
};

function rulesets(n: number, region = 'us-east-1'): NonNullable<Parameters<typeof startEmulator>[0]['seed']> {
  return {
    deployments: [{ id: 'd'.repeat(32), name: 'prod', region }],
    rulesets: Array.from({ length: n }, (_, i) => ({
      name: `policy-${i}`,
      region,
      type: 'ip',
      rules: [{ source: `10.0.${i % 250}.0/24` }],
      associations: i === 0 ? ['d'.repeat(32)] : [],
    })),
  };
}

describe('deployments back end (ess) over the emulator', () => {
  it.each([1, 200])('reads %i rulesets in exactly 2 requests', async (n) => {
    const { emu, backend } = await setup(rulesets(n));
    const live = await backend.read();
    expect(live.policies).toHaveLength(n);
    expect(live.requests).toBe(2);
    expect(emu.requests()).toHaveLength(2);
    expect(live.complete).toBe(true);
    expect(live.targets).toEqual([
      expect.objectContaining({
        target: { kind: 'deployment', id: 'd'.repeat(32) },
        region: 'us-east-1',
        name: 'prod',
      }),
    ]);
    const first = live.policies.find((p) => p.name === 'policy-0');
    expect(first?.associations).toEqual([{ kind: 'deployment', id: 'd'.repeat(32) }]);
  });

  it('filters policies by the configured regions client-side, at the same cost', async () => {
    const emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        rulesets: [
          { name: 'a', region: 'us-east-1', type: 'ip', rules: [{ source: '1.1.1.1' }] },
          { name: 'b', region: 'eu-west-1', type: 'ip', rules: [{ source: '1.1.1.1' }] },
        ],
      },
    });
    cleanups.push(() => emu.close());
    const backend = createBackend(envConfig('ess', emu.url, { regions: ['eu-west-1'] }), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
    });
    cleanups.push(() => backend.close());
    const live = await backend.read();
    expect(live.policies.map((p) => p.name)).toEqual(['b']);
    expect(live.requests).toBe(2);
  });

  it('reports hidden associations and reads absent fields as empty', async () => {
    const { backend } = await setup({
      rulesets: [
        {
          name: 'h',
          region: 'us-east-1',
          type: 'ip',
          rules: [{ source: '1.1.1.1' }],
          hidden_associations: 2,
        },
      ],
    });
    const [p] = (await backend.read()).policies;
    expect(p).toMatchObject({
      description: '',
      associations: [],
      hiddenAssociations: 2,
      rules: [{ source: '1.1.1.1' }],
    });
  });

  it('round-trips create, update, associate, dissociate and delete', async () => {
    const dep = 'a'.repeat(32);
    const { emu, backend } = await setup({ deployments: [{ id: dep, name: 'prod', region: 'us-east-1' }] });
    const { id } = await backend.createPolicy(office);
    let live = await backend.read();
    expect(live.policies).toHaveLength(1);
    const created = live.policies[0]!;
    expect(created).toMatchObject({ ...office, id, associations: [] });

    // Update: reorder, change a rule, clear the description; rule ids are never compared.
    const updated: PolicySpec = {
      ...office,
      description: '',
      rules: [{ source: '172.16.0.0/12' }, office.rules[0]!],
    };
    await backend.updatePolicy(id, updated, created);
    live = await backend.read();
    expect(live.policies[0]).toMatchObject({ ...updated, id });
    expect(live.policies[0]!.fingerprint).not.toBe(created.fingerprint);

    emu.resetRequests();
    await backend.associate(id, { kind: 'deployment', id: dep });
    await backend.associate(id, { kind: 'deployment', id: dep });
    expect(emu.requests().map((r) => r.status)).toEqual([201, 200]);
    live = await backend.read();
    expect(live.policies[0]!.associations).toEqual([{ kind: 'deployment', id: dep }]);

    emu.resetRequests();
    await backend.dissociate(id, { kind: 'deployment', id: dep });
    await backend.dissociate(id, { kind: 'deployment', id: dep });
    expect(emu.requests().map((r) => r.status)).toEqual([200, 404]);

    emu.resetRequests();
    await backend.deletePolicy(id);
    await backend.deletePolicy(id);
    expect(emu.requests().map((r) => r.status)).toEqual([200, 404]);
    expect((await backend.read()).policies).toEqual([]);
  });

  it('surfaces API errors with method, path, status and code', async () => {
    const { backend } = await setup();
    const err = await backend.updatePolicy('0'.repeat(32), office, office).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const api = err as ApiError;
    expect(api.details).toMatchObject({
      method: 'PUT',
      status: 404,
      code: 'traffic_filter.not_found',
      retryable: false,
    });
    expect(api.message).toMatch(
      /^PUT \/deployments\/traffic-filter\/rulesets\/0+ → 404 traffic_filter\.not_found: /,
    );
  });

  it('does not write associations per target', async () => {
    const { backend } = await setup();
    await expect(
      backend.writeTargetPolicies(
        { target: { kind: 'deployment', id: 'x' }, region: 'r', fingerprint: '' },
        [],
        [],
      ),
    ).rejects.toThrow(/per pair/);
  });

  it('honours Retry-After on 429', async () => {
    const { emu, backend } = await setup(rulesets(1));
    emu.setFaults({
      retryAfterSeconds: 1,
      script: [{ method: 'GET', pathPattern: 'rulesets$', fault: '429', times: 1 }],
    });
    const t0 = Date.now();
    const live = await backend.read();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(live.requests).toBe(3);
    // The 429 halved the requests the client keeps in flight (8 → 4).
    expect(backend.counters()).toMatchObject({
      requests: 3,
      retries: 1,
      throttled: 1,
      ceiling: 8,
      lowest: 4,
    });
  });

  it('retries 503 and dropped connections on reads', async () => {
    const { emu, backend } = await setup(rulesets(3));
    emu.setFaults({
      script: [
        { method: 'GET', pathPattern: 'rulesets$', fault: '503', times: 2 },
        { method: 'GET', pathPattern: '^/api/v1/deployments$', fault: 'reset', times: 1 },
      ],
    });
    const live = await backend.read();
    expect(live.policies).toHaveLength(3);
    expect(live.requests).toBe(5);
    expect(backend.counters().retries).toBe(3);
  });

  it('gives up after the configured attempts with a retryable error', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({ script: [{ method: 'GET', fault: '500', times: 100 }] });
    const err = (await backend.read().catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.details).toMatchObject({ status: 500, retryable: true });
    expect(emu.requests().length).toBe(12); // 6 attempts for each of the two listings
  });

  it('never retries other 4xx', async () => {
    const { emu, backend } = await setup();
    await expect(backend.associate('0'.repeat(32), { kind: 'deployment', id: 'x' })).rejects.toBeInstanceOf(
      ApiError,
    );
    expect(emu.requests()).toHaveLength(1);
  });

  it('creates exactly one policy when the connection drops after the commit', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({
      script: [{ method: 'POST', pathPattern: 'rulesets$', fault: 'reset_after_commit', times: 1 }],
    });
    const { id } = await backend.createPolicy(office);
    const live = await backend.read();
    expect(live.policies.map((p) => p.id)).toEqual([id]);
    expect(emu.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it('a lost create reply and lagging listings make no duplicate: it re-reads until the policy shows (issue 23)', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({
      readLag: 2,
      script: [{ method: 'POST', pathPattern: 'rulesets$', fault: 'reset_after_commit', times: 1 }],
    });
    const { id } = await backend.createPolicy(office);
    expect(emu.requests().filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(emu.requests().filter((r) => r.method === 'GET')).toHaveLength(3);
    emu.setFaults({});
    expect((await backend.read()).policies.map((p) => p.id)).toEqual([id]);
  });

  it('re-sends a create that failed before the commit, still making one policy', async () => {
    const { emu, backend } = await setup();
    emu.setFaults({
      script: [
        { method: 'POST', pathPattern: 'rulesets$', fault: 'reset', times: 1 },
        { method: 'POST', pathPattern: 'rulesets$', fault: '503', times: 1 },
      ],
    });
    const { id } = await backend.createPolicy(office);
    expect((await backend.read()).policies.map((p) => p.id)).toEqual([id]);
    expect(emu.requests().filter((r) => r.method === 'POST')).toHaveLength(3);
  });

  it('does not take an excluded policy as the result of an unknown create (replacement)', async () => {
    const { emu, backend } = await setup();
    const old = await backend.createPolicy(office);
    emu.setFaults({ script: [{ method: 'POST', pathPattern: 'rulesets$', fault: 'reset', times: 1 }] });
    const { id } = await backend.createPolicy(office, [old.id]);
    expect(id).not.toBe(old.id);
    expect((await backend.read()).policies).toHaveLength(2);
  });

  it('retries an idempotent association POST after a dropped connection', async () => {
    const dep = 'b'.repeat(32);
    const { emu, backend } = await setup({ deployments: [{ id: dep, name: 'x', region: 'us-east-1' }] });
    const { id } = await backend.createPolicy(office);
    emu.setFaults({
      script: [{ method: 'POST', pathPattern: 'associations$', fault: 'reset_after_commit', times: 1 }],
    });
    await backend.associate(id, { kind: 'deployment', id: dep });
    expect((await backend.read()).policies[0]!.associations).toEqual([{ kind: 'deployment', id: dep }]);
  });

  it('never puts the API key in errors or logs', async () => {
    const { logger, lines } = memoryLogger();
    const { emu, backend } = await setup({}, logger);
    emu.setFaults({ script: [{ method: 'GET', fault: '503', times: 1 }] });
    await backend.read();
    const errors = await Promise.all([
      backend.updatePolicy('0'.repeat(32), office, office).catch((e: unknown) => e),
      backend.deletePolicy('x').catch((e: unknown) => e),
    ]);
    emu.setFaults({ script: [{ method: 'POST', fault: 'reset', times: 10 }] });
    errors.push(
      await backend.associate('0'.repeat(32), { kind: 'deployment', id: 'x' }).catch((e: unknown) => e),
    );
    await emu.close();
    errors.push(await backend.read().catch((e: unknown) => e));
    expect(errors.filter((e) => e instanceof ApiError).length).toBeGreaterThanOrEqual(3);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes('"path"'))).toBe(true);
    for (const e of errors) {
      const text = `${String(e)} ${JSON.stringify(e)} ${(e as Error | undefined)?.stack ?? ''} ${JSON.stringify(Object.entries(e ?? {}))}`;
      expect(text).not.toContain(CANARY_KEY);
      expect(text).not.toContain('ApiKey');
    }
    for (const line of lines) expect(line).not.toContain(CANARY_KEY);
  });
});

describe('unknown create outcome that cannot be resolved', () => {
  it('stays outcome-unknown when the re-read fails too', async () => {
    const emu = await startEmulator({ flavor: 'cloud' });
    cleanups.push(() => emu.close());
    const backend = createBackend(envConfig('ess', emu.url), {
      env: { EC_API_KEY: CANARY_KEY },
      logger: silentLogger(),
      retry: { ...FAST_RETRY, maxAttempts: 2 },
    });
    cleanups.push(() => backend.close());
    emu.setFaults({
      script: [
        { method: 'POST', fault: 'reset_after_commit', times: 1 },
        { method: 'GET', fault: '503', times: 10 },
      ],
    });
    const err = (await backend.createPolicy(office).catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.details.outcomeUnknown).toBe(true);
    expect(err.message).toMatch(/re-reading to resolve it failed/);
  });
});
