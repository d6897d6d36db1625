import { Machine } from '@mvvm/interpreter';
import { WASI, WasiThreads, isThreaded } from '../../src';
import { THREAD_CASES, ThreadCase, mutexCounter, parallelSum, prodCons, runV8Threads, threadProgram } from './programs';

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
