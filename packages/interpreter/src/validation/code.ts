import { ValidationError } from '../errors';
import { INSTRUCTIONS, signatureTypes } from '../instructions';
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
  /** The same height in value slots (a v128 takes two). */
  slotHeight: number;
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
  /** Highest operand stack height reached. */
  maxHeight = 0;
  /** The operand stack's height in value slots (a v128 takes two), and its highest: sizes the function's frame. */
  slots = 0;
  maxSlots = 0;
  /** A v128 was on the operand stack at some point. */
  sawV128 = false;
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
    if (t === ValType.V128) {
      this.slots += 2;
      this.sawV128 = true;
    } else {
      this.slots++;
    }
    if (this.slots > this.maxSlots) this.maxSlots = this.slots;
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
    const t = this.vals.pop()!;
    this.slots -= t === ValType.V128 ? 2 : 1;
    return t;
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
    this.ctrls.push({ kind, params, results, height: this.vals.length, slotHeight: this.slots, unreachable: false });
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
    this.slots = frame.slotHeight;
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
 * [popped types, pushed type]. 0xFC-prefixed ones are keyed 0x100 + sub-opcode. From the
 * table of instructions (instructions.ts).
 */
export const NUMERIC_SIGNATURES: ReadonlyMap<number, readonly [readonly ValType[], ValType]> = new Map(
  INSTRUCTIONS.filter((i) => i.immediates === 'none' && i.signature !== null && i.op >= 0x45 && i.op < 0x120 && i.words === 1)
    .map((i) => {
      const [pops, pushes] = signatureTypes(i);
      return [i.op, [pops, pushes[0]] as const];
    }),
);
