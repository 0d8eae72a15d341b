/**
 * Interrupted applies converge (issue 6 §3): `apply` runs as a child process against an emulator
 * with latency and is killed with SIGKILL right after its N-th committed write; `apply
 * --auto-approve` is then run again. Afterwards live state equals the YAML, no policy exists
 * twice, and — checked after every single committed write of both runs — no deployment that
 * had an ingress policy at the start was ever left with none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { pino } from 'pino';
import { describe, it } from 'vitest';
import { startEmulator, type Emulator, type SeedData } from '../../src/emulator/index.js';
import { countDuplicates } from '../../scripts/fault-scenario.js';
import { cliPath, makeProject, runCli } from '../support/cli.js';

const KEY = 'essu_interrupt_test_key_0123456789';
const AZ = 'azure-japaneast';
const AWS = 'aws-us-east-1';
const dep = (i: number): string => `d${String(i).padStart(31, '0')}`;
const LATENCY_MS = 25;

const seed: SeedData = {
  deployments: [
    ...[1, 2, 3, 4, 5, 8].map((i) => ({ id: dep(i), name: `az-${i}`, region: AZ })),
    ...[6, 7].map((i) => ({ id: dep(i), name: `aws-${i}`, region: AWS })),
  ],
  rulesets: [
    // Moved: d1–d3 go from old-office (pruned) to office (new).
    {
      name: 'old-office',
      region: AZ,
      type: 'ip',
      rules: [{ source: '10.1.0.0/16' }],
      associations: [dep(1), dep(2), dep(3)],
    },
    // Updated in place.
    {
      name: 'vpn',
      region: AZ,
      type: 'ip',
      rules: [{ source: '10.2.0.0/16' }],
      associations: [dep(4), dep(5)],
    },
    // Type change ip → vpce: a replacement; it is d6's only policy.
    {
      name: 'app-link',
      region: AWS,
      type: 'ip',
      rules: [{ source: '10.3.0.0/16' }],
      associations: [dep(6), dep(7)],
    },
    // Pruned; d8 is covered by office first.
    {
      name: 'partner',
      region: AZ,
      type: 'ip',
      rules: [{ source: '10.4.0.0/16' }],
      associations: [dep(8), dep(4)],
    },
  ],
};

const extras = [1, 2, 3, 4, 5, 6];
const files = (url: string): Record<string, string> => ({
  // The percentage guards count live managed policies, and the first run's creates push that count
  // past 10, so the rerun would (rightly) be refused; this test is about convergence, not guards.
  'ecfence.yaml': `environments:\n  prod:\n    api: ess\n    endpoint: ${url}\n    prune: true\nsafety:\n  max_delete_percent: 100\n  max_dissociate_percent: 100\n`,
  'policies/main.yaml': `environment: prod
policies:
  - name: office
    region: ${AZ}
    type: ip
    rules:
      - source: 10.10.0.0/16
  - name: vpn
    region: ${AZ}
    type: ip
    rules:
      - source: 10.2.0.0/16
      - source: 10.20.0.0/16
  - name: app-link
    region: ${AWS}
    type: vpce
    rules:
      - source: vpce-0a1b2c3d4e5f60718
${extras.map((i) => `  - name: extra-${i}\n    region: ${AZ}\n    type: ip\n    rules:\n      - source: 172.16.${i}.0/24\n`).join('')}associations:
  - deployment: ${dep(1)}
    policies: [office, extra-1, extra-2]
  - deployment: ${dep(2)}
    policies: [office, extra-3]
  - deployment: ${dep(3)}
    policies: [office, extra-4, extra-5]
  - deployment: ${dep(4)}
    policies: [vpn, extra-6]
  - deployment: ${dep(5)}
    policies: [vpn, extra-1]
  - deployment: ${dep(6)}
    policies: [app-link]
  - deployment: ${dep(7)}
    policies: [app-link]
  - deployment: ${dep(8)}
    policies: [office, extra-2]
`,
});

/** An emulator that calls `onWrite` synchronously right after each committed write. */
async function observedEmulator(
  onWrite: (emu: Emulator, entry: { method: string; path: string; status: number }) => void,
): Promise<Emulator> {
  const started: { emu?: Emulator } = {};
  // The emulator logs every answered request synchronously after committing it: a pino stream
  // sees each write before the next request is handled.
  const logger = pino(
    { level: 'debug' },
    {
      write(line: string) {
        const e = JSON.parse(line) as { msg?: string; method?: string; path?: string; status?: number };
        const emu = started.emu;
        if (e.msg !== 'emulator request' || e.method === 'GET' || emu === undefined) return;
        if ((e.status ?? 0) >= 200 && (e.status ?? 0) < 300) {
          onWrite(emu, { method: e.method ?? '', path: e.path ?? '', status: e.status ?? 0 });
        }
      },
    },
  );
  started.emu = await startEmulator({
    flavor: 'cloud',
    port: 0,
    seed,
    logger,
    faults: { latencyMs: LATENCY_MS },
  });
  return started.emu;
}

/** Deployments with no ingress policy attached. */
function unfiltered(emu: Emulator, among: readonly string[]): string[] {
  const state = emu.state();
  return among.filter(
    (d) => !state.rulesets.some((r) => r.type !== 'egress_firewall' && r.associations.includes(d)),
  );
}

function spawnApply(dir: string): { child: ChildProcess; exited: Promise<NodeJS.Signals | number | null> } {
  const child = spawn(process.execPath, [cliPath, 'apply', '--auto-approve'], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', NO_COLOR: '1', EC_API_KEY: KEY },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, exited };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.concurrent('interrupted apply (SIGKILL) converges on rerun', () => {
  // Kill points spread over the whole plan: creates, the replacement, associations, dissociations, deletes.
  it.for([2, 11, 21])('killed after %i committed writes', async (killAt, { expect }) => {
    const violations: string[] = [];
    const initiallyFiltered = [1, 2, 3, 4, 5, 6, 7, 8].map(dep);
    let writes = 0;
    let victim: ChildProcess | undefined;
    const emu = await observedEmulator((e, entry) => {
      writes += 1;
      if (writes === killAt) victim?.kill('SIGKILL');
      for (const d of unfiltered(e, initiallyFiltered))
        violations.push(`after write ${writes} (${entry.method} ${entry.path}): ${d} has no ingress policy`);
    });
    try {
      const dir = makeProject(files(emu.url));
      const first = spawnApply(dir);
      victim = first.child;
      expect(await first.exited).toBe('SIGKILL');
      // Let the requests the killed process had in flight land, as they would on a real server.
      await sleep(LATENCY_MS * 4);
      const killedAfter = writes;

      const rerun = await runCli(['apply', '--auto-approve'], { cwd: dir, env: { EC_API_KEY: KEY } });
      expect(rerun.stdout).toContain('Converged: live state matches the configuration.');
      expect(rerun.code).toBe(0);
      expect(writes).toBeGreaterThan(killedAfter);
      expect(countDuplicates(emu)).toBe(0);
      expect(violations).toEqual([]);

      const state = emu.state();
      expect(state.rulesets.map((r) => `${r.name}:${r.type}`).sort()).toEqual(
        ['app-link:vpce', 'office:ip', 'vpn:ip', ...extras.map((i) => `extra-${i}:ip`)].sort(),
      );
      expect(state.rulesets.find((r) => r.name === 'app-link')?.associations.sort()).toEqual([
        dep(6),
        dep(7),
      ]);
    } finally {
      victim?.kill('SIGKILL');
      await emu.close();
    }
  });
});
