import { yieldToEventLoop } from './execution/yield';
import { ExhaustionError, WasmError } from './errors';
import { ValType, slotCount, slotsOf } from './syntax/types';
import { RunResult, execute } from './execution/executor';
import { callHost } from './execution/host-call';
import { ImportValue, Imports, compileModule, instantiate } from './execution/instantiate';
import { LO } from './execution/layout';
import { CompiledModule, FunctionInstance, MemoryInstance, ModuleInstance, globalWordIndex } from './execution/runtime';
import { ExternHandle, Store } from './execution/store';
import { FRAME_WORDS, MAX_HOST_NESTING, RETURN_TO_HOST, Thread, ThreadLimits } from './execution/thread';
import { TrapCode, trapError } from './execution/traps';
import { ExactValue, exactToSlot, jsToSlot, slotToExact, slotToJS } from './execution/values';
import { MachineState, captureState, restoreState } from './state/machine-state';
import { checkLimits } from './state/check-state';

export interface MachineOptions {
  /** Instantiate into this store (to link with the other instances in it). */
  store?: Store;
  /** Stack size and call depth limits for a new store. */
  limits?: Partial<ThreadLimits>;
  /**
   * Canonical NaNs: float arithmetic that produces a NaN gives 7fc00000 / 7ff8000000000000
   * on every host (the spec allows any arithmetic NaN; x86 and arm64 differ in the sign), so
   * a migrated run is bit-identical to an uninterrupted one. Kept in snapshots; a restore
   * keeps the state's mode unless this option says otherwise. Costs nothing when off.
   */
  deterministic?: boolean;
  /**
   * Machine.restore only: the state's memory buffers become the machine's storage instead
   * of being copied (the caller must not use them afterwards). A migration target uses it.
   */
  adoptMemory?: boolean;
  /**
   * The JS tier (execution/js-tier.ts): 'auto' compiles functions to JavaScript once hot,
   * 'eager' every function on its first transfer, 'interpreter' never. Compiled code
   * stops at exact instructions like the interpreter (step, snapshot, breakpoints,
   * suspension, traps behave the same), so a snapshot restores under any tier. Not part
   * of a snapshot. Default: DEFAULT_TIER.
   */
  tier?: Tier;
  /**
   * The threads proposal's binary encoding of shared memories (default true); false decodes as
   * WebAssembly 2.0 does, where memory limits flags 2/3 are malformed.
   */
  threads?: boolean;
}

export type Tier = 'auto' | 'interpreter' | 'eager';

/** The tier of a machine whose options name none. */
export const DEFAULT_TIER: Tier = 'auto';

function tierCode(tier: Tier | undefined): 0 | 1 | 2 {
  const t = tier ?? DEFAULT_TIER;
  if (t === 'interpreter') return 0;
  if (t === 'auto') return 1;
  if (t === 'eager') return 2;
  throw new WasmError(`unknown tier '${String(t)}': use 'auto', 'interpreter' or 'eager'`);
}

export interface StepResult {
  done: boolean;
  /** The invoked function's results, once done. */
  results?: unknown[];
  /** A host function asked to wait: `until` settles when the call can be retried. */
  suspended?: boolean;
  /** A call entered the function set with breakOnEntry(); the machine is at its first instruction. */
  breakpoint?: boolean;
  /**
   * memory.atomic.wait parked the thread (only in a ThreadGroup): it runs on once notified or
   * timed out, which the group does.
   */
  waiting?: boolean;
  until?: Promise<unknown>;
}

export interface RunOptions {
  /** Instructions per slice between yields to the event loop. */
  sliceInstructions?: number;
  /** Called after every slice (progress, checkpoint triggers); return false to stop early. */
  onSlice?: (machine: Machine) => boolean | void;
}

/** The largest budget execute() takes at once: keeps its counter a small integer. */
const MAX_SLICE = 1 << 30;

/**
 * One module instance and the store it lives in, with the operations every other package
 * builds on: invoke, begin/step, run, snapshot and restore. The complete execution state is
 * in the store (typed arrays and numbers), so it can be captured between any two
 * instructions.
 */
