/**
 * The threaded test programs (programs/threads, built for wasm32-wasi-threads by its
 * build.sh), the exact output each must print (computed here, independently of the C
 * code), and the V8 reference that runs them on worker_threads (v8-threads.mjs).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const THREAD_PROGRAMS = path.join(__dirname, '..', 'programs', 'threads');
const V8_RUNNER = path.join(__dirname, 'v8-threads.mjs');

export function threadProgramPath(name: string): string {
  return path.join(THREAD_PROGRAMS, `${name}.wasm`);
}

export function threadProgram(name: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(fs.readFileSync(threadProgramPath(name)));
}

export interface ProgramRun {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a threaded program with V8 and worker threads (a child process: its stdout is the program's). */
export function runV8Threads(name: string, args: string[]): ProgramRun {
  const r = spawnSync(process.execPath, [V8_RUNNER, threadProgramPath(name), ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout, stderr: r.stderr, code: r.status ?? -1 };
}

/** A program with its arguments and the output it must print. */
export interface ThreadCase {
  name: string;
  args: string[];
  expected: string;
}

export function parallelSum(threads: number, n: number): ThreadCase {
  let x = 12345;
  let sum = 0;
  let max = 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const v = (x >>> 8) & 0xfffff;
    sum += v;
    if (v > max) max = v;
  }
  let chunks = 0;
  for (let t = 0; t < threads; t++) {
    const len = Math.floor((n * (t + 1)) / threads) - Math.floor((n * t) / threads);
    chunks += Math.ceil(len / 500);
  }
  return {
    name: 'parallel_sum',
    args: [String(threads), String(n)],
    expected:
      `threads ${threads} started ${threads}, items ${n}\n` +
      `sum ${sum} (sequential ${sum})\nchunks ${chunks} (expected ${chunks})\nmax ${max} (sequential ${max})\nok\n`,
  };
}

export function mutexCounter(threads: number, increments: number, lock: 'futex' | 'spin'): ThreadCase {
  const total = threads * increments;
  return {
    name: 'mutex_counter',
    args: [String(threads), String(increments), lock],
    expected:
      `${lock === 'spin' ? 'spinlock' : 'futex mutex'}, threads ${threads}, increments ${increments}\n` +
      `counter ${total} (expected ${total}, per-thread total ${total})\nok\n`,
  };
}

const M64 = (1n << 64n) - 1n;
function mix(v: bigint): bigint {
  let x = v ^ (v >> 31n);
  x = (x * 0x9e3779b97f4a7c15n) & M64;
  return x ^ (x >> 29n);
}

export function prodCons(producers: number, consumers: number, items: number, slots: number): ThreadCase {
  let sum = 0n;
  let hash = 0n;
  for (let p = 0; p < producers; p++) {
    for (let i = 1; i <= items; i++) {
      const v = BigInt((p + 1) * 1000000 + i);
      sum += v;
      hash = (hash + mix(v)) & M64;
    }
  }
  const h = hash.toString(16).padStart(16, '0');
  return {
    name: 'prod_cons',
    args: [String(producers), String(consumers), String(items), String(slots)],
    expected:
      `producers ${producers}, consumers ${consumers}, slots ${slots}\n` +
      `items ${producers * items} (expected ${producers * items})\nsum ${sum} (expected ${sum})\nchecksum ${h} (expected ${h})\nok\n`,
  };
}

/** The cases the tests run: each program, with a few shapes (one slot: every put/take waits). */
export const THREAD_CASES: ThreadCase[] = [
  parallelSum(4, 100000),
  parallelSum(3, 20000),
  mutexCounter(4, 2000, 'futex'),
  mutexCounter(3, 1000, 'spin'),
  prodCons(2, 3, 3000, 8),
  prodCons(3, 2, 500, 1),
];

/**
 * A small wasi-threads module in text: `wasi_thread_start(tid, arg)` records its tid at
 * 16 + 4 * tid and then, by `arg`: 1 traps, 2 calls proc_exit(7), 3 spins forever, 4 spawns a
 * thread with arg 5, 5 sets the word at 0 and notifies it, anything else returns. `_start`
 * runs `start` (WAT instructions; `$wait` waits until the word at 0 is set).
 */
export function threadsWat(start: string): string {
  return `(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (i32.atomic.store (i32.add (i32.const 16) (i32.mul (local.get $tid) (i32.const 4))) (local.get $tid))
    (if (i32.eq (local.get $arg) (i32.const 1)) (then unreachable))
    (if (i32.eq (local.get $arg) (i32.const 2)) (then (call $exit (i32.const 7))))
    (if (i32.eq (local.get $arg) (i32.const 3)) (then (loop $l (br $l))))
    (if (i32.eq (local.get $arg) (i32.const 4)) (then (drop (call $spawn (i32.const 5)))))
    (if (i32.eq (local.get $arg) (i32.const 5)) (then
      (i32.atomic.store (i32.const 0) (i32.const 1))
      (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))))
  (func $wait
    (loop $w (if (i32.eqz (i32.atomic.load (i32.const 0))) (then
      (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))) (br $w)))))
  (func (export "_start") (local $r i32) ${start}))`;
}
