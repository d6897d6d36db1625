/**
 * The threads proposal: shared memories, atomics, memory.atomic.wait/notify, and ThreadGroup
 * (several Machines on one shared memory, interleaved deterministically).
 */
import { DeadlockError, GroupState, LinkError, Machine, RestoreError, Store, Suspend, ThreadGroup, Trap, ValidationError, INSTRUCTIONS, hostFunction } from '@mvvm/interpreter';
import type { Imports } from '@mvvm/interpreter';
import { WABT_FEATURES, assemble, loadWabt } from '../helpers/wat';

async function watT(text: string): Promise<Uint8Array> {
  return assemble(await loadWabt(), text, { ...WABT_FEATURES, threads: true });
}

/** A host store holding one shared memory of `pages` (max `max`), as a host would create it. */
function sharedMemory(pages = 1, max = 1) {
  return new Store({ stackSlots: 16, maxCallDepth: 4 }).createMemory(pages, max, true);
}

const ATOMICS = `
  (func (export "load") (param i32) (result i32) (i32.atomic.load (local.get 0)))
  (func (export "load64") (param i32) (result i64) (i64.atomic.load (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.atomic.load8_u (local.get 0)))
  (func (export "store") (param i32 i32) (i32.atomic.store (local.get 0) (local.get 1)))
  (func (export "store64") (param i32 i64) (i64.atomic.store (local.get 0) (local.get 1)))
  (func (export "add") (param i32 i32) (result i32) (i32.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "add64") (param i32 i64) (result i64) (i64.atomic.rmw.add (local.get 0) (local.get 1)))
  (func (export "sub64") (param i32 i64) (result i64) (i64.atomic.rmw.sub (local.get 0) (local.get 1)))
  (func (export "add8") (param i32 i32) (result i32) (i32.atomic.rmw8.add_u (local.get 0) (local.get 1)))
  (func (export "xchg16") (param i32 i64) (result i64) (i64.atomic.rmw16.xchg_u (local.get 0) (local.get 1)))
  (func (export "cas") (param i32 i32 i32) (result i32) (i32.atomic.rmw.cmpxchg (local.get 0) (local.get 1) (local.get 2)))
  (func (export "cas8") (param i32 i32 i32) (result i32) (i32.atomic.rmw8.cmpxchg_u (local.get 0) (local.get 1) (local.get 2)))
  (func (export "notify") (param i32 i32) (result i32) (memory.atomic.notify (local.get 0) (local.get 1)))
  (func (export "wait32") (param i32 i32 i64) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "wait64") (param i32 i64 i64) (result i32) (memory.atomic.wait64 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fence") (atomic.fence))`;

