/**
 * The JS tier: a hot function's internal code compiled to JavaScript source (`new Function`,
 * no imports, so it runs in a browser too), where the run loop's dispatch, the operand
 * stack and the locals become JavaScript control flow and variables.
 *
 * It keeps every guarantee of the interpreter because compiled code never does anything
 * the interpreter could not resume from:
 * - It is entered by the run loop at a segment start (after a transfer) with the frame as
 *   plain data, loads the frame's locals and operand stack into variables, and on every exit
 *   writes them back (words below its static stack height) and hands back the exact pc.
 * - It counts instructions per straight-line segment as the run loop does: before entering
 *   a segment it checks that the budget covers all of it, else it exits at the segment's
 *   start and the run loop runs the part the budget allows (so `step(n)` stays exact).
 * - What it does not compile — calls of imports and of functions not compiled, returns to
 *   the run loop, host calls, traps, memory.grow, tables, bulk memory — it exits before: the
 *   run loop then executes that instruction itself. `call` and `call_indirect` of a compiled
 *   function of the same instance (for call_indirect: the live table's slot, checked as the
 *   interpreter checks it) call its `fast` entry directly. A trap
 *   is detected before the instruction changes anything, so the interpreter re-executes it
 *   and raises the very same error; calls, suspension, breakpoints, call-depth exhaustion
 *   and dirty-page marking of host functions are the interpreter's own.
 * - i64 values are the interpreter's two int32 words (no BigInt), f64 values doubles, f32
 *   values their bits (arithmetic through a Float32Array scratch, as the interpreter), and
 *   the rare numeric instructions run through the interpreter's own helpers on a scratch.
 * - The code is structured (see structuredBody): wasm's loops and blocks as labelled JS loops
 *   and blocks, run for calls (pc 0) and resumable at loop headers; an entry elsewhere runs
 *   `sw`, one switch over the segments, up to the first branch to a loop header.
 * Instruction semantics come from the table of instructions (instructions.ts) where it has
 * them (`js`), the rest are written below once for the tier.
 */
import { BY_OP } from '../instructions';
import { DETERMINISTIC_OPCODE, Op, instructionLength, isTransfer } from '../translation/opcodes';
import type { ModuleCode } from '../translation/module-code';
import type { CompiledFunction } from '../translation/translator';
import type { FunctionInstance, ModuleInstance } from './runtime';
import type { Thread } from './thread';
import { FuncType, ValType } from '../syntax/types';
import { deterministicFloat } from './deterministic';
import * as i64 from './i64';
import { HI, LO } from './layout';
import { rareNumeric } from './numeric';

/**
 * A compiled function. `pc` is relative to the function's entry; returns the instructions
 * it ran. When it hands control back (io[5] = 0) the registers to continue with are in io:
 * pc (absolute), sp, fp, function address and frameTop — the frame of a compiled callee
 * when one was running (its callers wrote their frames too). io[5] = 1: called by compiled
 * code (depth > 0), it returned, its results at fp.
 */
export type JitFunction = (
  s32: Int32Array, f64: Float64Array, fp: number, pc: number, sp: number, left: number,
  dv: DataView, memSize: number, dirty: Uint8Array, g32: Int32Array, gw: Int32Array, io: Int32Array,
  frameTop: number, depth: number, self: number, inst: ModuleInstance, functions: FunctionInstance[], t: Thread,
) => number;

/**
 * A compiled function's entry for calls from compiled code: the arguments are JavaScript
 * parameters (an f64 one double, an i32 or f32 one word, an i64 or a reference two words),
 * the result the return value (an f64 a double, an i32 or f32 its word, an i64 or a
 * reference its low word with the high word in `k.hi`; several results are written to the
 * frame). `room` is what is left of the room for compiled calls (roomFor). `k.left` is the budget left afterwards, or -1 - left when the
 * callee stopped (budget, a call it hands to the run loop, a trap...): then it wrote its
 * frame and the registers to continue with, and each caller writes its own frame too.
 */
export type JitCall = (k: JitShared, fp: number, left: number, frameTop: number, room: number, ...args: number[]) => number;

/** What compiled code calling compiled code shares: the run loop's registers and limits, set on each entry. */
export interface JitShared {
  /** `pages`: the memory's size in pages (its size in bytes may be 4 GiB, not a small integer). */
  s32: Int32Array; f64: Float64Array; dv: DataView; pages: number; dirty: Uint8Array; g32: Int32Array; gw: Int32Array;
  io: Int32Array; inst: ModuleInstance; functions: FunctionInstance[]; t: Thread;
  /** The room for compiled calls from the function the run loop entered (see `roomFor`). */
  room: number;
  left: number; hi: number;
}

/** The thread's JitShared with the run loop's current registers (an entry into compiled code). */
function shared(
  t: Thread, s32: Int32Array, f64: Float64Array, dv: DataView, memSize: number, dirty: Uint8Array, g32: Int32Array, gw: Int32Array,
  io: Int32Array, inst: ModuleInstance, functions: FunctionInstance[], fp: number, frameTop: number,
): JitShared {
  let k = t.jitShared as JitShared | null;
  if (k === null) {
    k = { s32, f64, dv, pages: 0, dirty, g32, gw, io, inst, functions, t, room: 0, left: 0, hi: 0 };
    t.jitShared = k;
  }
  // Integers stay small integers here (a number field that once held a double would change
  // the record's shape and deoptimize the compiled code that reads it).
  k.s32 = s32; k.f64 = f64; k.dv = dv; k.pages = (memSize / 65536) | 0; k.dirty = dirty; k.g32 = g32; k.gw = gw;
  if (memSize === 4294967296) dirty[65535] = 1; // compiled stores take page 65535 as marked (`wl` in jitSource)
  k.io = io; k.inst = inst; k.functions = functions;
  k.room = roomFor(t, fp, frameTop);
  return k;
}

/**
 * Compiled code calls compiled code without the run loop only while the callers' weights
 * (see MAX_JS_WEIGHT: 64 + 2 per variable word, at least 64 + 2 × the words a call moves
 * fp by) sum to less than this room, counted from the function the run loop entered at fp
 * and frameTop. So one compare per call keeps all the interpreter's limits: n nested calls
 * weigh at least 64n, within the call depth (the frame records to maxCallDepth × 3); their
 * frames start below fp + room / 2, and a callee's frame (a `fast` entry's is at most
 * MAX_FAST_FRAME_WORDS) ends within the stack; and the JavaScript stack stays bounded. A call
 * beyond it (and every call while a breakpoint is set) goes to the run loop, which checks
 * and counts as always.
 */
function roomFor(t: Thread, fp: number, frameTop: number): number {
  if (t.breakAddr >= 0) return 0;
  const byDepth = (t.maxCallDepth * 3 - frameTop) * 21; // at most 64 per frame record of 3 words
  const byStack = 2 * (t.stackWords - fp - maxFastFrameWords);
  return Math.max(0, Math.min(MAX_JS_WEIGHT, byDepth, byStack)) | 0;
}

/** A function with a bigger frame (words) gets no entry for compiled callers. */
const MAX_FAST_FRAME_WORDS = 4096;
/** The biggest frame of any function given an entry for compiled callers (a bound for roomFor). */
let maxFastFrameWords = 0;

/**
 * Compiled code calls compiled code on the JavaScript stack while the callers' frames weigh
 * less than this (a frame weighs 64 + 2 per stack word its variables hold), then hands the
 * call to the run loop, which starts over from an empty JavaScript stack: the call depth
 * limit stays the interpreter's (an ExhaustionError at the configured depth) and a deep
 * recursion of big frames never meets the engine's own stack limit (a RangeError).
 */
const MAX_JS_WEIGHT = 12000;
/** Stands for the function's weight in its source until its height is known. */
const WEIGHT_MARK = '@W@';

/** What the tier needs to know besides the code: callee types for stack heights after calls. */
export interface JitContext {
  numImports: number;
  /** The module's defined functions (index = function index - numImports). */
  functions: readonly CompiledFunction[];
  funcType(funcIndex: number): FuncType;
  type(typeIndex: number): FuncType;
  globalType(globalIndex: number): ValType;
  /** Memory 0 is shared: other agents may grow it, so memory.size is left to the interpreter (which re-reads the shared size). */
  sharedMemory?: boolean;
  /** Params then declared locals. */
  localTypes(funcIndex: number): ValType[];
}

/**
 * The first calls of a compiled function from the run loop run at most WARM_BUDGET
 * instructions each (the run loop goes on and calls again): V8 allocates a function's
 * feedback vector only once it ran a while, inside the first call's loop when that call
 * runs long, so the code before the loop would have no type feedback and optimized code
 * deoptimize there on every later entry.
 */
