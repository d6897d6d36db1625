/**
 * wasi-threads: a program whose threads are instances of one module on one shared memory.
 *
 * The module imports a shared memory (`env.memory` in wasm-ld's output), imports
 * `wasi.thread-spawn(arg) -> tid` and exports `wasi_thread_start(tid, arg)`. The main thread
 * runs `_start`; `thread-spawn` instantiates the module again (its own globals, such as
 * `__stack_pointer`, its own table; the same shared memory and the same WASI imports) and
 * queues `wasi_thread_start(tid, arg)` on it. Every thread is a Machine in one ThreadGroup of
 * the interpreter, interleaved deterministically on this JavaScript thread, so a run is
 * reproducible and a snapshot of the group holds every thread consistently.
 *
 * WASI state (fds, the replay log) is one for all threads. `proc_exit` from any thread, a
 * trap in any thread, or the main thread returning from `_start` ends the whole program,
 * as in wasmtime.
 *
 * A thread's wasi-threads id is its id in the group: the main thread is 0, spawned threads
 * 1, 2, ... in the order they were spawned (so nothing beyond the group's state is needed to
 * go on numbering after a restore).
 */
import { CompiledModule, HostFunction, Imports, Machine, MachineOptions, RestoreError, Store, ThreadGroup, Trap, hostFunction, yieldToEventLoop } from '@mvvm/interpreter';
import type { ExternHandle, GroupState, Module } from '@mvvm/interpreter';
import { Errno } from './constants';
import { WasiExit } from './errors';
import type { WASI } from './wasi';

/** The most threads a program may have had in all (thread-spawn returns -EAGAIN after that). */
export const MAX_THREADS = 256;

/**
 * The interpreter stack of a spawned thread unless `limits` says otherwise: 2 MiB of value
 * slots (a main thread's default is 8 MiB), so that MAX_THREADS of them fit in the
 * interpreter's bound on a restored group's stacks (MAX_GROUP_STACK_SLOTS: 1 GiB).
 */
export const THREAD_LIMITS = { stackSlots: 1 << 18, maxCallDepth: 20_000 };

export interface ThreadsOptions extends Pick<MachineOptions, 'tier' | 'deterministic' | 'limits'> {
  /** Instructions a thread runs per turn (ThreadGroup's quantum). */
  quantum?: number;
  /** At most this many threads in all, the main one included (default and ceiling MAX_THREADS). */
  maxThreads?: number;
}

/** What ended a threaded program. */
export type ThreadsOutcome = { exitCode: number } | { trap: unknown; thread: number };

/** The shared memory a wasi-threads module imports, or null (a module without threads). */
export function sharedMemoryImport(module: Module): { module: string; name: string; min: number; max: number } | null {
  for (const imp of module.imports) {
    const d = imp.desc as { kind?: string; type?: { limits: { min: number; max?: number }; shared?: boolean } };
    if (d.kind === 'memory' && d.type?.shared === true && d.type.limits.max !== undefined) {
      return { module: imp.module, name: imp.name, min: d.type.limits.min, max: d.type.limits.max };
    }
  }
  return null;
}

/** Does this module use wasi-threads (a shared memory import and thread-spawn)? */
export function isThreaded(module: Module): boolean {
  return sharedMemoryImport(module) !== null && module.imports.some((i) => i.module === 'wasi' && i.name === 'thread-spawn');
}

export class WasiThreads {
  /** Set by start() or restore(). */
  group!: ThreadGroup;
  private memory: ExternHandle | null = null;
  private readonly maxThreads: number;
  /** How the program ended, once it did. */
  outcome: ThreadsOutcome | null = null;

  private constructor(
    readonly wasi: WASI,
    readonly compiled: CompiledModule,
    private readonly options: ThreadsOptions,
  ) {
    this.maxThreads = Math.min(options.maxThreads ?? MAX_THREADS, MAX_THREADS);
  }

  /** Instantiates the main thread (its start function runs: wasm-ld's memory initialisation) and begins `_start`. */
  static async start(compiled: CompiledModule, wasi: WASI, options: ThreadsOptions = {}): Promise<WasiThreads> {
    const mem = sharedMemoryImport(compiled.module);
    if (mem === null) throw new TypeError('not a wasi-threads module: it imports no shared memory');
    const p = new WasiThreads(wasi, compiled, options);
    p.group = new ThreadGroup({ quantum: options.quantum, stopOnExit: true });
    p.memory = new Store().createMemory(mem.min, mem.max, true);
    const main = await Machine.instantiate(compiled, p.imports(), p.machineOptions());
    p.group.spawn(main, '_start', []);
    return p;
  }

