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
import { ModuleInstance, globalWordIndex } from '../execution/runtime';
import type { Store } from '../execution/store';
import { FRAME_WORDS, RETURN_TO_HOST, ThreadLimits, ThreadStatus } from '../execution/thread';
import { ValType } from '../syntax/types';
import { TRANSLATOR_VERSION } from '../translation/opcodes';
import type { CompiledFunction } from '../translation/translator';

/**
 * 2: SIMD. A v128 takes two value slots on the stack (its bytes 0..7 in the first slot's
 * (lo, hi) words, 8..15 in the second's) and v128 globals carry their upper slot in
 * `globalsHigh`. Nothing else changed: a version-1 state (which cannot hold a v128) is read
 * as it is.
 */
export const STATE_VERSION = 2;

/** The state versions this runtime restores. */
export const READABLE_STATE_VERSIONS: readonly number[] = [1, 2];

export interface MemoryState {
  pages: number;
  max?: number;
  /** The whole memory, pages × 64 KiB bytes. */
  data: Uint8Array;
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

export function captureState(store: Store, instance: ModuleInstance): MachineState {
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
    memories: store.memories.map((m) => ({ pages: m.pages, max: m.max, data: m.u8.slice() })),
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
    },
  };
}

/** A pc of function `funcAddr` as an offset from its entry (other pcs, e.g. of an idle thread, as they are). */
function relativePc(store: Store, funcAddr: number, pc: number): number {
  const cf = store.functions[funcAddr]?.compiled;
  return cf && cf.entry >= 0 ? pc - cf.entry : pc;
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RestoreError(`invalid machine state: ${message}`);
}

