import { MalformedError, UnsupportedFeatureError, ValidationError } from '../errors';
import { LITTLE_ENDIAN_HOST } from '../execution/layout';
import { scanBody } from '../binary/code-scanner';
import { ByteReader } from '../binary/reader';
import { FuncType, Module, ValType, isRefType, slotCount, slotsOf } from '../syntax/types';
import { CodeValidator, ControlFrame, FrameKind, NUMERIC_SIGNATURES, UNKNOWN } from '../validation/code';
import type { ModuleContext } from '../validation/module';
import { CodeBuilder } from './code-builder';
import { Op } from './opcodes';
import type { JitCall, JitFunction } from '../execution/js-tier';
import { ATOMIC, ATOMIC_OP, BY_OP, SIMD_CONST, SIMD_IMM, SIMD_INTERNAL, SIMD_MEM_LANE, SIMD_OP, SIMD_PLAIN, V128Form, V128_LOCAL_GET, V128_LOCAL_SET, V128_LOCAL_TEE, signatureTypes } from '../instructions';

/**
 * What the executor needs to know about one function defined in the module. Functions are
 * translated on their first call (module-code.ts): until then `entry` is -1, and `end`
 * and `frameWords` are 0.
 */
export interface CompiledFunction {
  /** Index in the module's function index space (imports first). */
  funcIndex: number;
  type: FuncType;
  /** A v128 value (a param, local, result or operand) appears in it: the JS tier leaves it to the interpreter. */
  simd: boolean;
  /** It has an atomic instruction (0xFE prefix): the JS tier leaves it to the interpreter too. */
  atomics: boolean;
  /** Offset of the function's first instruction in the module's internal code; -1 until translated. */
  entry: number;
  /** Offset one past its last instruction. */
  end: number;
  /** Counts in value slots (two words each; a v128 takes two slots, every other value one). */
  numParams: number;
  /** Params plus declared locals. */
  numLocals: number;
  numResults: number;
  /** Stack words the function may use: locals plus its deepest operand stack, ×2. */
  frameWords: number;
  /**
   * JS tier (execution/js-tier.ts): transfers run in this function so far (it is compiled
   * once hot); -1 once the tier gave up on it.
   */
  heat: number;
  /** Its compiled code once the JS tier compiled it (shared by the module's instances). */
  jit: JitFunction | null;
  /** The compiled code's entry for calls from compiled code (arguments as parameters). */
  fast: JitCall | null;
}

/** The marks of the function being translated (reused: translation is synchronous and one at a time). */
let markScratch = new Int32Array(1024);

/** Per-block translation state, parallel to the validator's control stack. */
interface Label {
  /** Branch target for a loop; -1 for blocks whose target is their end (not yet known). */
  loopPc: number;
  /** Code positions to patch with the end pc once `end` is reached. */
  fixups: number[];
  /** For an `if`: where to patch the jump to the else branch (or end). */
  elseFixup: number;
  /** Opened in unreachable code: nothing inside is emitted. */
  dead: boolean;
}

const { I32, I64, F32, F64, V128, FuncRef, ExternRef } = ValType;

/** Natural alignment (log2 of the access size) of each load/store opcode 0x28..0x3e (instructions.ts). */
const NATURAL_ALIGN: number[] = [];
/** Value type each load/store opcode 0x28..0x3e moves. */
const MEMORY_TYPE: ValType[] = [];
for (let op = 0x28; op <= 0x3e; op++) {
  const ins = BY_OP.get(op)!;
  const [pops, pushes] = signatureTypes(ins);
  NATURAL_ALIGN.push(ins.align!);
  MEMORY_TYPE.push(pushes.length > 0 ? pushes[0] : pops[1]);
}

/**
 * Reads one function body once, validating every instruction (through CodeValidator) and
 * emitting the internal code: structured control flow becomes absolute jumps with the
 * values a branch keeps already counted, so nothing is re-parsed or searched at run time.
 */
