/**
 * The restore-time check of a machine state against the module it claims to be of: every
 * field, before anything is written or allocated beyond the module's own limits. A state
 * comes from a snapshot file or a migration peer, so it is untrusted: what it may hold is
 * what the module and the runtime's limits allow, and a state that passes runs as the
 * machine it was taken of would (see SECURITY.md, "The snapshot file and the machine
 * state", for what a check cannot see). Nothing here runs in the run loop.
 *
 * Failures are RestoreErrors, one line naming the field; never a TypeError, whatever the
 * shape of the input (null fields, wrong types, arrays of the wrong kind).
 */
import { RestoreError } from '../errors';
import { evalConst } from '../execution/instantiate';
import { MAX_PAGES, MAX_TABLE_ENTRIES, MemoryInstance, ModuleInstance, PAGE_SIZE } from '../execution/runtime';
import { ATOMIC } from '../instructions';
import type { Store } from '../execution/store';
import { FRAME_WORDS, MAX_LIMITS, RETURN_TO_HOST, ThreadLimits } from '../execution/thread';
import { FuncType, ValType, entityTypes, slotCount, slotsOf } from '../syntax/types';
import { CodeBuilder } from '../translation/code-builder';
import { Op, instructionLength } from '../translation/opcodes';
import { FunctionTranslator } from '../translation/translator';

/** Externs a state may list (host values behind externref): more is refused, not allocated. */
export const MAX_EXTERNS = 100_000;

const STATUSES = ['idle', 'running', 'suspended', 'done', 'trapped', 'waiting'];

function fail(message: string): never {
  throw new RestoreError(`invalid machine state: ${message}`);
}

function check(condition: boolean, message: string): asserts condition {
  if (!condition) fail(message);
}

/** Typed-array checks by tag, not instanceof: a structured clone may come from another realm. */
export const isTyped = (v: unknown, tag: 'Int32Array' | 'Uint8Array'): boolean =>
  ArrayBuffer.isView(v) && Object.prototype.toString.call(v) === `[object ${tag}]`;

export const isInt = (v: unknown, min: number, max: number): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The state's thread limits, checked against MAX_LIMITS: called before the store (whose
 * stack they size) is allocated.
 */
export function checkLimits(state: unknown): ThreadLimits {
  check(isObject(state), 'not an object');
  const limits = state.limits;
  check(isObject(limits), "'limits' missing");
  check(isInt(limits.stackSlots, 1, MAX_LIMITS.stackSlots), `'limits.stackSlots' must be an integer from 1 to ${MAX_LIMITS.stackSlots}`);
  check(isInt(limits.maxCallDepth, 1, MAX_LIMITS.maxCallDepth), `'limits.maxCallDepth' must be an integer from 1 to ${MAX_LIMITS.maxCallDepth}`);
  return { stackSlots: limits.stackSlots, maxCallDepth: limits.maxCallDepth };
}

/** What the check knows of one defined function's internal code, offsets relative to its entry. */
interface FunctionShape {
  type: FuncType;
  locals: readonly ValType[];
  frameWords: number;
  /** Internal instruction starts. */
  starts: Set<number>;
  /** Per start of a wasm instruction's code: the operand types below it (null: unknown). */
  operands: Map<number, readonly ValType[] | null>;
  /** The internal code, from offset 0. */
  words: Int32Array;
}

/** Re-translates defined functions (into a scratch buffer) to learn their instruction starts and stack shapes. */
function shapes(instance: ModuleInstance): (funcAddr: number) => FunctionShape | null {
  const { module, ctx, functions, code } = instance.compiled;
  const imported = instance.funcAddrs.length - functions.length;
  const byAddr = new Map<number, number>();
  instance.funcAddrs.forEach((addr, i) => {
    if (i >= imported) byAddr.set(addr, i);
  });
  const cache = new Map<number, FunctionShape>();
  return (funcAddr) => {
    const cached = cache.get(funcAddr);
    if (cached) return cached;
    const index = byAddr.get(funcAddr);
    if (index === undefined) return null;
    const f = functions[index - imported];
    code.translate(f); // the restored stack runs this code
    const out = new CodeBuilder();
    const operands = new Map<number, readonly ValType[] | null>();
    const translator = new FunctionTranslator(module, ctx, out, index, false, (at, types) => operands.set(at, types));
    const t = translator.translate();
    const words = out.words.slice(0, out.length);
    const starts = new Set<number>();
    for (let pc = 0; pc < t.end; pc += instructionLength(words, pc)) starts.add(pc);
    const shape = { type: f.type, locals: translator.locals, frameWords: t.frameWords, starts, operands, words };
    cache.set(funcAddr, shape);
    return shape;
  };
}

