import { HI, LO } from './layout';
import type { MemoryInstance } from './runtime';

/** Words per call frame in `Thread.frames`: return pc, caller's fp, caller's function address. */
export const FRAME_WORDS = 3;
/** The return pc of the outermost frame: returning there ends the invocation. */
export const RETURN_TO_HOST = -1;

/** 'waiting': parked in memory.atomic.wait (only in a ThreadGroup), until notified or timed out. */
export type ThreadStatus = 'idle' | 'running' | 'suspended' | 'done' | 'trapped' | 'waiting';

export interface ThreadLimits {
  /** Operand stack and locals, in 8-byte slots. */
  stackSlots: number;
  /** Nested wasm calls before "call stack exhausted". */
  maxCallDepth: number;
}

export const DEFAULT_LIMITS: ThreadLimits = { stackSlots: 1 << 20, maxCallDepth: 20000 };
/**
 * The largest limits a thread may have (128 MiB of stack, 12 MiB of frames): what a
 * snapshot's `limits` are checked against before the stack is allocated.
 */
export const MAX_LIMITS: ThreadLimits = { stackSlots: 1 << 24, maxCallDepth: 1 << 20 };
/** Host functions calling back into wasm (wasm -> host -> invoke -> wasm ...) nest at most this deep. */
export const MAX_HOST_NESTING = 128;

/**
 * The execution state of one invocation: registers, the value stack (locals and operands
 * of every frame) and the call frames. All of it is numbers and typed arrays; the run loop
 * copies the registers into locals on entry and back on exit.
 */
export class Thread {
  readonly stack: ArrayBuffer;
  readonly s32: Int32Array;
  readonly f32: Float32Array;
  readonly f64: Float64Array;
  readonly stackWords: number;
  readonly frames: Int32Array;
  readonly maxCallDepth: number;
  /** Where JS-tier code hands back pc, sp, fp, function, frameTop and how it ended (execution/js-tier.ts). */
  readonly jitIO = new Int32Array(6);
  /** What compiled code calling compiled code shares (execution/js-tier.ts, JitShared); made on first use. */
  jitShared: unknown = null;

  /** Word index of the next free slot's low word. */
  sp = LO;
  /** Word index of the current frame's local 0 (low word). */
  fp = LO;
  pc = 0;
  /** Store address of the running function; -1 when nothing runs. */
  funcAddr = -1;
  /** Words used in `frames` (FRAME_WORDS per active call). */
  frameTop = 0;
  status: ThreadStatus = 'idle';
  instructionCount = 0;
  /** Store address of the function the invocation started with. */
  entryFuncAddr = -1;
  /** Word index where the invocation's arguments (and then its results) start. */
  base = LO;
  /** Host functions now running (> 0: a host function may call back into wasm). */
  hostCallDepth = 0;
  /** What a host function threw, rethrown by the run loop after it saved its registers. */
  hostError: unknown = undefined;
  /**
   * Store address of a function whose every entry by a call stops the run loop right
   * after the call (at the callee's first instruction); -1 for none. `breakHits` counts
   * those stops. Debuggers and the CLI's "K-th entry into F" trigger use it.
   */
  breakAddr = -1;
  breakHits = 0;
  /** The table index that an element trap names in its message. */
  trapDetail = -1;
  /** Set when a host function suspended the machine: resume once it settles. */
  suspendedUntil: Promise<unknown> | undefined = undefined;
  /**
   * Part of a ThreadGroup: memory.atomic.wait parks the thread (status 'waiting'). Alone, a
   * wait with a timeout times out at once (nothing else runs meanwhile) and one without is
   * a DeadlockError.
   */
  grouped = false;
  /** While waiting: the memory, the byte address waited on, and the timeout in ns (Infinity: none). */
  waitMemory: MemoryInstance | null = null;
  waitAddress = 0;
  waitTimeout = Infinity;
  /** While waiting in a group: when the wait times out, in the group's virtual ns (Infinity: never). */
  waitDeadline = Infinity;

  constructor(limits: ThreadLimits = DEFAULT_LIMITS) {
    this.stack = new ArrayBuffer(limits.stackSlots * 8);
    this.s32 = new Int32Array(this.stack);
    this.f32 = new Float32Array(this.stack);
    this.f64 = new Float64Array(this.stack);
    this.stackWords = limits.stackSlots * 2;
    this.maxCallDepth = limits.maxCallDepth;
    this.frames = new Int32Array(limits.maxCallDepth * FRAME_WORDS + FRAME_WORDS);
    // A double field from the start: V8 keeps a field that has only held small integers as
    // one, and the count passing 2^31 would change every Thread's map, deoptimise the run
    // loop and the JS tier's code that reads this object (seen: 18 -> 50-120 ms per run of
    // the nbody kernel from then on).
    this.instructionCount = 0.5;
    this.instructionCount = 0;
  }

  get depth(): number {
    return this.frameTop / FRAME_WORDS;
  }

  /**
   * Ends a wait: takes the thread out of its memory's queue (if still there) and leaves the
   * wait's result (0 "ok" when notified, 2 "timed-out") on its stack, ready to run on.
   */
  wake(result: 0 | 2): void {
    const mem = this.waitMemory;
    if (mem !== null) {
      const i = mem.waiters.indexOf(this);
      if (i >= 0) mem.waiters.splice(i, 1);
    }
    this.s32[this.sp] = result;
    this.s32[this.sp + HI] = 0;
    this.sp += 2;
    this.waitMemory = null;
    this.waitTimeout = Infinity;
    this.waitDeadline = Infinity;
    this.status = 'running';
  }

  reset(): void {
    this.sp = LO;
    this.fp = LO;
    this.pc = 0;
    this.funcAddr = -1;
    this.frameTop = 0;
    this.status = 'idle';
    this.entryFuncAddr = -1;
    this.base = LO;
    this.hostError = undefined;
    this.trapDetail = -1;
    this.suspendedUntil = undefined;
    this.waitMemory = null;
    this.waitTimeout = Infinity;
    this.waitDeadline = Infinity;
  }
}