  /**
   * Rebuilds a program from `snapshot()` data, its WASI instance already restored. The state
   * is untrusted: ThreadGroup.restore checks every thread, the shared memory and the wait
   * queues and builds nothing on error (RestoreError); the quantum is the state's.
   */
  static restore(bytes: Uint8Array, state: GroupState, wasi: WASI, options: ThreadsOptions = {}): WasiThreads {
    // The NaN mode is the state's unless the options say otherwise: threads spawned after the restore get it too.
    const first = (state as { threads?: unknown } | null)?.threads;
    const deterministic = options.deterministic ?? (Array.isArray(first) && (first[0] as { deterministic?: unknown } | undefined)?.deterministic === true);
    const compiled = Machine.compile(bytes, { deterministic });
    const mem = sharedMemoryImport(compiled.module);
    if (mem === null) throw new RestoreError('the module imports no shared memory: it is not the wasi-threads program of this state');
    const p = new WasiThreads(wasi, compiled, { ...options, deterministic });
    // The interpreter bounds the threads' stacks together (MAX_GROUP_STACK_SLOTS) before allocating any.
    if (state !== null && typeof state === 'object' && Array.isArray(state.threads) && state.threads.length > p.maxThreads) {
      throw new RestoreError(`invalid group state: ${state.threads.length} threads, at most ${p.maxThreads}`);
    }
    p.group = ThreadGroup.restore(
      state,
      (_id, memories) => {
        if (memories.length !== 1) throw new RestoreError(`invalid group state: ${memories.length} shared memories, a wasi-threads program has one`);
        p.memory = memories[0];
        return { bytes, imports: p.imports(), options: p.machineOptions() };
      },
      { stopOnExit: true },
    );
    return p;
  }

  private machineOptions(): MachineOptions {
    return { tier: this.options.tier, deterministic: this.options.deterministic, limits: this.options.limits };
  }

  /** The imports of every thread: WASI, thread-spawn, the shared memory. */
  private imports(): Imports {
    const mem = sharedMemoryImport(this.compiled.module)!;
    const imports: Imports = { ...this.wasi.getImports(), wasi: { 'thread-spawn': this.spawnFunction() } };
    imports[mem.module] = { ...(imports[mem.module] ?? {}), [mem.name]: this.memory! };
    return imports;
  }

  private spawner: HostFunction | null = null;

  private spawnFunction(): HostFunction {
    this.spawner ??= hostFunction({ params: ['i32'], results: ['i32'] }, ([arg]) => [this.spawn(arg as number)], 'thread-spawn');
    return this.spawner;
  }

  /** wasi-threads' thread-spawn: a new instance running wasi_thread_start(tid, arg); the tid, or a negative errno. */
  spawn(arg: number): number {
    const tid = this.group.threads.length;
    if (tid >= this.maxThreads) return -Errno.AGAIN;
    let machine: Machine;
    try {
      machine = Machine.instantiateSync(this.compiled, this.imports(), { ...this.machineOptions(), limits: this.options.limits ?? THREAD_LIMITS });
    } catch (e) {
      if (e instanceof WasiExit) throw e;
      return -Errno.AGAIN; // e.g. a start function that traps
    }
    // A thread's count starts at wasi_thread_start: its start function ran inside this call,
    // so that the group's step(n) runs exactly n instructions (a checkpoint at -c N is exact).
    machine.thread.instructionCount = 0;
    const id = this.group.spawn(machine, 'wasi_thread_start', [tid, arg]);
    if (id !== tid) throw new Error(`thread-spawn: the group gave id ${id} for tid ${tid}`);
    return tid;
  }

  /** The main thread (the one running `_start`). */
  get main(): Machine {
    return this.group.threads[0].machine;
  }

  /** Instructions run by all threads together (start functions included). */
  get instructionCount(): number {
    let n = 0;
    for (const t of this.group.threads) n += t.machine.instructionCount;
    return n;
  }

  /**
   * Runs at most `budget` instructions in all. Returns the outcome once the program ended
   * (proc_exit, a trap, `_start` returned), else null with, when every runnable thread is
   * suspended in a host call, the promise to await.
   */
  step(budget: number): { outcome: ThreadsOutcome | null; until?: Promise<unknown> } {
    if (this.outcome !== null) return { outcome: this.outcome };
    let r;
    try {
      r = this.group.step(budget);
    } catch (e) {
      if (e instanceof WasiExit) return this.end({ exitCode: e.code });
      const thread = this.group.threads.findIndex((t) => t.error === e);
      return this.end({ trap: e, thread });
    }
    if (r.exited === 0 || this.group.status(0) === 'done' || r.done) return this.end({ exitCode: 0 });
    return { outcome: null, until: r.suspended ? r.until : undefined };
  }

  private end(outcome: ThreadsOutcome): { outcome: ThreadsOutcome } {
    this.outcome = outcome;
    if ('exitCode' in outcome) this.wasi.exitCode = outcome.exitCode;
    return { outcome };
  }

  /** Runs to the end; a trap in any thread is rethrown (as Trap), proc_exit is the exit code. */
  async run(sliceInstructions = 1_000_000): Promise<number> {
    for (;;) {
      const { outcome, until } = this.step(sliceInstructions);
      if (outcome !== null) {
        if ('trap' in outcome) throw outcome.trap instanceof Error ? outcome.trap : new Trap(String(outcome.trap));
        return outcome.exitCode;
      }
      if (until) await until;
      else await yieldToEventLoop();
    }
  }

  /** Every thread, the shared memory once and the wait queues (ThreadGroup.snapshot). */
  snapshot(): GroupState {
    return this.group.snapshot();
  }
}