describe('atomic instructions', () => {
  test('the table has every 0xFE instruction with its natural alignment', () => {
    const fe = INSTRUCTIONS.filter((i) => i.encoding[0] === 0xfe);
    expect(fe).toHaveLength(4 + 7 * 9);
    expect(fe.find((i) => i.name === 'i64.atomic.rmw32.cmpxchg_u')).toMatchObject({ encoding: [0xfe, 0x4e], align: 2, signature: 'i32 i64 i64 -> i64' });
    expect(fe.find((i) => i.name === 'memory.atomic.wait64')).toMatchObject({ encoding: [0xfe, 0x02], align: 3 });
  });

  test('loads, stores, read-modify-writes and compare-exchanges on a shared memory', async () => {
    const m = await Machine.instantiate(await watT(`(module (memory 1 1 shared) ${ATOMICS})`));
    m.invoke('store64', [0, 0x11111111ffffffffn]);
    expect(m.invoke('add64', [0, 1n])).toEqual([0x11111111ffffffffn]);
    expect(m.invoke('load64', [0])).toEqual([0x1111111200000000n]); // carry into the high word
    expect(m.invoke('sub64', [0, 1n])).toEqual([0x1111111200000000n]);
    expect(m.invoke('load64', [0])).toEqual([0x11111111ffffffffn]); // borrow
    expect(m.invoke('add8', [0, 2])).toEqual([0xff]); // narrow: old value zero-extended, wraps in 8 bits
    expect(m.invoke('load64', [0])).toEqual([0x11111111ffffff01n]);
    expect(m.invoke('xchg16', [0, 0xabcdn])).toEqual([0xff01n]);
    expect(m.invoke('load', [0])).toEqual([0xffffabcd | 0]);
    expect(m.invoke('cas', [0, 1, 5])).toEqual([0xffffabcd | 0]); // no match: unchanged
    expect(m.invoke('load', [0])).toEqual([0xffffabcd | 0]);
    expect(m.invoke('cas', [0, 0xffffabcd | 0, 5])).toEqual([0xffffabcd | 0]);
    expect(m.invoke('load', [0])).toEqual([5]);
    expect(m.invoke('cas8', [0, 0x105, 7])).toEqual([5]); // expected value wrapped to 8 bits: matches
    expect(m.invoke('load8', [0])).toEqual([7]);
    m.invoke('fence');
  });

  test('traps: unaligned atomic, out of bounds, wait on an unshared memory', async () => {
    const m = await Machine.instantiate(await watT(`(module (memory 1 1 shared) ${ATOMICS})`));
    expect(() => m.invoke('load', [2])).toThrow(new Trap('unaligned atomic'));
    expect(() => m.invoke('add64', [4, 1n])).toThrow(new Trap('unaligned atomic'));
    expect(() => m.invoke('load', [65536])).toThrow(new Trap('out of bounds memory access'));
    expect(m.invoke('add8', [3, 1])).toEqual([0]); // a byte is always aligned
    const u = await Machine.instantiate(await watT(`(module (memory 1) ${ATOMICS})`));
    expect(u.invoke('add', [0, 3])).toEqual([0]); // unshared: a plain read-modify-write
    expect(u.invoke('load', [0])).toEqual([3]);
    expect(u.invoke('notify', [0, 1])).toEqual([0]);
    expect(() => u.invoke('wait32', [0, 3, -1n])).toThrow(new Trap('expected shared memory'));
    expect(() => u.invoke('notify', [1, 1])).toThrow(new Trap('unaligned atomic'));
  });

  test('validation: alignment must be exactly natural; a shared memory needs a maximum', async () => {
    await expect(watT('(module (memory 1 1 shared) (func (drop (i32.atomic.load align=2 (i32.const 0)))))')).resolves.toBeDefined();
    const bin = await watT('(module (memory 1 1 shared) (func (drop (i32.atomic.load (i32.const 0)))))');
    // Patch the memarg's alignment (2) to 1: the only 0xFE 0x10 in the module.
    const at = bin.findIndex((b, i) => b === 0xfe && bin[i + 1] === 0x10);
    const bad = bin.slice();
    bad[at + 2] = 1;
    expect(() => Machine.compile(bad)).toThrow(ValidationError);
    expect(() => Machine.compile(bad)).toThrow(/atomic alignment must be natural/);
    // (memory 1 shared): limits flags 0x02 with no maximum.
    const noMax = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 2, 1]);
    expect(() => Machine.compile(noMax)).toThrow(/shared memory must have maximum/);
    expect(() => Machine.compile(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 4, 1]))).toThrow(/integer too large/);
  });

  test('a lone machine: a wait that matches times out at once with a timeout, is a DeadlockError without one', async () => {
    const m = await Machine.instantiate(await watT(`(module (memory 1 1 shared) ${ATOMICS})`));
    expect(m.invoke('wait32', [0, 1, -1n])).toEqual([1]); // not-equal
    expect(m.invoke('wait64', [0, 1n, 0n])).toEqual([1]);
    expect(m.invoke('wait32', [0, 0, 0n])).toEqual([2]);
    expect(m.invoke('wait32', [0, 0, 1000n])).toEqual([2]);
    expect(() => m.invoke('wait32', [0, 0, -1n])).toThrow(DeadlockError);
    expect(m.invoke('load', [0])).toEqual([0]); // usable afterwards
  });
});

