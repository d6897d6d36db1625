import { PARKED as PARKED_, atomicOp as atomicOp_ } from './atomics';
import { bulkOp as bulkOp_ } from './bulk';
import { canonicalizeV128 as canonicalizeV128_, deterministicFloat as deterministicFloat_ } from './deterministic';
import { callHost as callHost_ } from './host-call';
import * as i64 from './i64';
import { HI as HI_WORD } from './layout';
import { rareNumeric as rareNumeric_ } from './numeric';
import { simdOp as simdOp_ } from './simd';
import type { FunctionInstance, ModuleInstance } from './runtime';
import type { Store } from './store';
import { FRAME_WORDS as FRAME_WORDS_, RETURN_TO_HOST as RETURN_TO_HOST_, Thread } from './thread';
import { STOP_OPCODE, nthInstruction as nthInstruction_ } from '../translation/opcodes';
import { TrapCode, trapError } from './traps';
import { HOT_THRESHOLD, tierUp as tierUp_ } from './js-tier';

/** What `execute` stopped for (a trap is thrown instead). */
export const enum RunResult {
  /** The invoked function returned; its results are at the bottom of the stack. */
  Done = 0,
  /** The instruction budget ran out; the thread can continue. */
  Budget = 1,
  /** A host function asked to suspend; the pc is on the call, which runs again on resume. */
  Suspended = 2,
  /** A call entered the thread's `breakAddr` function; the pc is at its first instruction. */
  Breakpoint = 3,
  /** memory.atomic.wait parked the thread (ThreadGroup): its operands are popped, the pc is past it. */
  Waiting = 4,
}

const EMPTY_VIEW = new DataView(new ArrayBuffer(0));
const EMPTY_DIRTY = new Uint8Array(1);

/** Math.floor & co. hand a signalling NaN back unchanged; wasm wants it quieted. */
function quiet(x: number): number {
  return x === x ? x : NaN;
}

/**
 * The interpreter's run loop: executes exactly `budget` internal instructions of the
 * thread, or fewer when it returns, traps, suspends or hits a breakpoint (budget < 2^30).
 * Registers live in locals while it runs and go back to the thread on every exit, so the
 * thread is always a complete, resumable state between calls. The loop allocates nothing,
 * creates no closures and has no try/catch; rare instructions live in helpers.
 *
 * Counting without a per-instruction cost: code runs in straight-line segments that end at
 * a transfer (branch, call, return). A segment entered at pc runs segmentLengths[pc]
 * instructions through its transfer, which adds them to the count; on any other exit the
 * ordinals table counts the part of the segment that ran (translation/opcodes.ts). When the
 * budget would run out inside the segment being entered, a STOP opcode is laid over the
 * instruction where it runs out, and taken away again on every exit. Every internal
 * instruction counts as one toward `instructionCount`.
 */