/**
 * Checks `state` against a store freshly instantiated (restore mode) from the module.
 * Throws RestoreError on the first problem; returns only if restoring it is safe.
 */
export function checkMachineState(store: Store, instance: ModuleInstance, state: Record<string, unknown>, groupMemories?: readonly MemoryInstance[]): void {
  const m = instance.compiled.module;
  const nFuncs = store.functions.length;
  // Declared limits in address order (restore links no imports but functions: addresses are indices).
  const { memories: memoryTypes, tables: tableTypes } = entityTypes(m);

  // Memories: count, then each size within the module's limits, before anything is copied.
  const memories = state.memories;
  check(Array.isArray(memories), "'memories' is not a list");
  check(memories.length === store.memories.length, `${memories.length} memories, the module has ${store.memories.length}`);
  memories.forEach((mem: unknown, i) => {
    check(isObject(mem), `memory ${i} is not an object`);
    check(mem.shared === undefined || mem.shared === store.memories[i].shared, `memory ${i}: shared is ${String(mem.shared)}, the module's memory is ${store.memories[i].shared ? '' : 'not '}shared`);
    if (mem.group !== undefined) {
      // A thread of a group: the group's memory k, which the store must have linked.
      check(groupMemories !== undefined, `memory ${i} refers to a group memory outside a thread group state`);
      check(isInt(mem.group, 0, groupMemories.length - 1) && store.memories[i] === groupMemories[mem.group], `memory ${i}: group memory ${String(mem.group)} is not the memory this thread links`);
      return;
    }
    const declared = memoryTypes[i].limits;
    const most = Math.min(declared.max ?? MAX_PAGES, MAX_PAGES);
    check(isInt(mem.pages, declared.min, most), `memory ${i}: ${String(mem.pages)} pages, the module allows ${declared.min} to ${most}`);
    check(mem.max === declared.max || (mem.max == null && declared.max === undefined), `memory ${i}: maximum ${String(mem.max)} differs from the module's`);
    check(isTyped(mem.data, 'Uint8Array') && (mem.data as Uint8Array).length === mem.pages * 65536, `memory ${i}: data is not ${mem.pages} pages`);
  });

  // Externs first: references are checked against their count.
  const externs = state.externs;
  check(Array.isArray(externs), "'externs' is not a list");
  check(externs.length <= MAX_EXTERNS, `${externs.length} externs, at most ${MAX_EXTERNS}`);
  check(new Set(externs).size === externs.length, 'externs list one value twice');
  const nExterns = externs.length;
  const refOk = (type: ValType, lo: number) =>
    type === ValType.FuncRef ? lo >= 0 && lo <= nFuncs : type === ValType.ExternRef ? lo >= 0 && lo <= nExterns : true;

  const tables = state.tables;
  check(Array.isArray(tables), "'tables' is not a list");
  check(tables.length === store.tables.length, `${tables.length} tables, the module has ${store.tables.length}`);
  tables.forEach((tb: unknown, i) => {
    check(isObject(tb), `table ${i} is not an object`);
    const declared = tableTypes[i];
    const most = Math.min(declared.limits.max ?? MAX_TABLE_ENTRIES, MAX_TABLE_ENTRIES);
    check(isInt(tb.size, declared.limits.min, most), `table ${i}: size ${String(tb.size)}, the module allows ${declared.limits.min} to ${most}`);
    check(tb.max === declared.limits.max || (tb.max == null && declared.limits.max === undefined), `table ${i}: maximum ${String(tb.max)} differs from the module's`);
    check(tb.elemType === (declared.elemType === ValType.FuncRef ? 'funcref' : 'externref'), `table ${i}: element type ${String(tb.elemType)} differs from the module's`);
    check(isTyped(tb.elements, 'Int32Array') && (tb.elements as Int32Array).length === tb.size, `table ${i}: elements do not match its size`);
    const elements = tb.elements as Int32Array;
    for (let j = 0; j < elements.length; j++) {
      check(refOk(declared.elemType, elements[j]), `table ${i}: element ${j} refers to no ${declared.elemType === ValType.FuncRef ? 'function' : 'extern'}`);
    }
  });

  const globals = state.globals;
  check(isTyped(globals, 'Int32Array') && (globals as Int32Array).length === 2 * store.globalTypes.length, `'globals' does not hold the module's ${store.globalTypes.length} globals`);
  const g = globals as Int32Array;
  // v128 globals (state version 2) carry their upper halves in 'globalsHigh', which is there exactly when the store has one.
  const hasV128 = store.globalTypes.some((type) => type.valType === ValType.V128);
  if (hasV128) {
    check((state.version === 2 || state.version === 3) && isTyped(state.globalsHigh, 'Int32Array') && (state.globalsHigh as Int32Array).length === g.length, "'globalsHigh' does not hold the upper halves of the module's v128 globals");
  } else {
    check(state.globalsHigh === undefined, "'globalsHigh' is present but the module has no v128 global");
  }
  const high = hasV128 ? (state.globalsHigh as Int32Array) : g;
  store.globalTypes.forEach((type, addr) => check(refOk(type.valType, g[2 * addr]), `global ${addr} refers to no ${type.valType === ValType.FuncRef ? 'function' : 'extern'}`));
  m.globals.forEach((global, i) => {
    if (global.type.mutable) return;
    const addr = instance.globalAddrs[i];
    const [lo, hi, lo2, hi2] = evalConst(store, instance, global.init);
    check(g[2 * addr] === lo && g[2 * addr + 1] === hi, `immutable global ${addr} differs from its initializer`);
    if (global.type.valType === ValType.V128) {
      check(high[2 * addr] === lo2 && high[2 * addr + 1] === hi2, `immutable global ${addr} differs from its initializer`);
    }
  });

  const inRange = (max: number) => (a: unknown) => isInt(a, 0, max);
  check(Array.isArray(state.droppedElems) && state.droppedElems.every(inRange(store.elems.length - 1)), "'droppedElems' names unknown segments");
  check(Array.isArray(state.droppedDatas) && state.droppedDatas.every(inRange(store.datas.length - 1)), "'droppedDatas' names unknown segments");
  check(state.deterministic === undefined || typeof state.deterministic === 'boolean', "'deterministic' is not a boolean");

  checkThread(store, instance, state.thread, refOk, groupMemories !== undefined);
}

