'use strict';
// Preloaded (`node -r`) into a bench child process: at exit, writes the process's CPU time
// and peak RSS as JSON to the file named by MVVM_BENCH_USAGE (the bench reads it back).
// Peak RSS comes from /proc/self/status (VmHWM) where there is one: getrusage's maxRSS
// carries the parent's peak across fork and exec, which swamps a small child's.
const out = process.env.MVVM_BENCH_USAGE;
if (out) {
  const fs = require('fs');
  process.on('exit', () => {
    const u = process.resourceUsage();
    let maxRssKiB = u.maxRSS;
    try {
      const hwm = /VmHWM:\s*(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
      if (hwm) maxRssKiB = Number(hwm[1]);
    } catch {
      // not Linux: keep getrusage's figure
    }
    fs.writeFileSync(out, JSON.stringify({ userMs: u.userCPUTime / 1000, systemMs: u.systemCPUTime / 1000, maxRssKiB }));
  });
}
