/**
 * Preloaded into a measured child (`node --import rusage-hook.js …`): when the process exits it
 * writes its own `process.resourceUsage()` (getrusage of the whole process: CPU of every thread and
 * the peak resident set) to the file named by ECFENCE_BENCH_RUSAGE_FILE. Node cannot read a child's
 * rusage from outside, and this works wherever Node does, unlike `/usr/bin/time`.
 */
import { writeFileSync } from 'node:fs';

const out = process.env['ECFENCE_BENCH_RUSAGE_FILE'];
if (out !== undefined && out !== '') {
  process.on('exit', () => {
    const u = process.resourceUsage();
    writeFileSync(
      out,
      JSON.stringify({ userUs: u.userCPUTime, systemUs: u.systemCPUTime, maxRssKb: u.maxRSS }),
    );
  });
}