function checkThread(store: Store, instance: ModuleInstance, th: unknown, refOk: (type: ValType, lo: number) => boolean, inGroup: boolean): void {
  const t = store.thread;
  const nFuncs = store.functions.length;
  const stackSlots = t.stackWords / 2;
  check(isObject(th), "'thread' is not an object");
  check(typeof th.status === 'string' && STATUSES.includes(th.status), `thread status '${String(th.status)}'`);
  check(isInt(th.instructionCount, 0, Number.MAX_SAFE_INTEGER), 'instruction count');
  check(isTyped(th.stack, 'Int32Array') && isInt(th.sp, 0, stackSlots) && (th.stack as Int32Array).length === 2 * th.sp, 'the stack does not hold sp slots within the stack limit');
  check(isInt(th.fp, 0, th.sp), 'frame pointer outside the stack');
  check(isTyped(th.frames, 'Int32Array') && (th.frames as Int32Array).length % FRAME_WORDS === 0, "'frames' is not a list of frames");
  const frames = th.frames as Int32Array;
  const stack = th.stack as Int32Array;
  const n = frames.length / FRAME_WORDS;
  check(n <= t.maxCallDepth, `${n} frames, the limit is ${t.maxCallDepth}`);
  check(isInt(th.entryFuncAddr, -1, nFuncs - 1), 'entry function');
  check(isInt(th.funcAddr, -1, nFuncs - 1), 'current function');
  const { status, sp, fp, funcAddr, entryFuncAddr } = th as { status: string; sp: number; fp: number; funcAddr: number; entryFuncAddr: number };

  /** Checks the reference values among `count` slots from slot `from`, typed by `types`. */
  const checkSlots = (from: number, types: readonly ValType[], what: string) => {
    let at = from; // a v128 takes two slots
    types.forEach((type) => {
      check(refOk(type, stack[2 * at]), `${what}: slot ${at} refers to no ${type === ValType.FuncRef ? 'function' : 'extern'}`);
      at += slotCount(type);
    });
  };

  if (status === 'done') {
    // The results of the finished invocation are read from slot 0 on.
    check(entryFuncAddr >= 0, "status 'done' without an entry function");
    check(n === 0, "status 'done' with frames left");
    const results = store.functions[entryFuncAddr].type.results;
    check(sp === slotsOf(results), `status 'done' with ${sp} slots on the stack, the entry function returns ${slotsOf(results)}`);
    checkSlots(0, results, 'results');
    return;
  }
  check((status === 'waiting') === (th.wait !== undefined), status === 'waiting' ? "status 'waiting' without a 'wait' record" : `a 'wait' record with status '${status}'`);
  if (status === 'waiting') {
    check(inGroup, "status 'waiting' outside a thread group state (nothing could wake the thread)");
    const w = th.wait;
    check(isObject(w), "'wait' is not an object");
    check(isInt(w.memory, 0, store.memories.length - 1) && store.memories[w.memory].shared, `wait: memory ${String(w.memory)} is not a shared memory of the thread`);
    const bytes = store.memories[w.memory].byteLength;
    check(isInt(w.address, 0, bytes - 4), `wait: address ${String(w.address)} is outside the memory (${bytes} bytes)`);
    check(w.address % 4 === 0, `wait: address ${w.address} is not 4-aligned`);
    check(w.deadline === -1 || (typeof w.deadline === 'number' && Number.isFinite(w.deadline) && w.deadline >= 0), `wait: deadline ${String(w.deadline)}`);
  }
  if (status !== 'running' && status !== 'suspended' && status !== 'waiting') return; // idle, trapped: begin() resets the thread

  check(funcAddr >= 0 && entryFuncAddr >= 0, `status '${status}' without a current and an entry function`);
  if (store.functions[funcAddr].compiled === null) {
    // The invocation itself is a host function (an exported import), about to be called.
    check(n === 0 && funcAddr === entryFuncAddr, 'a host function is the current function of a wasm call');
    const params = store.functions[funcAddr].type.params;
    check(fp === 0 && sp === slotsOf(params), 'the host function call does not have its arguments on the stack');
    checkSlots(0, params, 'arguments');
    return;
  }

  const shapeOf = shapes(instance);
  check(n >= 1 && frames[0] === RETURN_TO_HOST && frames[1] === 0 && frames[2] === -1, 'the outermost frame does not return to the host from slot 0');
  // Functions on the stack, outermost first: frame k > 0 was pushed when function k-1 called function k.
  const addrs: number[] = [];
  const fps: number[] = [];
  for (let k = 1; k < n; k++) {
    addrs.push(frames[3 * k + 2]);
    fps.push(frames[3 * k + 1]);
  }
  addrs.push(funcAddr);
  fps.push(fp);
  check(addrs[0] === entryFuncAddr, 'the outermost function is not the entry function');
  check(fps[0] === 0, 'the outermost function does not start at slot 0');
  addrs.forEach((addr, k) => {
    const shape = isInt(addr, 0, nFuncs - 1) ? shapeOf(addr) : null;
    check(shape !== null, k === n - 1 ? 'the current function is not a wasm function of the module' : `frame ${k + 1}: the caller is not a wasm function of the module`);
  });
  const shapesOnStack = addrs.map((a) => shapeOf(a)!);

  for (let k = 0; k < n; k++) {
    const shape = shapesOnStack[k];
    const what = k === n - 1 ? 'current frame' : `frame ${k + 1}`;
    const at = fps[k];
    check(isInt(at, 0, sp) && 2 * at + shape.frameWords < t.stackWords, `${what}: frame pointer outside the stack`);
    // The slots this function owns: its locals, then its operands (up to the callee's fp, or sp).
    let operands: readonly ValType[] | null | undefined;
    let top: number;
    if (k < n - 1) {
      const returnPc = frames[3 * (k + 1)];
      const callee = shapesOnStack[k + 1];
      check(shape.starts.has(returnPc) && returnsFromCall(shape, returnPc, instance, addrs[k + 1], store), `${what}: return pc ${returnPc} does not follow a call of the next function`);
      const after = shape.operands.get(returnPc);
      // Below the callee's arguments: what the caller holds once the call's results are taken away.
      operands = after == null ? after : after.slice(0, after.length - callee.type.results.length);
      top = fps[k + 1];
    } else {
      const pc = th.pc;
      check(isInt(pc, 0, Number.MAX_SAFE_INTEGER) && shape.starts.has(pc), `pc ${String(pc)} is not on an instruction of the current function`);
      if (status === 'suspended') check(isCall(shape.words[pc]), 'a suspended machine is not at a call');
      operands = shape.operands.get(pc);
      if (status === 'waiting') {
        // Just after a memory.atomic.wait32/64, whose i32 result is not on the stack yet.
        const w = shape.words;
        check(pc >= 3 && shape.starts.has(pc - 3) && w[pc - 3] === ATOMIC && (w[pc - 2] === 1 || w[pc - 2] === 2), 'a waiting thread is not just after a memory.atomic.wait');
        if (operands != null) {
          check(operands.length > 0 && operands[operands.length - 1] === ValType.I32, 'a waiting thread is not just after a memory.atomic.wait');
          operands = operands.slice(0, -1);
        }
      }
      top = sp;
    }
    const localSlots = slotsOf(shape.locals);
    check(top - at >= localSlots, `${what}: the frame is smaller than its locals`);
    checkSlots(at, shape.locals, `${what} locals`);
    if (operands != null) {
      const height = top - at - localSlots;
      check(height === slotsOf(operands), `${what}: ${height} operands on the stack where the code has ${slotsOf(operands)} (value slots: a v128 takes two)`);
      checkSlots(at + localSlots, operands, `${what} operands`);
    }
  }
}

