import { INSTRUCTIONS } from '../instructions';

/**
 * The internal code's opcodes. The translator emits them into one Int32Array per module
 * (module-code.ts), a function at a time;
 * the executor's switch dispatches on them.
 *
 * - 0x00..0xFF: a WebAssembly single-byte opcode with the same meaning. Immediates are
 *   pre-resolved: branch targets are absolute code offsets, `local.*` carry the local's
 *   word offset from the frame pointer, loads and stores carry only their offset.
 * - 0x100 + n: the 0xFC-prefixed instruction n (saturating truncation, bulk memory, tables).
 * - 0x120..: instructions that exist only in the internal code (branches that must move
 *   values down the stack).
 *
 * The executor's switch spells these as numeric literals (with the name in a comment) so
 * that every engine and every TypeScript transpiler compiles it to a jump table.
 */
export const Op = {
  Unreachable: 0x00,
  /** if <elsePc>: pop i32; jump to elsePc when it is zero. */
  If: 0x04,
  /** br <pc> */
  Br: 0x0c,
  /** br_if <pc>: pop i32; jump when non-zero (no values to move). */
  BrIf: 0x0d,
  /** br_table <n> then n+1 × (<pc> <keep> <heightWords>) */
  BrTable: 0x0e,
  /** return: the current function's results move to the frame pointer. */
  Return: 0x0f,
  /** call <funcIndex> */
  Call: 0x10,
  /** call_indirect <typeIndex> <tableIndex> */
  CallIndirect: 0x11,
  Drop: 0x1a,
  Select: 0x1b,
  /** local.get/set/tee <wordOffset> */
  LocalGet: 0x20,
  LocalSet: 0x21,
  LocalTee: 0x22,
  GlobalGet: 0x23,
  GlobalSet: 0x24,
  TableGet: 0x25,
  TableSet: 0x26,
  MemorySize: 0x3f,
  MemoryGrow: 0x40,
  I32Const: 0x41,
  /** i64.const <lo> <hi> */
  I64Const: 0x42,
  /** f32.const <bits> */
  F32Const: 0x43,
  /** f64.const <lo> <hi> (bits) */
  F64Const: 0x44,
  RefNull: 0xd0,
  RefIsNull: 0xd1,
  /** ref.func <funcIndex> */
  RefFunc: 0xd2,
  Prefix: 0x100,
  MemoryInit: 0x108,
  DataDrop: 0x109,
  MemoryCopy: 0x10a,
  MemoryFill: 0x10b,
  TableInit: 0x10c,
  ElemDrop: 0x10d,
  TableCopy: 0x10e,
  TableGrow: 0x10f,
  TableSize: 0x110,
  TableFill: 0x111,
  /** br_drop <pc> <keep> <heightWords>: keep the top `keep` values at fp+heightWords, jump. */
  BrDrop: 0x120,
  /** br_if_drop <pc> <keep> <heightWords>: pop i32; when non-zero, as br_drop. */
  BrIfDrop: 0x121,
} as const;

/**
 * Bump when the internal code changes shape: a snapshot's pcs index into this code.
 * 2: pcs in a state are offsets from their function's entry (functions are translated on
 * first call, so where a function lands in the module's code depends on the run).
 */
export const TRANSLATOR_VERSION = 2;

/** Words per internal opcode (0: variable or not in the internal code), from instructions.ts. */
const WORDS = new Int8Array(0x200);
/** 1 for the internal opcodes that transfer control. */
const TRANSFER = new Uint8Array(0x200);
for (const i of INSTRUCTIONS) {
  if (i.words > 0 && i.op !== 0x1c) WORDS[i.op] = i.words;
  if (i.transfer) TRANSFER[i.op] = 1;
}

/** Words taken by the instruction at `pc` (opcode plus immediates). */
export function instructionLength(code: Int32Array, pc: number): number {
  const op = code[pc];
  if (op === Op.BrTable) return 2 + 3 * (code[pc + 1] + 1);
  const n = op < 0x200 ? WORDS[op] : WORDS[op - DETERMINISTIC_OPCODE];
  return n === 0 ? 1 : n; // STOP covers a one-word opcode's place
}

/** Instructions after which execution may continue elsewhere: they end a straight-line segment. */
export function isTransfer(op: number): boolean {
  return op < 0x200 && TRANSFER[op] === 1;
}

/**
 * Fills what the run loop needs to count instructions exactly without counting each one,
 * for the function translated into code[from, to):
 * - `ordinals[w]`: the number of the instruction that word w belongs to (opcode or
 *   immediate), so the instructions run between two positions of one straight-line
 *   segment are a subtraction, and w starts an instruction when its ordinal differs from
 *   that of the word before;
 * - `segmentLengths[pc]`: the instructions from the one at pc through the end of its
 *   segment (the next transfer, inclusive), so the loop knows whether its budget runs
 *   out inside the segment it is entering.
 * Instructions are numbered from `first`; returns the next free number (also written at
 * ordinals[to]). Both arrays must hold at least to + 1 entries.
 */
export function numberInstructions(code: Int32Array, from: number, to: number, first: number, ordinals: Int32Array, segmentLengths: Int32Array): number {
  let n = first;
  const starts: number[] = [];
  for (let pc = from; pc < to; ) {
    const len = instructionLength(code, pc);
    ordinals.fill(n++, pc, pc + len);
    starts.push(pc);
    pc += len;
  }
  let run = 0;
  for (let i = starts.length - 1; i >= 0; i--) {
    run = isTransfer(code[starts[i]]) || i === starts.length - 1 ? 1 : run + 1;
    segmentLengths[starts[i]] = run;
  }
  ordinals[to] = n;
  return n;
}

/** The pc of the instruction `k` instructions after the one at `pc` (in straight-line code). */
export function nthInstruction(code: Int32Array, pc: number, k: number): number {
  for (let i = 0; i < k; i++) pc += instructionLength(code, pc);
  return pc;
}

/**
 * Deterministic NaNs (Machine option `deterministic`): in such a module's code the float
 * instructions whose result may be an arithmetic NaN are renumbered DETERMINISTIC_OPCODE +
 * their opcode, and the run loop canonicalises their NaN results out of line
 * (execution/deterministic.ts). Same lengths, same pcs, same counts as the normal code, and
 * nothing to check for the normal code: the mode costs nothing when off.
 */
export const DETERMINISTIC_OPCODE = 0x200;

/** The wasm opcodes whose result may be an arithmetic NaN (all one word long). */
export const NAN_PRODUCING: ReadonlySet<number> = new Set([
  0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, // f32 ceil floor trunc nearest sqrt add sub mul div min max
  0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, // f64 the same
  0xb6, 0xbb, // f32.demote_f64, f64.promote_f32
]);

/** Placed over an instruction by the run loop to stop exactly there; never emitted. */
export const STOP_OPCODE = 0x1ff;
