/**
 * `node dist/bench/emulator-fleet-main.js JOB.json`: many emulators, each an independent server on
 * its own port, in ONE process apart from the one measured (a hundred processes would cost the
 * machine more than the CLI under test). Prints one line, `{"urls": […]}`, once every server
 * listens; closes them all on SIGTERM. Each server answers `/_emulator/requests` as usual.
 */
import { readFileSync } from 'node:fs';
import { startEmulator, type Emulator, type FaultConfig, type SeedData } from '../src/emulator/index.js';

export interface FleetJob {
  servers: { flavor: 'cloud' | 'ece'; seed: SeedData; faults: FaultConfig }[];
}

async function main(): Promise<void> {
  const job = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as FleetJob;
  const emulators: Emulator[] = [];
  for (const server of job.servers) {
    emulators.push(
      await startEmulator({ flavor: server.flavor, port: 0, seed: server.seed, faults: server.faults }),
    );
  }
  process.stdout.write(`${JSON.stringify({ urls: emulators.map((e) => e.url) })}\n`);
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  await Promise.all(emulators.map((e) => e.close()));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
