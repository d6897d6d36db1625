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
 * the instructions that exist only in the internal code, SIMD_OP + n for the 0xFD-prefixed
 * (SIMD) instruction n. SIMD instructions are not internal opcodes of their own: they run
 * out of line (execution/simd.ts), carried by four internal opcodes by immediate shape
 * (`simd <n>`, `simd_imm <n> <imm>`, `simd_mem_lane <n> <offset> <lane>`, `simd_const <n>
 * <4 words>`), so the run loop's switch grows by one group of cases.
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
  | 'table_table' // table.copy
  | 'lane' // SIMD lane index: one byte
  | 'memarg_lane' // SIMD load/store lane: align offset lane
  | 'v128' // v128.const: 16 bytes
  | 'shuffle'; // i8x16.shuffle: 16 lane bytes

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

/** Internal key of the 0xFD-prefixed (SIMD) instruction n: SIMD_OP + n. */
export const SIMD_OP = 0x400;
/** The internal opcodes that carry a SIMD instruction, by immediate shape. */
export const SIMD_PLAIN = 0x122;
export const SIMD_IMM = 0x123;
export const SIMD_MEM_LANE = 0x124;
export const SIMD_CONST = 0x125;
/** First sub-opcode of the internal-only v128 forms (SIMD_OP + SIMD_INTERNAL + k). */
export const SIMD_INTERNAL = 0x200;
export const enum V128Form { GlobalGet = 0x200, GlobalSet, Select, Drop }
/** The internal opcodes of local.get/set/tee of a v128 local: <wordOffset>. */
export const V128_LOCAL_GET = 0x126;
export const V128_LOCAL_SET = 0x127;
export const V128_LOCAL_TEE = 0x128;
/** Internal key of the 0xFE-prefixed (threads: atomics) instruction n: ATOMIC_OP + n. */
export const ATOMIC_OP = 0x800;
/** The internal opcode that carries every atomic instruction: `atomic <sub> <offset>` (execution/atomics.ts). */
export const ATOMIC = 0x129;

/** Natural alignment (log2) of the SIMD memory instructions other than the 16-byte ones. */
const SIMD_ALIGN: Record<string, number> = {
  'v128.load8x8_s': 3, 'v128.load8x8_u': 3, 'v128.load16x4_s': 3, 'v128.load16x4_u': 3, 'v128.load32x2_s': 3, 'v128.load32x2_u': 3,
  'v128.load8_splat': 0, 'v128.load16_splat': 1, 'v128.load32_splat': 2, 'v128.load64_splat': 3,
  'v128.load8_lane': 0, 'v128.load16_lane': 1, 'v128.load32_lane': 2, 'v128.load64_lane': 3,
  'v128.store8_lane': 0, 'v128.store16_lane': 1, 'v128.store32_lane': 2, 'v128.store64_lane': 3,
  'v128.load32_zero': 2, 'v128.load64_zero': 3,
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    const b = n & 0x7f;
    n >>>= 7;
    out.push(n === 0 ? b : b | 0x80);
  } while (n !== 0);
  return out;
}