/** Typed-array checks by tag, not instanceof: a structured clone may come from another realm. */
const isTyped = (v: unknown, tag: 'Int32Array' | 'Uint8Array'): boolean =>
  ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${tag}]`;

const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Loads `state` into a freshly instantiated (uninitialized) store. Checks everything
 * first and writes nothing until all checks pass, so a bad state leaves no half-restored
 * machine behind.
 */
export function restoreState(store: Store, instance: ModuleInstance, state: MachineState): void {
  check(state !== null && typeof state === 'object', 'not an object');
  check(READABLE_STATE_VERSIONS.includes(state.version), `state version ${state.version}, this runtime reads ${READABLE_STATE_VERSIONS.join(', ')}`);
  check(state.translatorVersion === TRANSLATOR_VERSION, `translator version ${state.translatorVersion}, this runtime has ${TRANSLATOR_VERSION}`);
  const fingerprint = moduleFingerprint(instance.compiled.module.bytes);
  if (state.moduleFingerprint !== fingerprint) {
    throw new RestoreError(`the state belongs to another module (fingerprint ${state.moduleFingerprint}, module is ${fingerprint})`);
  }
  const t = store.thread;
  check(Array.isArray(state.memories) && state.memories.length === store.memories.length, 'memory count differs');
  state.memories.forEach((m, i) => {
    check(isInt(m.pages, 0, 65536) && isTyped(m.data, 'Uint8Array') && m.data.length === m.pages * 65536, `memory ${i} size`);
    check(m.max === store.memories[i].max || (m.max == null && store.memories[i].max === undefined), `memory ${i} maximum differs`);
  });
  check(Array.isArray(state.tables) && state.tables.length === store.tables.length, 'table count differs');
  const nFuncs = store.functions.length;
  state.tables.forEach((tb, i) => {
    check(isTyped(tb.elements, 'Int32Array') && isInt(tb.size, 0, 1e7) && tb.elements.length === tb.size, `table ${i} size`);
    const isFunc = store.tables[i].elemType === ValType.FuncRef;
    check((tb.elemType === 'funcref') === isFunc, `table ${i} element type differs`);
    if (isFunc) for (const r of tb.elements) check(r >= 0 && r <= nFuncs, `table ${i} holds an unknown function`);
  });
  check(isTyped(state.globals, 'Int32Array') && state.globals.length === 2 * store.globalTypes.length, 'global count differs');
  const hasV128Global = store.globalTypes.some((g) => g.valType === ValType.V128);
  check(
    state.globalsHigh === undefined ? !hasV128Global : state.version >= 2 && hasV128Global && isTyped(state.globalsHigh, 'Int32Array') && state.globalsHigh.length === state.globals.length,
    'v128 globals',
  );
  check(Array.isArray(state.droppedElems) && state.droppedElems.every((a) => isInt(a, 0, store.elems.length - 1)), 'dropped element segments');
  check(Array.isArray(state.droppedDatas) && state.droppedDatas.every((a) => isInt(a, 0, store.datas.length - 1)), 'dropped data segments');
  check(Array.isArray(state.externs), 'externs');
  check(state.deterministic === undefined || typeof state.deterministic === 'boolean', 'deterministic');

  const th = state.thread;
  check(th !== null && typeof th === 'object', 'thread missing');
  check(['idle', 'running', 'suspended', 'done', 'trapped'].includes(th.status), `thread status '${th.status}'`);
  check(isInt(th.instructionCount, 0, Number.MAX_SAFE_INTEGER), 'instruction count');
  const stackSlots = t.stackWords / 2;
  check(isTyped(th.stack, 'Int32Array') && isInt(th.sp, 0, stackSlots) && th.stack.length === 2 * th.sp, 'stack');
  check(isInt(th.fp, 0, th.sp), 'frame pointer');
  check(isTyped(th.frames, 'Int32Array') && th.frames.length % FRAME_WORDS === 0 && th.frames.length / FRAME_WORDS <= t.maxCallDepth, 'frames');
  check(isInt(th.entryFuncAddr, -1, nFuncs - 1), 'entry function');
  const active = th.status === 'running' || th.status === 'suspended';
  if (active) {
    check(isInt(th.funcAddr, 0, nFuncs - 1), 'current function');
    const current = store.functions[th.funcAddr];
    if (current.compiled !== null) {
      const onInstruction = pcChecker(instance);
      check(th.frames.length >= FRAME_WORDS && th.frames[0] === RETURN_TO_HOST, 'outermost frame');
      check(onInstruction(th.funcAddr, th.pc), 'pc is not on an instruction of the current function');
      check(th.sp - th.fp >= current.compiled.numLocals, 'current frame is smaller than its locals');
      for (let i = FRAME_WORDS; i < th.frames.length; i += FRAME_WORDS) {
        const [pc, fp, addr] = [th.frames[i], th.frames[i + 1], th.frames[i + 2]];
        check(isInt(addr, 0, nFuncs - 1) && store.functions[addr].compiled !== null, `frame ${i / FRAME_WORDS} function`);
        check(onInstruction(addr, pc), `frame ${i / FRAME_WORDS}: return pc is not on an instruction of its function`);
        check(isInt(fp, 0, th.fp), `frame ${i / FRAME_WORDS} fp`);
      }
    }
  }

  // Every check passed: write.
  state.memories.forEach((m, i) => {
    const mem = store.memories[i];
    const buffer = new ArrayBuffer(m.data.length);
    new Uint8Array(buffer).set(m.data);
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
}

/**
 * `(funcAddr, pc) => boolean`: is pc (an offset from the function's entry) the first word of
 * an instruction of that function of the instance? A pc in the middle of an instruction, or
 * past the function's end, would run garbage. Translates the functions it is asked about:
 * the restored stack needs their code.
 */
function pcChecker(instance: ModuleInstance): (funcAddr: number, pc: number) => boolean {
  const { functions, code } = instance.compiled;
  const byAddr = new Map<number, CompiledFunction>();
  const imported = instance.funcAddrs.length - functions.length;
  functions.forEach((f, i) => byAddr.set(instance.funcAddrs[imported + i], f));
  return (funcAddr, pc) => {
    const f = byAddr.get(funcAddr);
    if (f === undefined) return false;
    code.translate(f);
    const at = f.entry + pc;
    return isInt(pc, 0, f.end - f.entry - 1) && (pc === 0 || code.ordinals[at] !== code.ordinals[at - 1]);
  };
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
