import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultInjector } from '../../src/emulator/faults.js';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, type AnyJson } from '../support/emulator-http.js';

const RULESETS = '/api/v1/deployments/traffic-filter/rulesets';
const ruleset = {
  name: 'r',
  type: 'ip',
  include_by_default: false,
  region: 'us-east-1',
  rules: [{ source: '1.2.3.4' }],
};

describe('fault injection', () => {
  let emu: Emulator;
  beforeEach(async () => {
    emu = await startEmulator({ flavor: 'cloud' });
  });
  afterEach(async () => {
    await emu.close();
  });

  it('delays every API request by latencyMs', async () => {
    emu.setFaults({ latencyMs: 40 });
    const start = performance.now();
    expect((await call(emu, 'GET', RULESETS)).status).toBe(200);
    expect(performance.now() - start).toBeGreaterThanOrEqual(35);
  });

  it('answers 429 with Retry-After', async () => {
    emu.setFaults({ rate429: 1, retryAfterSeconds: 0 });
    const res = await call(emu, 'POST', RULESETS, { body: ruleset });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('0');
    expect((res.body as AnyJson).errors[0].code).toEqual(expect.any(String));
    expect(emu.state().rulesets).toHaveLength(0);
    expect(emu.requests()).toEqual([{ method: 'POST', path: RULESETS, status: 429, fault: '429' }]);
  });

  it('answers 503 with a proper error body for rate5xx, in each API family shape', async () => {
    emu.setFaults({ rate5xx: 1 });
    const ess = await call(emu, 'GET', RULESETS);
    expect(ess.status).toBe(503);
    expect(ess.body).toEqual({ errors: [{ code: expect.any(String), message: expect.any(String) }] });
    expect(ess.headers.get('x-cloud-error-codes')).toEqual(expect.any(String));
    const sls = await call(emu, 'GET', '/api/v1/serverless/traffic-filters');
    expect(sls.status).toBe(503);
    expect(sls.headers.get('x-cloud-error-codes')).toBeNull();
  });

  it('drops the connection before processing for rateReset (nothing committed)', async () => {
    emu.setFaults({ rateReset: 1 });
    await expect(call(emu, 'POST', RULESETS, { body: ruleset })).rejects.toThrow();
    expect(emu.state().rulesets).toHaveLength(0);
    expect(emu.requests()).toEqual([{ method: 'POST', path: RULESETS, status: 0, fault: 'reset' }]);
  });

  it('commits, then drops the connection without a response for rateResetAfterCommit', async () => {
    emu.setFaults({ rateResetAfterCommit: 1 });
    await expect(call(emu, 'POST', RULESETS, { body: ruleset })).rejects.toThrow();
    emu.setFaults({});
    const list = (await call(emu, 'GET', RULESETS)).body as AnyJson;
    expect(list.rulesets).toHaveLength(1);
    expect(list.rulesets[0].name).toBe('r');
    expect(emu.requests()[0]).toEqual({
      method: 'POST',
      path: RULESETS,
      status: 201,
      fault: 'reset_after_commit',
    });
  });

  it('consumes scripted faults in order for matching requests only', async () => {
    emu.setFaults({
      script: [
        { method: 'POST', pathPattern: '/rulesets$', fault: '500', times: 2 },
        { method: 'POST', fault: '429', times: 1 },
      ],
      retryAfterSeconds: 0,
    });
    expect((await call(emu, 'GET', RULESETS)).status).toBe(200);
    const first = await call(emu, 'POST', RULESETS, { body: ruleset });
    expect(first.status).toBe(500);
    expect(first.headers.get('x-cloud-error-codes')).toBe('traffic_filter.request_execution_failed');
    expect((await call(emu, 'POST', RULESETS, { body: ruleset })).status).toBe(500);
    expect((await call(emu, 'POST', RULESETS, { body: ruleset })).status).toBe(429);
    expect((await call(emu, 'POST', RULESETS, { body: ruleset })).status).toBe(201);
    expect(emu.requests().map((r) => r.fault ?? null)).toEqual([null, '500', '500', '429', null]);
  });

  it('scripts reset and reset_after_commit too', async () => {
    emu.setFaults({ script: [{ fault: 'reset' }, { fault: 'reset_after_commit' }] });
    await expect(call(emu, 'POST', RULESETS, { body: ruleset })).rejects.toThrow();
    expect(emu.state().rulesets).toHaveLength(0);
    await expect(call(emu, 'POST', RULESETS, { body: ruleset })).rejects.toThrow();
    expect(emu.state().rulesets).toHaveLength(1);
    expect((await call(emu, 'GET', RULESETS)).status).toBe(200);
  });

  it('limits random faults to the configured methods', async () => {
    emu.setFaults({ rate5xx: 1, methods: ['post', 'PUT', 'PATCH', 'DELETE'] });
    expect((await call(emu, 'GET', RULESETS)).status).toBe(200);
    expect((await call(emu, 'POST', RULESETS, { body: ruleset })).status).toBe(503);
  });

  it('never applies faults or logging to /_emulator/ admin endpoints, which configure faults over HTTP', async () => {
    const put = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateReset: 1 }),
    });
    expect(put.status).toBe(200);
    expect((await fetch(`${emu.url}/_emulator/state`)).status).toBe(200);
    await expect(call(emu, 'GET', RULESETS)).rejects.toThrow();
    const log = (await (await fetch(`${emu.url}/_emulator/requests`)).json()) as AnyJson;
    expect(log.requests).toEqual([{ method: 'GET', path: RULESETS, status: 0, fault: 'reset' }]);
    expect(log.counts).toMatchObject({ total: 1, byFault: { reset: 1 } });
    expect((await fetch(`${emu.url}/_emulator/reset-log`, { method: 'POST' })).status).toBe(200);
    expect(emu.requests()).toEqual([]);
    const invalid = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'PUT',
      body: JSON.stringify({ rate429: 2 }),
    });
    expect(invalid.status).toBe(400);
  });

  it('readLag: a created ruleset is missing from the next N reads that would show it, and writable at once', async () => {
    const dep = emu.addDeployment({ name: 'd', region: 'us-east-1' });
    emu.setFaults({ readLag: 3 });
    const created = await call(emu, 'POST', RULESETS, { body: ruleset });
    expect(created.status).toBe(201);
    const id = (created.body as AnyJson).id as string;
    // A listing of another region would not show it: that read does not count.
    expect((await call(emu, 'GET', `${RULESETS}?region=eu-west-1`)).body).toEqual({ rulesets: [] });
    expect((await call(emu, 'GET', RULESETS)).body).toEqual({ rulesets: [] });
    expect((await call(emu, 'GET', `${RULESETS}/${id}`)).status).toBe(404);
    // Writes see it at once.
    const attach = await call(emu, 'POST', `${RULESETS}/${id}/associations`, {
      body: { entity_type: 'deployment', id: dep },
    });
    expect(attach.status).toBe(201);
    expect((await call(emu, 'GET', `${RULESETS}?include_associations=true`)).body).toEqual({ rulesets: [] });
    const seen = (await call(emu, 'GET', `${RULESETS}?include_associations=true`)).body as AnyJson;
    expect(seen.rulesets.map((r: AnyJson) => [r.id, r.associations])).toEqual([
      [id, [{ entity_type: 'deployment', id: dep }]],
    ]);
    expect((await call(emu, 'GET', `${RULESETS}/${id}`)).status).toBe(200);
  });

  it('readLag: serverless filters lag in listings and GETs; new fault settings end the lag', async () => {
    const FILTERS = '/api/v1/serverless/traffic-filters';
    const filter = { name: 'f', type: 'ip', region: 'aws-us-east-1', rules: [{ source: '1.2.3.4' }] };
    emu.setFaults({ readLag: 1 });
    const a = ((await call(emu, 'POST', FILTERS, { body: filter })).body as AnyJson).id as string;
    const b = ((await call(emu, 'POST', FILTERS, { body: { ...filter, name: 'g' } })).body as AnyJson)
      .id as string;
    expect((await call(emu, 'GET', `${FILTERS}/${a}`)).status).toBe(404);
    const list = (await call(emu, 'GET', FILTERS)).body as AnyJson;
    expect(list.items.map((f: AnyJson) => f.id)).toEqual([a]);
    const again = (await call(emu, 'GET', FILTERS)).body as AnyJson;
    expect(again.items.map((f: AnyJson) => f.id)).toEqual([a, b]);
    emu.setFaults({ readLag: 5 });
    await call(emu, 'POST', FILTERS, { body: { ...filter, name: 'h' } });
    emu.setFaults({});
    expect(((await call(emu, 'GET', FILTERS)).body as AnyJson).items).toHaveLength(3);
    expect(() => emu.setFaults({ readLag: 1.5 })).toThrow(/readLag/);
  });

  it('draws the same fault sequence from the same seed', () => {
    const draw = (seed: number) => {
      const f = new FaultInjector({ seed, rate429: 0.3, rate5xx: 0.3 });
      return Array.from({ length: 40 }, () => f.decide('GET', '/x').fault ?? '-').join(',');
    };
    expect(draw(7)).toBe(draw(7));
    expect(draw(7)).not.toBe(draw(8));
    expect(draw(7)).toMatch(/429/);
    expect(draw(7)).toMatch(/503/);
    expect(draw(7)).toMatch(/-/);
  });
});