export class Machine {
  /** invoke() calls now running inside host functions (callbacks into wasm). */
  private callbacks = 0;

  private constructor(
    readonly store: Store,
    readonly instance: ModuleInstance,
  ) {}

  /** Decode, validate and translate without instantiating. Throws MalformedError / ValidationError. */
  static compile(bytes: Uint8Array, options: Pick<MachineOptions, 'deterministic' | 'threads'> = {}): CompiledModule {
    return compileModule(bytes, options);
  }

  /** Compile, link and instantiate, running the start function to completion. */
  static instantiateSync(bytes: Uint8Array | CompiledModule, imports: Imports = {}, options: MachineOptions = {}): Machine {
    const machine = Machine.create(bytes, imports, options);
    const start = machine.instance.compiled.module.start;
    if (start !== undefined) {
      machine.beginAddr(machine.instance.funcAddrs[start], []);
      const r = machine.step(Infinity);
      if (r.suspended) throw new WasmError('the start function suspended: use Machine.instantiate (async)');
    }
    return machine;
  }

  /** As instantiateSync, but a start function that suspends on a host call is awaited. */
  static async instantiate(bytes: Uint8Array | CompiledModule, imports: Imports = {}, options: MachineOptions = {}): Promise<Machine> {
    const machine = Machine.create(bytes, imports, options);
    const start = machine.instance.compiled.module.start;
    if (start !== undefined) {
      machine.beginAddr(machine.instance.funcAddrs[start], []);
      await machine.run();
    }
    return machine;
  }

  private static create(bytes: Uint8Array | CompiledModule, imports: Imports, options: MachineOptions): Machine {
    const compiled = ArrayBuffer.isView(bytes) ? compileModule(bytes as Uint8Array, options) : (bytes as CompiledModule); // isView: bytes may come from another realm
    if (options.deterministic !== undefined && options.deterministic !== compiled.code.deterministic) {
      throw new WasmError(`the module was compiled ${compiled.code.deterministic ? 'with' : 'without'} deterministic NaNs: pass the option to Machine.compile`);
    }
    const store = options.store ?? new Store(options.limits);
    if (options.store === undefined || options.tier !== undefined) store.tier = tierCode(options.tier);
    return new Machine(store, instantiate(store, compiled, imports));
  }

  /**
   * Rebuilds a machine from `snapshot()` data: the same module bytes, host functions
   * supplied again through `imports`. It continues exactly where the snapshot was taken.
   */
  static async restore(bytes: Uint8Array, state: MachineState, imports: Imports = {}, options: MachineOptions = {}): Promise<Machine> {
    return Machine.restoreSync(bytes, state, imports, options);
  }

  static restoreSync(
    bytes: Uint8Array,
    state: MachineState,
    imports: Imports = {},
    options: MachineOptions = {},
    /** Internal (ThreadGroup.restore): the group's restored shared memories, which the state's `{ group: k }` memories name. */
    groupMemories?: readonly MemoryInstance[],
  ): Machine {
    const deterministic = options.deterministic ?? (state !== null && typeof state === 'object' && state.deterministic === true);
    const compiled = compileModule(bytes, { deterministic, threads: options.threads });
    // The state's limits size the stack: checked against the ceiling before it is allocated.
    const store = new Store(checkLimits(state));
    store.tier = tierCode(options.tier);
    const instance = instantiate(store, compiled, imports, { skipInitialization: true });
    restoreState(store, instance, state, options.adoptMemory === true, groupMemories);
    return new Machine(store, instance);
  }

  /**
   * The complete state as plain data (typed arrays, numbers, strings); survives structuredClone.
   * `shareMemory`: each memory's `data` is a view of the live memory instead of a copy, valid
   * only until the machine runs or its memory grows: for a caller that encodes it at once
   * (a checkpoint, a migration), saving a copy of all memory.
   */
  snapshot(options: { shareMemory?: boolean } = {}): MachineState {
    if (this.store.thread.hostCallDepth > 0) {
      throw new WasmError('cannot snapshot inside a host function: the JavaScript on the stack is not data (suspend the call instead)');
    }
    return captureState(this.store, this.instance, options.shareMemory === true);
  }