export const INSTRUCTIONS: readonly Instruction[] = (() => {
  const list: Instruction[] = [];
  const add = (op: number, name: string, immediates: Immediates, signature: string | null, words: number, extra: Partial<Instruction> = {}): void => {
    const encoding = op < 0x100 ? [op] : op < 0x120 ? [0xfc, op - 0x100] : op >= ATOMIC_OP ? [0xfe, ...uleb(op - ATOMIC_OP)] : op >= SIMD_OP ? [0xfd, ...uleb(op - SIMD_OP)] : [];
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
  // Internal only: the carriers of SIMD instructions (see above)
  add(SIMD_PLAIN, 'simd', 'none', null, 2);
  add(SIMD_IMM, 'simd_imm', 'none', null, 3);
  add(SIMD_MEM_LANE, 'simd_mem_lane', 'none', null, 4);
  add(SIMD_CONST, 'simd_const', 'none', null, 6);
  // Internal only: v128 locals, the commonest v128 moves, in the run loop itself (<wordOffset>)
  add(V128_LOCAL_GET, 'local.get (v128)', 'none', null, 2);
  add(V128_LOCAL_SET, 'local.set (v128)', 'none', null, 2);
  add(V128_LOCAL_TEE, 'local.tee (v128)', 'none', null, 2);
  // Internal only: the carrier of the atomic instructions (<sub> <offset>), out of line
  add(ATOMIC, 'atomic', 'none', null, 3);
  // 0xFD prefix: fixed-width SIMD. Entries `sub name immediates signature` ('m': memarg,
  // 'l': lane, 'ml': memarg + lane, 'c': 16 bytes); 'V' stands for v128.
  const simd = (entries: string): void => {
    for (const line of entries.trim().split('\n')) {
      const [sub, name, imm, ...sig] = line.trim().split(/\s+/);
      const immediates: Immediates = imm === 'm' ? 'memarg' : imm === 'l' ? 'lane' : imm === 'ml' ? 'memarg_lane' : imm === 'c' ? (name === 'v128.const' ? 'v128' : 'shuffle') : 'none';
      const extra: Partial<Instruction> = {};
      if (imm === 'm' || imm === 'ml') extra.align = SIMD_ALIGN[name] ?? 4;
      add(SIMD_OP + parseInt(sub, 16), name, immediates, sig.join(' ').replace(/V/g, 'v128'), 0, extra);
    }
  };
  const lanes = (first: number, shape: string, names: string, sig: string): string =>
    names.trim().split(/\s+/).map((n, i) => n === '-' ? '' : `${(first + i).toString(16)} ${shape}.${n} - ${sig}`).filter((x) => x !== '').join('\n');
  simd(`
    00 v128.load m i32 -> V
    01 v128.load8x8_s m i32 -> V
    02 v128.load8x8_u m i32 -> V
    03 v128.load16x4_s m i32 -> V
    04 v128.load16x4_u m i32 -> V
    05 v128.load32x2_s m i32 -> V
    06 v128.load32x2_u m i32 -> V
    07 v128.load8_splat m i32 -> V
    08 v128.load16_splat m i32 -> V
    09 v128.load32_splat m i32 -> V
    0a v128.load64_splat m i32 -> V
    0b v128.store m i32 V ->
    0c v128.const c -> V
    0d i8x16.shuffle c V V -> V
    0e i8x16.swizzle - V V -> V
    0f i8x16.splat - i32 -> V
    10 i16x8.splat - i32 -> V
    11 i32x4.splat - i32 -> V
    12 i64x2.splat - i64 -> V
    13 f32x4.splat - f32 -> V
    14 f64x2.splat - f64 -> V
    15 i8x16.extract_lane_s l V -> i32
    16 i8x16.extract_lane_u l V -> i32
    17 i8x16.replace_lane l V i32 -> V
    18 i16x8.extract_lane_s l V -> i32
    19 i16x8.extract_lane_u l V -> i32
    1a i16x8.replace_lane l V i32 -> V
    1b i32x4.extract_lane l V -> i32
    1c i32x4.replace_lane l V i32 -> V
    1d i64x2.extract_lane l V -> i64
    1e i64x2.replace_lane l V i64 -> V
    1f f32x4.extract_lane l V -> f32
    20 f32x4.replace_lane l V f32 -> V
    21 f64x2.extract_lane l V -> f64
    22 f64x2.replace_lane l V f64 -> V
    ${lanes(0x23, 'i8x16', 'eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u', 'V V -> V')}
    ${lanes(0x2d, 'i16x8', 'eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u', 'V V -> V')}
    ${lanes(0x37, 'i32x4', 'eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u', 'V V -> V')}
    ${lanes(0x41, 'f32x4', 'eq ne lt gt le ge', 'V V -> V')}
    ${lanes(0x47, 'f64x2', 'eq ne lt gt le ge', 'V V -> V')}
    4d v128.not - V -> V
    4e v128.and - V V -> V
    4f v128.andnot - V V -> V
    50 v128.or - V V -> V
    51 v128.xor - V V -> V
    52 v128.bitselect - V V V -> V
    53 v128.any_true - V -> i32
    54 v128.load8_lane ml i32 V -> V
    55 v128.load16_lane ml i32 V -> V
    56 v128.load32_lane ml i32 V -> V
    57 v128.load64_lane ml i32 V -> V
    58 v128.store8_lane ml i32 V ->
    59 v128.store16_lane ml i32 V ->
    5a v128.store32_lane ml i32 V ->
    5b v128.store64_lane ml i32 V ->
    5c v128.load32_zero m i32 -> V
    5d v128.load64_zero m i32 -> V
    5e f32x4.demote_f64x2_zero - V -> V
    5f f64x2.promote_low_f32x4 - V -> V
    60 i8x16.abs - V -> V
    61 i8x16.neg - V -> V
    62 i8x16.popcnt - V -> V
    63 i8x16.all_true - V -> i32
    64 i8x16.bitmask - V -> i32
    65 i8x16.narrow_i16x8_s - V V -> V
    66 i8x16.narrow_i16x8_u - V V -> V
    67 f32x4.ceil - V -> V
    68 f32x4.floor - V -> V
    69 f32x4.trunc - V -> V
    6a f32x4.nearest - V -> V
    6b i8x16.shl - V i32 -> V
    6c i8x16.shr_s - V i32 -> V
    6d i8x16.shr_u - V i32 -> V
    6e i8x16.add - V V -> V
    6f i8x16.add_sat_s - V V -> V
    70 i8x16.add_sat_u - V V -> V
    71 i8x16.sub - V V -> V
    72 i8x16.sub_sat_s - V V -> V
    73 i8x16.sub_sat_u - V V -> V
    74 f64x2.ceil - V -> V
    75 f64x2.floor - V -> V
    76 i8x16.min_s - V V -> V
    77 i8x16.min_u - V V -> V
    78 i8x16.max_s - V V -> V
    79 i8x16.max_u - V V -> V
    7a f64x2.trunc - V -> V
    7b i8x16.avgr_u - V V -> V
    7c i16x8.extadd_pairwise_i8x16_s - V -> V
    7d i16x8.extadd_pairwise_i8x16_u - V -> V
    7e i32x4.extadd_pairwise_i16x8_s - V -> V
    7f i32x4.extadd_pairwise_i16x8_u - V -> V
    80 i16x8.abs - V -> V
    81 i16x8.neg - V -> V
    82 i16x8.q15mulr_sat_s - V V -> V
    83 i16x8.all_true - V -> i32
    84 i16x8.bitmask - V -> i32
    85 i16x8.narrow_i32x4_s - V V -> V
    86 i16x8.narrow_i32x4_u - V V -> V
    87 i16x8.extend_low_i8x16_s - V -> V
    88 i16x8.extend_high_i8x16_s - V -> V
    89 i16x8.extend_low_i8x16_u - V -> V
    8a i16x8.extend_high_i8x16_u - V -> V
    8b i16x8.shl - V i32 -> V
    8c i16x8.shr_s - V i32 -> V
    8d i16x8.shr_u - V i32 -> V
    8e i16x8.add - V V -> V
    8f i16x8.add_sat_s - V V -> V
    90 i16x8.add_sat_u - V V -> V
    91 i16x8.sub - V V -> V
    92 i16x8.sub_sat_s - V V -> V
    93 i16x8.sub_sat_u - V V -> V
    94 f64x2.nearest - V -> V
    95 i16x8.mul - V V -> V
    96 i16x8.min_s - V V -> V
    97 i16x8.min_u - V V -> V
    98 i16x8.max_s - V V -> V
    99 i16x8.max_u - V V -> V
    9b i16x8.avgr_u - V V -> V
    9c i16x8.extmul_low_i8x16_s - V V -> V
    9d i16x8.extmul_high_i8x16_s - V V -> V
    9e i16x8.extmul_low_i8x16_u - V V -> V
    9f i16x8.extmul_high_i8x16_u - V V -> V
    a0 i32x4.abs - V -> V
    a1 i32x4.neg - V -> V
    a3 i32x4.all_true - V -> i32
    a4 i32x4.bitmask - V -> i32
    a7 i32x4.extend_low_i16x8_s - V -> V
    a8 i32x4.extend_high_i16x8_s - V -> V
    a9 i32x4.extend_low_i16x8_u - V -> V
    aa i32x4.extend_high_i16x8_u - V -> V
    ab i32x4.shl - V i32 -> V
    ac i32x4.shr_s - V i32 -> V
    ad i32x4.shr_u - V i32 -> V
    ae i32x4.add - V V -> V
    b1 i32x4.sub - V V -> V
    b5 i32x4.mul - V V -> V
    b6 i32x4.min_s - V V -> V
    b7 i32x4.min_u - V V -> V
    b8 i32x4.max_s - V V -> V
    b9 i32x4.max_u - V V -> V
    ba i32x4.dot_i16x8_s - V V -> V
    bc i32x4.extmul_low_i16x8_s - V V -> V
    bd i32x4.extmul_high_i16x8_s - V V -> V
    be i32x4.extmul_low_i16x8_u - V V -> V
    bf i32x4.extmul_high_i16x8_u - V V -> V
    c0 i64x2.abs - V -> V
    c1 i64x2.neg - V -> V
    c3 i64x2.all_true - V -> i32
    c4 i64x2.bitmask - V -> i32
    c7 i64x2.extend_low_i32x4_s - V -> V
    c8 i64x2.extend_high_i32x4_s - V -> V
    c9 i64x2.extend_low_i32x4_u - V -> V
    ca i64x2.extend_high_i32x4_u - V -> V
    cb i64x2.shl - V i32 -> V
    cc i64x2.shr_s - V i32 -> V
    cd i64x2.shr_u - V i32 -> V
    ce i64x2.add - V V -> V
    d1 i64x2.sub - V V -> V
    d5 i64x2.mul - V V -> V
    d6 i64x2.eq - V V -> V
    d7 i64x2.ne - V V -> V
    d8 i64x2.lt_s - V V -> V
    d9 i64x2.gt_s - V V -> V
    da i64x2.le_s - V V -> V
    db i64x2.ge_s - V V -> V
    dc i64x2.extmul_low_i32x4_s - V V -> V
    dd i64x2.extmul_high_i32x4_s - V V -> V
    de i64x2.extmul_low_i32x4_u - V V -> V
    df i64x2.extmul_high_i32x4_u - V V -> V
    ${lanes(0xe0, 'f32x4', 'abs neg - sqrt', 'V -> V')}
    ${lanes(0xe4, 'f32x4', 'add sub mul div min max pmin pmax', 'V V -> V')}
    ${lanes(0xec, 'f64x2', 'abs neg - sqrt', 'V -> V')}
    ${lanes(0xf0, 'f64x2', 'add sub mul div min max pmin pmax', 'V V -> V')}
    f8 i32x4.trunc_sat_f32x4_s - V -> V
    f9 i32x4.trunc_sat_f32x4_u - V -> V
    fa f32x4.convert_i32x4_s - V -> V
    fb f32x4.convert_i32x4_u - V -> V
    fc i32x4.trunc_sat_f64x2_s_zero - V -> V
    fd i32x4.trunc_sat_f64x2_u_zero - V -> V
    fe f64x2.convert_low_i32x4_s - V -> V
    ff f64x2.convert_low_i32x4_u - V -> V`);
  // 0xFE prefix: the threads proposal's atomics. Every one but atomic.fence has a memarg
  // whose alignment must be exactly the natural one; all run on the ATOMIC carrier.
  const atomic = (sub: number, name: string, align: number, signature: string): void =>
    add(ATOMIC_OP + sub, name, 'memarg', signature, 0, { align });
  atomic(0x00, 'memory.atomic.notify', 2, 'i32 i32 -> i32');
  atomic(0x01, 'memory.atomic.wait32', 2, 'i32 i32 i64 -> i32');
  atomic(0x02, 'memory.atomic.wait64', 3, 'i32 i64 i64 -> i32');
  add(ATOMIC_OP + 0x03, 'atomic.fence', 'byte', '->', 0);
  // [name suffix, natural alignment, type]: plain, then the narrow (zero-extending) forms
  const widths: [string, number, string][] = [
    ['i32.atomic.', 2, 'i32'], ['i64.atomic.', 3, 'i64'], ['i32.atomic.8', 0, 'i32'], ['i32.atomic.16', 1, 'i32'],
    ['i64.atomic.8', 0, 'i64'], ['i64.atomic.16', 1, 'i64'], ['i64.atomic.32', 2, 'i64'],
  ];
  widths.forEach(([prefix, align, type], i) => {
    const narrow = prefix.endsWith('.') ? '' : prefix.slice(prefix.lastIndexOf('.') + 1);
    const base = prefix.slice(0, prefix.lastIndexOf('.') + 1);
    atomic(0x10 + i, `${base}load${narrow}${narrow ? '_u' : ''}`, align, `i32 -> ${type}`);
    atomic(0x17 + i, `${base}store${narrow}`, align, `i32 ${type} ->`);
    ['add', 'sub', 'and', 'or', 'xor', 'xchg'].forEach((rmw, k) =>
      atomic(0x1e + 7 * k + i, `${base}rmw${narrow}.${rmw}${narrow ? '_u' : ''}`, align, `i32 ${type} -> ${type}`));
    atomic(0x48 + i, `${base}rmw${narrow}.cmpxchg${narrow ? '_u' : ''}`, align, `i32 ${type} ${type} -> ${type}`);
  });
  // Internal only: the v128 forms of the instructions whose operand types vary (sub-opcodes
  // from 0x200, not in any binary): one instruction moves a whole v128 (four words).
  const v128Forms: [string, string | null][] = [
    ['global.get', null], ['global.set', null], ['select', 'v128 v128 i32 -> v128'], ['drop', 'v128 ->'],
  ];
  v128Forms.forEach(([name, sig], i) => list.push({ op: SIMD_OP + SIMD_INTERNAL + i, name: `${name} (v128)`, encoding: [], immediates: 'none', signature: sig, transfer: false, words: 0 }));
  return list;
})();

/** By internal opcode (0x1c, `select t`, is there under 0x1c; its internal code is 0x1b). */
export const BY_OP: ReadonlyMap<number, Instruction> = new Map(INSTRUCTIONS.map((i) => [i.op, i]));

/** The instructions present in the internal code (what the run loop must have a case for). */
export const INTERNAL_OPS: readonly number[] = INSTRUCTIONS.filter((i) => i.words !== 0).map((i) => i.op);

const VAL_TYPES: Record<string, ValType> = { v128: ValType.V128, i32: ValType.I32, i64: ValType.I64, f32: ValType.F32, f64: ValType.F64, funcref: ValType.FuncRef };

/** An instruction's fixed signature as value types: [pops, pushes]. */
export function signatureTypes(i: Instruction): [ValType[], ValType[]] {
  const [pops, pushes] = i.signature!.split('->').map((side) => side.trim().split(/\s+/).filter((s) => s !== '').map((s) => VAL_TYPES[s]));
  return [pops, pushes];
}