describe('shared memories across stores', () => {
  test('import matching: shared only for shared, and only a shared memory crosses stores', async () => {
    const mem = sharedMemory(1, 2);
    const importer = await watT(`(module (import "env" "memory" (memory 1 2 shared)) ${ATOMICS})`);
    const a = await Machine.instantiate(importer, { env: { memory: mem } });
    const b = await Machine.instantiate(importer, { env: { memory: mem } });
    a.invoke('store', [8, 42]);
    expect(b.invoke('load', [8])).toEqual([42]);
    const unsharedImport = await watT('(module (import "env" "memory" (memory 1 2)))');
    await expect(Machine.instantiate(unsharedImport, { env: { memory: mem } })).rejects.toThrow(LinkError);
    const plain = new Store().createMemory(1, 2);
    await expect(Machine.instantiate(importer, { env: { memory: plain } })).rejects.toThrow(/another store/);
    const sameStore = new Store();
    const plainHere = sameStore.createMemory(1, 2);
    await expect(Machine.instantiate(importer, { env: { memory: plainHere } }, { store: sameStore })).rejects.toThrow(/incompatible import type: memory/);
  });
});

/** Adds 1 to [16] n times under the lock at [0] (a cmpxchg spin lock). */
const COUNT = `(func (export "count") (param $n i32)
    (loop $next
      (block $locked
        (loop $spin
          (br_if $locked (i32.eqz (i32.atomic.rmw.cmpxchg (i32.const 0) (i32.const 0) (i32.const 1))))
          (br $spin)))
      (i32.store (i32.const 16) (i32.add (i32.load (i32.const 16)) (i32.const 1)))
      (i32.atomic.store (i32.const 0) (i32.const 0))
      (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1))))))`;

/** A module for group tests: a counter under a spin lock, a waiter and a notifier. */
const WORKER = `(module
  (import "env" "memory" (memory 1 1 shared))
  ${ATOMICS}
  ${COUNT}
  ;; wait on [32] until it is not 0, then return what the last wait returned
  (func (export "await") (result i32) (local $r i32)
    (loop $again
      (if (i32.eqz (i32.atomic.load (i32.const 32)))
        (then
          (local.set $r (memory.atomic.wait32 (i32.const 32) (i32.const 0) (i64.const -1)))
          (br $again))))
    (local.get $r))
  ;; spin n times, then set [32] to v and wake every waiter; returns the count woken
  (func (export "later") (param $n i32) (param $v i32) (result i32)
    (loop $spin (br_if $spin (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (i32.atomic.store (i32.const 32) (local.get $v))
    (memory.atomic.notify (i32.const 32) (i32.const -1)))
  ;; set [32] to v and notify n waiters; returns the count woken
  (func (export "signal") (param $v i32) (param $n i32) (result i32)
    (i32.atomic.store (i32.const 32) (local.get $v))
    (memory.atomic.notify (i32.const 32) (local.get $n)))
)`;

async function group(n: number, quantum: number) {
  const bytes = await watT(WORKER);
  const memory = sharedMemory();
  const g = new ThreadGroup({ quantum });
  const machines: Machine[] = [];
  for (let i = 0; i < n; i++) machines.push(await Machine.instantiate(bytes, { env: { memory } }));
  return { g, machines, memory, bytes };
}

