/**
 * The state model: what a snapshot of a Machine contains. Every snapshot ever written
 * depends on this file; change it only with a new STATE_VERSION.
 *
 * All values are host-independent plain data:
 * - value slots (operand stack, locals, globals) are (low word, high word) int32 pairs,
 *   whatever the host's byte order;
 * - stack positions are slot indices, code positions are offsets from the entry of their
 *   function's internal code, as TRANSLATOR_VERSION's translator produces it from the
 *   module bytes (so a state is bound to the module's fingerprint and the translator
 *   version; functions are translated on first call, so their places in the module's code
 *   vary from run to run, their own code does not);
 * - functions are store addresses: imports first (in import order), then the module's own.
 * - references in tables and slots are 0 (null) or address + 1 / extern index + 1.
 */
import { RestoreError } from '../errors';
import { evalConst } from '../execution/instantiate';
import { HI, LO } from '../execution/layout';
import { MemoryInstance, ModuleInstance, globalWordIndex } from '../execution/runtime';
import type { Store } from '../execution/store';
import { FRAME_WORDS, ThreadLimits, ThreadStatus } from '../execution/thread';
import { ValType } from '../syntax/types';
import { TRANSLATOR_VERSION } from '../translation/opcodes';
import { checkLimits, checkMachineState } from './check-state';

/**
 * 2: SIMD. A v128 takes two value slots on the stack (its bytes 0..7 in the first slot's
 * (lo, hi) words, 8..15 in the second's) and v128 globals carry their upper slot in
 * `globalsHigh`. Nothing else changed: a version-1 state (which cannot hold a v128) is read
 * as it is.
 */
/*
 * 3: threads. A memory may be `shared`; in a ThreadGroup's state a thread's memory that is one
 * of the group's shared memories is `{ group: k }` (its bytes are in the group state, once); a
 * thread may be 'waiting' (memory.atomic.wait), with its `wait` record. Versions 1 and 2 are
 * read as they are (they hold neither).
 */
export const STATE_VERSION = 3;

/** The state versions this runtime restores. */
export const READABLE_STATE_VERSIONS: readonly number[] = [1, 2, 3];

export interface MemoryState {
  pages: number;
  max?: number;
  /** The whole memory, pages × 64 KiB bytes (empty when `group` is set). */
  data: Uint8Array;
  /** A shared memory (threads); absent: as the module declares it. */
  shared?: boolean;
  /** In a ThreadGroup state: this memory is the group's shared memory `group` (GroupState.memories). */
  group?: number;
}

/** Where a waiting thread waits (status 'waiting'; only in a ThreadGroup state). */
export interface WaitState {
  /** Index of the memory in the thread's store (its `memories`). */
  memory: number;
  /** Byte address waited on (4-aligned). */
  address: number;
  /** When the wait times out, in the group's virtual ns (GroupState.clock); -1: never. */
  deadline: number;
}

export interface TableState {
  elemType: 'funcref' | 'externref';
  size: number;
  max?: number;
  elements: Int32Array;
}

export interface ThreadState {
  status: ThreadStatus;
  instructionCount: number;
  pc: number;
  /** Slot index of the current frame's local 0. */
  fp: number;
  /** Number of slots in use on the value stack. */
  sp: number;
  funcAddr: number;
  entryFuncAddr: number;
  /** Per active call: return pc, caller's fp (slot index), caller's function address. */
  frames: Int32Array;
  /** The value stack's used slots as (lo, hi) pairs. */
  stack: Int32Array;
  /** Status 'waiting' only: what it waits on (its wait instruction's operands are popped, the result not yet pushed). */
  wait?: WaitState;
}

export interface MachineState {
  version: number;
  translatorVersion: number;
  /** FNV-1a of the module bytes, to refuse a state for another module. */
  moduleFingerprint: string;
  limits: ThreadLimits;
  memories: MemoryState[];
  tables: TableState[];
  /** (lo, hi) per global address. */
  globals: Int32Array;
  /** The upper slot (lo, hi) of every global address, when the store has a v128 global (version 2); absent otherwise. */
  globalsHigh?: Int32Array;
  /** Store addresses of element / data segments that have been dropped. */
  droppedElems: number[];
  droppedDatas: number[];
  /** Host values that externref values point at (must be structured-cloneable to persist). */
  externs: unknown[];
  thread: ThreadState;
  /** Float arithmetic gives canonical NaNs (Machine option `deterministic`); absent: false. */
  deterministic?: boolean;
}

