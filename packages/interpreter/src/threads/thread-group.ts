/**
 * Threads on one JavaScript thread: a ThreadGroup runs several Machines (each a wasm thread
 * with its own store, stack and pc) that share memories, interleaved round-robin with a fixed
 * instruction quantum. The interleaving depends only on the group's inputs (quantum, the order
 * threads joined, their code), so every run, and every run restored from a snapshot, is the
 * same.
 *
 * Waiting: memory.atomic.wait on a shared memory parks the thread (status 'waiting') in the
 * memory's queue (MemoryInstance.waiters); memory.atomic.notify wakes the oldest waiters on the
 * address and they resume with 0 ("ok") on the stack.
 *
 * Time is virtual: the group's clock counts nanoseconds as instructions, one per instruction
 * executed by any of its threads. A wait with a timeout of T ns times out (result 2) once T more
 * instructions have run in the group, or at once when no thread can run (the clock jumps to the
 * earliest deadline). So a timeout never depends on the host's speed, and a program that only
 * waits never hangs: when every live thread waits with no timeout, step() throws a
 * DeadlockError naming them.
 */
import { yieldToEventLoop } from '../execution/yield';
import { DeadlockError, WasmError } from '../errors';
import type { Machine, StepResult } from '../machine';
import type { Thread } from '../execution/thread';
import type { ExternHandle } from '../execution/store';
import { GroupState, ThreadSource, captureGroup, restoreGroup } from './group-state';

export interface ThreadGroupOptions {
  /** Instructions a thread runs per turn before the next one runs (default DEFAULT_QUANTUM). */
  quantum?: number;
  /**
   * step() returns as soon as a thread's invocation finishes (`exited`: its id), so that a
   * caller can end the group when its main thread returns (wasi-threads: the process exits).
   */
  stopOnExit?: boolean;
}

export const DEFAULT_QUANTUM = 10_000;

/** One thread of a group: a Machine and what the group knows of it. */
export interface GroupThread {
  /** Its index in `group.threads`, in the order threads joined. */
  readonly id: number;
  readonly machine: Machine;
  /** What its invocation threw (a trap), once it did: the group's step() rethrew it. */
  error?: unknown;
}

export interface GroupStepResult {
  /** No thread has anything left to run or to wait for (every invocation finished, trapped or none begun). */
  done: boolean;
  /** Every thread that could run is suspended in a host function: `until` settles when one may go on. */
  suspended?: boolean;
  until?: Promise<unknown>;
  /** A thread hit its breakpoint (Machine.breakOnEntry): `thread` is its id. */
  breakpoint?: boolean;
  thread?: number;
  /** With the option stopOnExit: the thread whose invocation just finished. */
  exited?: number;
}

interface Entry extends GroupThread {
  /** A suspension's promise has settled (or there is none): the thread may be stepped. */
  settled: boolean;
}

export class ThreadGroup {
  readonly quantum: number;
  readonly stopOnExit: boolean;
  private readonly entries: Entry[] = [];
  /** Virtual time in ns: one per instruction run by any thread, plus the jumps to timeouts. */
  clock = 0;
  /** The thread whose turn it is, and the instructions left of its turn. */
  cursor = 0;
  turnLeft: number;

  constructor(options: ThreadGroupOptions = {}) {
    const q = options.quantum ?? DEFAULT_QUANTUM;
    if (!Number.isInteger(q) || q < 1 || q > 1 << 30) throw new WasmError(`quantum must be an integer from 1 to ${1 << 30}, got ${String(q)}`);
    this.quantum = q;
    this.turnLeft = q;
    this.stopOnExit = options.stopOnExit === true;
  }

  /**
   * The whole group as plain data, between steps: every thread's state, the shared memories
   * once, the wait queues in order and the scheduler's position (README, "Threads").
   */
  snapshot(): GroupState {
    return captureGroup({ ...this.schedule(), machines: this.entries.map((e) => e.machine) });
  }

  /**
   * Rebuilds a group from snapshot() data. `provide(id, memories)` gives thread `id`'s module
   * bytes and imports, linked to the restored shared memories (`memories[k]` is the state's
   * memory k). Checks everything first (RestoreError); the group continues as the original.
   */
  static restore(state: GroupState, provide: (id: number, memories: ExternHandle[]) => ThreadSource, options: Omit<ThreadGroupOptions, 'quantum'> = {}): ThreadGroup {
    const parts = restoreGroup(state, provide);
    const g = new ThreadGroup({ ...options, quantum: parts.quantum });
    for (const m of parts.machines) g.add(m);
    g.clock = parts.clock;
    g.cursor = parts.cursor;
    g.turnLeft = parts.turnLeft;
    return g;
  }

  private schedule(): { quantum: number; clock: number; cursor: number; turnLeft: number } {
    return { quantum: this.quantum, clock: this.clock, cursor: this.cursor, turnLeft: this.turnLeft };
  }

  /** Instructions run by all the threads (each Machine's instructionCount, summed). */
  get instructionCount(): number {
    let n = 0;
    for (const e of this.entries) n += e.machine.instructionCount;
    return n;
  }

  /** The threads, in the order they joined (finished ones included). */
  get threads(): readonly GroupThread[] {
    return this.entries;
  }