export class FunctionTranslator {
  private readonly v: CodeValidator;
  private readonly labels: Label[] = [];
  private readonly localTypes: ValType[];
  /** Word offset from the frame pointer of each local (a v128 takes four words). */
  private readonly localWords: number[] = [];
  /** Value slots of the locals. */
  private localSlots = 0;
  private readonly r: ByteReader;
  /**
   * Per wasm instruction read (pairs in the first `markCount` entries): where its internal code starts, and its byte offset in the
   * module (pairs), when asked for (`recordOffsets`): ModuleCode turns them into its pc ->
   * wasm offset side table. Validation's throw-away translation records none.
   */
  marks: Int32Array | null;
  /** Entries used in `marks`. */
  markCount = 0;
  /** An atomic instruction was emitted (CompiledFunction.atomics). */
  private sawAtomic = false;

  constructor(
    module: Module,
    private readonly ctx: ModuleContext,
    private readonly out: CodeBuilder,
    private readonly funcIndex: number,
    recordOffsets = false,
    /**
     * Told, for every wasm instruction that emits code, where its code starts and the
     * operand types below it (the restore-time check of a machine state uses it; the
     * translation for running passes none).
     */
    private readonly onInstruction?: (at: number, operands: readonly ValType[] | null) => void,
  ) {
    this.marks = recordOffsets ? markScratch : null;
    this.v = new CodeValidator(funcIndex);
    const body = module.codes[funcIndex - ctx.numImportedFuncs];
    this.r = new ByteReader(module.bytes, body.codeStart, body.codeEnd);
    const type = ctx.funcTypes[funcIndex];
    this.localTypes = [...type.params];
    for (const run of body.locals) for (let i = 0; i < run.count; i++) this.localTypes.push(run.type);
    for (const t of this.localTypes) {
      this.localWords.push(2 * this.localSlots);
      this.localSlots += slotCount(t);
    }
  }

  translate(): CompiledFunction {
    const type = this.ctx.funcTypes[this.funcIndex];
    const entry = this.out.length;
    this.v.pushCtrl(FrameKind.Func, [], type.results);
    this.labels.push({ loopPc: -1, fixups: [], elseFixup: -1, dead: false });
    while (this.v.ctrls.length > 0) {
      if (this.r.eof) throw new MalformedError('unexpected end of function body', this.r.pos);
      this.v.offset = this.r.pos;
      if (this.marks !== null) this.mark();
      if (this.onInstruction === undefined) this.instruction(this.r.u8());
      else {
        const at = this.out.length;
        // Code emitted in an unreachable stretch (an `end` reached only by branches) runs at
        // the label's height, not at what the validator holds there: unknown.
        const operands = this.v.top.unreachable ? null : (this.v.vals.slice() as ValType[]);
        this.instruction(this.r.u8());
        if (this.out.length > at) this.onInstruction(at, operands);
      }
    }
    if (!this.r.eof) throw new MalformedError('operators remaining after end of function', this.r.pos);
    return {
      funcIndex: this.funcIndex,
      type,
      entry,
      end: this.out.length,
      simd: this.v.sawV128 || this.localSlots !== this.localTypes.length || slotsOf(type.results) !== type.results.length,
      atomics: this.sawAtomic,
      numParams: slotsOf(type.params),
      numLocals: this.localSlots,
      numResults: slotsOf(type.results),
      frameWords: 2 * (this.localSlots + this.v.maxSlots),
      heat: 0,
      jit: null,
      fast: null,
    };
  }

  /** The types of the function's locals (params first). */
  get locals(): readonly ValType[] {
    return this.localTypes;
  }

  private mark(): void {
    let marks = this.marks!;
    if (this.markCount + 2 > marks.length) {
      const next = new Int32Array(marks.length * 2);
      next.set(marks);
      this.marks = marks = markScratch = next;
    }
    marks[this.markCount++] = this.out.length;
    marks[this.markCount++] = this.r.pos;
  }

  /** True while the current position can't be reached: emit nothing. */
  private get dead(): boolean {
    return this.v.top.unreachable || this.labels[this.labels.length - 1].dead;
  }

  private emit(op: number): void {
    if (!this.dead) this.out.emit(op);
  }

  private emit2(op: number, a: number): void {
    if (!this.dead) this.out.emit2(op, a);
  }

  private emit3(op: number, a: number, b: number): void {
    if (!this.dead) this.out.emit3(op, a, b);
  }

  /** Word offset from the frame pointer of the operand stack at the entry of `frame`. */
  private heightWords(frame: ControlFrame): number {
    return 2 * (this.localSlots + frame.slotHeight);
  }

