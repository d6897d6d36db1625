import { ATOMIC, ATOMIC_OP, BY_OP, SIMD_CONST, SIMD_OP, SIMD_PLAIN } from '../instructions';
import { DETERMINISTIC_OPCODE, Op, instructionLength } from './opcodes';

export interface DisassembledInstruction {
  /** Offset of the instruction in the internal code. */
  pc: number;
  /** Its name (from instructions.ts; deterministic-NaN variants carry their wasm name). */
  name: string;
  /** The immediate words as stored (branch targets are absolute pcs). */
  immediates: number[];
}

/** The internal code in [from, to) as instructions, from the table of instructions. */
export function disassemble(code: Int32Array, from: number, to: number): DisassembledInstruction[] {
  const out: DisassembledInstruction[] = [];
  for (let pc = from; pc < to; ) {
    const op = code[pc];
    const len = instructionLength(code, pc);
    if ((op >= SIMD_PLAIN && op <= SIMD_CONST) || op === ATOMIC) {
      // A SIMD or atomic instruction: named by its sub-opcode, the word after the carrier.
      const ins = BY_OP.get((op === ATOMIC ? ATOMIC_OP : SIMD_OP) + code[pc + 1]);
      out.push({ pc, name: ins ? ins.name : `${op === ATOMIC ? 'atomic' : 'simd'} 0x${code[pc + 1].toString(16)}`, immediates: Array.from(code.subarray(pc + 2, pc + len)) });
      pc += len;
      continue;
    }
    const ins = BY_OP.get(op >= DETERMINISTIC_OPCODE ? op - DETERMINISTIC_OPCODE : op);
    out.push({ pc, name: ins ? ins.name : `0x${op.toString(16)}`, immediates: Array.from(code.subarray(pc + 1, pc + len)) });
    pc += len;
  }
  return out;
}

/** One line per instruction: `pc  name immediates` (branch targets as `@pc`). */
export function disassembleText(code: Int32Array, from: number, to: number): string {
  return disassemble(code, from, to)
    .map(({ pc, name, immediates }) => {
      const op = code[pc];
      const imm = immediates.map((v, k) => (isTarget(op, k) ? `@${v}` : String(v)));
      return `${String(pc).padStart(6)}  ${[name, ...imm].join(' ')}`;
    })
    .join('\n');
}

function isTarget(op: number, k: number): boolean {
  if (op === Op.If || op === Op.Br || op === Op.BrIf || op === Op.BrDrop || op === Op.BrIfDrop) return k === 0;
  if (op === Op.BrTable) return k >= 1 && (k - 1) % 3 === 0;
  return false;
}
