/**
 * Threads on workers against the deterministic group: wall time of the wasi-threads test
 * programs (packages/wasi/test/programs/threads) run by WasiThreads (every thread on this
 * JS thread) and by runOnWorkers (each on a worker thread, one SharedArrayBuffer memory),
 * both with the JS tier, and by V8 with worker threads; prints the ratio group/workers
 * (> 1: the workers are faster). Medians of --reps runs (default 3). The machine's cores
 * bound the speed-up: `os.availableParallelism()` is printed with the figures.
 *
 *   npx tsx bench/threads/bench-workers.ts [--reps=N] [--rounds=N (the kernel's steps in all, default 4e8)]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { WASI, WasiThreads } from '@mvvm/wasi';
import { runOnWorkers } from '@mvvm/wasi/node';
import { WABT_FEATURES, assemble, loadWabt } from '../../packages/interpreter/test/helpers/wat';

const PROGRAMS = join(__dirname, '..', '..', 'packages', 'wasi', 'test', 'programs', 'threads');
const V8 = join(__dirname, '..', '..', 'packages', 'wasi', 'test', 'threads', 'v8-threads.mjs');
const reps = Number(process.argv.find((a) => a.startsWith('--reps='))?.slice(7) ?? 3);

const cases: Array<[string, string[]]> = [
  ['parallel_sum', ['2', '262144']],
  ['mutex_counter', ['2', '20000', 'futex']],
  ['prod_cons', ['2', '2', '20000', '64']],
];

/**
 * A compute kernel with no sharing in its loop (the JS tier compiles it): `_start` spawns
 * T - 1 threads, every thread runs ROUNDS xorshift steps and adds its result into one word
 * (i32.atomic.rmw.add), counts itself done and notifies; `_start` waits for all and exits
 * with the low byte of the sum. The C programs above synchronise much more than they compute.
 */
function kernel(threads: number, rounds: number): string {
  return `(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $work (param $seed i32) (local $x i32) (local $i i32)
    (local.set $x (i32.add (local.get $seed) (i32.const 0x9e3779b9)))
    (loop $l
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 13))))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 17))))
      (local.set $x (i32.xor (local.get $x) (i32.shl (local.get $x) (i32.const 5))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${rounds}))))
    (call $done (local.get $x)))
  (func $done (param $x i32)
    (drop (i32.atomic.rmw.add (i32.const 0) (local.get $x)))
    (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 4) (i32.const 1))))
  (func (export "wasi_thread_start") (param $tid i32) (param i32) (call $work (local.get $tid)))
  (func (export "_start") (local $k i32) (local $n i32)
    (local.set $k (i32.const 1))
    (block $spawned (loop $more
      (br_if $spawned (i32.ge_u (local.get $k) (i32.const ${threads})))
      (drop (call $spawn (i32.const 0)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br $more)))
    (call $work (i32.const 0))
    (loop $w
      (local.set $n (i32.atomic.load (i32.const 4)))
      (if (i32.lt_u (local.get $n) (i32.const ${threads})) (then
        (drop (memory.atomic.wait32 (i32.const 4) (local.get $n) (i64.const -1))) (br $w))))
    (call $exit (i32.and (i32.atomic.load (i32.const 0)) (i32.const 255)))))`;
}

/**
 * The group's slice between two yields to the event loop: WasiThreads.run's default (1 M)
 * yields with setTimeout(0), at least 1 ms each, which alone costs the group ~1 s per 10^9
 * instructions; a long slice measures the interpreter.
 */
const SLICE = 100_000_000;
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
        await (await WasiThreads.start(Machine.compile(bytes), w)).run(SLICE);
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
    row(`${name} ${args.join(' ')}`, group, workers, v8);
  }
  const wabt = await loadWabt();
  const rounds = Number(process.argv.find((a) => a.startsWith('--rounds='))?.slice(9) ?? 400_000_000);
  for (const threads of [1, 2, 4]) {
    // the same work in all: `rounds` steps split over the threads
    const bytes = assemble(wabt, kernel(threads, Math.floor(rounds / threads)), { ...WABT_FEATURES, threads: true });
    const file = join(mkdtempSync(join(os.tmpdir(), 'bench-workers-')), 'kernel.wasm');
    writeFileSync(file, bytes);
    const group: number[] = [];
    const workers: number[] = [];
    const v8: number[] = [];
    const codes = new Set<number>();
    for (let r = 0; r < reps; r++) {
      let t0 = performance.now();
      codes.add(await (await WasiThreads.start(Machine.compile(bytes), new WASI())).run(SLICE));
      group.push(performance.now() - t0);
      t0 = performance.now();
      const o = await runOnWorkers(bytes, new WASI());
      workers.push(performance.now() - t0);
      codes.add('exitCode' in o ? o.exitCode : -1);
      t0 = performance.now();
      codes.add(spawnSync(process.execPath, [V8, file]).status ?? -1);
      v8.push(performance.now() - t0);
    }
    if (codes.size !== 1) throw new Error(`kernel ${threads}: the results differ (${[...codes].join(', ')})`);
    row(`xorshift kernel, ${threads} thread(s)`, group, workers, v8);
  }
}

function row(label: string, group: number[], workers: number[], v8: number[]): void {
  console.log(`${label.padEnd(32)} ${median(group).toFixed(0).padStart(8)}  ${median(workers).toFixed(0).padStart(10)}  ${median(v8).toFixed(0).padStart(5)}  ${(median(group) / median(workers)).toFixed(2).padStart(13)}`);
}

void main();