  private blockType(): [ValType[], ValType[]] {
    const at = this.r.pos;
    const bt = this.r.s33();
    if (bt === -0x40) return [[], []];
    if (bt < 0) return [[], [this.valTypeFromS33(bt, at)]];
    const t = this.ctx.types[bt];
    if (!t) this.v.error(`unknown type ${bt}`);
    return [t.params, t.results];
  }

  private valTypeFromS33(bt: number, at: number): ValType {
    const byte = bt + 0x80;
    if (byte === I32 || byte === I64 || byte === F32 || byte === F64 || byte === FuncRef || byte === ExternRef || byte === V128) return byte;
    throw new MalformedError('malformed value type', at);
  }

  private valType(): ValType {
    const at = this.r.pos;
    const b = this.r.u8();
    if (b === I32 || b === I64 || b === F32 || b === F64 || b === FuncRef || b === ExternRef || b === V128) return b;
    throw new MalformedError('malformed value type', at);
  }

  private refType(): ValType.FuncRef | ValType.ExternRef {
    const at = this.r.pos;
    const b = this.r.u8();
    if (b === FuncRef || b === ExternRef) return b;
    throw new MalformedError('malformed reference type', at);
  }

  private zeroByte(): void {
    const at = this.r.pos;
    if (this.r.u8() !== 0) throw new MalformedError('zero byte expected', at);
  }

  private memoryIndexZero(): void {
    this.zeroByte();
    if (this.ctx.memories.length === 0) this.v.error('unknown memory 0');
  }

  private tableIndex(): number {
    const idx = this.r.u32();
    if (idx >= this.ctx.tables.length) this.v.error(`unknown table ${idx}`);
    return idx;
  }

  /** Emits the jump for a branch to label `depth` with the current operand stack. */
  private branch(depth: number, plainOp: number, dropOp: number): void {
    const frame = this.v.label(depth);
    const label = this.labels[this.labels.length - 1 - depth];
    const keep = slotsOf(this.v.labelTypes(frame));
    if (this.dead) return;
    const needsMove = this.v.slots - keep !== frame.slotHeight;
    this.out.emit(needsMove ? dropOp : plainOp);
    this.target(label);
    if (needsMove) this.out.emit2(keep, this.heightWords(frame));
  }

  /** Emits a branch target word for `label`: known for loops, patched later otherwise. */
  private target(label: Label): void {
    if (label.loopPc >= 0) {
      this.out.emit(label.loopPc);
    } else {
      label.fixups.push(this.out.length);
      this.out.emit(-1);
    }
  }

  private openBlock(kind: FrameKind, params: ValType[], results: ValType[]): Label {
    const dead = this.dead;
    this.v.popAll(params);
    this.v.pushCtrl(kind, params, results);
    const label: Label = { loopPc: -1, fixups: [], elseFixup: -1, dead };
    this.labels.push(label);
    return label;
  }

