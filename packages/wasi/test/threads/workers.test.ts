import { Machine, Trap } from '@mvvm/interpreter';
import type { Worker } from 'node:worker_threads';
import { WABT_FEATURES, assemble, loadWabt } from '../../../interpreter/test/helpers/wat';
import { WASI, WasiThreads } from '../../src';
import { runOnWorkers } from '../../src/node';
import type { WorkerThreadsOptions, WorkersOutcome } from '../../src/node';
import { THREAD_CASES, runV8Threads, threadProgram, threadsWat } from './programs';

// wasi-threads programs with every thread on a worker thread and a SharedArrayBuffer memory
// (worker-threads.ts). The workers load the built package (npm test builds it first).

/** Runs on workers; every worker it created must be gone once it settles. */
async function onWorkers(bytes: Uint8Array, wasi: WASI, options: WorkerThreadsOptions = {}): Promise<WorkersOutcome> {
  const created: Worker[] = [];
  const o = await runOnWorkers(bytes, wasi, { ...options, onWorker: (w) => created.push(w) });
  expect(created.length).toBeGreaterThan(0);
  expect(created.length).toBeLessThanOrEqual(o.threads); // a thread spawned just before the end may not have started
  expect(created.map((w) => w.threadId)).toEqual(created.map(() => -1)); // terminated or ended
  return o;
}

const stdout = (wasi: WASI) => new TextDecoder().decode(wasi.stdout!.bytes());

describe('wasi-threads programs on worker threads (runOnWorkers)', () => {
  it.each(THREAD_CASES.map((c) => [`${c.name} ${c.args.join(' ')}`, c] as const))('%s: the output of V8 with worker threads and of the deterministic group', async (_, c) => {
    const wasi = new WASI({ args: [c.name, ...c.args] });
    const o = await onWorkers(threadProgram(c.name), wasi);
    expect(o).toMatchObject({ exitCode: 0 });
    expect(stdout(wasi)).toBe(c.expected);
    const v8 = runV8Threads(c.name, c.args);
    expect(stdout(wasi)).toBe(v8.stdout);
    const groupWasi = new WASI({ args: [c.name, ...c.args] });
    const group = await WasiThreads.start(Machine.compile(threadProgram(c.name)), groupWasi);
    expect(await group.run()).toBe(0);
    expect(stdout(wasi)).toBe(stdout(groupWasi));
    expect(o.threads).toBe(group.group.threads.length);
  });

  test('the interpreter only (no JS tier) gives the same output', async () => {
    const c = THREAD_CASES.find((x) => x.name === 'prod_cons')!;
    const wasi = new WASI({ args: [c.name, ...c.args] });
    expect(await onWorkers(threadProgram(c.name), wasi, { tier: 'interpreter' })).toMatchObject({ exitCode: 0 });
    expect(stdout(wasi)).toBe(c.expected);
  });
});

describe('atomics on a SharedArrayBuffer across workers', () => {
  const T = 4;
  const N = 20000;
  // Every thread does N rounds of: i32 add at 0, i64 add at 8, 16-bit add at 16, an i32
  // compare-exchange loop at 24, an i64 compare-exchange loop at 40; then counts itself done
  // at 32 and notifies. _start spawns the others, works too, waits until all are done.
  const wat = `(module
  (import "env" "memory" (memory 1 1 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func $work (local $i i32) (local $old i32) (local $old64 i64)
    (loop $round
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (drop (i64.atomic.rmw.add (i32.const 8) (i64.const 0x100000001)))
      (drop (i32.atomic.rmw16.add_u (i32.const 16) (i32.const 1)))
      (block $done (loop $retry
        (local.set $old (i32.atomic.load (i32.const 24)))
        (br_if $done (i32.eq (i32.atomic.rmw.cmpxchg (i32.const 24) (local.get $old) (i32.add (local.get $old) (i32.const 1))) (local.get $old)))
        (br $retry)))
      (block $done64 (loop $retry64
        (local.set $old64 (i64.atomic.load (i32.const 40)))
        (br_if $done64 (i64.eq (i64.atomic.rmw.cmpxchg (i32.const 40) (local.get $old64) (i64.add (local.get $old64) (i64.const 0x100000001))) (local.get $old64)))
        (br $retry64)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $i) (i32.const ${N}))))
    (drop (i32.atomic.rmw.add (i32.const 32) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 32) (i32.const -1))))
  (func (export "wasi_thread_start") (param i32 i32) (call $work))
  (func (export "_start") (local $k i32) (local $n i32)
    (loop $more
      (drop (call $spawn (i32.const 0)))
      (local.set $k (i32.add (local.get $k) (i32.const 1)))
      (br_if $more (i32.lt_u (local.get $k) (i32.const ${T - 1}))))
    (call $work)
    (loop $w
      (local.set $n (i32.atomic.load (i32.const 32)))
      (if (i32.lt_u (local.get $n) (i32.const ${T})) (then
        (drop (memory.atomic.wait32 (i32.const 32) (local.get $n) (i64.const -1)))
        (br $w))))
    (call $exit (i32.const 0))))`;

  const totals = (m: Uint8Array) => {
    const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
    return { add: dv.getInt32(0, true), add64: dv.getBigUint64(8, true), add16: dv.getUint32(16, true), cas: dv.getInt32(24, true), done: dv.getInt32(32, true), cas64: dv.getBigUint64(40, true) };
  };
  const total = T * N;
  const expected = { add: total, add64: BigInt(total) * 0x100000001n, add16: total % 65536, cas: total, done: T, cas64: BigInt(total) * 0x100000001n };

  test(`${T} workers, ${N} rounds each: exact totals (as the deterministic group)`, async () => {
    const bytes = assemble(await loadWabt(), wat, { ...WABT_FEATURES, threads: true });
    const o = await onWorkers(bytes, new WASI());
    expect(o).toMatchObject({ exitCode: 0, threads: T });
    expect(totals(o.memory)).toEqual(expected);
    const group = await WasiThreads.start(Machine.compile(bytes), new WASI(), { quantum: 997 });
    expect(await group.run()).toBe(0);
    expect(totals(group.main.memory!.u8)).toEqual(expected);
  });
});