  get exports(): Record<string, ExternHandle> {
    const out: Record<string, ExternHandle> = {};
    for (const [name, e] of this.instance.exports) out[name] = { kind: e.kind, store: this.store, addr: e.addr };
    return out;
  }

  /** Memory 0 of the instance, if any. */
  get memory(): MemoryInstance | null {
    return this.instance.memAddrs.length > 0 ? this.store.memories[this.instance.memAddrs[0]] : null;
  }

  get instructionCount(): number {
    return this.store.thread.instructionCount;
  }

  /**
   * Stop step()/run() every time a call enters function `funcIndex` (null: never); the
   * thread's `breakHits` counts the stops. Costs one comparison per call.
   */
  breakOnEntry(funcIndex: number | null): void {
    const t = this.store.thread;
    t.breakAddr = funcIndex === null ? -1 : this.instance.funcAddrs[funcIndex];
    t.breakHits = 0;
  }

  get thread(): Thread {
    return this.store.thread;
  }

  private exportedFunction(name: string): number {
    const e = this.instance.exports.get(name);
    if (!e || e.kind !== 'func') throw new WasmError(`no exported function named '${name}'`);
    return e.addr;
  }

  /**
   * Runs an exported function to completion and returns its results (JS API values).
   * A host function may call it while the machine runs (a callback into wasm): the call
   * runs on the same stack, above the host call, and must not suspend.
   */
  invoke(name: string, args: unknown[] = []): unknown[] {
    const addr = this.exportedFunction(name);
    const f = this.store.functions[addr];
    return this.call(
      addr,
      (words, at, i) => jsToSlot(this.store, words, at, f.type.params[i], args[i]),
      args.length,
      (words, at, t) => slotToJS(this.store, words, at, t),
    );
  }

  /** As invoke, with every value as exact bits (NaN payloads kept). */
  invokeExact(name: string, args: ExactValue[]): ExactValue[] {
    const addr = this.exportedFunction(name);
    const f = this.store.functions[addr];
    return this.call(
      addr,
      (words, at, i) => exactToSlot(this.store, words, at, f.type.params[i], args[i]),
      args.length,
      (words, at, t) => slotToExact(this.store, words, at, t),
    );
  }

  private call<T>(addr: number, writeArg: ArgWriter, argCount: number, read: (words: Int32Array, at: number, t: ValType) => T): T[] {
    const t = this.store.thread;
    const f = this.store.functions[addr];
    if (t.hostCallDepth === 0) {
      this.beginWith(addr, writeArg, argCount);
      this.finishSync();
      return this.readResults(f, read);
    }
    // A callback from a host function: save the registers of the invocation in progress,
    // run this one on top of its stack, and put them back whatever happens. Each level
    // nests JavaScript calls (host function -> invoke -> run loop): bounded, so that deep
    // recursion through the host is an ExhaustionError rather than the engine's RangeError.
    if (t.hostCallDepth > MAX_HOST_NESTING) throw new ExhaustionError(`host callbacks nested deeper than ${MAX_HOST_NESTING}`);
    const saved = { sp: t.sp, fp: t.fp, pc: t.pc, frameTop: t.frameTop, funcAddr: t.funcAddr, entry: t.entryFuncAddr, base: t.base, status: t.status };
    this.callbacks++;
    try {
      this.push(addr, writeArg, argCount, t.sp);
      this.finishSync();
      return this.readResults(f, read);
    } finally {
      this.callbacks--;
      Object.assign(t, { sp: saved.sp, fp: saved.fp, pc: saved.pc, frameTop: saved.frameTop, funcAddr: saved.funcAddr, entryFuncAddr: saved.entry, base: saved.base, status: saved.status });
    }
  }

  getGlobal(name: string): unknown {
    const [words, at, t] = this.globalSlot(name);
    return slotToJS(this.store, words, at, t);
  }

  getGlobalExact(name: string): ExactValue {
    const [words, at, t] = this.globalSlot(name);
    return slotToExact(this.store, words, at, t);
  }