const isCall = (op: number) => op === Op.Call || op === Op.CallIndirect;

/** Is the instruction before `returnPc` a call that could have called function `calleeAddr`? */
function returnsFromCall(shape: FunctionShape, returnPc: number, instance: ModuleInstance, calleeAddr: number, store: Store): boolean {
  const w = shape.words;
  if (returnPc >= 2 && w[returnPc - 2] === Op.Call && shape.starts.has(returnPc - 2)) return instance.funcAddrs[w[returnPc - 1]] === calleeAddr;
  if (returnPc >= 3 && w[returnPc - 3] === Op.CallIndirect && shape.starts.has(returnPc - 3)) {
    return store.functions[calleeAddr].typeId === instance.typeIds[w[returnPc - 2]];
  }
  return false;
}

/** 1: the first group state (threads/group-state.ts). Its threads' states are MachineStates of version 3. */
export const GROUP_STATE_VERSION = 1;
/** The most threads a group state may hold (each is a machine with its own stack). */
export const MAX_GROUP_THREADS = 1024;
/** The most shared memories a group state may hold. */
export const MAX_GROUP_MEMORIES = 64;
/** The stack slots all threads of a group state may ask for together (1 GiB: 128 threads of the default 8 MiB). */
export const MAX_GROUP_STACK_SLOTS = 1 << 27;