const WARM_CALLS = 64;
const WARM_BUDGET = 20000;

/** Functions longer than this (code words) are left to the interpreter. */
const MAX_WORDS = 60000;

/** Rare numeric instructions run by the interpreter's rareNumeric on a scratch: [op, binary]. */
const RARE_BINARY = new Set([0x7f, 0x80, 0x81, 0x82]);
const RARE_UNARY = new Set([0x90, 0x9e, 0xa8, 0xa9, 0xaa, 0xab, 0xae, 0xaf, 0xb0, 0xb1, 0xb4, 0xb5, 0xb9, 0xba, 0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107]);

/** Scratch slot base (low word of scratch slot 1) and the same slot as an f64 index. */
const B0 = 2 + LO;
const D0 = B0 >> 1;

/**
 * The JavaScript source of `cf`'s body (already translated into `code`), or null when the
 * tier leaves it to the interpreter. `segmentLengths` is the module code's table.
 *
 * Every value slot (word offset o from fp, locals first) is a variable: f64 values a double
 * `d<o>`, all others the interpreter's two words `a<o>` (low: an i32, an f32's bits, an
 * i64's low word) and `b<o>` (an i64's high word). Slot types at each pc come from the
 * table's signatures (the code was validated, so they agree wherever control merges).
 */