/** FNV-1a (two 32-bit lanes) of the module bytes, as hex. Cheap, and enough to catch a wrong module. */
export function moduleFingerprint(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ bytes.length;
  for (let i = 0; i < bytes.length; i++) {
    h1 = Math.imul(h1 ^ bytes[i], 0x01000193);
    h2 = Math.imul(h2 ^ bytes[i], 0x5bd1e995);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0') + ':' + bytes.length;
}

/** Copies `count` slots, `stride` words apart, starting at word index `from` (a LO word) into a (lo, hi) array. */
function slotsToPairs(words: Int32Array, from: number, count: number, stride = 2): Int32Array {
  const out = new Int32Array(2 * count);
  for (let i = 0; i < count; i++) {
    out[2 * i] = words[from + stride * i];
    out[2 * i + 1] = words[from + stride * i + HI];
  }
  return out;
}

function pairsToSlots(pairs: Int32Array, words: Int32Array, from: number, stride = 2): void {
  for (let i = 0; i < pairs.length / 2; i++) {
    words[from + stride * i] = pairs[2 * i];
    words[from + stride * i + HI] = pairs[2 * i + 1];
  }
}

/** `shareMemory`: each memory's `data` is a view of the live memory, not a copy (see Machine.snapshot). */
export function captureState(
  store: Store,
  instance: ModuleInstance,
  shareMemory = false,
  /** In a group snapshot: the index of a memory among the group's shared memories, or -1. */
  groupMemory: (m: MemoryInstance) => number = () => -1,
): MachineState {
  if (store.instances.length !== 1) {
    throw new RestoreError('snapshots cover a store with exactly one module instance');
  }
  const t = store.thread;
  const frames = t.frames.slice(0, t.frameTop);
  for (let i = 0; i < frames.length; i += FRAME_WORDS) {
    if (frames[i + 2] >= 0) frames[i] = relativePc(store, frames[i + 2], frames[i]);
    frames[i + 1] = frames[i + 1] >> 1;
  }
  return {
    version: STATE_VERSION,
    translatorVersion: TRANSLATOR_VERSION,
    moduleFingerprint: moduleFingerprint(instance.compiled.module.bytes),
    limits: { stackSlots: t.stackWords / 2, maxCallDepth: t.maxCallDepth },
    memories: store.memories.map((m) => {
      const k = groupMemory(m);
      if (k >= 0) return { pages: m.pages, max: m.max, shared: true, group: k, data: new Uint8Array(0) };
      return { pages: m.pages, max: m.max, ...(m.shared ? { shared: true } : {}), data: shareMemory ? m.u8 : m.u8.slice() };
    }),
    tables: store.tables.map((tb) => ({
      elemType: tb.elemType === ValType.FuncRef ? 'funcref' : 'externref',
      size: tb.size,
      max: tb.max,
      elements: tb.elements.slice(0, tb.size),
    })),
    globals: slotsToPairs(store.globalWords, globalWordIndex(0), store.globalTypes.length, 4),
    ...(store.globalTypes.some((g) => g.valType === ValType.V128)
      ? { globalsHigh: slotsToPairs(store.globalWords, globalWordIndex(0) + 2, store.globalTypes.length, 4) }
      : {}),
    droppedElems: store.elems.flatMap((e, i) => (e.refs === null ? [i] : [])),
    droppedDatas: store.datas.flatMap((d, i) => (d.bytes === null ? [i] : [])),
    externs: store.externs.slice(),
    deterministic: instance.compiled.code.deterministic,
    thread: {
      status: t.status,
      instructionCount: t.instructionCount,
      pc: relativePc(store, t.funcAddr, t.pc),
      fp: t.fp >> 1,
      sp: t.sp >> 1,
      funcAddr: t.funcAddr,
      entryFuncAddr: t.entryFuncAddr,
      frames,
      stack: slotsToPairs(t.s32, LO, t.sp >> 1),
      ...(t.status === 'waiting'
        ? { wait: { memory: store.memories.indexOf(t.waitMemory!), address: t.waitAddress, deadline: t.waitDeadline === Infinity ? -1 : t.waitDeadline } }
        : {}),
    },
  };
}

/** A pc of function `funcAddr` as an offset from its entry (other pcs, e.g. of an idle thread, as they are). */
function relativePc(store: Store, funcAddr: number, pc: number): number {
  const cf = store.functions[funcAddr]?.compiled;
  return cf && cf.entry >= 0 ? pc - cf.entry : pc;
}

/**
 * Loads `state` into a freshly instantiated (uninitialized) store. Checks everything
 * first (check-state.ts) and writes nothing until all checks pass, so a bad state leaves
 * no half-restored machine behind.
 */
export function restoreState(
  store: Store,
  instance: ModuleInstance,
  state: MachineState,
  adoptMemory = false,
  /** Restoring a thread of a ThreadGroup: the group's shared memories (already restored). */
  groupMemories?: readonly MemoryInstance[],
): void {
  const fail = (message: string) => new RestoreError(`invalid machine state: ${message}`);
  if (state === null || typeof state !== 'object') throw fail('not an object');
  if (!READABLE_STATE_VERSIONS.includes(state.version)) {
    throw fail(`state version ${String(state.version)}, this runtime reads ${READABLE_STATE_VERSIONS.join(', ')}`);
  }
  if (state.translatorVersion !== TRANSLATOR_VERSION) {
    throw fail(`translator version ${String(state.translatorVersion)}, this runtime has ${TRANSLATOR_VERSION}`);
  }
  const fingerprint = moduleFingerprint(instance.compiled.module.bytes);
  if (state.moduleFingerprint !== fingerprint) {
    throw new RestoreError(`the state belongs to another module (fingerprint ${String(state.moduleFingerprint)}, module is ${fingerprint})`);
  }
  const limits = checkLimits(state);
  if (limits.stackSlots !== store.thread.stackWords / 2 || limits.maxCallDepth !== store.thread.maxCallDepth) {
    throw fail("'limits' differ from the store's: restore into a store made with the state's limits");
  }
  checkMachineState(store, instance, state as unknown as Record<string, unknown>, groupMemories);
  const t = store.thread;
  const th = state.thread;
  const active = th.status === 'running' || th.status === 'suspended' || th.status === 'waiting';

  // Every check passed: write.
  state.memories.forEach((m, i) => {
    if (m.group !== undefined) return; // the group's memory, restored once by the group
    const mem = store.memories[i];
    // Adopt a buffer that is exactly the memory (a migration target's, built for this); else copy.
    const whole = m.data.byteOffset === 0 && m.data.buffer instanceof ArrayBuffer && m.data.buffer.byteLength >= m.data.length;
    const buffer = adoptMemory && whole ? (m.data.buffer as ArrayBuffer) : new ArrayBuffer(m.data.length);
    if (buffer !== m.data.buffer) new Uint8Array(buffer).set(m.data);
    mem.replaceBuffer(buffer, m.pages);
  });
  state.tables.forEach((tb, i) => {
    const table = store.tables[i];
    table.elements = new Int32Array(Math.max(tb.size, 4));
    table.elements.set(tb.elements);
    table.size = tb.size;
  });
  pairsToSlots(state.globals, store.globalWords, globalWordIndex(0), 4);
  if (state.globalsHigh !== undefined) pairsToSlots(state.globalsHigh, store.globalWords, globalWordIndex(0) + 2, 4);
  for (const a of state.droppedElems) store.elems[a].refs = null;
  for (const a of state.droppedDatas) store.datas[a].bytes = null;
  for (const e of state.externs) store.internExtern(e);
  // Element segments were allocated empty in restore mode: re-evaluate the passive ones' contents.
  restoreElemContents(store, instance, new Set(state.droppedElems));

  t.reset();
  t.status = th.status;
  t.instructionCount = th.instructionCount;
  // The checks translated every function on the stack: pcs become offsets in the module's code.
  t.pc = active && store.functions[th.funcAddr].compiled !== null ? store.functions[th.funcAddr].compiled!.entry + th.pc : th.pc;
  t.fp = 2 * th.fp + LO;
  t.sp = 2 * th.sp + LO;
  t.funcAddr = th.funcAddr;
  t.entryFuncAddr = th.entryFuncAddr;
  t.frames.set(th.frames);
  for (let i = 0; i < th.frames.length; i += FRAME_WORDS) {
    if (active && th.frames[i + 2] >= 0) t.frames[i] = store.functions[th.frames[i + 2]].compiled!.entry + th.frames[i];
    t.frames[i + 1] = 2 * th.frames[i + 1] + LO;
  }
  t.frameTop = th.frames.length;
  pairsToSlots(th.stack, t.s32, LO);
  if (th.wait !== undefined) {
    // Queued on its memory by the group, in the order of the group state's queues.
    t.waitMemory = store.memories[th.wait.memory];
    t.waitAddress = th.wait.address;
    t.waitDeadline = th.wait.deadline < 0 ? Infinity : th.wait.deadline;
  }
}

/** Segments hold constant data derived from the module: recompute the ones not dropped. */
function restoreElemContents(store: Store, instance: ModuleInstance, dropped: Set<number>): void {
  instance.compiled.module.elems.forEach((seg, i) => {
    const addr = instance.elemAddrs[i];
    if (dropped.has(addr)) return;
    const refs = store.elems[addr].refs!;
    seg.init.forEach((e, j) => (refs[j] = evalConst(store, instance, e)[0]));
  });
}
