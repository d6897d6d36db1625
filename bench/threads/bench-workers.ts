/**
 * Threads on workers against the deterministic group: wall time of the wasi-threads test
 * programs (packages/wasi/test/programs/threads) run by WasiThreads (every thread on this
 * JS thread) and by runOnWorkers (each on a worker thread, one SharedArrayBuffer memory),
 * both with the JS tier, and by V8 with worker threads; prints the ratio group/workers
 * (> 1: the workers are faster). Medians of --reps runs (default 3). The machine's cores
 * bound the speed-up: `os.availableParallelism()` is printed with the figures.
 *
 *   npx tsx bench/threads/bench-workers.ts [--reps=N]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiThreads, runOnWorkers } from '@mvvm/wasi/node';

const PROGRAMS = join(__dirname, '..', '..', 'packages', 'wasi', 'test', 'programs', 'threads');
const V8 = join(__dirname, '..', '..', 'packages', 'wasi', 'test', 'threads', 'v8-threads.mjs');
const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 3);

const cases: Array<[string, string[]]> = [
  ['parallel_sum', ['1', '3000000']],
  ['parallel_sum', ['2', '3000000']],
  ['parallel_sum', ['4', '3000000']],
  ['mutex_counter', ['2', '20000', 'futex']],
  ['prod_cons', ['2', '2', '20000', '64']],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function time(f: () => Promise<string>): Promise<{ ms: number; out: string }> {
  const t0 = performance.now();
  const out = await f();
  return { ms: performance.now() - t0, out };
}

async function main(): Promise<void> {
  console.log(`cores ${os.availableParallelism?.() ?? os.cpus().length}, reps ${reps}`);
  console.log('program                          group ms  workers ms  V8 ms  group/workers');
  for (const [name, args] of cases) {
    const bytes = new Uint8Array(readFileSync(join(PROGRAMS, `${name}.wasm`)));
    const text = (w: WASI) => new TextDecoder().decode(w.stdout!.bytes());
    const group: number[] = [];
    const workers: number[] = [];
    const v8: number[] = [];
    let outs = new Set<string>();
    for (let r = 0; r < reps; r++) {
      const g = await time(async () => {
        const w = new WASI({ args: [name, ...args] });
        await (await WasiThreads.start(Machine.compile(bytes), w)).run();
        return text(w);
      });
      const k = await time(async () => {
        const w = new WASI({ args: [name, ...args] });
        await runOnWorkers(bytes, w);
        return text(w);
      });
      const v = await time(async () => spawnSync(process.execPath, [V8, join(PROGRAMS, `${name}.wasm`), ...args], { encoding: 'utf8' }).stdout);
      group.push(g.ms);
      workers.push(k.ms);
      v8.push(v.ms);
      outs = new Set([...outs, g.out, k.out, v.out]);
    }
    if (outs.size !== 1) throw new Error(`${name} ${args.join(' ')}: the outputs differ`);
    const label = `${name} ${args.join(' ')}`.padEnd(32);
    console.log(`${label} ${median(group).toFixed(0).padStart(8)}  ${median(workers).toFixed(0).padStart(10)}  ${median(v8).toFixed(0).padStart(5)}  ${(median(group) / median(workers)).toFixed(2).padStart(13)}`);
  }
}

void main();