  private instruction(op: number): void {
    const v = this.v;
    const r = this.r;
    switch (op) {
      case 0x00: // unreachable
        this.emit(Op.Unreachable);
        v.setUnreachable();
        return;
      case 0x01: // nop
        return;
      case 0x02: { // block
        const [params, results] = this.blockType();
        this.openBlock(FrameKind.Block, params, results);
        return;
      }
      case 0x03: { // loop
        const [params, results] = this.blockType();
        const label = this.openBlock(FrameKind.Loop, params, results);
        label.loopPc = this.out.length;
        return;
      }
      case 0x04: { // if
        const [params, results] = this.blockType();
        v.popExpect(I32);
        const wasDead = this.dead;
        const label = this.openBlock(FrameKind.If, params, results);
        if (!wasDead) {
          this.out.emit(Op.If);
          label.elseFixup = this.out.length;
          this.out.emit(-1);
        }
        return;
      }
      case 0x05: { // else
        const frame = v.top;
        if (frame.kind !== FrameKind.If) v.error('else without matching if');
        const label = this.labels[this.labels.length - 1];
        // The then-branch falls through to the end: jump over the else-branch.
        if (!this.dead) {
          this.out.emit(Op.Br);
          label.fixups.push(this.out.length);
          this.out.emit(-1);
        }
        v.popCtrl();
        v.pushCtrl(FrameKind.Else, frame.params, frame.results);
        if (label.elseFixup >= 0) {
          this.out.patch(label.elseFixup, this.out.length);
          label.elseFixup = -1;
        }
        return;
      }
      case 0x0b: { // end
        const frame = v.popCtrl();
        const label = this.labels.pop()!;
        if (frame.kind === FrameKind.If) {
          // `if` without `else`: the false path carries the params through as results.
          const same = frame.params.length === frame.results.length && frame.params.every((t, i) => t === frame.results[i]);
          if (!same) v.error('type mismatch: if without else must leave its params as results');
        }
        const end = this.out.length;
        for (const at of label.fixups) this.out.patch(at, end);
        if (label.elseFixup >= 0) this.out.patch(label.elseFixup, end);
        if (frame.kind === FrameKind.Func) {
          // Reached by falling off the end or by a branch to the function's label.
          if (!frame.unreachable || label.fixups.length > 0) this.out.emit(Op.Return);
          return;
        }
        v.pushAll(frame.results);
        return;
      }
      case 0x0c: { // br
        const depth = r.u32();
        const frame = v.label(depth);
        v.popAll(v.labelTypes(frame));
        v.pushAll(v.labelTypes(frame)); // restore, so branch() sees the real height
        this.branch(depth, Op.Br, Op.BrDrop);
        v.setUnreachable();
        return;
      }
      case 0x0d: { // br_if
        const depth = r.u32();
        v.popExpect(I32);
        const types = v.labelTypes(v.label(depth));
        v.popAll(types);
        v.pushAll(types);
        this.branch(depth, Op.BrIf, Op.BrIfDrop);
        return;
      }
      case 0x0e: { // br_table
        const count = r.u32();
        if (count > r.end - r.pos) throw new MalformedError('unexpected end', r.pos);
        const depths: number[] = [];
        for (let i = 0; i <= count; i++) depths.push(r.u32());
        v.popExpect(I32);
        const defaultArity = v.labelTypes(v.label(depths[count])).length;
        const keepSlots = slotsOf(v.labelTypes(v.label(depths[count])));
        for (const d of depths) {
          const types = v.labelTypes(v.label(d));
          if (types.length !== defaultArity) v.error('type mismatch: br_table targets have different arities');
          v.popAndRestore(types);
        }
        if (!this.dead) {
          this.out.emit2(Op.BrTable, count);
          for (const d of depths) {
            const frame = v.label(d);
            this.target(this.labels[this.labels.length - 1 - d]);
            this.out.emit2(keepSlots, this.heightWords(frame));
          }
        }
        v.setUnreachable();
        return;
      }
      case 0x0f: // return
        v.popAll(v.ctrls[0].results);
        this.emit(Op.Return);
        v.setUnreachable();
        return;
      case 0x10: { // call
        const idx = r.u32();
        const type = v.checkType(this.ctx.funcTypes[idx], 'function', idx);
        v.popAll(type.params);
        v.pushAll(type.results);
        this.emit2(Op.Call, idx);
        return;
      }
      case 0x11: { // call_indirect
        const typeIdx = r.u32();
        const tableIdx = r.u32();
        if (tableIdx >= this.ctx.tables.length) v.error(`unknown table ${tableIdx}`);
        const type = v.checkType(this.ctx.types[typeIdx], 'type', typeIdx);
        if (this.ctx.tables[tableIdx].elemType !== FuncRef) v.error('type mismatch: call_indirect on a table of externref');
        v.popExpect(I32);
        v.popAll(type.params);
        v.pushAll(type.results);
        if (!this.dead) this.out.emit3(Op.CallIndirect, typeIdx, tableIdx);
        return;
      }
      case 0x1a: // drop
        if (v.pop() === V128) this.emit2(SIMD_PLAIN, V128Form.Drop);
        else this.emit(Op.Drop);
        return;
      case 0x1b: { // select
        v.popExpect(I32);
        const a = v.pop();
        const b = v.pop();
        if ((a !== UNKNOWN && isRefType(a)) || (b !== UNKNOWN && isRefType(b))) v.error('type mismatch: select on references needs a type');
        if (a !== b && a !== UNKNOWN && b !== UNKNOWN) v.error('type mismatch: select operands differ');
        v.push(a === UNKNOWN ? b : a);
        if (a === V128 || b === V128) this.emit2(SIMD_PLAIN, V128Form.Select);
        else this.emit(Op.Select);
        return;
      }
      case 0x1c: { // select t*
        const n = r.u32();
        if (n !== 1) v.error('invalid result arity: typed select takes exactly one type');
        const t = this.valType();
        v.popExpect(I32);
        v.popExpect(t);
        v.popExpect(t);
        v.push(t);
        if (t === V128) this.emit2(SIMD_PLAIN, V128Form.Select);
        else this.emit(Op.Select);
        return;
      }
      case 0x20: { // local.get
        const idx = r.u32();
        const t = v.checkLocal(idx, this.localTypes);
        v.push(t);
        if (t === V128) this.emit2(V128_LOCAL_GET, this.localWords[idx]);
        else this.emit2(Op.LocalGet, this.localWords[idx]);
        return;
      }
      case 0x21: { // local.set
        const idx = r.u32();
        const t = v.checkLocal(idx, this.localTypes);
        v.popExpect(t);
        if (t === V128) this.emit2(V128_LOCAL_SET, this.localWords[idx]);
        else this.emit2(Op.LocalSet, this.localWords[idx]);
        return;
      }
      case 0x22: { // local.tee
        const idx = r.u32();
        const t = v.checkLocal(idx, this.localTypes);
        v.popExpect(t);
        v.push(t);
        if (t === V128) this.emit2(V128_LOCAL_TEE, this.localWords[idx]);
        else this.emit2(Op.LocalTee, this.localWords[idx]);
        return;
      }
      case 0x23: { // global.get
        const idx = r.u32();
        const g = this.ctx.globals[idx];
        if (!g) v.error(`unknown global ${idx}`);
        v.push(g.valType);
        if (g.valType === V128) this.emit3(SIMD_IMM, V128Form.GlobalGet, idx);
        else this.emit2(Op.GlobalGet, idx);
        return;
      }
      case 0x24: { // global.set
        const idx = r.u32();
        const g = this.ctx.globals[idx];
        if (!g) v.error(`unknown global ${idx}`);
        if (!g.mutable) v.error(`global is immutable: global ${idx}`);
        v.popExpect(g.valType);
        if (g.valType === V128) this.emit3(SIMD_IMM, V128Form.GlobalSet, idx);
        else this.emit2(Op.GlobalSet, idx);
        return;
      }
      case 0x25: { // table.get
        const t = this.tableIndex();
        v.popExpect(I32);
        v.push(this.ctx.tables[t].elemType);
        this.emit2(Op.TableGet, t);
        return;
      }
      case 0x26: { // table.set
        const t = this.tableIndex();
        v.popExpect(this.ctx.tables[t].elemType);
        v.popExpect(I32);
        this.emit2(Op.TableSet, t);
        return;
      }
      case 0x3f: // memory.size
        this.memoryIndexZero();
        v.push(I32);
        this.emit(Op.MemorySize);
        return;
      case 0x40: // memory.grow
        this.memoryIndexZero();
        v.popExpect(I32);
        v.push(I32);
        this.emit(Op.MemoryGrow);
        return;
      case 0x41: // i32.const
        v.push(I32);
        this.emit2(Op.I32Const, r.s32());
        return;
      case 0x42: { // i64.const
        const [lo, hi] = r.s64();
        v.push(I64);
        if (!this.dead) this.out.emit3(Op.I64Const, lo, hi);
        return;
      }
      case 0x43: // f32.const
        v.push(F32);
        this.emit2(Op.F32Const, r.fixed32());
        return;
      case 0x44: { // f64.const
        const lo = r.fixed32();
        const hi = r.fixed32();
        v.push(F64);
        if (!this.dead) this.out.emit3(Op.F64Const, lo, hi);
        return;
      }
      case 0xd0: // ref.null
        v.push(this.refType());
        this.emit(Op.RefNull);
        return;
      case 0xd1: // ref.is_null
        v.popRef();
        v.push(I32);
        this.emit(Op.RefIsNull);
        return;
      case 0xd2: { // ref.func
        const idx = r.u32();
        if (idx >= this.ctx.funcTypes.length) v.error(`unknown function ${idx}`);
        if (!this.ctx.refs.has(idx)) v.error(`undeclared function reference ${idx}`);
        v.push(FuncRef);
        this.emit2(Op.RefFunc, idx);
        return;
      }
      case 0xfc:
        this.prefixed(r.u32());
        return;
      case 0xfd:
        this.simd(r.u32());
        return;
      case 0xfe:
        this.atomic(r.u32());
        return;
    }
    if (op >= 0x28 && op <= 0x3e) {
      this.memoryAccess(op);
      return;
    }
    const sig = NUMERIC_SIGNATURES.get(op);
    if (sig) {
      v.popAll(sig[0]);
      v.push(sig[1]);
      this.emit(op);
      return;
    }
    throw new MalformedError(`illegal opcode 0x${op.toString(16)}`, r.pos - 1);
  }

