import { ValidationError } from '../errors';
import { FuncType, ValType, isRefType, valTypeName } from '../syntax/types';

/** The spec's "Unknown" operand type: what a pop from an unreachable (polymorphic) stack yields. */
export const UNKNOWN = 0;
type OperandType = ValType | typeof UNKNOWN;

/** Kinds of control frames, named after the instruction that opens them. */
export enum FrameKind {
  Func,
  Block,
  Loop,
  If,
  Else,
}

export interface ControlFrame {
  kind: FrameKind;
  params: ValType[];
  results: ValType[];
  /** Operand stack height at entry, params excluded (the spec's `height`). */
  height: number;
  unreachable: boolean;
}

/**
 * The operand- and control-stack type checker of the spec's validation algorithm
 * (Appendix "Algorithm"). It knows nothing about opcodes: the translator, which reads
 * each instruction once, tells it what every instruction pops and pushes. The heights it
 * tracks are what the translator uses to resolve branches.
 */
export class CodeValidator {
  readonly vals: OperandType[] = [];
  readonly ctrls: ControlFrame[] = [];
  /** Highest operand stack height reached: sizes the function's frame. */
  maxHeight = 0;
  /** Byte offset of the instruction being checked, for error messages. */
  offset = 0;

  constructor(readonly funcIndex: number) {}

  error(message: string): never {
    throw new ValidationError(message, this.offset, this.funcIndex);
  }

  get height(): number {
    return this.vals.length;
  }

  get top(): ControlFrame {
    return this.ctrls[this.ctrls.length - 1];
  }

  push(t: OperandType): void {
    this.vals.push(t);
    if (this.vals.length > this.maxHeight) this.maxHeight = this.vals.length;
  }

  pushAll(types: readonly ValType[]): void {
    for (const t of types) this.push(t);
  }

  pop(): OperandType {
    const frame = this.top;
    if (this.vals.length === frame.height) {
      if (frame.unreachable) return UNKNOWN;
      this.error('type mismatch: operand stack underflow');
    }
    return this.vals.pop()!;
  }

  popExpect(expected: OperandType): OperandType {
    const actual = this.pop();
    if (actual !== expected && actual !== UNKNOWN && expected !== UNKNOWN) {
      this.error(`type mismatch: expected ${valTypeName(expected as ValType)}, got ${valTypeName(actual as ValType)}`);
    }
    return actual === UNKNOWN ? expected : actual;
  }

  popAll(types: readonly ValType[]): void {
    for (let i = types.length - 1; i >= 0; i--) this.popExpect(types[i]);
  }

  /**
   * Pops `types` and pushes back what was actually there: an Unknown from an unreachable
   * stack stays Unknown, so one br_table may target labels of different types there.
   */
  popAndRestore(types: readonly ValType[]): void {
    const actual: OperandType[] = [];
    for (let i = types.length - 1; i >= 0; i--) {
      const t = this.pop();
      if (t !== types[i] && t !== UNKNOWN) this.error(`type mismatch: expected ${valTypeName(types[i])}, got ${valTypeName(t)}`);
      actual.push(t);
    }
    for (let i = actual.length - 1; i >= 0; i--) this.push(actual[i]);
  }

  popRef(): OperandType {
    const t = this.pop();
    if (t !== UNKNOWN && !isRefType(t)) this.error(`type mismatch: expected a reference, got ${valTypeName(t)}`);
    return t;
  }

  pushCtrl(kind: FrameKind, params: ValType[], results: ValType[]): void {
    this.ctrls.push({ kind, params, results, height: this.vals.length, unreachable: false });
    this.pushAll(params);
  }

  popCtrl(): ControlFrame {
    if (this.ctrls.length === 0) this.error('unexpected end of control structure');
    const frame = this.top;
    this.popAll(frame.results);
    if (this.vals.length !== frame.height) this.error('type mismatch: values remaining on the stack at end of block');
    this.ctrls.pop();
    return frame;
  }