describe('ThreadGroup', () => {
  test('a mutex-protected counter over several threads, interleaved mid-critical-section', async () => {
    const { g, machines } = await group(3, 7);
    for (const m of machines) g.spawn(m, 'count', [50]);
    expect(g.step()).toEqual({ done: true });
    expect(machines[0].invoke('load', [16])).toEqual([150]);
    expect(machines.map((m) => m.thread.status)).toEqual(['done', 'done', 'done']);
  });

  test('the same inputs give the same interleaving: results and instruction counts twice', async () => {
    const runOnce = async () => {
      const { g, machines } = await group(4, 5);
      g.spawn(machines[0], 'count', [20]);
      g.spawn(machines[1], 'await');
      g.spawn(machines[2], 'count', [20]);
      g.step(400);
      g.spawn(machines[3], 'signal', [1, 1]);
      expect(g.step().done).toBe(true);
      expect(machines[1].step(0).results).toEqual([0]);
      return { counts: machines.map((m) => m.instructionCount), clock: g.clock, value: machines[0].invoke('load', [16]) };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(a).toEqual(b);
    expect(a.value).toEqual([40]);
  });

  test('wait/notify: FIFO per address, counts, the woken thread resumes with 0', async () => {
    const { g, machines } = await group(4, 50);
    const [w1, w2, w3, n] = machines;
    g.spawn(w1, 'wait32', [32, 0, -1n]);
    g.spawn(w2, 'wait32', [32, 0, -1n]);
    g.spawn(w3, 'wait32', [36, 0, -1n]);
    // Nothing else can run: a deadlock, reported, not a hang.
    expect(() => g.step()).toThrow(DeadlockError);
    expect([w1, w2, w3].map((m) => m.thread.status)).toEqual(['waiting', 'waiting', 'waiting']);
    expect(() => g.step()).toThrow(/thread 0 on address 32, thread 1 on address 32, thread 2 on address 36/);
    g.spawn(n, 'notify', [32, 1]);
    g.step(4); // the notify call: wakes w1 only (the oldest on 32)
    expect(n.step(0)).toEqual({ done: true, results: [1] });
    expect([w1, w2, w3].map((m) => m.thread.status)).toEqual(['running', 'waiting', 'waiting']);
    expect(() => g.step()).toThrow(DeadlockError); // w1 finishes; w2 and w3 still wait
    expect(w1.step(0)).toEqual({ done: true, results: [0] });
    n.begin('notify', [32, 5]);
    expect(() => g.step()).toThrow(/thread 2 on address 36\)/);
    expect(n.step(0).results).toEqual([1]); // only w2 was left on 32
    n.begin('notify', [36, 0]);
    expect(() => g.step()).toThrow(DeadlockError);
    expect(n.step(0).results).toEqual([0]); // count 0 wakes nobody
    expect(w3.thread.status).toBe('waiting');
    n.begin('notify', [36, -1]);
    expect(g.step().done).toBe(true);
    expect(n.step(0).results).toEqual([1]);
    expect(w2.step(0).results).toEqual([0]);
    expect(w3.step(0).results).toEqual([0]);
  });

  test('timeouts in virtual time: 2 once the group has run that many instructions, or at once when all wait', async () => {
    const { g, machines } = await group(3, 10);
    const [a, b, c] = machines;
    g.spawn(a, 'wait32', [32, 0, 1000n]);
    g.spawn(b, 'wait32', [40, 0, 0n]); // timeout 0: returns at once
    g.spawn(c, 'count', [100]);
    g.step(30);
    expect(a.thread.status).toBe('waiting');
    expect(b.step(0)).toEqual({ done: true, results: [2] });
    const deadline = a.thread.waitDeadline;
    while (a.thread.status === 'waiting') g.step(1);
    expect(g.clock).toBe(deadline); // it timed out exactly at its deadline
    expect(g.step().done).toBe(true);
    expect(a.step(0).results).toEqual([2]);
    // All wait with timeouts: the clock jumps to the earliest.
    a.begin('wait32', [32, 0, 5_000_000_000n]);
    b.begin('wait32', [32, 0, 7n]);
    const before = g.clock;
    expect(g.step().done).toBe(true);
    expect(a.step(0).results).toEqual([2]);
    expect(b.step(0).results).toEqual([2]);
    expect(g.clock).toBeGreaterThanOrEqual(before + 5_000_000_000);
  });

  test('a machine can be in one group once; a grouped machine cannot invoke a call that waits', async () => {
    const { g, machines } = await group(2, 10);
    g.add(machines[0]);
    expect(() => g.add(machines[0])).toThrow(/already a thread/);
    expect(() => new ThreadGroup().add(machines[0])).toThrow(/another group/);
    expect(() => machines[0].invoke('wait32', [32, 0, -1n])).toThrow(/ThreadGroup/);
    expect(machines[0].thread.status).toBe('idle');
    g.spawn(machines[1], 'wait32', [32, 0, -1n]);
    expect(() => g.step()).toThrow(DeadlockError);
    expect(() => machines[1].begin('load', [0])).toThrow(/already running an invocation/); // still queued: no new call over it
    expect(() => new ThreadGroup({ quantum: 0 })).toThrow(/quantum/);
  });

  test('a trap in one thread is rethrown by step(); the others go on', async () => {
    const { g, machines } = await group(2, 10);
    g.spawn(machines[0], 'load', [3]);
    g.spawn(machines[1], 'count', [10]);
    expect(() => g.step()).toThrow(new Trap('unaligned atomic'));
    expect(g.threads[0].error).toBeInstanceOf(Trap);
    expect(g.step().done).toBe(true);
    expect(machines[1].invoke('load', [16])).toEqual([10]);
  });
});