  private memoryAccess(op: number): void {
    const v = this.v;
    const align = this.r.u32();
    const offset = this.r.u32();
    if (this.ctx.memories.length === 0) v.error('unknown memory 0');
    const i = op - 0x28;
    if (align > NATURAL_ALIGN[i]) v.error('alignment must not be larger than natural');
    const type = MEMORY_TYPE[i];
    if (op <= 0x35) {
      v.popExpect(I32);
      v.push(type);
    } else {
      v.popExpect(type);
      v.popExpect(I32);
    }
    this.emit2(op, offset | 0);
  }

  private prefixed(sub: number): void {
    const v = this.v;
    const r = this.r;
    const op = Op.Prefix + sub;
    if (sub <= 7) {
      const sig = NUMERIC_SIGNATURES.get(op)!;
      v.popAll(sig[0]);
      v.push(sig[1]);
      this.emit(op);
      return;
    }
    switch (sub) {
      case 8: { // memory.init
        const seg = r.u32();
        this.zeroByte();
        if (this.ctx.memories.length === 0) v.error('unknown memory 0');
        this.checkData(seg);
        v.popAll([I32, I32, I32]);
        this.emit2(op, seg);
        return;
      }
      case 9: { // data.drop
        const seg = r.u32();
        this.checkData(seg);
        this.emit2(op, seg);
        return;
      }
      case 10: // memory.copy
        this.zeroByte();
        this.memoryIndexZero();
        v.popAll([I32, I32, I32]);
        this.emit(op);
        return;
      case 11: // memory.fill
        this.memoryIndexZero();
        v.popAll([I32, I32, I32]);
        this.emit(op);
        return;
      case 12: { // table.init
        const seg = r.u32();
        const t = this.tableIndex();
        const et = this.ctx.elemTypes[seg];
        if (et === undefined) v.error(`unknown elem segment ${seg}`);
        if (et !== this.ctx.tables[t].elemType) v.error('type mismatch: table.init element types differ');
        v.popAll([I32, I32, I32]);
        if (!this.dead) this.out.emit3(op, seg, t);
        return;
      }
      case 13: { // elem.drop
        const seg = r.u32();
        if (this.ctx.elemTypes[seg] === undefined) v.error(`unknown elem segment ${seg}`);
        this.emit2(op, seg);
        return;
      }
      case 14: { // table.copy
        const dst = this.tableIndex();
        const src = this.tableIndex();
        if (this.ctx.tables[dst].elemType !== this.ctx.tables[src].elemType) v.error('type mismatch: table.copy element types differ');
        v.popAll([I32, I32, I32]);
        if (!this.dead) this.out.emit3(op, dst, src);
        return;
      }
      case 15: { // table.grow
        const t = this.tableIndex();
        v.popExpect(I32);
        v.popExpect(this.ctx.tables[t].elemType);
        v.push(I32);
        this.emit2(op, t);
        return;
      }
      case 16: { // table.size
        const t = this.tableIndex();
        v.push(I32);
        this.emit2(op, t);
        return;
      }
      case 17: { // table.fill
        const t = this.tableIndex();
        v.popExpect(I32);
        v.popExpect(this.ctx.tables[t].elemType);
        v.popExpect(I32);
        this.emit2(op, t);
        return;
      }
    }
    throw new MalformedError(`illegal opcode 0xfc ${sub}`, r.pos);
  }

