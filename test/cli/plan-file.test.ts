import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderPlan } from '../../src/cli/render/index.js';
import { UserInputError } from '../../src/model/errors.js';
import { readPlanFile } from '../../src/cli/plan-file.js';
import { findStaleness } from '../../src/plan/guards.js';
import type { Plan } from '../../src/plan/types.js';
import { everyActionPlan } from '../render/scenarios.js';

/*
 * A saved plan may come from a pull request's artifact: every way it can be wrong must be bad input
 * (exit 3) that names the file and the field, never an internal error.
 */
const dir = mkdtempSync(join(tmpdir(), 'ecfence-planfile-'));
const valid = JSON.parse(renderPlan(everyActionPlan(), 'json', { color: false })) as Record<string, unknown>;

function saved(data: unknown, raw?: string): string {
  const name = `plan-${Math.random().toString(36).slice(2)}.json`;
  writeFileSync(join(dir, name), raw ?? JSON.stringify(data));
  return name;
}

async function errorOf(file: string): Promise<unknown> {
  return readPlanFile(file, dir).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('readPlanFile', () => {
  it('reads back what plan --out wrote', async () => {
    expect(await readPlanFile(saved(valid), dir)).toEqual(valid);
  });

  it('refuses a malformed plan with the path of the bad field', async () => {
    const operations = valid['operations'] as Record<string, unknown>[];
    const cases: [unknown, string][] = [
      [
        { ...valid, operations: [{ ...operations[0], policy: null }] },
        '/operations/0/policy: must be object',
      ],
      [
        { ...valid, fingerprints: { prod: { 'policy:x': 7 } } },
        '/fingerprints/prod/policy:x: must be string',
      ],
      [{ ...valid, operations: 'all' }, '/operations: must be array'],
      [{ ...valid, extra: 1 }, '/: must NOT have additional properties ("extra")'],
      // Environment names, never globs: a file selects exactly the environments it names.
      [{ ...valid, fingerprints: { 'prod-*': {} } }, '/fingerprints: property name must be valid'],
      [
        { ...valid, environments: [{ name: '*', api: 'ess', endpoint: '', status: 'planned' }] },
        '/environments/0/name: must match pattern',
      ],
    ];
    for (const [data, message] of cases) {
      const error = await errorOf(saved(data));
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as Error).message).toContain(message);
      expect((error as Error).message).toMatch(/^plan-\w+\.json: not a valid ecfence plan file/);
    }
    for (const [raw, message] of [
      ['{"format_version": "2.0"}', 'format_version 2.0 is not supported'],
      ['null', 'not an ecfence plan file'],
      ['{"operations": [', 'cannot read plan file'],
    ]) {
      expect(((await errorOf(saved(undefined, raw))) as Error).message).toContain(message);
    }
  });

  it('never fails other than as bad input, whatever is changed in a valid plan', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.nat(), async (replacement, pick) => {
        // Replace one node somewhere in the plan with arbitrary JSON.
        const copy = structuredClone(valid);
        const nodes: [Record<string, unknown>, string][] = [];
        const walk = (value: unknown): void => {
          if (value === null || typeof value !== 'object') return;
          for (const [k, v] of Object.entries(value)) {
            nodes.push([value as Record<string, unknown>, k]);
            walk(v);
          }
        };
        walk(copy);
        const [parent, key] = nodes[pick % nodes.length] as [Record<string, unknown>, string];
        parent[key] = replacement;
        const error = await errorOf(saved(copy));
        if (error !== undefined) expect(error).toBeInstanceOf(UserInputError);
      }),
      { numRuns: 60 },
    );
  });
});

describe('findStaleness', () => {
  // What `apply FILE` compares: the saved file as read back, and the plan made now.
  const fresh = everyActionPlan();
  const file = (): Plan => JSON.parse(renderPlan(fresh, 'json', { color: false })) as Plan;

  it('finds nothing when the file is what planning now gives', () => {
    expect(findStaleness(file(), fresh)).toEqual([]);
  });

  it('refuses an operation edited by hand, though its id and fingerprints still match', () => {
    const edited = file();
    const op = edited.operations.find((o) => o.action === 'create' || o.action === 'update');
    if (op?.action !== 'create' && op?.action !== 'update') throw new Error('scenario has no create/update');
    op.spec.rules = [{ source: '0.0.0.0/0' }];
    expect(findStaleness(edited, fresh)).toEqual([
      `operation ${op.id} differs from what planning now gives (the plan file was changed?)`,
    ]);
  });

  it('refuses an operation that is in the file twice', () => {
    const doubled = file();
    const [first] = doubled.operations;
    if (!first) throw new Error('scenario has no operation');
    doubled.operations.push(structuredClone(first));
    expect(findStaleness(doubled, fresh)).toEqual([`operation ${first.id} is in the plan file twice`]);
  });
});