  private globalSlot(name: string): [Int32Array, number, ValType] {
    const e = this.instance.exports.get(name);
    if (!e || e.kind !== 'global') throw new WasmError(`no exported global named '${name}'`);
    return [this.store.globalWords, globalWordIndex(e.addr), this.store.globalTypes[e.addr].valType];
  }

  /** Pushes a call of an exported function with its arguments; runs nothing. */
  begin(name: string, args: unknown[] = []): void {
    this.beginAddr(this.exportedFunction(name), args);
  }

  /** As begin, with every argument as exact bits (NaN payloads kept). */
  beginExact(name: string, args: ExactValue[]): void {
    const addr = this.exportedFunction(name);
    const f = this.store.functions[addr];
    this.beginWith(addr, (words, at, i) => exactToSlot(this.store, words, at, f.type.params[i], args[i]), args.length);
  }

  /** The results of the finished invocation (status 'done') as exact bits. */
  resultsExact(): ExactValue[] {
    const t = this.store.thread;
    if (t.status !== 'done') throw new WasmError(`no results: the machine is ${t.status}`);
    return this.readResults(this.store.functions[t.entryFuncAddr], (words, at, type) => slotToExact(this.store, words, at, type));
  }

  private beginAddr(addr: number, args: unknown[]): void {
    const f = this.store.functions[addr];
    this.beginWith(addr, (words, at, i) => jsToSlot(this.store, words, at, f.type.params[i], args[i]), args.length);
  }

  private beginWith(addr: number, writeArg: ArgWriter, argCount: number): void {
    const t = this.store.thread;
    if (t.status === 'running' || t.status === 'suspended' || t.status === 'waiting') {
      throw new WasmError('the machine is already running an invocation: finish it first (from a host function, use invoke())');
    }
    t.reset();
    this.push(addr, writeArg, argCount, LO);
  }

  /** Writes the arguments at word `base` and enters the function above everything below it. */
  private push(addr: number, writeArg: ArgWriter, argCount: number, base: number): void {
    const t = this.store.thread;
    const f = this.store.functions[addr];
    if (argCount !== f.type.params.length) {
      throw new WasmError(`expected ${f.type.params.length} arguments, got ${argCount}`);
    }
    if (base + 2 * (slotsOf(f.type.params) + slotsOf(f.type.results)) >= t.stackWords) throw new WasmError('no stack left for the call');
    let at = base;
    for (let i = 0; i < argCount; i++) {
      writeArg(t.s32, at, i);
      at += 2 * slotCount(f.type.params[i]);
    }
    t.base = base;
    t.sp = at;
    t.entryFuncAddr = addr;
    t.status = 'running';
    if (f.compiled !== null) enterFunction(t, f, addr);
    else t.funcAddr = addr; // a host function: step() calls it
  }

  /**
   * Runs at most `n` instructions (Infinity: to the end). Returns done with the results,
   * or not done (budget used up, or suspended by a host function). A trap is thrown as
   * a Trap and leaves the machine idle.
   */
  step(n: number): StepResult {
    const t = this.store.thread;
    if (t.hostCallDepth > this.callbacks) {
      throw new WasmError('step() called from inside a host function: the invocation below is not finished (call back with invoke())');
    }
    if (t.status === 'done') return { done: true, results: this.results() };
    if (t.status === 'waiting') return { done: false, waiting: true };
    if (t.status !== 'running' && t.status !== 'suspended') throw new WasmError(`nothing to run: the machine is ${t.status}`);
    t.status = 'running';
    t.suspendedUntil = undefined;
    let remaining = n;
    while (remaining > 0) {
      const entry = this.store.functions[t.funcAddr];
      if (entry.compiled === null) {
        // The invocation itself is a host function (an exported import).
        const status = callHost(this.store, t, entry, this.memory);
        if (status === TrapCode.HostSuspend) return this.suspended(t);
        if (status !== TrapCode.None) {
          t.status = 'trapped';
          if (status === TrapCode.HostError) throw t.hostError;
          throw trapError(status);
        }
        t.instructionCount++;
        t.status = 'done';
        break;
      }
      const slice = remaining > MAX_SLICE ? MAX_SLICE : remaining;
      const before = t.instructionCount;
      const r = execute(this.store, t, slice);
      remaining -= t.instructionCount - before;
      if (r === RunResult.Done) {
        t.status = 'done';
        break;
      }
      if (r === RunResult.Suspended) return this.suspended(t);
      if (r === RunResult.Breakpoint) return { done: false, breakpoint: true };
      if (r === RunResult.Waiting) {
        t.status = 'waiting';
        return { done: false, waiting: true };
      }
    }
    if (t.status === 'done') return { done: true, results: this.results() };
    return { done: false };
  }

