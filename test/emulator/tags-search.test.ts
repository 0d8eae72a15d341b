import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmulatorSetupError, startEmulator, type Emulator } from '../../src/emulator/index.js';
import { call, type AnyJson } from '../support/emulator-http.js';

const SEARCH = '/api/v1/deployments/_search';
const id = (n: number): string => n.toString(16).padStart(32, '0');

/** The nested tag query Elastic's own `ec_deployments` data source builds (API.md §2.5). */
function tagQuery(key: string, value: string): AnyJson {
  return {
    nested: {
      path: 'metadata.tags',
      query: {
        bool: {
          filter: [
            { term: { 'metadata.tags.key': { value: key } } },
            { term: { 'metadata.tags.value': { value } } },
          ],
        },
      },
    },
  };
}

async function search(emu: Emulator, body: unknown): Promise<{ status: number; body: AnyJson }> {
  const res = await call(emu, 'POST', SEARCH, body === undefined ? {} : { body });
  return { status: res.status, body: res.body as AnyJson };
}

const names = (body: AnyJson): string[] => body.deployments.map((d: AnyJson) => d.name).sort();

describe('deployment tags and _search', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        deployments: [
          {
            id: id(1),
            name: 'Prod Search',
            region: 'us-east-1',
            tags: [
              { key: 'env', value: 'prod' },
              { key: 'team', value: 'search' },
            ],
          },
          {
            id: id(2),
            name: 'staging-search',
            region: 'us-east-1',
            // env=staging and team=prod: key and value of env=prod, on different tags.
            tags: [
              { key: 'env', value: 'staging' },
              { key: 'team', value: 'prod' },
            ],
          },
          { id: id(3), name: 'prod-logs', region: 'us-east-1', tags: [{ key: 'env', value: 'prod' }] },
          ...Array.from({ length: 22 }, (_, i) => ({
            id: id(100 + i),
            name: `bulk-${i}`,
            region: 'us-east-1',
          })),
        ],
      },
    });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('matches a tag only when key and value sit on the same tag, inside nested', async () => {
    const prod = await search(emu, { size: 100, query: tagQuery('env', 'prod') });
    expect(prod.status).toBe(200);
    expect(names(prod.body)).toEqual(['Prod Search', 'prod-logs']);
    expect(prod.body.match_count).toBe(2);
    const hit = prod.body.deployments.find((d: AnyJson) => d.id === id(1));
    expect(hit.metadata.tags).toEqual([
      { key: 'env', value: 'prod' },
      { key: 'team', value: 'search' },
    ]);

    // The same terms outside `nested` silently match nothing, as on the real API.
    const flat = await search(emu, {
      size: 100,
      query: { bool: { filter: tagQuery('env', 'prod').nested.query.bool.filter } },
    });
    expect(flat.status).toBe(200);
    expect(flat.body.deployments).toEqual([]);

    // Several tags: Terraform's shape, a should per tag with minimum_should_match = the count.
    const both = await search(emu, {
      size: 100,
      query: {
        bool: {
          filter: [
            {
              bool: {
                must: [
                  {
                    bool: {
                      should: [tagQuery('env', 'prod'), tagQuery('team', 'search')],
                      minimum_should_match: 2,
                    },
                  },
                ],
              },
            },
          ],
        },
      },
    });
    expect(names(both.body)).toEqual(['Prod Search']);
    const untagged = await search(emu, {
      size: 100,
      query: { bool: { must_not: [{ nested: { path: 'metadata.tags', query: { match_all: {} } } }] } },
    });
    expect(untagged.body.deployments).toHaveLength(22);
  });

  it('reads name as analysed text and name.keyword as the exact name', async () => {
    const q = async (query: AnyJson) => names((await search(emu, { size: 100, query })).body);
    expect(await q({ term: { 'name.keyword': { value: 'Prod Search' } } })).toEqual(['Prod Search']);
    expect(await q({ term: { name: { value: 'Prod' } } })).toEqual([]);
    expect(await q({ match: { name: { query: 'SEARCH' } } })).toEqual(['Prod Search', 'staging-search']);
    expect(await q({ match: { name: { query: 'prod search', operator: 'and' } } })).toEqual(['Prod Search']);
    expect(await q({ prefix: { 'name.keyword': { value: 'prod-' } } })).toEqual(['prod-logs']);
    expect(await q({ exists: { field: 'metadata.tags.key' } })).toEqual([]);
  });

  it('pages by size and cursor in id order, with a cursor on every page, the empty last one too', async () => {
    for (const sort of [['id'], [{ id: 'asc' }], [{ id: { order: 'desc' } }]]) {
      const seen: string[] = [];
      let res = await search(emu, { size: 10, sort });
      const sizes: number[] = [];
      for (;;) {
        expect(res.status).toBe(200);
        expect(res.body.cursor).toEqual(expect.any(String));
        expect(res.body.return_count).toBe(res.body.deployments.length);
        sizes.push(res.body.return_count);
        seen.push(...res.body.deployments.map((d: AnyJson) => d.id));
        if (res.body.return_count < 10) break;
        res = await search(emu, { cursor: res.body.cursor });
      }
      expect(sizes).toEqual([10, 10, 5]);
      const ids = Array.from({ length: 3 }, (_, i) => id(i + 1)).concat(
        Array.from({ length: 22 }, (_, i) => id(100 + i)),
      );
      const desc = JSON.stringify(sort).includes('desc');
      expect(seen).toEqual(desc ? [...ids].reverse() : ids);
      // Past the end: still 200, no hits, a cursor again.
      const after = await search(emu, { cursor: res.body.cursor });
      expect(after.body).toMatchObject({ return_count: 0, deployments: [], cursor: expect.any(String) });
    }
    const exact = await search(emu, { size: 25, sort: [{ id: 'asc' }] });
    expect(exact.body.return_count).toBe(25);
    const empty = await search(emu, { cursor: exact.body.cursor });
    expect(empty.body).toMatchObject({ return_count: 0, deployments: [], cursor: expect.any(String) });
  });

  it('uses the Elasticsearch defaults and refuses what the spec does not define', async () => {
    const all = await search(emu, undefined);
    expect(all.status).toBe(200);
    expect(all.body.return_count).toBe(10);
    expect(all.body).not.toHaveProperty('match_count');
    const refused: AnyJson[] = [
      { from: 9995, size: 10 },
      { size: -1 },
      { query: { terms: { 'metadata.tags.key': ['env'] } } },
      { query: { term: { 'name.keyword': 'Prod Search' } } },
      { query: { nested: { path: 'metadata.tag', query: { match_all: {} } } } },
      { query: { query_string: { query: 'prod' } } },
      { query: { match_all: {}, match_none: {} } },
      { sort: [{ healthy: 'asc' }] },
      { search_after: [id(1)] },
      { cursor: 'not-a-cursor' },
    ];
    for (const body of refused) {
      const res = await search(emu, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors[0].code).toEqual(expect.any(String));
    }
    expect((await search(emu, { from: 9990, size: 10 })).status).toBe(200);
  });

  it('returns tags from GET deployment only with show_metadata, and omits them when there are none', async () => {
    const plain = await call(emu, 'GET', `/api/v1/deployments/${id(1)}`);
    expect(plain.body as AnyJson).not.toHaveProperty('metadata');
    const withMeta = (await call(emu, 'GET', `/api/v1/deployments/${id(1)}?show_metadata=true`))
      .body as AnyJson;
    expect(withMeta.metadata.tags).toContainEqual({ key: 'team', value: 'search' });
    const untagged = (await call(emu, 'GET', `/api/v1/deployments/${id(100)}?show_metadata=true`))
      .body as AnyJson;
    expect(untagged.metadata).toEqual({});
    // A deployment created later with tags is found by the next search.
    emu.addDeployment({ name: 'new-prod', region: 'us-east-1', tags: [{ key: 'env', value: 'prod' }] });
    expect(names((await search(emu, { size: 100, query: tagQuery('env', 'prod') })).body)).toContain(
      'new-prod',
    );
  });
});