export function execute(store: Store, t: Thread, budget: number): RunResult {
  // Local copies of imported constants and helpers: an imported binding can compile to a
  // property load or even a getter call on every use, which costs more than the work here.
  const HI = HI_WORD;
  const FRAME_WORDS = FRAME_WORDS_;
  const RETURN_TO_HOST = RETURN_TO_HOST_;
  const { i64Mul, i64Rotl, i64Rotr, i64Shl, i64ShrS, i64ShrU, ctz32, popcnt32 } = i64;
  const rareNumeric = rareNumeric_;
  const bulkOp = bulkOp_;
  const simdOp = simdOp_;
  const atomicOp = atomicOp_;
  const PARKED = PARKED_;
  const canonicalizeV128 = canonicalizeV128_;
  const deterministicFloat = deterministicFloat_;
  const callHost = callHost_;
  const tierUp = tierUp_;
  const tier = store.tier;
  const hot = tier === 2 ? 1 : HOT_THRESHOLD;
  const io = t.jitIO;
  const nthInstruction = nthInstruction_;
  const STOP = STOP_OPCODE;
  const s32 = t.s32;
  const f32 = t.f32;
  const f64 = t.f64;
  const frames = t.frames;
  const functions = store.functions;
  const maxFrameTop = t.maxCallDepth * FRAME_WORDS;
  const stackWords = t.stackWords;
  const breakAddr = t.breakAddr;
  let g32 = store.globalWords;

  let sp = t.sp;
  let fp = t.fp;
  let pc = t.pc;
  let frameTop = t.frameTop;
  let funcAddr = t.funcAddr;
  let func: FunctionInstance = functions[funcAddr];
  let inst: ModuleInstance = func.instance!;
  let code = inst.compiled.code.words;
  let funcAddrs = inst.funcAddrs;
  let globalWords = inst.globalWords;
  let numResults = func.compiled!.numResults;
  let ordinals = inst.compiled.code.ordinals;
  let segmentLengths = inst.compiled.code.segmentLengths;
  let mem = inst.memAddrs.length > 0 ? store.memories[inst.memAddrs[0]] : null;
  let dv = mem !== null ? mem.view : EMPTY_VIEW;
  let memSize = mem !== null ? mem.byteLength : 0;
  let dirty = mem !== null ? mem.dirty : EMPTY_DIRTY;

  // Instructions counted so far (whole segments), and where the current segment began.
  let done = 0;
  let segStart = pc;
  // Instructions from segStart through the transfer that ends its segment.
  let segLen = segmentLengths[pc];
  // The pc of a STOP laid over an instruction of the current segment (so of `code`), and
  // the word it covers.
  let stopPc = -1;
  let stopWord = 0;
  let hitBreakpoint = false;
  if (segLen > budget) {
    stopPc = nthInstruction(code, pc, budget);
    stopWord = code[stopPc];
    code[stopPc] = STOP;
  }
  let trap = TrapCode.None;
  let result = RunResult.Budget;
  let op = 0;
  let a = 0;
  let b = 0;
  let w = 0;
  let calleeAddr = 0;

  // Transfers `break` out of the switch to the segment accounting after it; every other
  // instruction `continue`s.
  run: for (;;) {
    switch ((op = code[pc++])) {
      case 0x00: // unreachable
        trap = TrapCode.Unreachable;
        break run;
      case 0x1ff: // STOP: the budget ends before the instruction underneath
        pc--;
        code[pc] = stopWord;
        stopPc = -1;
        break run;
      case 0x04: // if <elsePc>
        done += segLen; // the whole segment ran, through this transfer
        sp -= 2;
        if (s32[sp] === 0) pc = code[pc];
        else pc++;
        break;
      case 0x0c: // br <pc>
        done += segLen; // the whole segment ran, through this transfer
        pc = code[pc];
        break;
      case 0x0d: // br_if <pc>
        done += segLen; // the whole segment ran, through this transfer
        sp -= 2;
        if (s32[sp] !== 0) pc = code[pc];
        else pc++;
        break;
      case 0x0e: { // br_table <n> (<pc> <keep> <heightWords>)*
        done += segLen; // the whole segment ran, through this transfer
        sp -= 2;
        a = s32[sp] >>> 0;
        b = code[pc];
        if (a > b) a = b;
        w = pc + 1 + 3 * a;
        const keep = code[w + 1];
        const dst = fp + code[w + 2];
        if (keep !== 0) s32.copyWithin(dst & ~1, (sp - 2 * keep) & ~1, sp & ~1);
        sp = dst + 2 * keep;
        pc = code[w];
        break;
      }
      case 0x120: // br_drop <pc> <keep> <heightWords>
      case 0x121: { // br_if_drop <pc> <keep> <heightWords>
        done += segLen; // the whole segment ran, through this transfer
        if (op === 0x121) {
          sp -= 2;
          if (s32[sp] === 0) {
            pc += 3;
            break;
          }
        }
        const keep = code[pc + 1];
        const dst = fp + code[pc + 2];
        if (keep === 1) {
          s32[dst] = s32[sp - 2];
          s32[dst + HI] = s32[sp - 2 + HI];
        } else if (keep !== 0) {
          s32.copyWithin(dst & ~1, (sp - 2 * keep) & ~1, sp & ~1);
        }
        sp = dst + 2 * keep;
        pc = code[pc];
        break;
      }
      case 0x0f: { // return
        done += segLen; // the whole segment ran, through this transfer
        const dst = fp;
        if (numResults === 1) {
          s32[dst] = s32[sp - 2];
          s32[dst + HI] = s32[sp - 2 + HI];
        } else if (numResults !== 0) {
          s32.copyWithin(dst & ~1, (sp - 2 * numResults) & ~1, sp & ~1);
        }
        sp = dst + 2 * numResults;
        frameTop -= FRAME_WORDS;
        pc = frames[frameTop];
        fp = frames[frameTop + 1];
        if (pc === RETURN_TO_HOST) {
          result = RunResult.Done;
          break run;
        }
        funcAddr = frames[frameTop + 2];
        func = functions[funcAddr];
        numResults = func.compiled!.numResults;
        if (func.instance !== inst) {
          inst = func.instance!;
          code = inst.compiled.code.words;
          funcAddrs = inst.funcAddrs;
          globalWords = inst.globalWords;
          mem = inst.memAddrs.length > 0 ? store.memories[inst.memAddrs[0]] : null;
          dv = mem !== null ? mem.view : EMPTY_VIEW;
          memSize = mem !== null ? mem.byteLength : 0;
          dirty = mem !== null ? mem.dirty : EMPTY_DIRTY;
          ordinals = inst.compiled.code.ordinals;
          segmentLengths = inst.compiled.code.segmentLengths;
        }
        break;
      }
      case 0x11: { // call_indirect <typeIndex> <tableIndex>
        const table = store.tables[inst.tableAddrs[code[pc + 1]]];
        sp -= 2;
        a = s32[sp] >>> 0;
        if (a >= table.size) {
          trap = TrapCode.UndefinedElement;
          t.trapDetail = a;
          break run;
        }
        b = table.elements[a];
        if (b === 0) {
          trap = TrapCode.UninitializedElement;
          t.trapDetail = a;
          break run;
        }
        calleeAddr = b - 1;
        if (functions[calleeAddr].typeId !== inst.typeIds[code[pc]]) {
          trap = TrapCode.IndirectCallTypeMismatch;
          break run;
        }
        pc += 2;
      }
      // falls through: the call proper is shared with `call`
      case 0x10: { // call <funcIndex>
        if (op === 0x10) calleeAddr = funcAddrs[code[pc++]];
        const callee = functions[calleeAddr];
        const cf = callee.compiled;
        if (cf === null) {
          t.sp = sp;
          t.frameTop = frameTop;
          const status = callHost(store, t, callee, mem);
          if (status !== TrapCode.None) {
            if (status === TrapCode.HostSuspend) {
              // Leave the machine about to make this call again (not counted: it did not happen).
              pc -= op === 0x10 ? 2 : 3;
              if (op === 0x11) sp += 2;
              result = RunResult.Suspended;
              break run;
            }
            trap = status;
            break run;
          }
          done += segLen; // the whole segment ran, through this call
          sp = t.sp;
          g32 = store.globalWords;
          if (mem !== null) {
            dv = mem.view;
            memSize = mem.byteLength;
            dirty = mem.dirty;
          }
          break;
        }
        if (cf.entry < 0) {
          // First call: translate the callee (rare, so out of line). Its module's code may
          // move as it grows; no STOP is laid at a call, so re-reading the arrays is all.
          callee.instance!.compiled.code.translate(cf);
          if (callee.instance === inst) {
            code = inst.compiled.code.words;
            ordinals = inst.compiled.code.ordinals;
            segmentLengths = inst.compiled.code.segmentLengths;
          }
        }
        const newFp = sp - 2 * cf.numParams;
        if (frameTop >= maxFrameTop || newFp + cf.frameWords >= stackWords) {
          trap = TrapCode.CallStackExhausted;
          break run;
        }
        done += segLen; // the whole segment ran, through this call
        frames[frameTop] = pc;
        frames[frameTop + 1] = fp;
        frames[frameTop + 2] = funcAddr;
        frameTop += FRAME_WORDS;
        fp = newFp;
        sp = fp + 2 * cf.numLocals;
        for (w = (fp + 2 * cf.numParams) & ~1; w < (sp & ~1); w++) s32[w] = 0;
        funcAddr = calleeAddr;
        func = callee;
        numResults = cf.numResults;
        pc = cf.entry;
        if (callee.instance !== inst) {
          inst = callee.instance!;
          code = inst.compiled.code.words;
          funcAddrs = inst.funcAddrs;
          globalWords = inst.globalWords;
          mem = inst.memAddrs.length > 0 ? store.memories[inst.memAddrs[0]] : null;
          dv = mem !== null ? mem.view : EMPTY_VIEW;
          memSize = mem !== null ? mem.byteLength : 0;
          dirty = mem !== null ? mem.dirty : EMPTY_DIRTY;
          ordinals = inst.compiled.code.ordinals;
          segmentLengths = inst.compiled.code.segmentLengths;
        }
        if (calleeAddr === breakAddr) {
          t.breakHits++;
          hitBreakpoint = true;
        }
        break;
      }
      case 0x1a: // drop
        sp -= 2;
        continue;
      case 0x1b: // select
        sp -= 4;
        if (s32[sp + 2] === 0) {
          s32[sp - 2] = s32[sp];
          s32[sp - 2 + HI] = s32[sp + HI];
        }
        continue;
      case 0x20: // local.get <wordOffset>
        w = fp + code[pc++];
        s32[sp] = s32[w];
        s32[sp + HI] = s32[w + HI];
        sp += 2;
        continue;
      case 0x21: // local.set <wordOffset>
        w = fp + code[pc++];
        sp -= 2;
        s32[w] = s32[sp];
        s32[w + HI] = s32[sp + HI];
        continue;
      case 0x22: // local.tee <wordOffset>
        w = fp + code[pc++];
        s32[w] = s32[sp - 2];
        s32[w + HI] = s32[sp - 2 + HI];
        continue;
      case 0x23: // global.get <index>
        w = globalWords[code[pc++]];
        s32[sp] = g32[w];
        s32[sp + HI] = g32[w + HI];
        sp += 2;
        continue;
      case 0x24: // global.set <index>
        w = globalWords[code[pc++]];
        sp -= 2;
        g32[w] = s32[sp];
        g32[w + HI] = s32[sp + HI];
        continue;
      case 0x25: // table.get <table>
        trap = bulkOp(op, store, inst, s32, sp, code[pc++], 0);
        if (trap !== 0) break run;
        continue;
      case 0x26: // table.set <table>
        trap = bulkOp(op, store, inst, s32, sp, code[pc++], 0);
        if (trap !== 0) break run;
        sp -= 4;
        continue;

      // Loads: <offset>; the effective address is checked against the memory size.
      case 0x28: // i32.load
      case 0x2a: // f32.load (bits, so NaN payloads survive)
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 4 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getInt32(a, true);
        continue;
      case 0x29: // i64.load
      case 0x2b: // f64.load
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 8 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getInt32(a, true);
        s32[sp - 2 + HI] = dv.getInt32(a + 4, true);
        continue;
      case 0x2c: // i32.load8_s
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 1 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getInt8(a);
        continue;
      case 0x2d: // i32.load8_u
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 1 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getUint8(a);
        continue;
      case 0x2e: // i32.load16_s
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 2 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getInt16(a, true);
        continue;
      case 0x2f: // i32.load16_u
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 2 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getUint16(a, true);
        continue;
      case 0x30: // i64.load8_s
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 1 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        b = dv.getInt8(a);
        s32[sp - 2] = b;
        s32[sp - 2 + HI] = b >> 31;
        continue;
      case 0x31: // i64.load8_u
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 1 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getUint8(a);
        s32[sp - 2 + HI] = 0;
        continue;
      case 0x32: // i64.load16_s
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 2 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        b = dv.getInt16(a, true);
        s32[sp - 2] = b;
        s32[sp - 2 + HI] = b >> 31;
        continue;
      case 0x33: // i64.load16_u
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 2 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getUint16(a, true);
        s32[sp - 2 + HI] = 0;
        continue;
      case 0x34: // i64.load32_s
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 4 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        b = dv.getInt32(a, true);
        s32[sp - 2] = b;
        s32[sp - 2 + HI] = b >> 31;
        continue;
      case 0x35: // i64.load32_u
        a = (s32[sp - 2] >>> 0) + (code[pc++] >>> 0);
        if (a + 4 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        s32[sp - 2] = dv.getInt32(a, true);
        s32[sp - 2 + HI] = 0;
        continue;

      // Stores: <offset>; [addr value] -> []
      case 0x36: // i32.store
      case 0x38: // f32.store
      case 0x3e: // i64.store32
        a = (s32[sp - 4] >>> 0) + (code[pc++] >>> 0);
        if (a + 4 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        dv.setInt32(a, s32[sp - 2], true);
        dirty[a >>> 16] = 1;
        dirty[(a + 3) >>> 16] = 1;
        sp -= 4;
        continue;
      case 0x37: // i64.store
      case 0x39: // f64.store
        a = (s32[sp - 4] >>> 0) + (code[pc++] >>> 0);
        if (a + 8 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        dv.setInt32(a, s32[sp - 2], true);
        dv.setInt32(a + 4, s32[sp - 2 + HI], true);
        dirty[a >>> 16] = 1;
        dirty[(a + 7) >>> 16] = 1;
        sp -= 4;
        continue;
      case 0x3a: // i32.store8
      case 0x3c: // i64.store8
        a = (s32[sp - 4] >>> 0) + (code[pc++] >>> 0);
        if (a + 1 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        dv.setInt8(a, s32[sp - 2]);
        dirty[a >>> 16] = 1;
        sp -= 4;
        continue;
      case 0x3b: // i32.store16
      case 0x3d: // i64.store16
        a = (s32[sp - 4] >>> 0) + (code[pc++] >>> 0);
        if (a + 2 > memSize) { trap = TrapCode.MemoryOutOfBounds; break run; }
        dv.setInt16(a, s32[sp - 2], true);
        dirty[a >>> 16] = 1;
        dirty[(a + 1) >>> 16] = 1;
        sp -= 4;
        continue;
      case 0x3f: // memory.size (of a memory that other agents share: as they grew it)
        if (mem!.sharedSize !== null && mem!.refresh()) {
          dv = mem!.view;
          memSize = mem!.byteLength;
          dirty = mem!.dirty;
        }
        s32[sp] = mem!.pages;
        sp += 2;
        continue;
      case 0x40: // memory.grow
        s32[sp - 2] = mem!.grow(s32[sp - 2] >>> 0);
        dv = mem!.view;
        memSize = mem!.byteLength;
        dirty = mem!.dirty;
        continue;

      case 0x41: // i32.const <value>
      case 0x43: // f32.const <bits>
        s32[sp] = code[pc++];
        sp += 2;
        continue;
      case 0x42: // i64.const <lo> <hi>
      case 0x44: // f64.const <lo> <hi>
        s32[sp] = code[pc];
        s32[sp + HI] = code[pc + 1];
        pc += 2;
        sp += 2;
        continue;

      // i32 comparisons
      case 0x45: s32[sp - 2] = s32[sp - 2] === 0 ? 1 : 0; continue; // i32.eqz
      case 0x46: sp -= 2; s32[sp - 2] = s32[sp - 2] === s32[sp] ? 1 : 0; continue; // i32.eq
      case 0x47: sp -= 2; s32[sp - 2] = s32[sp - 2] !== s32[sp] ? 1 : 0; continue; // i32.ne
      case 0x48: sp -= 2; s32[sp - 2] = s32[sp - 2] < s32[sp] ? 1 : 0; continue; // i32.lt_s
      case 0x49: sp -= 2; s32[sp - 2] = s32[sp - 2] >>> 0 < s32[sp] >>> 0 ? 1 : 0; continue; // i32.lt_u
      case 0x4a: sp -= 2; s32[sp - 2] = s32[sp - 2] > s32[sp] ? 1 : 0; continue; // i32.gt_s
      case 0x4b: sp -= 2; s32[sp - 2] = s32[sp - 2] >>> 0 > s32[sp] >>> 0 ? 1 : 0; continue; // i32.gt_u
      case 0x4c: sp -= 2; s32[sp - 2] = s32[sp - 2] <= s32[sp] ? 1 : 0; continue; // i32.le_s
      case 0x4d: sp -= 2; s32[sp - 2] = s32[sp - 2] >>> 0 <= s32[sp] >>> 0 ? 1 : 0; continue; // i32.le_u
      case 0x4e: sp -= 2; s32[sp - 2] = s32[sp - 2] >= s32[sp] ? 1 : 0; continue; // i32.ge_s
      case 0x4f: sp -= 2; s32[sp - 2] = s32[sp - 2] >>> 0 >= s32[sp] >>> 0 ? 1 : 0; continue; // i32.ge_u

      // i64 comparisons
      case 0x50: // i64.eqz
        s32[sp - 2] = (s32[sp - 2] | s32[sp - 2 + HI]) === 0 ? 1 : 0;
        continue;
      case 0x51: // i64.eq
      case 0x52: // i64.ne
        sp -= 2;
        a = s32[sp - 2] === s32[sp] && s32[sp - 2 + HI] === s32[sp + HI] ? 1 : 0;
        s32[sp - 2] = op === 0x51 ? a : a ^ 1;
        continue;
      case 0x53: case 0x54: case 0x55: case 0x56: case 0x57: case 0x58: case 0x59: case 0x5a: {
        // i64.lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u: compare high words, then low unsigned
        sp -= 2;
        const signed = (op & 1) === 1;
        let ah = s32[sp - 2 + HI];
        let bh = s32[sp + HI];
        if (!signed) { ah >>>= 0; bh >>>= 0; }
        const al = s32[sp - 2] >>> 0;
        const bl = s32[sp] >>> 0;
        // c < 0, 0 or > 0 as a <, = or > b
        const c = ah !== bh ? (ah < bh ? -1 : 1) : al !== bl ? (al < bl ? -1 : 1) : 0;
        s32[sp - 2] = (op <= 0x54 ? c < 0 : op <= 0x56 ? c > 0 : op <= 0x58 ? c <= 0 : c >= 0) ? 1 : 0;
        continue;
      }

      // f32 comparisons
      case 0x5b: sp -= 2; s32[sp - 2] = f32[sp - 2] === f32[sp] ? 1 : 0; continue;
      case 0x5c: sp -= 2; s32[sp - 2] = f32[sp - 2] !== f32[sp] ? 1 : 0; continue;
      case 0x5d: sp -= 2; s32[sp - 2] = f32[sp - 2] < f32[sp] ? 1 : 0; continue;
      case 0x5e: sp -= 2; s32[sp - 2] = f32[sp - 2] > f32[sp] ? 1 : 0; continue;
      case 0x5f: sp -= 2; s32[sp - 2] = f32[sp - 2] <= f32[sp] ? 1 : 0; continue;
      case 0x60: sp -= 2; s32[sp - 2] = f32[sp - 2] >= f32[sp] ? 1 : 0; continue;
      // f64 comparisons (slot index = sp >> 1)
      case 0x61: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] === f64[w] ? 1 : 0; continue;
      case 0x62: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] !== f64[w] ? 1 : 0; continue;
      case 0x63: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] < f64[w] ? 1 : 0; continue;
      case 0x64: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] > f64[w] ? 1 : 0; continue;
      case 0x65: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] <= f64[w] ? 1 : 0; continue;
      case 0x66: sp -= 2; w = sp >> 1; s32[sp - 2] = f64[w - 1] >= f64[w] ? 1 : 0; continue;

      // i32 arithmetic
      case 0x67: s32[sp - 2] = Math.clz32(s32[sp - 2]); continue;
      case 0x68: s32[sp - 2] = ctz32(s32[sp - 2]); continue;
      case 0x69: s32[sp - 2] = popcnt32(s32[sp - 2]); continue;
      case 0x6a: sp -= 2; s32[sp - 2] = (s32[sp - 2] + s32[sp]) | 0; continue;
      case 0x6b: sp -= 2; s32[sp - 2] = (s32[sp - 2] - s32[sp]) | 0; continue;
      case 0x6c: sp -= 2; s32[sp - 2] = Math.imul(s32[sp - 2], s32[sp]); continue;
      case 0x6d: // i32.div_s
        sp -= 2;
        a = s32[sp - 2];
        b = s32[sp];
        if (b === 0) { trap = TrapCode.DivideByZero; break run; }
        if (a === -2147483648 && b === -1) { trap = TrapCode.IntegerOverflow; break run; }
        s32[sp - 2] = (a / b) | 0;
        continue;
      case 0x6e: // i32.div_u
        sp -= 2;
        b = s32[sp] >>> 0;
        if (b === 0) { trap = TrapCode.DivideByZero; break run; }
        s32[sp - 2] = ((s32[sp - 2] >>> 0) / b) | 0;
        continue;
      case 0x6f: // i32.rem_s
        sp -= 2;
        b = s32[sp];
        if (b === 0) { trap = TrapCode.DivideByZero; break run; }
        s32[sp - 2] = (s32[sp - 2] % b) | 0;
        continue;
      case 0x70: // i32.rem_u
        sp -= 2;
        b = s32[sp] >>> 0;
        if (b === 0) { trap = TrapCode.DivideByZero; break run; }
        s32[sp - 2] = ((s32[sp - 2] >>> 0) % b) | 0;
        continue;
      case 0x71: sp -= 2; s32[sp - 2] &= s32[sp]; continue;
      case 0x72: sp -= 2; s32[sp - 2] |= s32[sp]; continue;
      case 0x73: sp -= 2; s32[sp - 2] ^= s32[sp]; continue;
      case 0x74: sp -= 2; s32[sp - 2] <<= s32[sp]; continue;
      case 0x75: sp -= 2; s32[sp - 2] >>= s32[sp]; continue;
      case 0x76: sp -= 2; s32[sp - 2] = s32[sp - 2] >>> s32[sp]; continue;
      case 0x77: // i32.rotl
        sp -= 2;
        a = s32[sp - 2];
        b = s32[sp];
        s32[sp - 2] = (a << b) | (a >>> (32 - b));
        continue;
      case 0x78: // i32.rotr
        sp -= 2;
        a = s32[sp - 2];
        b = s32[sp];
        s32[sp - 2] = (a >>> b) | (a << (32 - b));
        continue;

      // i64 arithmetic on (lo, hi) word pairs
      case 0x7c: { // i64.add
        sp -= 2;
        const lo = (s32[sp - 2] >>> 0) + (s32[sp] >>> 0);
        s32[sp - 2 + HI] = (s32[sp - 2 + HI] + s32[sp + HI] + (lo > 0xffffffff ? 1 : 0)) | 0;
        s32[sp - 2] = lo | 0;
        continue;
      }
      case 0x7d: { // i64.sub
        sp -= 2;
        const lo = (s32[sp - 2] >>> 0) - (s32[sp] >>> 0);
        s32[sp - 2 + HI] = (s32[sp - 2 + HI] - s32[sp + HI] - (lo < 0 ? 1 : 0)) | 0;
        s32[sp - 2] = lo | 0;
        continue;
      }
      case 0x7e: sp -= 2; i64Mul(s32, sp - 2); continue;
      case 0x83: sp -= 2; s32[sp - 2] &= s32[sp]; s32[sp - 2 + HI] &= s32[sp + HI]; continue;
      case 0x84: sp -= 2; s32[sp - 2] |= s32[sp]; s32[sp - 2 + HI] |= s32[sp + HI]; continue;
      case 0x85: sp -= 2; s32[sp - 2] ^= s32[sp]; s32[sp - 2 + HI] ^= s32[sp + HI]; continue;
      case 0x86: sp -= 2; i64Shl(s32, sp - 2); continue;
      case 0x87: sp -= 2; i64ShrS(s32, sp - 2); continue;
      case 0x88: sp -= 2; i64ShrU(s32, sp - 2); continue;
      case 0x89: sp -= 2; i64Rotl(s32, sp - 2); continue;
      case 0x8a: sp -= 2; i64Rotr(s32, sp - 2); continue;

      // f32 arithmetic: bit operations for abs/neg/copysign keep NaN payloads
      case 0x8b: s32[sp - 2] &= 0x7fffffff; continue;
      case 0x8c: s32[sp - 2] ^= -2147483648; continue;
      case 0x8d: f32[sp - 2] = Math.ceil(f32[sp - 2]); continue;
      case 0x8e: f32[sp - 2] = Math.floor(f32[sp - 2]); continue;
      case 0x8f: f32[sp - 2] = Math.trunc(f32[sp - 2]); continue;
      case 0x91: f32[sp - 2] = Math.sqrt(f32[sp - 2]); continue;
      case 0x92: sp -= 2; f32[sp - 2] += f32[sp]; continue;
      case 0x93: sp -= 2; f32[sp - 2] -= f32[sp]; continue;
      case 0x94: sp -= 2; f32[sp - 2] *= f32[sp]; continue;
      case 0x95: sp -= 2; f32[sp - 2] /= f32[sp]; continue;
      case 0x96: sp -= 2; f32[sp - 2] = Math.min(f32[sp - 2], f32[sp]); continue;
      case 0x97: sp -= 2; f32[sp - 2] = Math.max(f32[sp - 2], f32[sp]); continue;
      case 0x98: sp -= 2; s32[sp - 2] = (s32[sp - 2] & 0x7fffffff) | (s32[sp] & -2147483648); continue;

      // f64 arithmetic (slot index w = sp >> 1; the sign is in the high word)
      case 0x99: s32[sp - 2 + HI] &= 0x7fffffff; continue;
      case 0x9a: s32[sp - 2 + HI] ^= -2147483648; continue;
      case 0x9b: w = (sp >> 1) - 1; f64[w] = quiet(Math.ceil(f64[w])); continue;
      case 0x9c: w = (sp >> 1) - 1; f64[w] = quiet(Math.floor(f64[w])); continue;
      case 0x9d: w = (sp >> 1) - 1; f64[w] = quiet(Math.trunc(f64[w])); continue;
      case 0x9f: w = (sp >> 1) - 1; f64[w] = Math.sqrt(f64[w]); continue;
      case 0xa0: sp -= 2; w = sp >> 1; f64[w - 1] += f64[w]; continue;
      case 0xa1: sp -= 2; w = sp >> 1; f64[w - 1] -= f64[w]; continue;
      case 0xa2: sp -= 2; w = sp >> 1; f64[w - 1] *= f64[w]; continue;
      case 0xa3: sp -= 2; w = sp >> 1; f64[w - 1] /= f64[w]; continue;
      case 0xa4: sp -= 2; w = sp >> 1; f64[w - 1] = Math.min(f64[w - 1], f64[w]); continue;
      case 0xa5: sp -= 2; w = sp >> 1; f64[w - 1] = Math.max(f64[w - 1], f64[w]); continue;
      case 0xa6: // f64.copysign
        sp -= 2;
        s32[sp - 2 + HI] = (s32[sp - 2 + HI] & 0x7fffffff) | (s32[sp + HI] & -2147483648);
        continue;

      // Conversions that need no range check
      case 0xa7: continue; // i32.wrap_i64: the low word is already the i32
      case 0xac: s32[sp - 2 + HI] = s32[sp - 2] >> 31; continue; // i64.extend_i32_s
      case 0xad: s32[sp - 2 + HI] = 0; continue; // i64.extend_i32_u
      case 0xb2: f32[sp - 2] = s32[sp - 2]; continue; // f32.convert_i32_s
      case 0xb3: f32[sp - 2] = s32[sp - 2] >>> 0; continue; // f32.convert_i32_u
      case 0xb6: f32[sp - 2] = f64[(sp >> 1) - 1]; continue; // f32.demote_f64
      case 0xb7: f64[(sp >> 1) - 1] = s32[sp - 2]; continue; // f64.convert_i32_s
      case 0xb8: f64[(sp >> 1) - 1] = s32[sp - 2] >>> 0; continue; // f64.convert_i32_u
      case 0xbb: f64[(sp >> 1) - 1] = f32[sp - 2]; continue; // f64.promote_f32
      case 0xbc: case 0xbd: case 0xbe: case 0xbf: continue; // reinterpret: same bits, same slot
      case 0xc0: s32[sp - 2] = (s32[sp - 2] << 24) >> 24; continue; // i32.extend8_s
      case 0xc1: s32[sp - 2] = (s32[sp - 2] << 16) >> 16; continue; // i32.extend16_s
      case 0xc2: s32[sp - 2] = (s32[sp - 2] << 24) >> 24; s32[sp - 2 + HI] = s32[sp - 2] >> 31; continue;
      case 0xc3: s32[sp - 2] = (s32[sp - 2] << 16) >> 16; s32[sp - 2 + HI] = s32[sp - 2] >> 31; continue;
      case 0xc4: s32[sp - 2 + HI] = s32[sp - 2] >> 31; continue; // i64.extend32_s

      // The rest of the numeric instructions, out of line
      case 0x7f: case 0x80: case 0x81: case 0x82: // i64 div/rem
        trap = rareNumeric(op, s32, f32, f64, sp);
        if (trap !== 0) break run;
        sp -= 2;
        continue;
      case 0x79: case 0x7a: case 0x7b: case 0x90: case 0x9e:
      case 0xa8: case 0xa9: case 0xaa: case 0xab: case 0xae: case 0xaf: case 0xb0: case 0xb1:
      case 0xb4: case 0xb5: case 0xb9: case 0xba:
      case 0x100: case 0x101: case 0x102: case 0x103: case 0x104: case 0x105: case 0x106: case 0x107:
        trap = rareNumeric(op, s32, f32, f64, sp);
        if (trap !== 0) break run;
        continue;

      // References: 0 is null, otherwise address + 1
      case 0xd0: s32[sp] = 0; sp += 2; continue; // ref.null
      case 0xd1: s32[sp - 2] = s32[sp - 2] === 0 ? 1 : 0; continue; // ref.is_null
      case 0xd2: s32[sp] = funcAddrs[code[pc++]] + 1; sp += 2; continue; // ref.func

      // Bulk memory and tables, out of line
      case 0x108: case 0x10a: case 0x10b: case 0x10c: case 0x10e: case 0x111: // [a b c] -> []
        trap = bulkOp(op, store, inst, s32, sp, op === 0x108 || op === 0x10c || op === 0x10e || op === 0x111 ? code[pc] : 0, code[pc + 1]);
        if (trap !== 0) break run;
        if (op === 0x108 || op === 0x111) pc++;
        else if (op === 0x10c || op === 0x10e) pc += 2;
        sp -= 6;
        if (mem !== null) memSize = mem.byteLength;
        continue;
      case 0x109: case 0x10d: // data.drop, elem.drop
        bulkOp(op, store, inst, s32, sp, code[pc++], 0);
        continue;
      case 0x10f: // table.grow: [ref n] -> [i32]
        bulkOp(op, store, inst, s32, sp, code[pc++], 0);
        sp -= 2;
        continue;
      case 0x110: // table.size
        bulkOp(op, store, inst, s32, sp, code[pc++], 0);
        sp += 2;
        continue;

      // SIMD (0xFD prefix), out of line: simd <sub>, simd_imm <sub> <imm>, simd_mem_lane <sub> <offset> <lane>, simd_const <sub> <4 words>
      case 0x122: case 0x123: case 0x124: case 0x125:
        a = simdOp(op, code, pc, s32, sp, mem, g32, globalWords);
        if (a < 0) { trap = TrapCode.MemoryOutOfBounds; break run; }
        sp = a;
        pc += op === 0x122 ? 1 : op === 0x123 ? 2 : op === 0x124 ? 3 : 5;
        continue;

      // Atomics (0xFE prefix), out of line: atomic <sub> <offset>
      case 0x129:
        a = atomicOp(code[pc], code[pc + 1], s32, sp, mem!, t);
        pc += 2;
        if (a < 0) {
          if (a === PARKED) {
            sp -= 6;
            result = RunResult.Waiting;
          } else trap = -a;
          break run;
        }
        sp = a;
        continue;

      // v128 locals <wordOffset>: four words each
      case 0x126: // local.get (v128)
        w = fp + code[pc++];
        s32[sp] = s32[w]; s32[sp + 1] = s32[w + 1]; s32[sp + 2] = s32[w + 2]; s32[sp + 3] = s32[w + 3];
        sp += 4;
        continue;
      case 0x127: // local.set (v128)
        w = fp + code[pc++];
        sp -= 4;
        s32[w] = s32[sp]; s32[w + 1] = s32[sp + 1]; s32[w + 2] = s32[sp + 2]; s32[w + 3] = s32[sp + 3];
        continue;
      case 0x128: // local.tee (v128)
        w = fp + code[pc++];
        s32[w] = s32[sp - 4]; s32[w + 1] = s32[sp - 3]; s32[w + 2] = s32[sp - 2]; s32[w + 3] = s32[sp - 1];
        continue;

      // Float arithmetic in deterministic-NaN mode (DETERMINISTIC_OPCODE + opcode), out of line
      case 0x28d: case 0x28e: case 0x28f: case 0x290: case 0x291: case 0x292: case 0x293: case 0x294:
      case 0x295: case 0x296: case 0x297: case 0x29b: case 0x29c: case 0x29d: case 0x29e: case 0x29f:
      case 0x2a0: case 0x2a1: case 0x2a2: case 0x2a3: case 0x2a4: case 0x2a5: case 0x2b6: case 0x2bb:
        sp = deterministicFloat(op - 0x200, s32, f32, f64, sp);
        continue;
      case 0x322: // SIMD float arithmetic (simd <sub>) in deterministic-NaN mode: never traps
        sp = simdOp(0x122, code, pc, s32, sp, mem, g32, globalWords);
        canonicalizeV128(code[pc], s32, sp - 4);
        pc++;
        continue;

      default:
        throw new Error(`internal error: unknown internal opcode 0x${op.toString(16)} at ${pc - 1}`);
    }
    // Only transfers get here (after counting their segment): a new segment starts at pc.
    if (tier !== 0 && !hitBreakpoint) {
      // The JS tier: run compiled code from here while the budget lasts; it hands back
      // the frame as plain data at an exact pc, from which this loop goes on.
      const cf = func.compiled!;
      let jit = cf.jit;
      if (jit === null && cf.heat >= 0 && ++cf.heat >= hot) jit = tierUp(inst.compiled.code, cf);
      if (jit !== null) {
        done += jit(s32, f64, fp | 0, (pc - cf.entry) | 0, sp | 0, (budget - done) | 0, dv, memSize, dirty, g32, globalWords, io, frameTop | 0, 0, funcAddr, inst, functions, t);
        pc = io[0];
        sp = io[1];
        if (io[2] !== fp || io[3] !== funcAddr) {
          // It stopped in a compiled callee (same instance): its frame is the current one.
          fp = io[2];
          funcAddr = io[3];
          frameTop = io[4];
          func = functions[funcAddr];
          numResults = func.compiled!.numResults;
        }
      }
    }
    segStart = pc;
    segLen = segmentLengths[pc];
    if (segLen > budget - done) {
      if (done >= budget) break run;
      stopPc = nthInstruction(code, pc, budget - done);
      stopWord = code[stopPc];
      code[stopPc] = STOP;
    }
    if (hitBreakpoint) {
      hitBreakpoint = false;
      result = RunResult.Breakpoint;
      break run;
    }
  }

  if (trap === TrapCode.MemoryOutOfBounds && mem !== null && mem.sharedSize !== null && mem.refresh()) {
    // Another agent grew the shared memory: the access may be in bounds now. Every access
    // checks its bounds before it changes anything, so the machine goes back to the start
    // of the instruction (the first word of its ordinal) and runs it again next step.
    w = ordinals[pc - 1];
    while (pc > segStart && ordinals[pc - 1] === w) pc--;
    trap = TrapCode.None;
    result = RunResult.Budget;
  }
  // Every exit comes before the current segment's STOP is reached, so it lies in `code`.
  if (stopPc >= 0) code[stopPc] = stopWord; // never leave a STOP behind
  if (trap !== TrapCode.None) done += ordinals[pc - 1] - ordinals[segStart] + 1; // through the trapping instruction
  else if (result !== RunResult.Done) done += ordinals[pc] - ordinals[segStart]; // up to pc
  t.sp = sp;
  t.fp = fp;
  t.pc = pc;
  t.frameTop = frameTop;
  t.funcAddr = funcAddr;
  t.instructionCount += done;
  if (trap !== TrapCode.None) {
    t.status = 'trapped';
    if (trap === TrapCode.HostError) throw t.hostError;
    throw trapError(trap, t.trapDetail);
  }
  return result;
}
