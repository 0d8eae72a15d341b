import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { makeProject, runCli } from '../support/cli.js';

describe('ecfence metadata', () => {
  let emulator: Emulator;
  let dir: string;
  const env = { EC_API_KEY: 'metadata-test-key' };

  beforeAll(async () => {
    emulator = await startEmulator({ flavor: 'cloud', port: 0 });
    dir = makeProject({
      'policies/README.md': 'no policies yet\n',
      'ecfence.yaml': `environments:\n  sls:\n    api: serverless\n    endpoint: ${emulator.url}\n  hosted:\n    api: ess\n    endpoint: ${emulator.url}\n`,
    });
  });
  afterAll(async () => {
    await emulator.close();
  });

  it('prints the PrivateLink service of a region as a table', async () => {
    const r = await runCli(['metadata', '--env', 'sls', '--region', 'aws-us-east-1'], { cwd: dir, env });
    expect(r.code).toBe(0);
    const [header, row, extra] = r.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^REGION\s+CSP\s+SERVICE NAME\s+HOSTED ZONE DOMAIN\s+AVAILABILITY ZONES$/);
    expect(row).toMatch(/^aws-us-east-1\s+aws\s+com\.amazonaws\.vpce\.\S+/);
    expect(extra).toBeUndefined();
  });

  it('filters by cloud provider and prints JSON', async () => {
    const r = await runCli(['metadata', '--env', 'sls', '--csp', 'azure', '--format', 'json'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { regions: { region: string; csp: string }[] };
    expect(body.regions.length).toBeGreaterThan(0);
    expect(body.regions.every((x) => x.csp === 'azure')).toBe(true);
  });

  it('says so when nothing matches, and refuses non-serverless environments', async () => {
    const none = await runCli(['metadata', '--env', 'sls', '--region', 'mars-north-1'], { cwd: dir, env });
    expect(none).toMatchObject({ code: 0, stdout: 'No private connectivity metadata matches.\n' });
    const typo = await runCli(['metadata', '--env', 'sls', '--region', 'aws-us-east1'], { cwd: dir, env });
    expect(typo.stderr).toContain(
      "No private connectivity metadata for region 'aws-us-east1'; did you mean 'aws-us-east-1'?",
    );
    const ess = await runCli(['metadata', '--env', 'hosted'], { cwd: dir, env });
    expect(ess.code).toBe(3);
    expect(ess.stderr).toContain('serves no private connectivity metadata');
    const bad = await runCli(['metadata', '--env', 'sls', '--csp', 'ibm'], { cwd: dir, env });
    expect(bad.code).toBe(3);
  });
});