  private suspended(t: Thread): StepResult {
    t.status = 'suspended';
    return { done: false, suspended: true, until: t.suspendedUntil };
  }

  /** Runs to completion, yielding to the event loop between slices and awaiting suspensions. */
  async run(options: RunOptions = {}): Promise<unknown[]> {
    const slice = options.sliceInstructions ?? 10_000_000;
    for (;;) {
      const r = this.step(slice);
      if (r.done) return r.results!;
      if (r.waiting) {
        this.abandonWait();
        throw new WasmError('memory.atomic.wait parked the machine: a machine of a ThreadGroup runs through the group (group.run())');
      }
      if (options.onSlice && options.onSlice(this) === false) return [];
      if (r.suspended) await r.until;
      else await yieldToEventLoop();
    }
  }

  private finishSync(): unknown[] {
    let r = this.step(Infinity);
    while (r.breakpoint) r = this.step(Infinity);
    if (r.waiting) {
      this.abandonWait();
      throw new WasmError('memory.atomic.wait parked a synchronous invoke: run the invocation in its ThreadGroup (begin() and group.run())');
    }
    if (r.suspended) {
      this.store.thread.status = 'idle';
      throw new WasmError('a host function suspended during a synchronous invoke: use begin() and run()');
    }
    return r.results!;
  }

  /** Leaves a wait that nobody will end (the caller cannot run the group): out of the queue, idle. */
  private abandonWait(): void {
    const t = this.store.thread;
    const q = t.waitMemory?.waiters;
    if (q !== undefined && q.indexOf(t) >= 0) q.splice(q.indexOf(t), 1);
    t.status = 'idle';
    t.waitMemory = null;
  }

  /** The finished invocation's results as JS values. */
  private results(): unknown[] {
    const f = this.store.functions[this.store.thread.entryFuncAddr];
    return this.readResults(f, (words, at, t) => slotToJS(this.store, words, at, t));
  }

  private readResults<T>(f: FunctionInstance, read: (words: Int32Array, at: number, t: ValType) => T): T[] {
    const t = this.store.thread;
    let at = t.base;
    return f.type.results.map((type) => {
      const value = read(t.s32, at, type);
      at += 2 * slotCount(type);
      return value;
    });
  }
}

type ArgWriter = (words: Int32Array, at: number, i: number) => void;

/**
 * Sets the thread up to run wasm function `f` whose arguments are on top of the stack,
 * under a frame that returns to the host (on top of any frames already there).
 */
function enterFunction(t: Thread, f: FunctionInstance, addr: number): void {
  const cf = f.compiled!;
  f.instance!.compiled.code.translate(cf);
  const fp = t.sp - 2 * cf.numParams;
  if (t.frameTop >= t.maxCallDepth * FRAME_WORDS || fp + cf.frameWords >= t.stackWords) throw new ExhaustionError('call stack exhausted');
  t.frames[t.frameTop] = RETURN_TO_HOST;
  t.frames[t.frameTop + 1] = fp;
  t.frames[t.frameTop + 2] = -1;
  t.frameTop += FRAME_WORDS;
  t.fp = fp;
  t.sp = fp + 2 * cf.numLocals;
  t.s32.fill(0, (fp + 2 * cf.numParams) & ~1, t.sp & ~1);
  t.pc = cf.entry;
  t.funcAddr = addr;
}

export type { ImportValue, Imports };
