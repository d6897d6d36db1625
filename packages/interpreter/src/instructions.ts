/**
 * The one table of instructions: every instruction the runtime knows, with its text name,
 * its encoding, its immediates, its operand types, whether it transfers control, how many
 * words it takes in the internal code and, for the simple numeric ones, its semantics as a
 * JavaScript expression. Derived from it: the code scanner's immediates
 * (binary/code-scanner.ts), the validator's numeric signatures and the memory access types
 * (validation/code.ts, translation/translator.ts), instruction lengths and segment ends
 * (translation/opcodes.ts), instruction names (binary/opcode-names.ts), the disassembler
 * (translation/disassemble.ts) and the JS tier's code (execution/js-tier.ts). The run
 * loop's switch stays written out by hand (its speed was measured), and a test checks that
 * it has a case for exactly the internal opcodes listed here.
 *
 * `op` is the internal opcode, which is also how the instruction is keyed everywhere:
 * the wasm single-byte opcode, 0x100 + n for the 0xFC-prefixed instruction n, 0x120.. for
 * the instructions that exist only in the internal code.
 */
import { ValType } from './syntax/types';

/** Immediates as encoded in the wasm binary. */
export type Immediates =
  | 'none'
  | 'blocktype' // s33
  | 'label' // u32
  | 'br_table' // vec(u32) u32
  | 'func' | 'local' | 'global' | 'table' | 'data' | 'elem' // u32
  | 'call_indirect' // typeidx tableidx
  | 'select_t' // vec(valtype)
  | 'memarg' // align offset
  | 'byte' // memory.size, memory.grow, ref.null, memory.fill: one byte
  | 'i32' | 'i64' | 'f32' | 'f64'
  | 'data_byte' // memory.init: dataidx 0x00
  | 'byte_byte' // memory.copy: 0x00 0x00
  | 'elem_table' // table.init: elemidx tableidx
  | 'table_table'; // table.copy

export interface Instruction {
  /** Internal opcode (see above). */
  op: number;
  /** Name in the text format (internal-only instructions get a made-up one). */
  name: string;
  /** The wasm encoding's bytes before the immediates (empty for internal-only instructions). */
  encoding: readonly number[];
  immediates: Immediates;
  /**
   * Operand types, `pops -> pushes`, when they are fixed ('i32 i32 -> i32'); null when they
   * depend on the context (locals, globals, labels, function types, polymorphic ones).
   */
  signature: string | null;
  /** Control may continue elsewhere than at the next instruction: it ends a straight-line segment. */
  transfer: boolean;
  /** Words in the internal code (opcode + immediates); 0: not in the internal code; -1: variable (br_table). */
  words: number;
  /** For loads and stores: log2 of the natural alignment. */
  align?: number;
  /**
   * Semantics as a JavaScript expression over the operands `a` (and `b`) when the operands
   * and the result are i32 (and nothing can trap): used by the JS tier.
   */
  js?: string;
}

