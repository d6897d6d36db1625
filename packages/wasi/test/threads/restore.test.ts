/**
 * Snapshots of a running wasi-threads program: every thread, the shared memory once, the wait
 * queues and the WASI state, taken at many points with several threads alive (some blocked in
 * memory.atomic.wait), restored into new machines: the run finishes with the output of an
 * uninterrupted one, and follows the same interleaving (a waiting thread stays blocked until
 * the notify that woke it in the original run).
 */
import { GroupState, Machine, RestoreError } from '@mvvm/interpreter';
import { WASI, WasiThreads } from '../../src';
import type { WasiState } from '../../src';
import { ThreadCase, mutexCounter, prodCons, threadProgram } from './programs';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function started(c: ThreadCase, quantum: number): Promise<{ program: WasiThreads; wasi: WASI }> {
  const wasi = new WASI({ args: [c.name, ...c.args] });
  return { program: await WasiThreads.start(Machine.compile(threadProgram(c.name)), wasi, { quantum }), wasi };
}

/** Each thread's status after every step of `k` instructions, to the end: the run's trace. */
function trace(program: WasiThreads, k: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < 100_000 && program.outcome === null; i++) {
    program.step(k);
    out.push(program.group.threads.map((t) => t.machine.thread.status[0]).join(''));
  }
  return out;
}

function restored(c: ThreadCase, state: { group: GroupState; wasi: WasiState }): { program: WasiThreads; wasi: WASI } {
  const copy = structuredClone(state);
  const wasi = WASI.restore(copy.wasi);
  return { program: WasiThreads.restore(threadProgram(c.name), copy.group, wasi), wasi };
}

describe.each([
  ['producer/consumer, one slot', prodCons(2, 2, 150, 1), 97],
  ['futex mutex counter', mutexCounter(3, 120, 'futex'), 61],
])('%s', (_, c, quantum) => {
  let total: number;
  let fullTrace: string[];
  const STEP = 2_000;

  beforeAll(async () => {
    const { program, wasi } = await started(c, quantum);
    fullTrace = trace(program, STEP);
    expect(program.outcome).toEqual({ exitCode: 0 });
    expect(text(wasi.stdout!.bytes())).toBe(c.expected);
    total = program.instructionCount;
  });

  test('restored at 24 points with threads alive, each run ends with the uninterrupted output', async () => {
    let waitingSeen = 0;
    let pointsWithThreads = 0;
    for (let p = 1; p <= 24; p++) {
      const at = Math.floor((total * p) / 25);
      const { program, wasi } = await started(c, quantum);
      while (program.instructionCount < at && program.outcome === null) program.step(Math.min(STEP, at - program.instructionCount));
      const statuses = program.group.threads.map((t) => t.machine.thread.status);
      if (statuses.filter((s) => s === 'running' || s === 'waiting').length >= 3) pointsWithThreads++;
      waitingSeen += statuses.filter((s) => s === 'waiting').length;
      const before = text(wasi.stdout!.bytes());
      const r = restored(c, { group: program.snapshot(), wasi: wasi.state() });
      expect(r.program.group.threads.map((t) => t.machine.thread.status)).toEqual(statuses);
      expect(await r.program.run()).toBe(0);
      expect(before + text(r.wasi.stdout!.bytes())).toBe(c.expected);
      expect(r.program.instructionCount).toBe(total);
    }
    expect(pointsWithThreads).toBeGreaterThanOrEqual(20);
    expect(waitingSeen).toBeGreaterThan(0);
  });

  test('after a restore the threads go through the same statuses step by step: a waiting thread stays blocked until notified', async () => {
    const points = [3, 7, 12, 20].filter((p) => p < fullTrace.length);
    for (const p of points) {
      const { program, wasi } = await started(c, quantum);
      const head = trace1(program, STEP, p);
      const r = restored(c, { group: program.snapshot(), wasi: wasi.state() });
      const tail = trace(r.program, STEP);
      // 'w': waiting; a restored waiting thread wakes exactly when the original did.
      expect([...head, ...tail]).toEqual(fullTrace);
    }
  });
});

/** The first `n` entries of trace(). */
function trace1(program: WasiThreads, k: number, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n && program.outcome === null; i++) {
    program.step(k);
    out.push(program.group.threads.map((t) => t.machine.thread.status[0]).join(''));
  }
  return out;
}

test('a thread blocked in wait stays blocked after a restore until another thread notifies it', async () => {
  // One slot, one producer, one consumer: the consumer waits for every item.
  const c = prodCons(1, 1, 40, 1);
  const { program, wasi } = await started(c, 500);
  // Run until the consumer (thread 1) waits and the producer (thread 2) exists.
  for (let i = 0; i < 10_000; i++) {
    program.step(50);
    if (program.group.threads.length === 3 && program.group.status(1) === 'waiting') break;
  }
  expect(program.group.status(1)).toBe('waiting');
  const state = program.snapshot();
  expect(state.queues[0]).toContain(1);
  const r = restored(c, { group: state, wasi: wasi.state() });
  const consumer = r.program.group.threads[1].machine;
  const pcAt = consumer.thread.pc;
  const counted = consumer.instructionCount;
  // Until the producer notifies, the consumer does not run an instruction.
  let steps = 0;
  while (r.program.group.status(1) === 'waiting') {
    r.program.step(1);
    steps++;
    if (r.program.group.status(1) === 'waiting') {
      expect(consumer.instructionCount).toBe(counted);
      expect(consumer.thread.pc).toBe(pcAt);
    }
  }
  expect(steps).toBeGreaterThan(1);
  expect(await r.program.run()).toBe(0);
  expect(text(wasi.stdout!.bytes()) + text(r.wasi.stdout!.bytes())).toBe(c.expected);
});

test('a damaged group state is refused with a RestoreError and nothing runs', async () => {
  const c = prodCons(2, 2, 50, 1);
  const { program, wasi } = await started(c, 100);
  program.step(30_000);
  const good = { group: program.snapshot(), wasi: wasi.state() };
  const bad = (edit: (g: GroupState) => void) => {
    const copy = structuredClone(good);
    edit(copy.group);
    return () => WasiThreads.restore(threadProgram(c.name), copy.group, WASI.restore(copy.wasi));
  };
  expect(bad((g) => (g.queues[0] = [...g.queues[0], 99]))).toThrow(RestoreError);
  expect(bad((g) => (g.threads = Array.from({ length: 300 }, () => g.threads[0])))).toThrow(/at most 256/);
  expect(bad((g) => (g.memories = []))).toThrow(RestoreError);
  expect(bad((g) => (g.cursor = g.threads.length))).toThrow(RestoreError);
  expect(() => WasiThreads.restore(threadProgram('mutex_counter'), structuredClone(good.group), WASI.restore(good.wasi))).toThrow(RestoreError);
});

test('a restored program keeps the NaN mode of its state, also in threads spawned after the restore', async () => {
  const c = prodCons(2, 2, 20, 1);
  const wasi = new WASI({ args: [c.name, ...c.args] });
  const bytes = threadProgram(c.name);
  const program = await WasiThreads.start(Machine.compile(bytes, { deterministic: true }), wasi, { deterministic: true });
  program.step(300); // before the threads are spawned
  expect(program.group.threads).toHaveLength(1);
  const r = restored(c, { group: program.snapshot(), wasi: wasi.state() });
  expect(await r.program.run()).toBe(0);
  expect(r.program.group.threads.length).toBe(5);
  for (const t of r.program.group.threads) expect(t.machine.instance.compiled.code.deterministic).toBe(true);
});