describe('rate limit (token bucket, API.md §7)', () => {
  it('holds one second of requests, then answers 429 with Retry-After in whole seconds until a token is back', () => {
    let now = 1_000_000;
    const faults = new FaultInjector({ rateLimit: 4 }, () => now);
    const first = Array.from({ length: 5 }, () => faults.decide('GET', '/x').fault);
    expect(first).toEqual([undefined, undefined, undefined, undefined, '429']);
    expect(faults.decide('POST', '/x')).toMatchObject({ fault: '429', retryAfterSeconds: 1 });
    now += 250; // a quarter of a second: one token back
    expect(faults.decide('GET', '/x').fault).toBeUndefined();
    expect(faults.decide('GET', '/x').fault).toBe('429');
    now += 10_000; // never more than the bucket holds
    const later = Array.from({ length: 6 }, () => faults.decide('GET', '/x').fault);
    expect(later.filter((f) => f === undefined)).toHaveLength(4);
    // Slower than one request a second: the wait is still whole seconds, rounded up.
    const slow = new FaultInjector({ rateLimit: 0.25 }, () => now);
    expect(slow.decide('GET', '/x').fault).toBeUndefined();
    expect(slow.decide('GET', '/x')).toMatchObject({ fault: '429', retryAfterSeconds: 4 });
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => new FaultInjector({ rateLimit: 0 })).toThrow(/rateLimit/);
    expect(() => new FaultInjector({ rateLimit: -1 })).toThrow(/rateLimit/);
  });
});