describe('project tags', () => {
  let emu: Emulator;
  const PROJECTS = '/api/v1/serverless/projects/elasticsearch';
  beforeAll(async () => {
    emu = await startEmulator({
      flavor: 'cloud',
      seed: {
        projects: [
          {
            type: 'elasticsearch',
            id: id(1),
            name: 'a',
            region_id: 'aws-us-east-1',
            tags: { env: 'prod', team: 'x' },
          },
          { type: 'elasticsearch', id: id(2), name: 'b', region_id: 'aws-us-east-1', tags: { env: 'prod' } },
          { type: 'elasticsearch', id: id(3), name: 'c', region_id: 'aws-us-east-1' },
        ],
      },
    });
  });
  afterAll(async () => {
    await emu.close();
  });

  const listed = async (query: string): Promise<string[]> => {
    const res = await call(emu, 'GET', `${PROJECTS}${query}`);
    expect(res.status).toBe(200);
    return (res.body as AnyJson).items.map((p: AnyJson) => p.name).sort();
  };

  it('lists projects having every tag of the deepObject filter, and shows metadata.tags', async () => {
    expect(await listed('?tags[env]=prod')).toEqual(['a', 'b']);
    expect(await listed('?tags%5Benv%5D=prod&tags%5Bteam%5D=x')).toEqual(['a']);
    expect(await listed('?tags[env]=staging')).toEqual([]);
    const a = (await call(emu, 'GET', `${PROJECTS}/${id(1)}`)).body as AnyJson;
    expect(a.metadata.tags).toEqual({ env: 'prod', team: 'x' });
    const c = (await call(emu, 'GET', `${PROJECTS}/${id(3)}`)).body as AnyJson;
    expect(c.metadata).not.toHaveProperty('tags');
    for (const bad of ['?tags=prod', '?tags[Env]=prod', '?tags[env]=Prod', '?tags[env]=a&tags[env]=b']) {
      expect((await call(emu, 'GET', `${PROJECTS}${bad}`)).status, bad).toBe(400);
    }
  });

  it('patches tags: the keys sent change, null removes one, the rest stay', async () => {
    const res = await call(emu, 'PATCH', `${PROJECTS}/${id(2)}`, {
      body: { metadata: { tags: { team: 'y', env: null } } },
    });
    expect(res.status).toBe(200);
    expect((res.body as AnyJson).metadata.tags).toEqual({ team: 'y' });
    expect(await listed('?tags[team]=y')).toEqual(['b']);
    const invalid = await call(emu, 'PATCH', `${PROJECTS}/${id(2)}`, {
      body: { metadata: { tags: { team: 'Y' } } },
    });
    expect(invalid.status).toBe(400);
    expect(await listed('?tags[team]=y')).toEqual(['b']);
  });

  it('refuses a seed with malformed tags, naming the entry', async () => {
    await expect(
      startEmulator({
        flavor: 'cloud',
        seed: { deployments: [{ name: 'd', region: 'r', tags: { env: 'x' } as never }] },
      }),
    ).rejects.toThrow(/deployments\[0\].*tags must be a list/);
    await expect(
      startEmulator({
        flavor: 'cloud',
        seed: { projects: [{ type: 'elasticsearch', name: 'p', region_id: 'r', tags: { env: 'UP' } }] },
      }),
    ).rejects.toThrow(EmulatorSetupError);
  });
});
