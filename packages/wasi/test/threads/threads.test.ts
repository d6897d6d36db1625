import { Machine, Trap } from '@mvvm/interpreter';
import { WABT_FEATURES, assemble, loadWabt } from '../../../interpreter/test/helpers/wat';
import { WASI, WasiThreads, isThreaded } from '../../src';
import { THREAD_CASES, ThreadCase, mutexCounter, parallelSum, prodCons, runV8Threads, threadProgram, threadsWat } from './programs';

async function runOurs(c: ThreadCase, quantum?: number): Promise<{ stdout: string; code: number; threads: number; program: WasiThreads }> {
  const wasi = new WASI({ args: [c.name, ...c.args] });
  const program = await WasiThreads.start(Machine.compile(threadProgram(c.name)), wasi, { quantum });
  const code = await program.run();
  return { stdout: new TextDecoder().decode(wasi.stdout!.bytes()), code, threads: program.group.threads.length, program };
}

describe('wasi-threads programs on the interpreter (a ThreadGroup)', () => {
  it.each(THREAD_CASES.map((c) => [`${c.name} ${c.args.join(' ')}`, c] as const))('%s: the output of V8 with worker threads', async (_, c) => {
    const v8 = runV8Threads(c.name, c.args);
    const ours = await runOurs(c);
    expect(ours.stdout).toBe(v8.stdout);
    expect(ours.stdout).toBe(c.expected);
    expect(ours.code).toBe(v8.code);
  });

  test('every thread is an instance of its own: main + one per thread-spawn, ids in spawn order', async () => {
    const c = THREAD_CASES.find((x) => x.name === 'prod_cons')!;
    const ours = await runOurs(c);
    const [producers, consumers] = c.args.map(Number);
    expect(ours.threads).toBe(1 + producers + consumers);
    const machines = ours.program.group.threads.map((t) => t.machine);
    expect(new Set(machines.map((m) => m.store)).size).toBe(machines.length);
    // each has its own __stack_pointer (global 0, its low word first): the spawned ones moved it to their own stacks
    const sps = machines.map((m) => m.store.globalWords[0]);
    expect(new Set(sps).size).toBe(machines.length);
    expect(machines.every((m) => m.memory === machines[0].memory)).toBe(true);
  });

  test.each([1, 7, 100, 1000])('the result does not depend on the quantum (%i instructions a turn)', async (quantum) => {
    for (const c of [parallelSum(3, 3000), mutexCounter(3, 200, 'futex'), mutexCounter(2, 100, 'spin'), prodCons(2, 2, 200, 1)]) {
      const ours = await runOurs(c, quantum);
      expect(ours.stdout).toBe(c.expected);
    }
  });

  test('a run is reproducible: the same quantum gives the same instruction counts per thread', async () => {
    const c = THREAD_CASES.find((x) => x.name === 'mutex_counter')!;
    const a = await runOurs(c, 50);
    const b = await runOurs(c, 50);
    const counts = (r: typeof a) => r.program.group.threads.map((t) => t.machine.instructionCount);
    expect(counts(a)).toEqual(counts(b));
    const other = await runOurs(c, 51);
    expect(counts(other)).not.toEqual(counts(a)); // the interleaving did change
  });

  test('isThreaded tells wasi-threads modules from others', () => {
    expect(isThreaded(Machine.compile(threadProgram('parallel_sum')).module)).toBe(true);
  });
});

describe('the end of a threaded program, and thread-spawn', () => {
  async function program(start: string, maxThreads?: number): Promise<WasiThreads> {
    const bytes = assemble(await loadWabt(), threadsWat(start), { ...WABT_FEATURES, threads: true });
    return WasiThreads.start(Machine.compile(bytes), new WASI(), { quantum: 50, maxThreads });
  }
  const word = (p: WasiThreads, at: number) => new DataView(p.main.memory!.buffer).getInt32(at, true);

  test('proc_exit in a spawned thread ends every thread with its code', async () => {
    const p = await program('(drop (call $spawn (i32.const 2))) (call $wait) (call $exit (i32.const 0))');
    expect(await p.run()).toBe(7);
    expect(p.outcome).toEqual({ exitCode: 7 });
    expect(p.group.status(0)).toBe('waiting'); // main never went on
    expect(p.wasi.exitCode).toBe(7);
  });

  test('a trap in a spawned thread ends the program with that trap, naming the thread', async () => {
    const p = await program('(drop (call $spawn (i32.const 1))) (call $wait)');
    await expect(p.run()).rejects.toThrow(new Trap('unreachable'));
    expect(p.outcome).toMatchObject({ thread: 1 });
  });

  test('_start returning ends the program although another thread still runs', async () => {
    const p = await program('(drop (call $spawn (i32.const 3)))');
    expect(await p.run()).toBe(0);
    expect(p.group.status(1)).toBe('running'); // the spinning thread was left, not waited for
  });

  test('a spawned thread spawns another; tids are 1, 2, ... in spawn order', async () => {
    const p = await program('(drop (call $spawn (i32.const 4))) (call $wait) (call $exit (i32.const 0))');
    expect(await p.run()).toBe(0);
    expect(p.group.threads).toHaveLength(3);
    expect([word(p, 20), word(p, 24)]).toEqual([1, 2]);
  });

  test('thread-spawn beyond the thread limit returns -EAGAIN', async () => {
    const p = await program(
      `(loop $more (local.set $r (call $spawn (i32.const 6))) (br_if $more (i32.gt_s (local.get $r) (i32.const 0))))
       (i32.store (i32.const 4) (local.get $r)) (call $exit (i32.const 3))`,
      4,
    );
    expect(await p.run()).toBe(3);
    expect(word(p, 4)).toBe(-6);
    expect(p.group.threads).toHaveLength(4);
  });
});