describe('ThreadGroup with host functions', () => {
  const SPAWNER = `(module
    (import "env" "memory" (memory 1 1 shared))
    (import "env" "spawn" (func $spawn (param i32) (result i32)))
    (import "env" "slow" (func $slow (result i32)))
    ${ATOMICS}
    ;; start n workers that each add 1 to [16] under the lock 10 times; returns the last id
    (func (export "main") (param $n i32) (result i32) (local $id i32)
      (loop $more
        (local.set $id (call $spawn (i32.const 10)))
        (br_if $more (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $id))
    ${COUNT}
    (func (export "io") (result i32) (call $slow))
  )`;

  test('a host function spawns threads while the group runs (wasi-threads thread-spawn); stopOnExit reports each end', async () => {
    const bytes = await watT(SPAWNER);
    const memory = sharedMemory();
    const g = new ThreadGroup({ quantum: 13, stopOnExit: true });
    const imports: Imports = {
      env: {
        memory,
        spawn: hostFunction({ params: ['i32'], results: ['i32'] }, ([n]): number => g.spawn(Machine.instantiateSync(bytes, imports), 'count', [n])),
        slow: hostFunction({ params: [], results: ['i32'] }, () => 0),
      },
    };
    const main = await Machine.instantiate(bytes, imports);
    g.spawn(main, 'main', [4]);
    const exits: number[] = [];
    for (let r = g.step(); ; r = g.step()) {
      if (r.exited !== undefined) exits.push(r.exited);
      if (r.done) break;
    }
    expect(g.threads.length).toBe(5);
    expect(main.step(0).results).toEqual([4]);
    expect(exits.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(main.invoke('load', [16])).toEqual([40]);
    expect(g.instructionCount).toBe(g.threads.reduce((n, t) => n + t.machine.instructionCount, 0));
  });

  test('a thread suspended in a host function waits alone; run() awaits it while the others go on', async () => {
    const bytes = await watT(SPAWNER);
    const memory = sharedMemory();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const g = new ThreadGroup({ quantum: 5 });
    const imports = {
      env: {
        memory,
        spawn: hostFunction({ params: ['i32'], results: ['i32'] }, () => 0),
        slow: hostFunction({ params: [], results: ['i32'] }, () => (calls++ === 0 ? new Suspend(gate) : [7])),
      },
    };
    const io = await Machine.instantiate(bytes, imports);
    const worker = await Machine.instantiate(bytes, imports);
    g.spawn(io, 'io');
    g.spawn(worker, 'count', [30]);
    const r = g.step();
    expect(r.suspended).toBe(true);
    expect(worker.thread.status).toBe('done'); // it ran to its end meanwhile
    expect(io.thread.status).toBe('suspended');
    const done = g.run();
    release();
    await done;
    expect(io.step(0).results).toEqual([7]);
  });
});

describe('ThreadGroup snapshots', () => {
  /** Counters, waiters (one with a timeout) and a late signaller: a run with threads waiting mid-way. */
  async function scenario(quantum = 5) {
    const { g, machines, bytes } = await group(5, quantum);
    g.spawn(machines[0], 'count', [15]);
    g.spawn(machines[1], 'await');
    g.spawn(machines[2], 'wait32', [32, 0, 100_000n]);
    g.spawn(machines[3], 'count', [15]);
    g.spawn(machines[4], 'later', [60, 7]);
    return { g, bytes };
  }

  function outcome(g: ThreadGroup) {
    return {
      results: g.threads.map((t) => t.machine.step(0).results),
      counts: g.threads.map((t) => t.machine.instructionCount),
      clock: g.clock,
      memory: Array.from(g.threads[0].machine.memory!.u8.subarray(0, 64)),
    };
  }

  function restore(state: GroupState, bytes: Uint8Array): ThreadGroup {
    return ThreadGroup.restore(structuredClone(state), (_id, memories) => ({ bytes, imports: { env: { memory: memories[0] } } }));
  }

  test('a snapshot at every 3rd scheduling step, several threads alive and some waiting, restores to the same run', async () => {
    const reference = await scenario();
    const states: GroupState[] = [];
    let sawWaiting = 0;
    for (let i = 0; !reference.g.step(7).done; i++) {
      if (i % 3 === 0) {
        const state = reference.g.snapshot();
        if (state.queues[0].length > 0) sawWaiting++;
        states.push(state);
      }
    }
    const expected = outcome(reference.g);
    expect(expected.results).toEqual([[], [0], [0], [], [2]]); // both waiters notified (the timed one before its deadline)
    expect(expected.memory[16]).toBe(30);
    expect(states.length).toBeGreaterThan(10);
    expect(sawWaiting).toBeGreaterThan(3);
    for (const state of states) {
      const g = restore(state, reference.bytes);
      expect(g.step().done).toBe(true);
      expect(outcome(g)).toEqual(expected);
    }
  });

  test('a snapshot after every single instruction of a small run restores to the same run', async () => {
    const { g, machines, bytes } = await group(3, 4);
    g.spawn(machines[0], 'await');
    g.spawn(machines[1], 'count', [3]);
    g.spawn(machines[2], 'later', [5, 1]);
    const states: GroupState[] = [];
    while (!g.step(1).done) states.push(g.snapshot());
    const expected = outcome(g);
    expect(expected.results).toEqual([[0], [], [1]]);
    expect(states.length).toBe(g.instructionCount - 1);
    expect(states.filter((st) => st.threads[0].thread.status === 'waiting').length).toBeGreaterThan(10);
    for (const state of states) {
      const r = restore(state, bytes);
      expect(r.step().done).toBe(true);
      expect(outcome(r)).toEqual(expected);
    }
  }, 30_000);

  test('a waiting thread stays blocked after a restore until notified; its timeout keeps its deadline', async () => {
    const { g, machines, bytes } = await group(3, 10);
    g.spawn(machines[0], 'wait32', [32, 0, -1n]);
    g.spawn(machines[1], 'wait32', [40, 0, 5000n]);
    g.spawn(machines[2], 'count', [1000]);
    g.step(40);
    const state = g.snapshot();
    expect(state.threads.map((t) => t.thread.status)).toEqual(['waiting', 'waiting', 'running']);
    expect(state.threads[1].thread.wait).toEqual({ memory: 0, address: 40, deadline: machines[1].thread.waitDeadline });
    expect(state.threads[0].memories[0]).toMatchObject({ group: 0, shared: true });
    expect(state.threads[0].memories[0].data.length).toBe(0); // the memory is in the group state once
    const r = restore(state, bytes);
    expect(() => r.step()).toThrow(/deadlock: .*\(thread 0 on address 32\)/); // the timed one timed out; thread 0 stays blocked
    expect(r.clock).toBeGreaterThanOrEqual(machines[1].thread.waitDeadline);
    expect(r.threads[1].machine.step(0).results).toEqual([2]);
    expect(r.status(0)).toBe('waiting');
    const n = await Machine.instantiate(bytes, { env: { memory: { kind: 'memory', store: r.threads[0].machine.store, addr: 0 } } });
    r.spawn(n, 'notify', [32, 1]);
    expect(r.step().done).toBe(true);
    expect(r.threads[0].machine.step(0).results).toEqual([0]);
  });

  test('check-state refuses a bad group state with one RestoreError and builds nothing', async () => {
    const { g, machines, bytes } = await group(3, 10);
    g.spawn(machines[0], 'wait32', [32, 0, -1n]);
    g.spawn(machines[1], 'wait32', [32, 0, -1n]);
    g.spawn(machines[2], 'count', [100]);
    g.step(40);
    const good = g.snapshot();
    expect(good.queues).toEqual([[0, 1]]);
    const bad = (edit: (s: GroupState) => void) => {
      const s = structuredClone(good);
      edit(s);
      let provided = 0;
      let err: unknown;
      try {
        ThreadGroup.restore(s, (_id, memories) => (provided++, { bytes, imports: { env: { memory: memories[0] } } }));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RestoreError);
      return { message: (err as Error).message, provided };
    };
    expect(bad((s) => (s.queues[0] = [0, 1, 7]))).toEqual({ message: expect.stringMatching(/thread 7, which does not exist/), provided: 0 });
    expect(bad((s) => (s.queues[0] = [0, 1, 0])).message).toMatch(/queued twice/);
    expect(bad((s) => (s.queues[0] = [0])).message).toMatch(/thread 1 waits but is in no queue/);
    expect(bad((s) => (s.queues[0] = [0, 1, 2])).message).toMatch(/thread 2 is queued but not waiting/);
    expect(bad((s) => (s.queues = [])).message).toMatch(/one queue per memory/);
    expect(bad((s) => (s.cursor = 3)).message).toMatch(/cursor/);
    expect(bad((s) => (s.memories[0].data = new Uint8Array(10))).message).toMatch(/data is not 1 pages/);
    expect(bad((s) => (s.version = 9)).message).toMatch(/version 9/);
    const big = bad((s) => (s.threads = Array.from({ length: 9 }, () => ({ ...s.threads[2], limits: { stackSlots: 1 << 24, maxCallDepth: 100 } }))));
    expect(big).toEqual({ message: expect.stringMatching(/stack slots in all, at most/), provided: 0 });
    const misaligned = bad((s) => (s.threads[1].thread.wait!.address = 34));
    expect(misaligned.message).toMatch(/wait: address 34 is not 4-aligned/);
    expect(bad((s) => (s.threads[1].thread.wait!.address = 65536)).message).toMatch(/outside the memory/);
    expect(bad((s) => (s.threads[0].thread.wait!.deadline = NaN)).message).toMatch(/deadline/);
    expect(bad((s) => delete s.threads[0].thread.wait).message).toMatch(/without a 'wait' record|its wait names no memory/);
    expect(bad((s) => (s.threads[0].thread.pc -= 3)).message).toMatch(/not just after a memory.atomic.wait|not on an instruction/);
    expect(bad((s) => (s.threads[2].memories[0].group = 1)).message).toMatch(/group memory 1 is not the memory this thread links/);
    // A waiting thread's state alone: nothing could wake it.
    await expect(Machine.restore(bytes, good.threads[0], { env: { memory: sharedMemory() } })).rejects.toThrow(/outside a thread group state/);
  });

  test('a machine state of version 2 still restores (no shared memory, no waiting)', async () => {
    const bytes = await watT(`(module (memory 1) ${ATOMICS})`);
    const m = await Machine.instantiate(bytes);
    m.invoke('store', [0, 9]);
    const state = { ...m.snapshot(), version: 2 };
    delete (state.memories[0] as { shared?: boolean }).shared;
    const r = await Machine.restore(bytes, state);
    expect(r.invoke('load', [0])).toEqual([9]);
  });
});