  /**
   * A 0xFE-prefixed (atomic) instruction: checked against the table (its alignment must be
   * exactly the natural one), emitted on the ATOMIC carrier as `atomic <sub> <offset>`;
   * atomic.fence orders nothing on one JavaScript thread and emits no code.
   */
  private atomic(sub: number): void {
    const v = this.v;
    const r = this.r;
    const ins = BY_OP.get(ATOMIC_OP + sub);
    if (ins === undefined) throw new MalformedError(`illegal opcode 0xfe ${sub}`, r.pos);
    let offset = 0;
    if (ins.immediates === 'byte') this.zeroByte();
    else {
      const align = r.u32();
      offset = r.u32();
      if (this.ctx.memories.length === 0) v.error('unknown memory 0');
      if (align !== ins.align) v.error('atomic alignment must be natural');
    }
    const [pops, pushes] = signatureTypes(ins);
    v.popAll(pops);
    v.pushAll(pushes);
    if (this.dead || ins.immediates === 'byte') return;
    this.sawAtomic = true;
    this.out.emit3(ATOMIC, sub, offset | 0);
  }

  /** A 0xFD-prefixed (SIMD) instruction: checked against the table, emitted on its carrier. */
  private simd(sub: number): void {
    const v = this.v;
    const r = this.r;
    const ins = sub < SIMD_INTERNAL ? BY_OP.get(SIMD_OP + sub) : undefined;
    if (ins === undefined) throw new MalformedError(`illegal opcode 0xfd ${sub}`, r.pos);
    // simd.ts computes lanes in typed arrays over the stack's words in host byte order.
    if (!LITTLE_ENDIAN_HOST) throw new UnsupportedFeatureError('unsupported feature: SIMD on a big-endian host', r.pos);
    let offset = 0;
    let lane = 0;
    let words: number[] | null = null;
    switch (ins.immediates) {
      case 'memarg':
      case 'memarg_lane': {
        const align = r.u32();
        offset = r.u32();
        if (this.ctx.memories.length === 0) v.error('unknown memory 0');
        if (align > ins.align!) v.error('alignment must not be larger than natural');
        if (ins.immediates === 'memarg_lane') lane = this.lane(ins.name);
        break;
      }
      case 'lane':
        lane = this.lane(ins.name);
        break;
      case 'v128':
      case 'shuffle': {
        words = [r.fixed32(), r.fixed32(), r.fixed32(), r.fixed32()];
        if (ins.immediates === 'shuffle') {
          for (const w of words) for (let k = 0; k < 32; k += 8) if (((w >>> k) & 0xff) >= 32) v.error('invalid lane index');
        }
        break;
      }
    }
    const [pops, pushes] = signatureTypes(ins);
    v.popAll(pops);
    v.pushAll(pushes);
    if (this.dead) return;
    switch (ins.immediates) {
      case 'none': this.out.emit2(SIMD_PLAIN, sub); return;
      case 'lane': this.out.emit3(SIMD_IMM, sub, lane); return;
      case 'memarg': this.out.emit3(SIMD_IMM, sub, offset | 0); return;
      case 'memarg_lane': this.out.emit2(SIMD_MEM_LANE, sub); this.out.emit2(offset | 0, lane); return;
      default: this.out.emit2(SIMD_CONST, sub); for (const w of words!) this.out.emit(w);
    }
  }