  /**
   * Adds a machine as a thread (idle, or with an invocation begun: Machine.begin). Returns its
   * id. Its waits now park it until another thread notifies it. May be called while the group
   * runs (from a host function: wasi-threads' thread-spawn); the new thread runs after the
   * threads already there, in the same round.
   */
  add(machine: Machine): number {
    const t = machine.thread;
    if (this.entries.some((e) => e.machine.thread === t)) throw new WasmError('this machine (or another of its store) is already a thread of the group');
    if (t.grouped) throw new WasmError('this machine is already a thread of another group');
    t.grouped = true;
    const id = this.entries.length;
    this.entries.push({ id, machine, settled: true });
    return id;
  }

  /** Begins a call of exported function `name` on `machine` and adds it as a thread; returns its id. */
  spawn(machine: Machine, name: string, args: unknown[] = []): number {
    machine.begin(name, args);
    return this.add(machine);
  }

  /** Status of thread `id` (its Machine's thread status). */
  status(id: number): Thread['status'] {
    return this.entry(id).machine.thread.status;
  }

  private entry(id: number): Entry {
    const e = this.entries[id];
    if (e === undefined) throw new WasmError(`no thread ${id} in the group`);
    return e;
  }

  private runnable(e: Entry): boolean {
    const s = e.machine.thread.status;
    return s === 'running' || (s === 'suspended' && e.settled);
  }

  /**
   * Runs at most `budget` instructions in all, thread after thread. Returns when the group is
   * done, the budget is used, every runnable thread is suspended, or a breakpoint was hit.
   * A thread's trap is rethrown here (the thread is left 'trapped', with `error` set; the
   * others can go on with another step()); a deadlock is a DeadlockError.
   */
  step(budget = Infinity): GroupStepResult {
    let left = budget;
    while (left > 0) {
      const e = this.pick();
      if (e === null) {
        const r = this.idle();
        if (r !== null) return r;
        continue; // a timeout expired: someone can run
      }
      const t = e.machine.thread;
      const before = t.instructionCount;
      let r: StepResult;
      try {
        r = e.machine.step(Math.min(left, this.turnLeft));
      } catch (err) {
        e.error = err;
        this.account(t.instructionCount - before);
        this.endTurn();
        throw err;
      }
      const ran = t.instructionCount - before;
      left -= ran;
      this.account(ran);
      if (r.waiting) t.waitDeadline = this.clock + t.waitTimeout;
      if (r.suspended) this.suspend(e, r.until);
      if (r.done || r.waiting || r.suspended || this.turnLeft <= 0) this.endTurn();
      if (r.breakpoint) return { done: false, breakpoint: true, thread: e.id };
      this.expire();
      if (r.done && this.stopOnExit) return { done: !this.entries.some((x) => isLive(x.machine.thread)), exited: e.id };
    }
    return { done: !this.entries.some((e) => isLive(e.machine.thread)) };
  }

  /** Runs the group to the end, yielding to the event loop between slices and awaiting suspensions. */
  async run(options: { sliceInstructions?: number; onSlice?: (group: ThreadGroup) => boolean | void } = {}): Promise<void> {
    const slice = options.sliceInstructions ?? 10_000_000;
    for (;;) {
      const r = this.step(slice);
      if (r.done) return;
      if (options.onSlice && options.onSlice(this) === false) return;
      if (r.suspended) await r.until;
      else await yieldToEventLoop();
    }
  }

  private account(ran: number): void {
    this.clock += ran;
    this.turnLeft -= ran;
  }

  private endTurn(): void {
    this.cursor = this.entries.length === 0 ? 0 : (this.cursor + 1) % this.entries.length;
    this.turnLeft = this.quantum;
  }

  /** The thread to run: the one whose turn it is if it can run, else the next that can (its turn begins). */
  private pick(): Entry | null {
    const n = this.entries.length;
    for (let k = 0; k < n; k++) {
      const e = this.entries[this.cursor];
      if (this.runnable(e)) return e;
      this.endTurn();
    }
    return null;
  }

  private suspend(e: Entry, until: Promise<unknown> | undefined): void {
    e.settled = false;
    const settle = (): void => {
      e.settled = true;
    };
    Promise.resolve(until).then(settle, settle);
  }

  /** Waits whose deadline has come time out (result 2), in thread order. */
  private expire(): void {
    for (const e of this.entries) {
      const t = e.machine.thread;
      if (t.status === 'waiting' && t.waitDeadline <= this.clock) t.wake(2);
    }
  }

  /** Nothing can run now: jump to the next timeout, or report suspension, the end, or a deadlock. */
  private idle(): GroupStepResult | null {
    let next = Infinity;
    for (const e of this.entries) {
      const t = e.machine.thread;
      if (t.status === 'waiting' && t.waitDeadline < next) next = t.waitDeadline;
    }
    if (next !== Infinity) {
      this.clock = Math.max(this.clock, next);
      this.expire();
      return null;
    }
    const pending = this.entries.filter((e) => e.machine.thread.status === 'suspended');
    if (pending.length > 0) {
      return {
        done: false,
        suspended: true,
        until: Promise.race(pending.map((e) => Promise.resolve(e.machine.thread.suspendedUntil).then(() => undefined, () => undefined))),
      };
    }
    const waiting = this.entries.filter((e) => e.machine.thread.status === 'waiting');
    if (waiting.length > 0) {
      const who = waiting.map((e) => `thread ${e.id} on address ${e.machine.thread.waitAddress}`).join(', ');
      throw new DeadlockError(`deadlock: every live thread waits with no timeout and none can notify (${who})`);
    }
    return { done: true };
  }
}

function isLive(t: Thread): boolean {
  return t.status === 'running' || t.status === 'suspended' || t.status === 'waiting';
}