function checkG(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RestoreError(`invalid group state: ${message}`);
}

/**
 * The check of a ThreadGroup state's own fields before anything is built: the scheduler, the
 * shared memories, and the wait queues against the threads (each id once, only waiting threads,
 * each in the queue of the memory it waits on). Each thread's MachineState is then checked by
 * checkMachineState as its machine is restored (its wait record: a shared memory, an address
 * 4-aligned and inside it, a deadline).
 */
export function checkGroupState(s: unknown): void {
  checkG(isObject(s), 'not an object');
  checkG(s.version === GROUP_STATE_VERSION, `version ${String(s.version)}, this runtime reads ${GROUP_STATE_VERSION}`);
  checkG(isInt(s.quantum, 1, 1 << 30), `quantum ${String(s.quantum)}`);
  checkG(typeof s.clock === 'number' && Number.isFinite(s.clock) && s.clock >= 0, `clock ${String(s.clock)}`);
  const threads = s.threads;
  checkG(Array.isArray(threads) && threads.length <= MAX_GROUP_THREADS, `'threads' is not a list of at most ${MAX_GROUP_THREADS}`);
  const n = threads.length;
  // Each thread allocates the stack its limits ask for: bounded in all, before any is allocated.
  let slots = 0;
  threads.forEach((th: unknown, id) => {
    const limits = isObject(th) && isObject(th.limits) ? th.limits.stackSlots : undefined;
    checkG(isInt(limits, 1, MAX_LIMITS.stackSlots), `thread ${id}: 'limits.stackSlots' must be an integer from 1 to ${MAX_LIMITS.stackSlots}`);
    slots += limits;
  });
  checkG(slots <= MAX_GROUP_STACK_SLOTS, `the threads ask for ${slots} stack slots in all, at most ${MAX_GROUP_STACK_SLOTS}`);
  checkG(isInt(s.cursor, 0, Math.max(0, n - 1)), `cursor ${String(s.cursor)} names no thread`);
  checkG(isInt(s.turnLeft, 1, s.quantum as number), `turnLeft ${String(s.turnLeft)}`);
  const memories = s.memories;
  checkG(Array.isArray(memories) && memories.length <= MAX_GROUP_MEMORIES, `'memories' is not a list of at most ${MAX_GROUP_MEMORIES}`);
  memories.forEach((m: unknown, k) => {
    checkG(isObject(m) && m.shared === true, `memory ${k} is not a shared memory`);
    checkG(isInt(m.max, 0, MAX_PAGES) && isInt(m.pages, 0, m.max as number), `memory ${k}: ${String(m.pages)} pages of at most ${String(m.max)}`);
    checkG(isTyped(m.data, 'Uint8Array') && (m.data as Uint8Array).length === (m.pages as number) * PAGE_SIZE, `memory ${k}: data is not ${String(m.pages)} pages`);
  });
  const queues = s.queues;
  checkG(Array.isArray(queues) && queues.length === memories.length, "'queues' does not have one queue per memory");
  const queued = new Map<number, number>(); // thread id -> memory
  queues.forEach((q: unknown, k) => {
    checkG(Array.isArray(q), `queue ${k} is not a list`);
    for (const id of q) {
      checkG(isInt(id, 0, n - 1), `queue ${k} names thread ${String(id)}, which does not exist`);
      checkG(!queued.has(id), `thread ${id} is queued twice`);
      queued.set(id, k);
    }
  });
  threads.forEach((th: unknown, id) => {
    checkG(isObject(th) && isObject(th.thread) && Array.isArray(th.memories), `thread ${id} is not a machine state`);
    const t = th.thread as Record<string, unknown>;
    if (t.status !== 'waiting') {
      checkG(!queued.has(id), `thread ${id} is queued but not waiting`);
      return;
    }
    checkG(queued.has(id), `thread ${id} waits but is in no queue`);
    const w = t.wait;
    checkG(isObject(w) && isInt(w.memory, 0, th.memories.length - 1), `thread ${id}: its wait names no memory of it`);
    const mem = th.memories[w.memory as number] as unknown;
    checkG(isObject(mem) && mem.group === queued.get(id), `thread ${id} waits on another memory than the queue it is in`);
  });

}