describe('the end of a program on workers, thread-spawn, a shared memory grown by another thread', () => {
  async function program(start: string, maxThreads?: number): Promise<WorkersOutcome> {
    const bytes = assemble(await loadWabt(), threadsWat(start), { ...WABT_FEATURES, threads: true });
    return onWorkers(bytes, new WASI(), { maxThreads });
  }
  const word = (o: WorkersOutcome, at: number) => new DataView(o.memory.buffer, o.memory.byteOffset).getInt32(at, true);

  test('proc_exit in a spawned thread ends every thread with its code', async () => {
    expect(await program('(drop (call $spawn (i32.const 2))) (call $wait) (call $exit (i32.const 0))')).toMatchObject({ exitCode: 7 });
  });

  test('a trap in a spawned thread ends the program with that trap, naming the thread', async () => {
    const o = await program('(drop (call $spawn (i32.const 1))) (call $wait)');
    expect(o).toMatchObject({ thread: 1 });
    expect((o as { trap: unknown }).trap).toEqual(new Trap('unreachable'));
  });

  test('_start returning ends the program although another thread spins forever (its worker is terminated)', async () => {
    expect(await program('(drop (call $spawn (i32.const 3)))')).toMatchObject({ exitCode: 0, threads: 2 });
  });

  test('a spawned thread spawns another; tids are 1, 2', async () => {
    const o = await program('(drop (call $spawn (i32.const 4))) (call $wait) (call $exit (i32.const 0))');
    expect(o).toMatchObject({ exitCode: 0, threads: 3 });
    expect(word(o, 20)).toBe(1);
    expect(word(o, 24)).toBe(2);
  });

  test('thread-spawn beyond the thread limit returns -EAGAIN', async () => {
    const o = await program(
      `(loop $more (local.set $r (call $spawn (i32.const 6))) (br_if $more (i32.gt_s (local.get $r) (i32.const 0))))
       (i32.store (i32.const 4) (local.get $r)) (call $exit (i32.const 3))`,
      4,
    );
    expect(o).toMatchObject({ exitCode: 3, threads: 4 });
    expect(word(o, 4)).toBe(-6);
  });

  test('memory grown by one thread: another sees it (memory.size, an access beyond its old size)', async () => {
    // Thread 1 grows the memory by 2 pages and stores 1 at 0; main, waiting for it, then
    // writes and reads at the end of the new memory and exits with memory.size + the value read.
    const wat = `(module
  (import "env" "memory" (memory 1 4 shared))
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (func (export "wasi_thread_start") (param i32 i32)
    (drop (memory.grow (i32.const 2)))
    (i32.atomic.store (i32.const 0) (i32.const 1))
    (drop (memory.atomic.notify (i32.const 0) (i32.const 1))))
  (func (export "_start")
    (drop (call $spawn (i32.const 0)))
    (loop $w (if (i32.eqz (i32.atomic.load (i32.const 0))) (then
      (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1))) (br $w))))
    (i32.store (i32.const ${3 * 65536 - 4}) (i32.const 40))
    (call $exit (i32.add (memory.size) (i32.load (i32.const ${3 * 65536 - 4}))))))`;
    const bytes = assemble(await loadWabt(), wat, { ...WABT_FEATURES, threads: true });
    const o = await onWorkers(bytes, new WASI());
    expect(o).toMatchObject({ exitCode: 43 });
    expect(o.memory.byteLength).toBe(3 * 65536);
  });
});
