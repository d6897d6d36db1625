/**
 * The scheduler section of `npm run bench` (run in its own process by bench/run-bench.ts,
 * or alone: `npx tsx bench/scheduler/bench-scheduler.ts [--seconds=5] [--reps=3]`).
 *
 * 1. The SystemMonitor's cost: the CPU time of one sample of this host's /proc and /sys
 *    (mean over 2,000), as a share of a 1 s interval; and a real run at a 1 s interval
 *    (--seconds), the whole process's CPU time over the wall time while only the monitor
 *    works (it includes the timer's own wake-ups).
 * 2. Time-slicing: the same CPU-bound task (test/programs/ticker.wasm) alone and as N
 *    copies in one WasmScheduler; aggregate instructions per second of N against one,
 *    and one in the scheduler against the task run straight through (no yields at all):
 *    the cost of slicing and yielding. Ratios, medians
 *    of --reps interleaved runs.
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Machine } from '@mvvm/interpreter';
import { WASI } from '@mvvm/wasi/node';
import { SystemMonitor, WasmScheduler } from '@mvvm/scheduler';

const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
const seconds = Number(option('seconds') ?? 5);
const reps = Number(option('reps') ?? 3);
const TICKER = join(__dirname, '..', '..', 'packages', 'scheduler', 'test', 'programs', 'ticker.wasm');
const ARGS = ['8', '30000000', '0']; // ~1.7 G instructions: start-up (translation, the JS tier's compile) is a small part
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function monitorCost(): Promise<void> {
  const m = new SystemMonitor();
  for (let i = 0; i < 100; i++) m.sample(); // warm up
  m.cpuMicros = 0;
  m.samples = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) m.sample();
  const perSample = m.cpuMicros / n;
  console.log(`  one sample: ${perSample.toFixed(1)} µs of CPU (mean of ${n}); at a 1 s interval that is ${(perSample / 10_000).toFixed(4)} % of one CPU`);
  const live = new SystemMonitor({ intervalMs: 1000 });
  const c0 = cpuMs();
  const t0 = performance.now();
  live.start(() => undefined);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  live.stop();
  const share = ((cpuMs() - c0) / (performance.now() - t0)) * 100;
  console.log(`  ${seconds} s at a 1 s interval: ${live.samples} samples, the whole process used ${share.toFixed(3)} % of one CPU (the framework claims 1-2 % for its monitor)`);
}

async function alonePlain(bytes: Uint8Array): Promise<number> {
  const wasi = new WASI({ args: ['ticker', ...ARGS], returnOnExit: true, stdout: () => undefined });
  const m = await Machine.instantiate(bytes, wasi.getImports());
  m.begin('_start', []);
  const t0 = performance.now();
  let r = m.step(Infinity); // straight through, no yields (the task never suspends: no sleeps)
  while (!r.done) {
    if (r.suspended) await r.until;
    r = m.step(Infinity);
  }
  const ms = performance.now() - t0;
  wasi.close();
  return m.instructionCount / ms;
}

async function scheduled(bytes: Uint8Array, n: number): Promise<number> {
  const s = new WasmScheduler({ log: () => undefined });
  const t0 = performance.now();
  const ids = await Promise.all(Array.from({ length: n }, () => s.launch({ module: bytes, name: 'ticker', args: ARGS, stdout: () => undefined })));
  const rows = await Promise.all(ids.map((id) => s.wait(id)));
  const ms = performance.now() - t0;
  s.close();
  return rows.reduce((a, r) => a + r.instructions, 0) / ms;
}

async function slicing(): Promise<void> {
  const bytes = new Uint8Array(readFileSync(TICKER));
  const ns = [1, 4, 16];
  const rates: Record<string, number[]> = { plain: [] };
  for (const n of ns) rates[n] = [];
  for (let r = 0; r < reps; r++) {
    rates.plain.push(await alonePlain(bytes));
    for (const n of ns) rates[n].push(await scheduled(bytes, n));
  }
  const one = median(rates[1]);
  console.log(`  one task alone in the scheduler: ${(one / 1000).toFixed(1)} M instructions/s; run straight through (Machine.step(Infinity), no yields): ${(median(rates.plain) / 1000).toFixed(1)} M/s (scheduler/plain ${(one / median(rates.plain)).toFixed(2)}x)`);
  for (const n of ns.slice(1)) console.log(`  ${String(n).padStart(2)} tasks time-sliced: aggregate ${(median(rates[n]) / 1000).toFixed(1)} M instructions/s, ${(median(rates[n]) / one).toFixed(2)}x one task alone`);
}

async function main(): Promise<void> {
  console.log('  -- monitor cost --');
  await monitorCost();
  console.log(`  -- time-slicing (ticker ${ARGS.join(' ')}, median of ${reps}) --`);
  await slicing();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