  /** The types a branch to `frame` carries: a loop's params, any other block's results. */
  labelTypes(frame: ControlFrame): ValType[] {
    return frame.kind === FrameKind.Loop ? frame.params : frame.results;
  }

  /** The frame that a branch of label depth `depth` targets. */
  label(depth: number): ControlFrame {
    if (depth >= this.ctrls.length) this.error(`unknown label ${depth}`);
    return this.ctrls[this.ctrls.length - 1 - depth];
  }

  setUnreachable(): void {
    const frame = this.top;
    this.vals.length = frame.height;
    frame.unreachable = true;
  }

  checkLocal(index: number, localTypes: readonly ValType[]): ValType {
    if (index >= localTypes.length) this.error(`unknown local ${index}`);
    return localTypes[index];
  }

  /** `what index` names the missing entity in the error (built only then: this runs for every call). */
  checkType(actual: FuncType | undefined, what: string, index: number): FuncType {
    if (!actual) this.error(`unknown ${what} ${index}`);
    return actual;
  }
}

/**
 * Operand types of the numeric instructions that take no immediates, by opcode:
 * [popped types, pushed type]. 0xFC-prefixed ones are keyed 0x100 + sub-opcode.
 */
export const NUMERIC_SIGNATURES: ReadonlyMap<number, readonly [readonly ValType[], ValType]> = (() => {
  const { I32, I64, F32, F64 } = ValType;
  const sigs = new Map<number, readonly [readonly ValType[], ValType]>();
  const range = (from: number, to: number, params: ValType[], result: ValType) => {
    for (let op = from; op <= to; op++) sigs.set(op, [params, result]);
  };
  range(0x45, 0x45, [I32], I32); // i32.eqz
  range(0x46, 0x4f, [I32, I32], I32); // i32 comparisons
  range(0x50, 0x50, [I64], I32); // i64.eqz
  range(0x51, 0x5a, [I64, I64], I32); // i64 comparisons
  range(0x5b, 0x60, [F32, F32], I32); // f32 comparisons
  range(0x61, 0x66, [F64, F64], I32); // f64 comparisons
  range(0x67, 0x69, [I32], I32); // clz ctz popcnt
  range(0x6a, 0x78, [I32, I32], I32);
  range(0x79, 0x7b, [I64], I64);
  range(0x7c, 0x8a, [I64, I64], I64);
  range(0x8b, 0x91, [F32], F32);
  range(0x92, 0x98, [F32, F32], F32);
  range(0x99, 0x9f, [F64], F64);
  range(0xa0, 0xa6, [F64, F64], F64);
  const conv: [number, ValType, ValType][] = [
    [0xa7, I64, I32], [0xa8, F32, I32], [0xa9, F32, I32], [0xaa, F64, I32], [0xab, F64, I32],
    [0xac, I32, I64], [0xad, I32, I64], [0xae, F32, I64], [0xaf, F32, I64], [0xb0, F64, I64], [0xb1, F64, I64],
    [0xb2, I32, F32], [0xb3, I32, F32], [0xb4, I64, F32], [0xb5, I64, F32], [0xb6, F64, F32],
    [0xb7, I32, F64], [0xb8, I32, F64], [0xb9, I64, F64], [0xba, I64, F64], [0xbb, F32, F64],
    [0xbc, F32, I32], [0xbd, F64, I64], [0xbe, I32, F32], [0xbf, I64, F64],
    [0xc0, I32, I32], [0xc1, I32, I32], [0xc2, I64, I64], [0xc3, I64, I64], [0xc4, I64, I64],
    // 0xFC 0..7: saturating truncations
    [0x100, F32, I32], [0x101, F32, I32], [0x102, F64, I32], [0x103, F64, I32],
    [0x104, F32, I64], [0x105, F32, I64], [0x106, F64, I64], [0x107, F64, I64],
  ];
  for (const [op, from, to] of conv) sigs.set(op, [[from], to]);
  return sigs;
})();
