/**
 * `npm run demo`: the main job end to end on the embedded emulator, no Elastic account needed.
 *
 * Starts a cloud emulator (ESS + Serverless) and an ECE emulator seeded with the deployments that
 * policies.example/ names and one policy nobody declared, then runs the real CLI: plan, apply,
 * plan again (no changes).
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type SeedData } from '../src/emulator/index.js';
import { paint, processIo, type Io } from '../src/cli/io.js';
import { run } from '../src/cli/run.js';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const examples = join(root, 'policies.example');

const cloudSeed: SeedData = {
  deployments: [
    { id: '5470a0010ebf437bb9294ea9fcba0ba0', name: 'prod-search', region: 'azure-japaneast' },
    { id: '8b3ed8d5a6c44a5c9f1c3a2ab51c2f10', name: 'prod-observability', region: 'azure-japaneast' },
    { id: 'c0ffee00c0ffee00c0ffee00c0ffee00', name: 'prod-us', region: 'aws-us-east-1' },
  ],
  rulesets: [
    {
      name: 'legacy-partner-access',
      region: 'azure-japaneast',
      type: 'ip',
      description: 'Created by hand in the console; nobody has declared it yet',
      include_by_default: false,
      rules: [{ source: '203.0.113.0/24', description: 'Partner NAT' }],
      associations: ['8b3ed8d5a6c44a5c9f1c3a2ab51c2f10'],
    },
  ],
  projects: [
    {
      type: 'elasticsearch',
      id: '0123456789abcdef0123456789abcdef',
      name: 'search-sls',
      region_id: 'aws-us-east-1',
    },
    {
      type: 'security',
      id: 'fedcba9876543210fedcba9876543210',
      name: 'siem-sls',
      region_id: 'aws-us-east-1',
    },
  ],
};

const eceSeed: SeedData = {
  deployments: [{ id: 'eceb0000000000000000000000000001', name: 'onprem-logs', region: 'ece-region' }],
};

/** A heading between the steps: bold on a terminal, plain text in a pipe or with NO_COLOR. */
function banner(io: Io, text: string): void {
  io.stdout(`\n${paint(io, 'bold', `━━ ${text} ━━`)}\n\n`);
}

async function main(): Promise<number> {
  const cloud = await startEmulator({ flavor: 'cloud', port: 0, seed: cloudSeed });
  const ece = await startEmulator({ flavor: 'ece', port: 0, seed: eceSeed });
  const dir = mkdtempSync(join(tmpdir(), 'ecfence-demo-'));
  try {
    // The example repository as committed, pointed at the emulators instead of Elastic Cloud. Its
    // policy files are copied beside the config: policy paths must stay in the config's directory.
    cpSync(join(examples, 'policies'), join(dir, 'policies'), { recursive: true });
    writeFileSync(
      join(dir, 'ecfence.yaml'),
      [
        'policies: [policies]',
        'environments:',
        '  hosted-prod:',
        '    api: ess',
        `    endpoint: ${cloud.url}`,
        '    api_key_env: EC_API_KEY',
        '  onprem:',
        '    api: ece',
        `    endpoint: ${ece.url}`,
        '    api_key_env: ECE_API_KEY',
        '  serverless:',
        '    api: serverless',
        `    endpoint: ${cloud.url}`,
        '    api_key_env: EC_API_KEY',
        '',
      ].join('\n'),
    );
    const io = {
      ...processIo(),
      cwd: dir,
      env: { ...process.env, EC_API_KEY: 'demo-key', ECE_API_KEY: 'demo-ece-key' },
    };

    banner(io, `emulators: cloud ${cloud.url}, ece ${ece.url}`);
    banner(io, 'ecfence validate');
    let code = await run(['validate'], io);
    if (code !== 0) return code;
    banner(io, 'ecfence plan');
    code = await run(['plan'], io);
    if (code !== 0) return code;
    banner(io, 'ecfence apply --auto-approve');
    code = await run(['apply', '--auto-approve'], io);
    if (code !== 0) return code;
    banner(io, 'ecfence plan --detailed-exitcode   (after apply: expect no changes, exit 0)');
    code = await run(['plan', '--detailed-exitcode'], io);
    io.stdout(`\nexit code ${code}\n`);
    if (code !== 0) return code;
    banner(io, 'ecfence metadata --env serverless --region aws-us-east-1   (PrivateLink details)');
    return await run(['metadata', '--env', 'serverless', '--region', 'aws-us-east-1'], io);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cloud.close();
    await ece.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