export function jitSource(code: Int32Array, segmentLengths: Int32Array, cf: CompiledFunction, ctx: JitContext): string | null {
  const entry = cf.entry;
  const len = cf.end - entry;
  // SIMD (v128 values, the 0xFD instructions) is left to the interpreter: a function with
  // a v128 anywhere runs there whole; a compiled caller hands a call of it back.
  if (entry < 0 || len > MAX_WORDS || cf.simd || cf.atomics) return null;
  const NL = 2 * cf.numLocals;
  const localF64 = ctx.localTypes(cf.funcIndex).map((t) => t === ValType.F64);
  // Per reachable pc: the operand stack's slot types, 'd' f64, 'x' anything else.
  const types: (string | undefined)[] = new Array(len + 1);
  const isEntry = new Uint8Array(len + 1);
  const visited = new Uint8Array(len + 1);
  const work: number[] = [];
  const reach = (p: number, ty: string): void => {
    isEntry[p] = 1;
    if (types[p] === undefined) {
      types[p] = ty;
      work.push(p);
    } else if (types[p] !== ty) {
      throw new Error(`js tier: inconsistent stack at ${p}`);
    }
  };
  const kind = (t: ValType): string => (t === ValType.F64 ? 'd' : 'x');
  const after = (ty: string, pops: number, pushes: string): string => ty.slice(0, ty.length - pops) + pushes;
  const kept = (ty: string, dst: number, keep: number): string => ty.slice(0, (dst - NL) / 2) + ty.slice(ty.length - keep);
  reach(0, '');
  while (work.length > 0) {
    let p = work.pop()!;
    for (;;) {
      if (visited[p]) break;
      visited[p] = 1;
      const ty = types[p]!;
      const pc = entry + p;
      const op = code[pc];
      const next = p + instructionLength(code, pc);
      switch (op) {
        case Op.If: reach(code[pc + 1] - entry, after(ty, 1, '')); reach(next, after(ty, 1, '')); break;
        case Op.Br: reach(code[pc + 1] - entry, ty); break;
        case Op.BrIf: reach(code[pc + 1] - entry, after(ty, 1, '')); reach(next, after(ty, 1, '')); break;
        case Op.BrDrop: reach(code[pc + 1] - entry, kept(ty, code[pc + 3], code[pc + 2])); break;
        case Op.BrIfDrop: {
          const popped = after(ty, 1, '');
          reach(code[pc + 1] - entry, kept(popped, code[pc + 3], code[pc + 2]));
          reach(next, popped);
          break;
        }
        case Op.BrTable: {
          const popped = after(ty, 1, '');
          for (let i = 0, w = pc + 2; i <= code[pc + 1]; i++, w += 3) reach(code[w] - entry, kept(popped, code[w + 2], code[w + 1]));
          break;
        }
        case Op.Return: case Op.Unreachable: break;
        case Op.Call: case Op.CallIndirect: {
          const t = op === Op.Call ? ctx.funcType(code[pc + 1]) : ctx.type(code[pc + 1]);
          reach(next, after(ty, t.params.length + (op === Op.CallIndirect ? 1 : 0), t.results.map(kind).join('')));
          break;
        }
        default: {
          const nt = stackAfter(op, pc, code, ty, localF64, ctx);
          if (types[next] === undefined) types[next] = nt;
          p = next;
          continue;
        }
      }
      break;
    }
  }

  const ids = new Map<number, number>();
  for (let p = 0; p < len; p++) if (isEntry[p] && visited[p]) ids.set(p, ids.size);
  if (ids.size === 0) return null;
  const sigs = new Map<string, number>();
  const sig = (ty: string): number => {
    let e = sigs.get(ty);
    if (e === undefined) sigs.set(ty, (e = sigs.size));
    return e;
  };
  const heightOf = (ty: string): number => NL + 2 * ty.length;
  const seg = (p: number): number => segmentLengths[entry + p];
  // The instructions given back (Y) are added to `left` after the exit, not on its edge: a
  // change of `left` on a cold exit edge measured ~15% slower calls (fib) in V8.
  const exitMid = (p: number): string => `{X=${p};E=${sig(types[p]!)};Y=${seg(p)};break main;}`;
  // Counting: `|0` tells V8 the budget stays an int32 (it never goes below 0), so the
  // subtraction needs no overflow check (~10% on the sieve's loops).
  const dec = (p: number): string => `left=(left-${seg(p)})|0;`;
  const enter = (p: number): string => `if(${seg(p)}>left){X=${p};E=${sig(types[p]!)};break main;}${dec(p)}`;
  // The structured versions check the budget once per region (see budgetRegions): at a
  // checkpoint for all of its region, elsewhere they only count. The switch (`sw`, run
  // rarely) checks every segment.
  const { checkpoint, reserve } = budgetRegions(code, entry, len, visited, isEntry, segmentLengths);
  let regions = false;
  const step = (p: number): string =>
    !regions ? enter(p) : checkpoint[p] ? `if(${reserve[p]}>left){X=${p};E=${sig(types[p]!)};break main;}${dec(p)}` : dec(p);
  // Memory accesses: the DataView's own bounds check is wasm's (it throws a RangeError
  // before reading or writing anything when the access does not fit in the memory), so
  // an access only names itself (Q, an index into FX/FE/FN) and the catch exits there, as
  // exitMid would: the interpreter then re-executes the access and traps.
  const faults = new Map<number, number>();
  const faultX: number[] = [];
  const faultE: number[] = [];
  const faultN: number[] = [];
  const fault = (p: number): number => {
    let q = faults.get(p);
    if (q === undefined) {
      faults.set(p, (q = faults.size));
      faultX.push(p);
      faultE.push(sig(types[p]!));
      faultN.push(seg(p));
    }
    return q;
  };
  const caught = 'catch(e){if(Q<0||!(e instanceof RangeError))throw e;X=FX[Q];E=FE[Q];left+=FN[Q];}';
  const jump = (p: number): string => `${enter(p)}B=${ids.get(p)};continue main;`;
  const mv = (from: number, to: number, f64: boolean): string => (f64 ? `d${to}=d${from};` : `a${to}=a${from};b${to}=b${from};`);
  const moves = (ty: string, from: number, to: number, keep: number): string => {
    let out = '';
    if (from !== to) for (let i = 0; i < keep; i++) out += mv(from + 2 * i, to + 2 * i, ty[ty.length - keep + i] === 'd');
    return out;
  };
  // The scratch: slot 1 (words B0, B0+HI; f64 index D0) and slot 2 (B0+2, f64 index D0+1).
  const toScratch = (o: number, f64: boolean, k = 0): string =>
    f64 ? `FD[${D0 + k}]=d${o};` : `T[${B0 + 2 * k}]=a${o};T[${B0 + 2 * k + HI}]=b${o};`;
  const fromScratch = (o: number, f64: boolean): string => (f64 ? `d${o}=FD[${D0}];` : `a${o}=T[${B0}];b${o}=T[${B0 + HI}];`);
  const f32of = (o: number) => `(T[${B0}]=a${o},FS[${B0}])`;
  const words = new Int32Array(2);
  const double = new Float64Array(words.buffer);
  /**
   * The i64 an `i64.const` just before p pushed ([low, high] words), when p follows it in
   * every execution (no branch lands at p): an i64 operation on it is specialised.
   */
  const i64ConstBefore = (p: number): [number, number] | null => {
    const q = entry + p - 3;
    if (p < 3 || isEntry[p] || !visited[p - 3] || code[q] !== Op.I64Const || instructionLength(code, q) !== 3) return null;
    return [code[q + 1], code[q + 2]];
  };

  /** Loads (or stores) slot o from (to) the frame, at word offset `at` from fp (default o). */
  const slot = (o: number, f64: boolean, load: boolean, at = o): string => {
    if (f64) return load ? `d${o}=f64[(fp+${at})>>1];` : `f64[(fp+${at})>>1]=d${o};`;
    return load ? `a${o}=s32[fp+${at}];b${o}=s32[fp+${at + HI}];` : `s32[fp+${at}]=a${o};s32[fp+${at + HI}]=b${o};`;
  };
  let maxH = NL;
  // Between compiled functions an f64 is one double, an i32 or f32 one word (its high word
  // is dead), anything else (i64, references) two words.
  const wide = (t: ValType): boolean => t !== ValType.F64 && t !== ValType.I32 && t !== ValType.F32;
  const passed = (t: ValType, o: number): string => (t === ValType.F64 ? `,d${o}` : wide(t) ? `,a${o},b${o}` : `,a${o}`);
  // Which entry the code is for: `jit` (the run loop's: returns hand back to it) or `fast`
  // (compiled callers': returns return). `self` is the function's store address.
  let fastMode = false;
  // What call_indirect reads of the instance that never changes (its table objects, its
  // type ids), read once per entry: name -> expression.
  const instConsts = new Map<string, string>();
  const icSites = new Set<number>();
  const instConst = (name: string, expr: string): string => {
    instConsts.set(name, expr);
    return name;
  };
  /** The frame record of a call the callee stopped in (the fast entry reads `k` only on this path). */
  const stopFrame = (ret: number): string =>
    fastMode
      ? `k.t.frames[frameTop]=${ret};k.t.frames[frameTop+1]=fp;k.t.frames[frameTop+2]=k.inst.funcAddrs[${cf.funcIndex}];`
      : `t.frames[frameTop]=${ret};t.frames[frameTop+1]=fp;t.frames[frameTop+2]=self;`;
  /**
   * The JavaScript of the (reachable) instruction at p; `jump(q)` is how a branch to q
   * continues there once the budget for q's segment was taken.
   */
  const emit = (p: number, jump: (q: number) => string): string => {
    let body = '';
    const pc = entry + p;
    const op = code[pc];
    const ty = types[p]!;
    const h = heightOf(ty);
    if (h + 4 > maxH) maxH = h + 4;
    const t = h - 2;
    const s = h - 4;
    const tD = ty[ty.length - 1] === 'd';
    const sD = ty[ty.length - 2] === 'd';
    const next = p + instructionLength(code, pc);
    const exit = exitMid(p);
    const base = op >= DETERMINISTIC_OPCODE ? op - DETERMINISTIC_OPCODE : op;
    const ins = BY_OP.get(base);
    const resultD = ins?.signature?.endsWith('f64') === true;
    if (op < DETERMINISTIC_OPCODE && ins?.js !== undefined) {
      const binary = ins.signature!.startsWith('i32 i32');
      const expr = ins.js.replace(/\ba\b/g, binary ? `a${s}` : `a${t}`).replace(/\bb\b/g, `a${t}`);
      body += binary ? `a${s}=${expr};` : `a${t}=${expr};`;
      return body;
    }
    if (op >= 0x28 && op <= 0x35) {
      const n = [4, 8, 4, 8, 1, 1, 2, 2, 1, 1, 2, 2, 4, 4][op - 0x28];
      body += `Q=${fault(p)};x=(a${t}>>>0)+${code[pc + 1] >>> 0};`;
      const get = ['getInt32', '', 'getInt32', '', 'getInt8', 'getUint8', 'getInt16', 'getUint16', 'getInt8', 'getUint8', 'getInt16', 'getUint16', 'getInt32', 'getInt32'][op - 0x28];
      const le = n > 1 ? ',true' : '';
      if (op === 0x2b) body += `d${t}=dv.getFloat64(x,true);`;
      else if (op === 0x29) body += `z=dv.getInt32(x+4,true);a${t}=dv.getInt32(x,true);b${t}=z;`; // the high word first: a fault changes nothing
      else if (op <= 0x2f) body += `a${t}=dv.${get}(x${le});`;
      else body += `a${t}=dv.${get}(x${le});b${t}=${op & 1 ? '0' : `a${t}>>31`};`;
      return body;
    }
    if (op >= 0x36 && op <= 0x3e) {
      const n = [4, 8, 4, 8, 1, 2, 1, 2, 4][op - 0x36];
      body += `Q=${fault(p)};x=(a${s}>>>0)+${code[pc + 1] >>> 0};`;
      if (op === 0x39) body += `dv.setFloat64(x,d${t},true);`;
      else if (n === 8) body += `dv.setInt32(x+4,b${t},true);dv.setInt32(x,a${t},true);`; // the high word first: a fault writes nothing
      else body += `dv.${n === 4 ? 'setInt32' : n === 2 ? 'setInt16' : 'setInt8'}(x,a${t}${n > 1 ? ',true' : ''});`;
      // Dirty pages: `wl` is the start (an int32) of the last page this invocation marked
      // (nothing clears the marks while compiled code runs): one unsigned compare tells
      // whether the access lies in that page, else both pages it touches are marked.
      // Initially page 65535's (-65536), which holds no access unless the memory is 4 GiB,
      // and then `shared` marks that page on every entry.
      body += `if(((x-wl)>>>0)>${65536 - n}){dirty[x>>>16]=1;dirty[(x+${n - 1})>>>16]=1;wl=x&-65536;}`;
      return body;
    }
    if (RARE_BINARY.has(op)) {
      // i64 div_s, div_u, rem_s, rem_u: in doubles when both operands are within 2^53 (the
      // divisor not zero: no trap), else (and to trap) through the interpreter's helper
      const rare = `${toScratch(s, false)}${toScratch(t, false, 1)}if(rare(${op},T,FS,FD,${B0 + 4})!==0)${exit}${fromScratch(s, false)}`;
      body += `${i64DivideSmall(op, s, t, i64ConstBefore(p))}else{${rare}}`;
      return body;
    }
    if (RARE_UNARY.has(op)) {
      body += `${toScratch(t, tD)}if(rare(${op},T,FS,FD,${B0 + 2})!==0)${exit}${fromScratch(t, resultD)}`;
      return body;
    }
    if (op >= DETERMINISTIC_OPCODE && op < DETERMINISTIC_OPCODE + 0x100) {
      const binary = (base >= 0x92 && base <= 0x97) || (base >= 0xa0 && base <= 0xa5);
      body += binary
        ? `${toScratch(s, sD)}${toScratch(t, tD, 1)}det(${base},T,FS,FD,${B0 + 4});${fromScratch(s, resultD)}`
        : `${toScratch(t, tD)}det(${base},T,FS,FD,${B0 + 2});${fromScratch(t, resultD)}`;
      return body;
    }
    const f32bin = (e: string) => `x=${f32of(s)};y=${f32of(t)};FS[${B0}]=${e};a${s}=T[${B0}];`;
    const f32un = (e: string) => `x=${f32of(t)};FS[${B0}]=${e};a${t}=T[${B0}];`;
    const REL = ['===', '!==', '<', '>', '<=', '>='];
    switch (op) {
      case Op.If: body += `if(a${t}===0){${jump(code[pc + 1] - entry)}}${step(next)}`; return body;
      case Op.Br: body += jump(code[pc + 1] - entry); return body;
      case Op.BrIf: body += `if(a${t}!==0){${jump(code[pc + 1] - entry)}}${step(next)}`; return body;
      case Op.BrDrop: case Op.BrIfDrop: {
        const keep = code[pc + 2];
        const dst = code[pc + 3];
        const ty2 = op === Op.BrIfDrop ? ty.slice(0, -1) : ty;
        const go = moves(ty2, heightOf(ty2) - 2 * keep, dst, keep) + jump(code[pc + 1] - entry);
        body += op === Op.BrIfDrop ? `if(a${t}!==0){${go}}${step(next)}` : go;
        return body;
      }
      case Op.BrTable: {
        const n = code[pc + 1];
        const ty2 = ty.slice(0, -1);
        body += `x=a${t}>>>0;if(x>${n})x=${n};switch(x){`;
        for (let i = 0; i <= n; i++) {
          const w = pc + 2 + 3 * i;
          const keep = code[w + 1];
          body += `case ${i}:{${moves(ty2, heightOf(ty2) - 2 * keep, code[w + 2], keep)}${jump(code[w] - entry)}}`;
        }
        body += '}';
        return body;
      }
      case Op.Return: {
        // The run loop's entry hands the return to it; a compiled caller's returns the result.
        if (!fastMode) return body + exit;
        const r = cf.numResults;
        const rt = ctx.funcType(cf.funcIndex).results[0];
        if (r === 1) body += rt === ValType.F64 ? `k.left=left;return d${t};` : wide(rt) ? `k.left=left;k.hi=b${t};return a${t};` : `k.left=left;return a${t};`;
        else {
          for (let i = 0; i < r; i++) body += slot(h - 2 * r + 2 * i, ty[ty.length - r + i] === 'd', false, 2 * i);
          body += 'k.left=left;return 0;';
        }
        return body;
      }
      case Op.Call: case Op.CallIndirect: {
        // A function of this module compiled by the tier is called directly (its `fast`
        // entry) while the room for compiled calls lasts (roomFor: the call-depth and stack
        // limits, a deep JavaScript stack, a breakpoint); anything else — an import, a
        // function not compiled (yet) — the run loop calls.
        // call_indirect reads the live table on every call (table.set/grow, segments and
        // restores change it) and makes the interpreter's checks before anything changes:
        // an index out of bounds, a null slot, another signature, a host function or one of
        // another instance hand the instruction back (the run loop traps or calls).
        const indirect = op === Op.CallIndirect;
        const idx = code[pc + 1];
        if (!indirect && idx < ctx.numImports) return body + exit;
        const callee = indirect ? ctx.type(idx) : ctx.funcType(idx);
        const P = callee.params.length;
        const R = callee.results.length;
        const rest = ty.slice(0, ty.length - P - (indirect ? 1 : 0));
        const at = heightOf(rest); // the callee's fp, from ours
        let args = '';
        for (let i = 0; i < P; i++) args += passed(callee.params[i], at + 2 * i);
        let results = '';
        if (R === 1) results = callee.results[0] === ValType.F64 ? `d${at}=r;` : wide(callee.results[0]) ? `a${at}=r;b${at}=k.hi;` : `a${at}=r;`;
        else for (let i = 0; i < R; i++) results += slot(at + 2 * i, callee.results[i] === ValType.F64, true);
        if (indirect) {
          // ic<p>: the function address this site last called directly in this invocation
          // and its compiled function (an address's function, instance, type and entry never
          // change; the slot is read every time).
          const ic = `ic${p}`;
          icSites.add(p);
          body +=
            `x=a${t}>>>0;tb=${instConst(`TB${code[pc + 2]}`, `inst.tables[${code[pc + 2]}]`)};if(x>=tb.size)${exit}x=tb.elements[x]-1;if(x<0)${exit}` +
            `if(x===${ic}){cc=${ic}c;}else{fn=functions[x];if(fn.instance!==inst||fn.typeId!==${instConst(`TI${idx}`, `inst.typeIds[${idx}]`)})${exit}` +
            `cc=fn.compiled;if(cc.fast!==null){${ic}=x;${ic}c=cc;}}`;
        } else {
          body += `cc=C[${idx - ctx.numImports}];`;
        }
        body +=
          `if(room<=${WEIGHT_MARK}||cc.fast===null)${exit}` +
          `Q=-1;r=cc.fast(k,fp+${at},left,frameTop+3,room-${WEIGHT_MARK}${args});left=k.left;` +
          `if(left<0){left=-1-left;${stopFrame(entry + next)}X=-1;E=${sig(rest)};break main;}` +
          `${results}${step(next)}`;
        return body;
      }
      case Op.Drop: return body;
      case Op.Select: body += `if(a${t}===0){${mv(s, h - 6, sD)}}`; return body;
      case Op.LocalGet: body += mv(code[pc + 1], h, localF64[code[pc + 1] / 2]); return body;
      case Op.LocalSet: case Op.LocalTee: body += mv(t, code[pc + 1], tD); return body;
      case Op.GlobalGet:
        body += `x=gw[${code[pc + 1]}];`;
        body += ctx.globalType(code[pc + 1]) === ValType.F64 ? `T[${B0}]=g32[x];T[${B0 + HI}]=g32[x+${HI}];d${h}=FD[${D0}];` : `a${h}=g32[x];b${h}=g32[x+${HI}];`;
        return body;
      case Op.GlobalSet:
        body += `x=gw[${code[pc + 1]}];`;
        body += tD ? `FD[${D0}]=d${t};g32[x]=T[${B0}];g32[x+${HI}]=T[${B0 + HI}];` : `g32[x]=a${t};g32[x+${HI}]=b${t};`;
        return body;
      case Op.MemorySize:
        if (ctx.sharedMemory === true) break;
        body += `a${h}=k.pages;`;
        return body;
      case Op.I32Const: case Op.F32Const: body += `a${h}=${code[pc + 1]};`; return body;
      case Op.I64Const: body += `a${h}=${code[pc + 1]};b${h}=${code[pc + 2]};`; return body;
      case Op.F64Const: {
        words[LO] = code[pc + 1];
        words[LO + HI] = code[pc + 2];
        const v = double[0];
        body += v === v ? `d${h}=${Object.is(v, -0) ? '-0' : String(v)};` : `T[${B0}]=${code[pc + 1]};T[${B0 + HI}]=${code[pc + 2]};d${h}=FD[${D0}];`;
        return body;
      }
      case 0x68: body += `a${t}=ctz32(a${t});`; return body;
      case 0x69: body += `a${t}=popcnt32(a${t});`; return body;
      case 0x6d: body += `if(a${t}===0||(a${s}===-2147483648&&a${t}===-1))${exit}a${s}=(a${s}/a${t})|0;`; return body;
      case 0x6e: body += `if(a${t}===0)${exit}a${s}=((a${s}>>>0)/(a${t}>>>0))|0;`; return body;
      case 0x6f: body += `if(a${t}===0)${exit}a${s}=(a${s}%a${t})|0;`; return body;
      case 0x70: body += `if(a${t}===0)${exit}a${s}=((a${s}>>>0)%(a${t}>>>0))|0;`; return body;
      // i64 on word pairs; comparisons branch-free (a comparison's boolean as a number:
      // V8 compiles `?1:0` to a branch, which mispredicts on data without a pattern)
      case 0x50: body += `a${t}=((a${t}|b${t})===0)|0;`; return body;
      case 0x51: body += `a${s}=(((a${s}^a${t})|(b${s}^b${t}))===0)|0;`; return body;
      case 0x52: body += `a${s}=(((a${s}^a${t})|(b${s}^b${t}))!==0)|0;`; return body;
      case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5a: {
        // x < y when the high words' difference less the low words' borrow is negative
        // (exact in doubles: it lies between -2^32 and 2^32); lt, gt, le, ge in pairs s, u.
        const signed = (op & 1) === 1;
        const [x, y] = op <= 0x54 || op >= 0x59 ? [s, t] : [t, s];
        const high = (o: number): string => (signed ? `b${o}` : `(b${o}>>>0)`);
        body += `a${s}=((${high(x)}-${high(y)}-((a${x}>>>0)<(a${y}>>>0)))${op <= 0x56 ? '<' : '>='}0)|0;`;
        return body;
      }
      // i64 add, sub and mul in int32 arithmetic only (no doubles: V8 keeps it in registers
      // as 32-bit words). The carry (borrow) is a comparison added as a number, not `?1:0`:
      // V8 compiles that to a branch, mispredicted half the time on hashed data.
      case 0x7c: body += `u=(a${s}+a${t})|0;b${s}=(b${s}+b${t}+((u>>>0)<(a${s}>>>0)))|0;a${s}=u;`; return body;
      case 0x7d: body += `u=(a${s}-a${t})|0;b${s}=(b${s}-b${t}-((a${s}>>>0)<(a${t}>>>0)))|0;a${s}=u;`; return body;
      case 0x7e: { // i64.mul: the low words' 64-bit product (mulWide), plus the cross terms
        const k = i64ConstBefore(p);
        if (k === null) {
          body += `${mulWide(`a${s}`, `a${t}`)}b${s}=(z+Math.imul(a${s},b${t})+Math.imul(b${s},a${t}))|0;a${s}=u;`;
          return body;
        }
        // times a constant (just pushed): its words are literals, terms with a zero word go
        const [lo, hi] = k;
        if (lo === 0) body += `b${s}=${hi === 0 ? '0' : `Math.imul(a${s},${hi})`};a${s}=0;`;
        else body += `${mulWide(`a${s}`, lo)}b${s}=(z${hi === 0 ? '' : `+Math.imul(a${s},${hi})`}+Math.imul(b${s},${lo}))|0;a${s}=u;`;
        return body;
      }
      case 0x86: case 0x87: case 0x88: case 0x89: case 0x8a: { // shl, shr_s, shr_u, rotl, rotr
        const k = i64ConstBefore(p);
        if (k !== null) {
          body += shiftConst(op, s, op === 0x8a ? (64 - (k[0] & 63)) & 63 : k[0] & 63);
          return body;
        }
        if (op === 0x86) body += `c=a${t}&63;if(c>=32){b${s}=a${s}<<(c-32);a${s}=0;}else if(c!==0){b${s}=(b${s}<<c)|(a${s}>>>(32-c));a${s}<<=c;}`;
        else if (op === 0x87) body += `c=a${t}&63;if(c>=32){a${s}=b${s}>>(c-32);b${s}>>=31;}else if(c!==0){a${s}=(a${s}>>>c)|(b${s}<<(32-c));b${s}>>=c;}`;
        else if (op === 0x88) body += `c=a${t}&63;if(c>=32){a${s}=(b${s}>>>(c-32))|0;b${s}=0;}else if(c!==0){a${s}=(a${s}>>>c)|(b${s}<<(32-c));b${s}=(b${s}>>>c)|0;}`;
        else {
          // rotr k = rotl 64-k
          body += op === 0x89 ? `c=a${t}&63;` : `c=(64-(a${t}&63))&63;`;
          body += `x=a${s};y=b${s};if(c>=32){x=b${s};y=a${s};c-=32;}`;
          body += `if(c!==0){a${s}=(x<<c)|(y>>>(32-c));b${s}=(y<<c)|(x>>>(32-c));}else{a${s}=x;b${s}=y;}`;
        }
        return body;
      }
      case 0x83: body += `a${s}&=a${t};b${s}&=b${t};`; return body;
      case 0x84: body += `a${s}|=a${t};b${s}|=b${t};`; return body;
      case 0x85: body += `a${s}^=a${t};b${s}^=b${t};`; return body;
      case 0x79: body += `a${t}=b${t}!==0?Math.clz32(b${t}):32+Math.clz32(a${t});b${t}=0;`; return body;
      case 0x7a: body += `a${t}=a${t}!==0?ctz32(a${t}):32+ctz32(b${t});b${t}=0;`; return body;
      case 0x7b: body += `a${t}=popcnt32(a${t})+popcnt32(b${t});b${t}=0;`; return body;
      case 0xa7: return body; // i32.wrap_i64
      case 0xac: body += `b${t}=a${t}>>31;`; return body;
      case 0xad: body += `b${t}=0;`; return body;
      case 0xc2: body += `a${t}=(a${t}<<24)>>24;b${t}=a${t}>>31;`; return body;
      case 0xc3: body += `a${t}=(a${t}<<16)>>16;b${t}=a${t}>>31;`; return body;
      case 0xc4: body += `b${t}=a${t}>>31;`; return body;
      // f32 (bits in the low word, arithmetic through the scratch as the interpreter's Float32Array)
      case 0x5b: case 0x5c: case 0x5d: case 0x5e: case 0x5f: case 0x60:
        body += `x=${f32of(s)};y=${f32of(t)};a${s}=x${REL[op - 0x5b]}y?1:0;`;
        return body;
      case 0x8b: body += `a${t}&=0x7fffffff;`; return body;
      case 0x8c: body += `a${t}^=-2147483648;`; return body;
      case 0x8d: body += f32un('Math.ceil(x)'); return body;
      case 0x8e: body += f32un('Math.floor(x)'); return body;
      case 0x8f: body += f32un('Math.trunc(x)'); return body;
      case 0x91: body += f32un('Math.sqrt(x)'); return body;
      case 0x92: body += f32bin('x+y'); return body;
      case 0x93: body += f32bin('x-y'); return body;
      case 0x94: body += f32bin('x*y'); return body;
      case 0x95: body += f32bin('x/y'); return body;
      case 0x96: body += f32bin('Math.min(x,y)'); return body;
      case 0x97: body += f32bin('Math.max(x,y)'); return body;
      case 0x98: body += `a${s}=(a${s}&0x7fffffff)|(a${t}&-2147483648);`; return body;
      // f64 in double variables; sign-bit operations through the scratch (NaN payloads kept)
      case 0x61: case 0x62: case 0x63: case 0x64: case 0x65: case 0x66:
        body += `a${s}=d${s}${REL[op - 0x61]}d${t}?1:0;`;
        return body;
      case 0x99: body += `FD[${D0}]=d${t};T[${B0 + HI}]&=0x7fffffff;d${t}=FD[${D0}];`; return body;
      case 0x9a: body += `FD[${D0}]=d${t};T[${B0 + HI}]^=-2147483648;d${t}=FD[${D0}];`; return body;
      case 0x9b: body += `d${t}=quiet(Math.ceil(d${t}));`; return body;
      case 0x9c: body += `d${t}=quiet(Math.floor(d${t}));`; return body;
      case 0x9d: body += `d${t}=quiet(Math.trunc(d${t}));`; return body;
      case 0x9f: body += `d${t}=Math.sqrt(d${t});`; return body;
      case 0xa0: body += `d${s}=d${s}+d${t};`; return body;
      case 0xa1: body += `d${s}=d${s}-d${t};`; return body;
      case 0xa2: body += `d${s}=d${s}*d${t};`; return body;
      case 0xa3: body += `d${s}=d${s}/d${t};`; return body;
      case 0xa4: body += `d${s}=Math.min(d${s},d${t});`; return body;
      case 0xa5: body += `d${s}=Math.max(d${s},d${t});`; return body;
      case 0xa6:
        body += `FD[${D0}]=d${s};FD[${D0 + 1}]=d${t};T[${B0 + HI}]=(T[${B0 + HI}]&0x7fffffff)|(T[${B0 + 2 + HI}]&-2147483648);d${s}=FD[${D0}];`;
        return body;
      // conversions
      case 0xb2: body += `FS[${B0}]=a${t};a${t}=T[${B0}];`; return body;
      case 0xb3: body += `FS[${B0}]=a${t}>>>0;a${t}=T[${B0}];`; return body;
      case 0xb6: body += `FS[${B0}]=d${t};a${t}=T[${B0}];`; return body;
      case 0xb7: body += `d${t}=a${t};`; return body;
      case 0xb8: body += `d${t}=a${t}>>>0;`; return body;
      case 0xbb: body += `d${t}=${f32of(t)};`; return body;
      case 0xbc: case 0xbe: return body; // f32 <-> i32 reinterpret: same bits
      case 0xbd: body += `FD[${D0}]=d${t};a${t}=T[${B0}];b${t}=T[${B0 + HI}];`; return body;
      case 0xbf: body += `T[${B0}]=a${t};T[${B0 + HI}]=b${t};d${t}=FD[${D0}];`; return body;
      case 0xd0: body += `a${h}=0;`; return body; // ref.null
      case 0xd1: body += `a${t}=a${t}===0?1:0;`; return body; // ref.is_null
    }
    // Everything else (calls, return, unreachable, memory.grow, tables, bulk memory,
    // ref.func): the interpreter runs it.
    return body + exit;
  };
  regions = true;
  // Small innermost loops run as two or four copies of their body, the budget checked at
  // the first copy's branch back for all of them (see structuredBody): the check of a tight
  // loop costs as much as its body.
  const loopCopies: LoopCopies = {
    count: (s, e) => (e - s > MAX_UNROLLED_WORDS || checkpoint.subarray(s + 1, e).includes(1) ? 1 : e - s <= SMALL_LOOP_WORDS ? SMALL_LOOP_COPIES : LOOP_COPIES),
    first: (q, n) => `if(${n * reserve[q]}>left){X=${q};E=${sig(types[q]!)};break main;}${dec(q)}`,
    other: (q) => dec(q),
  };
  const structured = structuredBody(code, entry, len, visited, (p, jump) => emit(p, jump), step, true, loopCopies);
  regions = false;
  // With a structured version, the switch runs only from an entry inside a loop to the
  // first branch to a loop header: there it hands back (before the header's segment), and
  // the structured version goes on from that header.
  const headers = new Set(structured?.headers ?? []);
  const toHeader = (q: number): string => `{X=${q};E=${sig(types[q]!)};break main;}`;
  let body = '';
  for (let p = 0; p < len; p += instructionLength(code, entry + p)) {
    if (!visited[p]) continue;
    const id = ids.get(p);
    if (id !== undefined) body += `case ${id}:`;
    body += emit(p, (q) => (headers.has(q) ? toHeader(q) : jump(q)));
  }
  // The entry for compiled callers: the structured version again, never resumed inside.
  fastMode = true;
  regions = true;
  const fastBody = structured === null ? null : structuredBody(code, entry, len, visited, (p, jump) => emit(p, jump), step, false, loopCopies);
  regions = false;
  fastMode = false;

  const stackSlots = (ty: string, load: boolean): string => {
    let out = '';
    for (let i = 0; i < ty.length; i++) out += slot(NL + 2 * i, ty[i] === 'd', load);
    return out;
  };
  const temps = 'B=0,E=0,L=0,X=0,Y=0,H=0,N=0,Q=-1,x=0,y=0,z=0,c=0,u=0,v=0,w=0,r=0,wl=-65536,cc=null,tb=null,fn=null';
  let icDecl = '';
  for (const q of icSites) icDecl += `,ic${q}=-1,ic${q}c=null`;
  let decl = `let ${temps}${icDecl}`;
  for (let o = 0; o < maxH; o += 2) decl += `,a${o}=0,b${o}=0,d${o}=0.5`;
  let dispatch = 'switch(pc){';
  for (const [p, id] of ids) dispatch += `case ${p}:B=${id};L=${seg(p)};break;`;
  const handBack = (pc: string, sp: string, self = 'self') => `io[0]=${pc};io[1]=${sp};io[2]=fp;io[3]=${self};io[4]=frameTop;io[5]=0;`;
  dispatch += `default:${handBack(`${entry}+pc`, 'sp')}return 0;}`;
  let loadStack = 'switch(B){';
  for (const [p, id] of ids) if (types[p] !== '') loadStack += `case ${id}:${stackSlots(types[p]!, true)}break;`;
  loadStack += '}';
  let locals = '';
  let spillLocals = '';
  for (let o = 0; o < NL; o += 2) {
    locals += slot(o, localF64[o / 2], true);
    spillLocals += slot(o, localF64[o / 2], false);
  }
  const atEntry = sig(''); // the fast entry's stop before its first segment
  let spill = 'switch(E){';
  for (const [ty, e] of sigs) spill += `case ${e}:${stackSlots(ty, false)}H=${heightOf(ty)};break;`;
  spill += '}';
  const params = 's32,f64,fp,pc,sp,left,dv,memSize,dirty,g32,gw,io,frameTop,room,self,inst,functions,t';
  // The run loop may hand over integers as doubles (a heap number fp deoptimizes the code).
  const ints = 'fp|=0;pc|=0;sp|=0;left|=0;frameTop|=0;N=left;';
  const tail = `left+=Y;${spillLocals}${spill}if(X>=0){${handBack(`${entry}+X`, 'fp+H')}}return N-left;}`;
  // `sw` enters at any segment start through one switch over the blocks; the structured
  // version, where there is one, runs every call (entered at pc 0).
  const hoisted = instConsts.size === 0 ? '' : `const ${[...instConsts].map(([name, expr]) => `${name}=${expr}`).join(',')};`;
  const sw =
    `function sw(${params}){${decl};${ints}const k=t.jitShared;${hoisted}` +
    `${dispatch}if(L>left){${handBack(`${entry}+pc`, 'sp')}return 0;}left-=L;${locals}${loadStack}` +
    `try{main:for(;;){switch(B){${body}default:throw new Error("js tier: no block "+B);}}}${caught}${tail}`;
  const head = `"use strict";const T=new Int32Array(8),FS=new Float32Array(T.buffer),FD=new Float64Array(T.buffer);` +
    `const FX=[${faultX.join(',')}],FE=[${faultE.join(',')}],FN=[${faultN.join(',')}];`;
  // The run loop's entry: the registers for compiled callees, the room for their calls.
  const enterShared = 'shared(t,s32,f64,dv,memSize,dirty,g32,gw,io,inst,functions,fp,frameTop);';
  const weighed = (source: string): string => source.split(WEIGHT_MARK).join(String(64 + 2 * maxH));
  if (structured === null || fastBody === null) return weighed(`${head}${sw}return [function switchOnly(${params}){fp|=0;frameTop|=0;room=${enterShared.slice(0, -1)}.room;return sw(${params});},null];`);
  // The structured version: entered at pc 0 (a call) or at a loop header (R, the header
  // the body skips forward to); from anywhere else through `sw` (K: what it ran).
  let resume = `switch(pc){`;
  if (!headers.has(0)) resume += `case 0:L=${seg(0)};M=${reserve[0]};break;`;
  for (const q of headers) resume += `case ${q}:R=${q};L=${seg(q)};M=${reserve[q]};${stackSlots(types[q]!, true)}break;`;
  resume += `default:return K;}`;
  let isHeader = '';
  for (const q of headers) isHeader += `case ${q}:`;
  const jit =
    `function jit(${params}){${decl},R=-1,K=0,M=0;${ints}if(warm<${WARM_CALLS}){warm++;if(left>${WARM_BUDGET}){left=${WARM_BUDGET};N=left;}}const k=${enterShared}room=k.room;${hoisted}` +
    `if(pc!==0){${isHeader === '' ? '{' : `switch(pc){${isHeader}break;default:`}K=sw(${params});` +
    `if(io[5]!==0||io[2]!==fp||io[3]!==self)return K;pc=io[0]-${entry};sp=io[1];left-=K;}}` +
    `${resume}if(M>left){${handBack(`${entry}+pc`, 'sp')}return K;}left-=L;${locals}` +
    `try{main:{${structured.body}throw new Error("js tier: fell through");}}${caught}${tail}`;
  // The entry for compiled callers: arguments as parameters (see `passed`), declared locals
  // zero. It reads from `k` only what its body uses; the exit path reads the rest there.
  const types0 = ctx.localTypes(cf.funcIndex);
  let fastParams = 'k,fp,left,frameTop,room';
  let fastDecl = `let ${temps}${icDecl}`;
  let zero = '';
  for (let o = 0; o < maxH; o += 2) {
    if (o < 2 * cf.numParams) {
      const pt = types0[o / 2];
      fastParams += passed(pt, o);
      fastDecl += pt === ValType.F64 ? `,a${o}=0,b${o}=0` : wide(pt) ? `,d${o}=0.5` : `,b${o}=0,d${o}=0.5`;
    } else {
      fastDecl += `,a${o}=0,b${o}=0,d${o}=0.5`;
      if (o < NL && localF64[o / 2]) zero += `d${o}=0;`;
    }
  }
  const fields: [string, string][] = [
    ['s32', 's32'], ['f64', 'f64'], ['dv', 'dv'], ['dirty', 'dirty'], ['g32', 'g32'], ['gw', 'gw'], ['io', 'io'],
    ['inst', 'inst'], ['functions', 'functions'], ['t', 't'],
  ];
  const uses = fields.filter(([name]) => (name === 'inst' && instConsts.size > 0) || new RegExp(`(?<![\\w.])${name}\\b`).test(fastBody.body));
  const prologue = (uses.length === 0 ? '' : `const ${uses.map(([name, field]) => `${name}=k.${field}`).join(',')};`) + hoisted;
  // Without memory accesses nothing in the body throws what the function handles itself.
  const fastMain = `main:{if(${reserve[0]}>left){X=0;E=${atEntry};break main;}left-=${seg(0)};${fastBody.body}throw new Error("js tier: fell through");}`;
  const fast =
    `function fast(${fastParams}){${fastDecl};${prologue}${zero}` +
    (faults.size === 0 ? fastMain : `try{${fastMain}}${caught}`) +
    `left+=Y;{const s32=k.s32,f64=k.f64,io=k.io,inst=k.inst;` +
    `${spillLocals}${spill}if(X>=0){${handBack(`${entry}+X`, 'fp+H', `inst.funcAddrs[${cf.funcIndex}]`)}}}k.left=-1-left;return 0;}`;
  if (cf.frameWords > MAX_FAST_FRAME_WORDS) return weighed(`${head}let warm=0;${sw}return [${jit},null];`);
  if (cf.frameWords > maxFastFrameWords) maxFastFrameWords = cf.frameWords;
  return weighed(`${head}let warm=0;${sw}return [${jit},${fast}];`);
}

/** The targets (absolute pcs) of the branch at pc, or none. */
function branchTargets(code: Int32Array, pc: number): number[] {
  switch (code[pc]) {
    case Op.If: case Op.Br: case Op.BrIf: case Op.BrDrop: case Op.BrIfDrop: return [code[pc + 1]];
    case Op.BrTable: {
      const out: number[] = [];
      for (let i = 0, w = pc + 2; i <= code[pc + 1]; i++, w += 3) out.push(code[w]);
      return out;
    }
  }
  return [];
}

/**
 * Where structured code checks the budget. A checkpoint is the function's entry (pc 0), a
 * loop header (a backward branch target) or the instruction after a call; its region is
 * every segment reached from it by forward control flow before the next checkpoint.
 * `reserve[p]` is the most instructions any path from checkpoint p runs in its region: with
 * that much budget left at p, no segment of the region can run out of it, so the code there
 * only counts (`left -= n`). With less it hands back at p, at a segment start as always, and
 * the run loop runs the rest of the budget exactly; the count stays exact either way.
 */
function budgetRegions(
  code: Int32Array, entry: number, len: number, visited: Uint8Array, isEntry: Uint8Array, segmentLengths: Int32Array,
): { checkpoint: Uint8Array; reserve: Int32Array } {
  const checkpoint = new Uint8Array(len + 1);
  const reserve = new Int32Array(len + 1);
  checkpoint[0] = 1;
  for (let p = 0; p < len; p += instructionLength(code, entry + p)) {
    if (!visited[p]) continue;
    const op = code[entry + p];
    if (op === Op.Call || op === Op.CallIndirect) checkpoint[p + instructionLength(code, entry + p)] = 1;
    for (const target of branchTargets(code, entry + p)) if (target - entry <= p) checkpoint[target - entry] = 1;
  }
  // One pass from the end back (linear however many segment starts share a transfer):
  // `most` is the largest reserve among the forward successors of the transfer that ends
  // the segment running through p, all of them after it, so already known.
  const starts: number[] = [];
  for (let p = 0; p < len; p += instructionLength(code, entry + p)) starts.push(p);
  let most = 0;
  for (let i = starts.length - 1; i >= 0; i--) {
    const p = starts[i];
    const op = code[entry + p];
    if (isTransfer(op)) {
      most = 0;
      const successors = visited[p] ? branchTargets(code, entry + p).map((target) => target - entry) : [];
      if (visited[p] && (op === Op.If || op === Op.BrIf || op === Op.BrIfDrop)) successors.push(p + instructionLength(code, entry + p));
      for (const q of successors) if (!checkpoint[q] && reserve[q] > most) most = reserve[q];
    }
    if (isEntry[p] && visited[p]) reserve[p] = segmentLengths[entry + p] + most;
  }
  return { checkpoint, reserve };
}

/** A loop (from its header s through e) or a block (from s, its branches land at e). */
interface Construct {
  s: number;
  e: number;
  loop: boolean;
}

/**
 * How structuredBody writes a small innermost loop as copies of its body: how many for the
 * loop from header s to e (1: none), and the budget taken at the branch back to header q
 * from the first copy (checked for all copies' iterations) and from the others (counted only).
 */
interface LoopCopies {
  count(s: number, e: number): number;
  first(q: number, copies: number): string;
  other(q: number): string;
}

/**
 * Copies of a small innermost loop's body (the budget is checked once per this many
 * iterations): four up to SMALL_LOOP_WORDS, two up to MAX_UNROLLED_WORDS. Measured (CPU time,
 * tier/V8): matmul 3.56x with two, 2.98x with four; sort 2.55x, 2.44x; nbody, whose loop is
 * larger, 3.15x with two and 3.3x with four.
 */
const LOOP_COPIES = 2;
const SMALL_LOOP_COPIES = 4;
const SMALL_LOOP_WORDS = 150;

/** Loops longer than this (code words) keep one copy of their body. */
const MAX_UNROLLED_WORDS = 300;

/** Constructs beyond which (in number or depth) a function keeps only the switch. */
const MAX_CONSTRUCTS = 3000;
const MAX_NESTING = 300;

/**
 * The function body as structured JavaScript, wasm's blocks and loops again (which the
 * internal code lost): every backward branch target is the header of a loop `L<q>:for(;;)`
 * reaching through the last branch back to it, every forward target q ends a block
 * `B<q>:{...}` beginning at its first branch; ranges that cross are widened (a loop's end,
 * a block's start) until they nest. A branch is then `continue L<q>` or `break B<q>` after
 * taking the budget for q's segment, so V8 sees the loops. Null when they cannot nest
 * (the switch runs the function) — not seen with code from wasm's structured control.
 */
function structuredBody(
  code: Int32Array, entry: number, len: number, visited: Uint8Array,
  emit: (p: number, jump: (q: number) => string) => string, enter: (p: number) => string, resumable: boolean,
  copies: LoopCopies,
): { body: string; headers: number[] } | null {
  const loops = new Map<number, Construct>();
  const blocks = new Map<number, Construct>();
  for (let p = 0; p < len; p += instructionLength(code, entry + p)) {
    if (!visited[p]) continue;
    const next = p + instructionLength(code, entry + p);
    for (const target of branchTargets(code, entry + p)) {
      const q = target - entry;
      if (q <= p) {
        const c = loops.get(q);
        if (c === undefined) loops.set(q, { s: q, e: next, loop: true });
        else if (next > c.e) c.e = next;
      } else {
        const c = blocks.get(q);
        if (c === undefined) blocks.set(q, { s: p, e: q, loop: false });
        else if (p < c.s) c.s = p;
      }
    }
  }
  const all = [...loops.values(), ...blocks.values()];
  if (all.length > MAX_CONSTRUCTS) return null;
  for (let changed = true; changed; ) {
    changed = false;
    for (const a of all) {
      for (const b of all) {
        if (a.s < b.s && b.s < a.e && a.e < b.e) {
          // b begins inside a and ends after it
          if (!b.loop) b.s = a.s;
          else if (a.loop) a.e = b.e;
          else return null; // a block ending inside a loop it begins before
          changed = true;
        }
      }
    }
  }
  // Outer first: by start, then longer first, then a block around a loop of the same range.
  all.sort((x, y) => x.s - y.s || y.e - x.e || (x.loop ? 1 : 0) - (y.loop ? 1 : 0));
  const headers = [...loops.keys()].sort((x, y) => x - y);
  const headerIn = (s: number, e: number): boolean => headers.some((h) => h >= s && h < e);
  // Entered at header R, the body skips what comes before R: an item (a run of
  // instructions or a construct) with a header after it in its sequence runs only when
  // R < 0 (cleared where R's loop begins) or when R lies inside it.
  const guard = (s: number, e: number, end: number, text: string): string => {
    if (!resumable || text === '' || !headerIn(e, end)) return text;
    return headerIn(s, e) ? `if(R<0||R>=${s}&&R<${e}){${text}}` : `if(R<0){${text}}`;
  };
  let k = 0;
  let failed = false;
  // The copy of an unrolled loop's body being written, by header.
  const copy = new Map<number, [number, number]>();
  const backTo = (q: number): string => {
    const at = copy.get(q);
    if (at === undefined) return `${enter(q)}continue L${q};`;
    const [n, of] = at;
    if (n === of) return `${copies.other(q)}continue L${q};`;
    return `${n === 1 ? copies.first(q, of) : copies.other(q)}break C${q}_${n};`;
  };
  const sequence = (p: number, end: number, depth: number): string => {
    let out = '';
    if (depth > MAX_NESTING) failed = true;
    while (p < end && !failed) {
      if (k < all.length && all[k].s < p) failed = true;
      else if (k < all.length && all[k].s === p) {
        const c = all[k++];
        if (c.e > end) failed = true;
        let loop: string;
        const count = c.loop ? copies.count(c.s, c.e) : 1;
        if (count > 1) {
          // `count` copies: the first's branch back checks the budget for `count` iterations
          // and goes on into the second (out of block C<q>_1), whose branch back only counts
          // and goes on into the third..., the last's back to the first. An entry at the
          // header (falling in, resuming) starts the first, whose iteration the entry's own
          // check covers. Nothing inside is a checkpoint (no call, no inner loop).
          const from = k;
          loop = '';
          for (let n = 1; n <= count; n++) {
            k = from;
            copy.set(p, [n, count]);
            const body = `${sequence(p, c.e, depth + 1)}break L${p};`;
            loop = n === count ? `${loop}${body}` : `C${p}_${n}:{${loop}${body}}`;
          }
          copy.delete(p);
          loop = `L${p}:for(;;){${loop}}`;
        } else {
          const inner = sequence(p, c.e, depth + 1);
          loop = c.loop ? `L${p}:for(;;){${inner}break L${p};}` : `B${c.e}:{${inner}}`;
        }
        out += guard(p, c.e, end, c.loop ? `${resumable ? `if(R===${p})R=-1;` : ''}${loop}` : loop);
        p = c.e;
      } else {
        const stop = k < all.length && all[k].s < end ? all[k].s : end;
        let run = '';
        const from = p;
        for (; p < stop; p += instructionLength(code, entry + p)) {
          const at = p;
          if (visited[at]) run += emit(at, (q) => (q > at ? `${enter(q)}break B${q};` : backTo(q)));
        }
        if (p !== stop) failed = true;
        out += guard(from, stop, end, run);
      }
    }
    return out;
  };
  const out = sequence(0, len, 0);
  if (failed || k < all.length) return null;
  return { body: out, headers };
}

/** The operand stack's slot types after instruction `op` (no control transfer) at `pc`. */
function stackAfter(op: number, pc: number, code: Int32Array, ty: string, localF64: boolean[], ctx: JitContext): string {
  const n = ty.length;
  switch (op) {
    case Op.Drop: case Op.LocalSet: case Op.GlobalSet: return ty.slice(0, n - 1);
    case Op.Select: return ty.slice(0, n - 2);
    case Op.LocalGet: return ty + (localF64[code[pc + 1] / 2] ? 'd' : 'x');
    case Op.GlobalGet: return ty + (ctx.globalType(code[pc + 1]) === ValType.F64 ? 'd' : 'x');
    case Op.LocalTee: return ty;
    case Op.TableGet: case Op.RefIsNull: return ty.slice(0, n - 1) + 'x';
    case Op.TableSet: return ty.slice(0, n - 2);
    case Op.RefNull: return ty + 'x';
    case Op.TableGrow: return ty.slice(0, n - 2) + 'x';
    case Op.TableFill: return ty.slice(0, n - 3);
  }
  const ins = BY_OP.get(op >= DETERMINISTIC_OPCODE ? op - DETERMINISTIC_OPCODE : op);
  if (ins === undefined || ins.signature === null) throw new Error(`js tier: no stack effect for 0x${op.toString(16)}`);
  const [pops, pushes] = ins.signature.split('->').map((side) => side.trim().split(/\s+/).filter((x) => x !== ''));
  return ty.slice(0, n - pops.length) + pushes.map((x) => (x === 'f64' ? 'd' : 'x')).join('');
}

/**
 * Statements leaving in `u` the low and in `z` the high word of the unsigned 64-bit product
 * P = hi*2^32 + lo of the int32 words A and C (C a literal when a constant). The high word
 * from doubles, exactly: A*C rounded is P + e with |e| at most half an ulp of P (nothing
 * when P < 2^53); hi*2^32 lies in P's binade (both multiples of 2^32 from 2^53 on) and is a
 * multiple of its ulp, so P + e - lo (computed exactly, then rounded) rounds to hi*2^32
 * (ties to it: it is the even one). Scaled by 2^-32 (exact, a power of two: here both
 * terms before the subtraction, so that their products run side by side) and truncated,
 * that is hi: fewer operations than 16-bit halves in Math.imul.
 */
function mulWide(A: string, C: string | number): string {
  const cu = typeof C === 'number' ? String((C >>> 0) * 2 ** -32) : `((${C}>>>0)*2.3283064365386963e-10)`;
  return `u=Math.imul(${A},${C});z=((${A}>>>0)*${cu}-(u>>>0)*2.3283064365386963e-10)|0;`;
}

/**
 * `if(...){...}` running i64 div_s (0x7f), div_u, rem_s or rem_u (0x82) of slots s and t
 * when both values lie within 2^53 and the divisor is not zero. Then both are exact doubles
 * X and Y, and the quotient rounded is never an integer the exact one is not (X/Y is at
 * least 1/Y away from the next integer, its rounding error below X*2^-53/Y < 1/Y): its
 * truncation is wasm's quotient q, X - q*Y the remainder (exact), and the words are
 * q|0 (q mod 2^32) and floor(q/2^32). A constant divisor is a literal.
 */
function i64DivideSmall(op: number, s: number, t: number, divisor: [number, number] | null): string {
  const signed = op === 0x7f || op === 0x81;
  // a high word within 2^21: signed -2^21 <= b < 2^21, unsigned 0 <= b < 2^21
  const small = (o: number): string => (signed ? `((b${o}+2097152)>>>0)<4194304` : `(b${o}>>>0)<2097152`);
  const value = (o: number): string => `b${o}*4294967296+(a${o}>>>0)`;
  let cond = `${small(s)}&&${small(t)}&&(a${t}|b${t})!==0`;
  let set = `y=${value(t)};`;
  let y = 'y';
  if (divisor !== null) {
    // a constant divisor (an i64.const just before): known within 2^53 and not zero, or never
    const [lo, hi] = divisor;
    const fits = signed ? hi >= -2097152 && hi < 2097152 : hi >= 0 && hi < 2097152;
    if (!fits || (lo | hi) === 0) return 'if(false){}';
    cond = small(s);
    set = '';
    y = String(hi * 4294967296 + (lo >>> 0));
  }
  const result = op <= 0x80 ? `z=Math.trunc(x/${y});` : `z=x-Math.trunc(x/${y})*${y};`;
  return `if(${cond}){x=${value(s)};${set}${result}a${s}=z|0;b${s}=Math.floor(z*2.3283064365386963e-10)|0;}`;
}

/** i64 shl, shr_s, shr_u, rotl (rotr: op 0x8a, k its rotl count) of slot o by the constant k (0..63). */
function shiftConst(op: number, o: number, k: number): string {
  const a = `a${o}`;
  const b = `b${o}`;
  if (k === 0) return '';
  if (op === 0x86) return k < 32 ? `${b}=(${b}<<${k})|(${a}>>>${32 - k});${a}<<=${k};` : `${b}=${a}<<${k - 32};${a}=0;`;
  if (op === 0x87) return k < 32 ? `${a}=(${a}>>>${k})|(${b}<<${32 - k});${b}>>=${k};` : `${a}=${b}>>${k - 32};${b}>>=31;`;
  if (op === 0x88) return k < 32 ? `${a}=(${a}>>>${k})|(${b}<<${32 - k});${b}>>>=${k};` : `${a}=(${b}>>>${k - 32})|0;${b}=0;`;
  if (k === 32) return `x=${a};${a}=${b};${b}=x;`;
  // rotl: k < 32 from (a, b), else k - 32 from the swapped words
  const [x, y, r] = k < 32 ? [a, b, k] : [b, a, k - 32];
  return `x=${x};y=${y};${a}=(x<<${r})|(y>>>${32 - r});${b}=(y<<${r})|(x>>>${32 - r});`;
}

/** Quiets a signalling NaN as Math.ceil & co. do not (as the run loop's `quiet`). */
function quiet(x: number): number {
  return x === x ? x : NaN;
}

/**
 * Builds the run loop's entry and the compiled callers' entry (null without a structured
 * version) from the source; `functions` are the module's (jitContext().functions).
 * Throws where code generation is forbidden.
 */
export function instantiateJit(source: string, functions: readonly CompiledFunction[]): { jit: JitFunction; fast: JitCall | null } {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  const make = new Function('rare', 'det', 'quiet', 'ctz32', 'popcnt32', 'shared', 'C', source);
  const [jit, fast] = make(rareNumeric, deterministicFloat, quiet, i64.ctz32, i64.popcnt32, shared, functions) as [JitFunction, JitCall | null];
  return { jit, fast };
}

/** Transfers run in a function before `auto` compiles it. */
export const HOT_THRESHOLD = 1000;

/** Set once `new Function` was refused (a CSP without unsafe-eval): the interpreter runs alone. */
let codegenForbidden = false;

/**
 * Compiles `cf` (of the module whose code is `code`) for the tier, once: afterwards its
 * `jit` is the compiled function, or its `heat` is -1 when the tier leaves it to the
 * interpreter. Out of the run loop's line (it is called once per function).
 */
export function tierUp(code: ModuleCode, cf: CompiledFunction): JitFunction | null {
  cf.heat = -1;
  if (codegenForbidden) return null;
  let source: string | null;
  const ctx = code.jitContext();
  try {
    source = jitSource(code.words, code.segmentLengths, cf, ctx);
  } catch {
    return null; // a shape the tier does not follow: the interpreter runs it
  }
  if (source === null) return null;
  try {
    const made = instantiateJit(source, ctx.functions);
    cf.jit = made.jit;
    cf.fast = made.fast;
  } catch (e) {
    if (e instanceof EvalError) codegenForbidden = true;
    return null;
  }
  return cf.jit;
}
