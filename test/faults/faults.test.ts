/**
 * The fault suite at CI size (~60 operations per API; `npm run test:faults` runs 300+): the built
 * CLI under 5% 503, 5% 429, 2% resets and 2% resets after commit must converge with exit 0 and no
 * duplicate policy; with writes that always fail it must exit 1 or 5, and converge once they stop.
 */
import { describe, expect, it } from 'vitest';
import {
  SMALL_SIZE,
  formatFigures,
  runFaultSuite,
  stepPassed,
  type FaultApi,
} from '../../scripts/fault-scenario.js';
import { cliPath } from '../support/cli.js';

describe.concurrent('fault suite (CI size)', () => {
  for (const api of ['ess', 'serverless'] as const satisfies readonly FaultApi[]) {
    it(`${api}: converges under faults without duplicates, and after faults that never clear`, async () => {
      const figures = await runFaultSuite({
        cliPath,
        size: SMALL_SIZE,
        apis: [api],
        seed: 7,
        replanEachStep: false,
      });
      const table = formatFigures(figures);
      expect(figures.map((f) => f.step)).toHaveLength(4);
      for (const f of figures) {
        expect(f.duplicates, table).toBe(0);
        expect(f.detail, table).toBeUndefined();
        expect(stepPassed(f), `${f.step}\n${table}\n${(f.failures ?? []).join('\n')}`).toBe(true);
      }
      const [round1, round2, broken, rerun] = figures;
      expect(round1?.operations).toBeGreaterThanOrEqual(50);
      expect(round2?.operations).toBeGreaterThan(0);
      // The faults really happened and were retried, and the report counted them.
      expect((round1?.faultsInjected ?? 0) + (round2?.faultsInjected ?? 0)).toBeGreaterThan(0);
      expect((round1?.retries ?? 0) + (round2?.retries ?? 0)).toBeGreaterThan(0);
      expect(broken?.retries).toBeGreaterThan(0);
      expect(rerun?.retries).toBe(0);
    });
  }
});