  /** A lane index immediate, below the lane count of the instruction's shape. */
  private lane(name: string): number {
    const lane = this.r.u8();
    const m = /^v128\.(?:load|store)(\d+)_lane$/.exec(name);
    const bits = Number(m !== null ? m[1] : /^[if](\d+)x/.exec(name)![1]);
    if (lane >= 128 / bits) this.v.error('invalid lane index');
    return lane;
  }

  private checkData(seg: number): void {
    // The binary format forbids data indices in code unless a data count section precedes it.
    if (this.ctx.dataCount === undefined) throw new MalformedError('data count section required', this.r.pos);
    if (seg >= this.ctx.dataCount) this.v.error(`unknown data segment ${seg}`);
  }
}

/**
 * Validates every function body (the spec refuses an invalid module before anything runs),
 * translating each into a scratch buffer that is thrown away: the code the machine runs is
 * translated again, function by function, on first call (module-code.ts).
 */
export function validateFunctions(module: Module, ctx: ModuleContext): void {
  const scratch = new CodeBuilder();
  for (let i = 0; i < module.codes.length; i++) {
    scratch.length = 0;
    try {
      new FunctionTranslator(module, ctx, scratch, ctx.numImportedFuncs + i).translate();
    } catch (e) {
      // A malformed body anywhere from here on takes precedence (see scanBody).
      if (e instanceof ValidationError) {
        for (const body of module.codes.slice(i)) scanBody(new ByteReader(module.bytes, body.codeStart, body.codeEnd));
      }
      throw e;
    }
  }
}
