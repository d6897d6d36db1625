import { HI as HI_WORD } from './layout';
import { ctz32, i64DivRem, i64ToF32, i64ToF64, popcnt32, truncToI64 } from './i64';
import { TrapCode } from './traps';

// A module-level copy: an imported binding can compile to a getter call on every use.
const HI = HI_WORD;

/** Round half to even, as f32.nearest / f64.nearest define it (Math.round rounds half up). */
export function nearest(x: number): number {
  const r = Math.round(x);
  if (r - x === 0.5 && r % 2 !== 0) return r - 1;
  if (r === 0 && x < 0) return -0;
  return r;
}

const TWO_31 = 2147483648;
const TWO_32 = 4294967296;
const TWO_63 = 9223372036854775808;
const TWO_64 = 18446744073709551616;

/** Saturating float to int32 (0xFC 0..3). */
function satI32(x: number, signed: boolean): number {
  if (x !== x) return 0;
  if (signed) {
    if (x <= -TWO_31) return -TWO_31;
    if (x >= TWO_31) return TWO_31 - 1;
    return Math.trunc(x) | 0;
  }
  if (x <= -1) return 0;
  if (x >= TWO_32) return -1;
  return Math.trunc(x) | 0;
}

/** Saturating float to int64 (0xFC 4..7), written into slot `a`. */
function satI64(s: Int32Array, a: number, x: number, signed: boolean): void {
  if (x !== x) {
    s[a] = 0;
    s[a + HI] = 0;
  } else if (signed && x < -TWO_63) {
    s[a] = 0;
    s[a + HI] = -TWO_31;
  } else if (signed && x >= TWO_63) {
    s[a] = -1;
    s[a + HI] = TWO_31 - 1;
  } else if (!signed && x <= -1) {
    s[a] = 0;
    s[a + HI] = 0;
  } else if (!signed && x >= TWO_64) {
    s[a] = -1;
    s[a + HI] = -1;
  } else {
    truncToI64(s, a, x);
  }
}

/**
 * The numeric instructions kept out of the run loop to keep it small enough for the JIT:
 * i64 division and bit counts, trapping and saturating float-to-int conversions, i64 to
 * float conversions, `nearest`. `sp` is the run loop's stack pointer (the next free
 * slot's low word); unary operands sit at sp-2, binary ones at sp-4 and sp-2. Returns a
 * trap code; the caller adjusts sp for binary operators.
 */
export function rareNumeric(op: number, s: Int32Array, f32: Float32Array, f64: Float64Array, sp: number): TrapCode {
  const top = sp - 2;
  const top64 = (sp >> 1) - 1;
  switch (op) {
    case 0x79: { // i64.clz
      const hi = s[top + HI];
      s[top] = hi !== 0 ? Math.clz32(hi) : 32 + Math.clz32(s[top]);
      s[top + HI] = 0;
      return TrapCode.None;
    }
    case 0x7a: { // i64.ctz
      const lo = s[top];
      s[top] = lo !== 0 ? ctz32(lo) : 32 + ctz32(s[top + HI]);
      s[top + HI] = 0;
      return TrapCode.None;
    }
    case 0x7b: // i64.popcnt
      s[top] = popcnt32(s[top]) + popcnt32(s[top + HI]);
      s[top + HI] = 0;
      return TrapCode.None;
    case 0x7f: return i64DivRem(s, sp - 4, 'div_s');
    case 0x80: return i64DivRem(s, sp - 4, 'div_u');
    case 0x81: return i64DivRem(s, sp - 4, 'rem_s');
    case 0x82: return i64DivRem(s, sp - 4, 'rem_u');
    case 0x90: // f32.nearest
      f32[top] = nearest(f32[top]);
      return TrapCode.None;
    case 0x9e: // f64.nearest
      f64[top64] = nearest(f64[top64]);
      return TrapCode.None;
    case 0xa8: case 0xa9: case 0xaa: case 0xab: { // i32.trunc_f32_s/u, i32.trunc_f64_s/u
      const x = op <= 0xa9 ? f32[top] : f64[top64];
      if (x !== x) return TrapCode.InvalidConversion;
      const signed = op === 0xa8 || op === 0xaa;
      if (signed ? !(x > -TWO_31 - 1 && x < TWO_31) : !(x > -1 && x < TWO_32)) return TrapCode.IntegerOverflow;
      s[top] = Math.trunc(x) | 0;
      return TrapCode.None;
    }
    case 0xae: case 0xaf: case 0xb0: case 0xb1: { // i64.trunc_f32_s/u, i64.trunc_f64_s/u
      const x = op <= 0xaf ? f32[top] : f64[top64];
      if (x !== x) return TrapCode.InvalidConversion;
      const signed = op === 0xae || op === 0xb0;
      if (signed ? !(x >= -TWO_63 && x < TWO_63) : !(x > -1 && x < TWO_64)) return TrapCode.IntegerOverflow;
      truncToI64(s, top, x);
      return TrapCode.None;
    }
    case 0xb4: // f32.convert_i64_s
      f32[top] = i64ToF32(s, top, true);
      return TrapCode.None;
    case 0xb5: // f32.convert_i64_u
      f32[top] = i64ToF32(s, top, false);
      return TrapCode.None;
    case 0xb9: // f64.convert_i64_s
      f64[top64] = i64ToF64(s, top, true);
      return TrapCode.None;
    case 0xba: // f64.convert_i64_u
      f64[top64] = i64ToF64(s, top, false);
      return TrapCode.None;
    case 0x100: s[top] = satI32(f32[top], true); return TrapCode.None;
    case 0x101: s[top] = satI32(f32[top], false); return TrapCode.None;
    case 0x102: s[top] = satI32(f64[top64], true); return TrapCode.None;
    case 0x103: s[top] = satI32(f64[top64], false); return TrapCode.None;
    case 0x104: satI64(s, top, f32[top], true); return TrapCode.None;
    case 0x105: satI64(s, top, f32[top], false); return TrapCode.None;
    case 0x106: satI64(s, top, f64[top64], true); return TrapCode.None;
    case 0x107: satI64(s, top, f64[top64], false); return TrapCode.None;
  }
  throw new Error(`internal error: opcode 0x${op.toString(16)} has no implementation`);
}