export const INSTRUCTIONS: readonly Instruction[] = (() => {
  const list: Instruction[] = [];
  const add = (op: number, name: string, immediates: Immediates, signature: string | null, words: number, extra: Partial<Instruction> = {}): void => {
    const encoding = op < 0x100 ? [op] : op < 0x120 ? [0xfc, op - 0x100] : [];
    list.push({ op, name, encoding, immediates, signature, transfer: false, words, ...extra });
  };
  const T = { transfer: true };
  // Control
  add(0x00, 'unreachable', 'none', null, 1, T);
  add(0x01, 'nop', 'none', '->', 0);
  add(0x02, 'block', 'blocktype', null, 0);
  add(0x03, 'loop', 'blocktype', null, 0);
  add(0x04, 'if', 'blocktype', null, 2, T);
  add(0x05, 'else', 'none', null, 0);
  add(0x0b, 'end', 'none', null, 0);
  add(0x0c, 'br', 'label', null, 2, T);
  add(0x0d, 'br_if', 'label', null, 2, T);
  add(0x0e, 'br_table', 'br_table', null, -1, T);
  add(0x0f, 'return', 'none', null, 1, T);
  add(0x10, 'call', 'func', null, 2, T);
  add(0x11, 'call_indirect', 'call_indirect', null, 3, T);
  // Parametric
  add(0x1a, 'drop', 'none', null, 1);
  add(0x1b, 'select', 'none', null, 1);
  add(0x1c, 'select', 'select_t', null, 0); // translated to 0x1b
  // Variables
  add(0x20, 'local.get', 'local', null, 2);
  add(0x21, 'local.set', 'local', null, 2);
  add(0x22, 'local.tee', 'local', null, 2);
  add(0x23, 'global.get', 'global', null, 2);
  add(0x24, 'global.set', 'global', null, 2);
  add(0x25, 'table.get', 'table', null, 2);
  add(0x26, 'table.set', 'table', null, 2);
  // Memory: name, natural alignment, value type
  const memory: [string, number, string][] = [
    ['i32.load', 2, 'i32'], ['i64.load', 3, 'i64'], ['f32.load', 2, 'f32'], ['f64.load', 3, 'f64'],
    ['i32.load8_s', 0, 'i32'], ['i32.load8_u', 0, 'i32'], ['i32.load16_s', 1, 'i32'], ['i32.load16_u', 1, 'i32'],
    ['i64.load8_s', 0, 'i64'], ['i64.load8_u', 0, 'i64'], ['i64.load16_s', 1, 'i64'], ['i64.load16_u', 1, 'i64'],
    ['i64.load32_s', 2, 'i64'], ['i64.load32_u', 2, 'i64'],
    ['i32.store', 2, 'i32'], ['i64.store', 3, 'i64'], ['f32.store', 2, 'f32'], ['f64.store', 3, 'f64'],
    ['i32.store8', 0, 'i32'], ['i32.store16', 1, 'i32'], ['i64.store8', 0, 'i64'], ['i64.store16', 1, 'i64'], ['i64.store32', 2, 'i64'],
  ];
  memory.forEach(([name, align, type], i) => {
    const isLoad = name.includes('.load');
    add(0x28 + i, name, 'memarg', isLoad ? `i32 -> ${type}` : `i32 ${type} ->`, 2, { align });
  });
  add(0x3f, 'memory.size', 'byte', '-> i32', 1);
  add(0x40, 'memory.grow', 'byte', 'i32 -> i32', 1);
  // Constants
  add(0x41, 'i32.const', 'i32', '-> i32', 2);
  add(0x42, 'i64.const', 'i64', '-> i64', 3);
  add(0x43, 'f32.const', 'f32', '-> f32', 2);
  add(0x44, 'f64.const', 'f64', '-> f64', 3);
  // Numeric: [name, signature, js]
  const numeric = (first: number, sig: string, entries: string) =>
    entries.trim().split(/\s+/).forEach((entry, i) => {
      const eq = entry.indexOf('=');
      const name = eq < 0 ? entry : entry.slice(0, eq);
      add(first + i, name, 'none', sig, 1, eq < 0 ? {} : { js: entry.slice(eq + 1) });
    });
  numeric(0x45, 'i32 -> i32', 'i32.eqz=a===0?1:0');
  numeric(0x46, 'i32 i32 -> i32', `
    i32.eq=a===b?1:0 i32.ne=a!==b?1:0 i32.lt_s=a<b?1:0 i32.lt_u=a>>>0<b>>>0?1:0 i32.gt_s=a>b?1:0 i32.gt_u=a>>>0>b>>>0?1:0
    i32.le_s=a<=b?1:0 i32.le_u=a>>>0<=b>>>0?1:0 i32.ge_s=a>=b?1:0 i32.ge_u=a>>>0>=b>>>0?1:0`);
  numeric(0x50, 'i64 -> i32', 'i64.eqz');
  numeric(0x51, 'i64 i64 -> i32', 'i64.eq i64.ne i64.lt_s i64.lt_u i64.gt_s i64.gt_u i64.le_s i64.le_u i64.ge_s i64.ge_u');
  numeric(0x5b, 'f32 f32 -> i32', 'f32.eq f32.ne f32.lt f32.gt f32.le f32.ge');
  numeric(0x61, 'f64 f64 -> i32', 'f64.eq f64.ne f64.lt f64.gt f64.le f64.ge');
  numeric(0x67, 'i32 -> i32', 'i32.clz=Math.clz32(a) i32.ctz i32.popcnt');
  numeric(0x6a, 'i32 i32 -> i32', `
    i32.add=(a+b)|0 i32.sub=(a-b)|0 i32.mul=Math.imul(a,b) i32.div_s i32.div_u i32.rem_s i32.rem_u
    i32.and=a&b i32.or=a|b i32.xor=a^b i32.shl=a<<b i32.shr_s=a>>b i32.shr_u=(a>>>b)|0
    i32.rotl=(a<<b)|(a>>>(32-b)) i32.rotr=(a>>>b)|(a<<(32-b))`);
  numeric(0x79, 'i64 -> i64', 'i64.clz i64.ctz i64.popcnt');
  numeric(0x7c, 'i64 i64 -> i64', `
    i64.add i64.sub i64.mul i64.div_s i64.div_u i64.rem_s i64.rem_u i64.and i64.or i64.xor i64.shl i64.shr_s i64.shr_u i64.rotl i64.rotr`);
  numeric(0x8b, 'f32 -> f32', 'f32.abs f32.neg f32.ceil f32.floor f32.trunc f32.nearest f32.sqrt');
  numeric(0x92, 'f32 f32 -> f32', 'f32.add f32.sub f32.mul f32.div f32.min f32.max f32.copysign');
  numeric(0x99, 'f64 -> f64', 'f64.abs f64.neg f64.ceil f64.floor f64.trunc f64.nearest f64.sqrt');
  numeric(0xa0, 'f64 f64 -> f64', 'f64.add f64.sub f64.mul f64.div f64.min f64.max f64.copysign');
  const conversions: [string, string][] = [
    ['i32.wrap_i64', 'i64 -> i32'], ['i32.trunc_f32_s', 'f32 -> i32'], ['i32.trunc_f32_u', 'f32 -> i32'],
    ['i32.trunc_f64_s', 'f64 -> i32'], ['i32.trunc_f64_u', 'f64 -> i32'], ['i64.extend_i32_s', 'i32 -> i64'],
    ['i64.extend_i32_u', 'i32 -> i64'], ['i64.trunc_f32_s', 'f32 -> i64'], ['i64.trunc_f32_u', 'f32 -> i64'],
    ['i64.trunc_f64_s', 'f64 -> i64'], ['i64.trunc_f64_u', 'f64 -> i64'], ['f32.convert_i32_s', 'i32 -> f32'],
    ['f32.convert_i32_u', 'i32 -> f32'], ['f32.convert_i64_s', 'i64 -> f32'], ['f32.convert_i64_u', 'i64 -> f32'],
    ['f32.demote_f64', 'f64 -> f32'], ['f64.convert_i32_s', 'i32 -> f64'], ['f64.convert_i32_u', 'i32 -> f64'],
    ['f64.convert_i64_s', 'i64 -> f64'], ['f64.convert_i64_u', 'i64 -> f64'], ['f64.promote_f32', 'f32 -> f64'],
    ['i32.reinterpret_f32', 'f32 -> i32'], ['i64.reinterpret_f64', 'f64 -> i64'], ['f32.reinterpret_i32', 'i32 -> f32'],
    ['f64.reinterpret_i64', 'i64 -> f64'], ['i32.extend8_s', 'i32 -> i32'], ['i32.extend16_s', 'i32 -> i32'],
    ['i64.extend8_s', 'i64 -> i64'], ['i64.extend16_s', 'i64 -> i64'], ['i64.extend32_s', 'i64 -> i64'],
  ];
  conversions.forEach(([name, sig], i) => add(0xa7 + i, name, 'none', sig, 1));
  list.find((x) => x.name === 'i32.extend8_s')!.js = '(a<<24)>>24';
  list.find((x) => x.name === 'i32.extend16_s')!.js = '(a<<16)>>16';
  // References
  add(0xd0, 'ref.null', 'byte', null, 1);
  add(0xd1, 'ref.is_null', 'none', null, 1);
  add(0xd2, 'ref.func', 'func', '-> funcref', 2);
  // 0xFC prefix
  const sat: [string, string][] = [
    ['i32.trunc_sat_f32_s', 'f32 -> i32'], ['i32.trunc_sat_f32_u', 'f32 -> i32'], ['i32.trunc_sat_f64_s', 'f64 -> i32'],
    ['i32.trunc_sat_f64_u', 'f64 -> i32'], ['i64.trunc_sat_f32_s', 'f32 -> i64'], ['i64.trunc_sat_f32_u', 'f32 -> i64'],
    ['i64.trunc_sat_f64_s', 'f64 -> i64'], ['i64.trunc_sat_f64_u', 'f64 -> i64'],
  ];
  sat.forEach(([name, sig], i) => add(0x100 + i, name, 'none', sig, 1));
  add(0x108, 'memory.init', 'data_byte', 'i32 i32 i32 ->', 2);
  add(0x109, 'data.drop', 'data', '->', 2);
  add(0x10a, 'memory.copy', 'byte_byte', 'i32 i32 i32 ->', 1);
  add(0x10b, 'memory.fill', 'byte', 'i32 i32 i32 ->', 1);
  add(0x10c, 'table.init', 'elem_table', 'i32 i32 i32 ->', 3);
  add(0x10d, 'elem.drop', 'elem', '->', 2);
  add(0x10e, 'table.copy', 'table_table', 'i32 i32 i32 ->', 3);
  add(0x10f, 'table.grow', 'table', null, 2);
  add(0x110, 'table.size', 'table', '-> i32', 2);
  add(0x111, 'table.fill', 'table', null, 2);
  // Internal only: branches that move the kept values down first (<pc> <keep> <heightWords>)
  add(0x120, 'br_drop', 'none', null, 4, T);
  add(0x121, 'br_if_drop', 'none', null, 4, T);
  return list;
})();

/** By internal opcode (0x1c, `select t`, is there under 0x1c; its internal code is 0x1b). */
export const BY_OP: ReadonlyMap<number, Instruction> = new Map(INSTRUCTIONS.map((i) => [i.op, i]));

/** The instructions present in the internal code (what the run loop must have a case for). */
export const INTERNAL_OPS: readonly number[] = INSTRUCTIONS.filter((i) => i.words !== 0).map((i) => i.op);

const VAL_TYPES: Record<string, ValType> = { i32: ValType.I32, i64: ValType.I64, f32: ValType.F32, f64: ValType.F64, funcref: ValType.FuncRef };

/** An instruction's fixed signature as value types: [pops, pushes]. */
export function signatureTypes(i: Instruction): [ValType[], ValType[]] {
  const [pops, pushes] = i.signature!.split('->').map((side) => side.trim().split(/\s+/).filter((s) => s !== '').map((s) => VAL_TYPES[s]));
  return [pops, pushes];
}
