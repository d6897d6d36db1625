import { HI as HI_WORD } from './layout';
import { TrapCode } from './traps';

// A module-level copy: an imported binding can compile to a getter call on every use.
const HI = HI_WORD;

/**
 * i64 arithmetic on (low, high) int32 word pairs in the stack's Int32Array, so the hot
 * loop never allocates a BigInt. Each helper takes the word index `a` of the left
 * operand's low word; the right operand is the next slot (a + 2); the result replaces the
 * left operand. Division and remainder go through BigInt except when both operands fit
 * in 32 bits: they are rare in real code, and exactness matters more there than speed.
 */

/** High 32 bits of the unsigned 64-bit product of two u32 values (as int32). */
export function mulHighU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const mid1 = a1 * b0;
  const mid2 = a0 * b1;
  const carry = (((a0 * b0) >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (a1 * b1 + (mid1 >>> 16) + (mid2 >>> 16) + carry) | 0;
}

export function i64Mul(s: Int32Array, a: number): void {
  const alo = s[a];
  const ahi = s[a + HI];
  const blo = s[a + 2];
  const bhi = s[a + 2 + HI];
  s[a + HI] = (mulHighU32(alo, blo) + Math.imul(alo, bhi) + Math.imul(ahi, blo)) | 0;
  s[a] = Math.imul(alo, blo);
}

export function i64Shl(s: Int32Array, a: number): void {
  const k = s[a + 2] & 63;
  const lo = s[a];
  const hi = s[a + HI];
  if (k === 0) return;
  if (k < 32) {
    s[a + HI] = (hi << k) | (lo >>> (32 - k));
    s[a] = lo << k;
  } else {
    s[a + HI] = lo << (k - 32);
    s[a] = 0;
  }
}

export function i64ShrS(s: Int32Array, a: number): void {
  const k = s[a + 2] & 63;
  const lo = s[a];
  const hi = s[a + HI];
  if (k === 0) return;
  if (k < 32) {
    s[a] = (lo >>> k) | (hi << (32 - k));
    s[a + HI] = hi >> k;
  } else {
    s[a] = hi >> (k - 32);
    s[a + HI] = hi >> 31;
  }
}

export function i64ShrU(s: Int32Array, a: number): void {
  const k = s[a + 2] & 63;
  const lo = s[a];
  const hi = s[a + HI];
  if (k === 0) return;
  if (k < 32) {
    s[a] = (lo >>> k) | (hi << (32 - k));
    s[a + HI] = hi >>> k;
  } else {
    s[a] = hi >>> (k - 32);
    s[a + HI] = 0;
  }
}

export function i64Rotl(s: Int32Array, a: number): void {
  let k = s[a + 2] & 63;
  let lo = s[a];
  let hi = s[a + HI];
  if (k >= 32) {
    const t = lo;
    lo = hi;
    hi = t;
    k -= 32;
  }
  if (k !== 0) {
    const nlo = (lo << k) | (hi >>> (32 - k));
    hi = (hi << k) | (lo >>> (32 - k));
    lo = nlo;
  }
  s[a] = lo;
  s[a + HI] = hi;
}

export function i64Rotr(s: Int32Array, a: number): void {
  s[a + 2] = (64 - (s[a + 2] & 63)) & 63;
  i64Rotl(s, a);
}

export function ctz32(x: number): number {
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

export function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** The i64 in slot `a` as a BigInt (signed or unsigned). */
export function i64ToBigInt(s: Int32Array, a: number, signed: boolean): bigint {
  const v = (BigInt(s[a + HI]) << 32n) | BigInt(s[a] >>> 0);
  return signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
}

export function bigIntToI64(s: Int32Array, a: number, v: bigint): void {
  s[a] = Number(BigInt.asIntN(32, v));
  s[a + HI] = Number(BigInt.asIntN(32, v >> 32n));
}

/** True when the i64 in slot `a` is a sign-extended int32 (the fast division path). */
function fitsI32(s: Int32Array, a: number): boolean {
  return s[a + HI] === s[a] >> 31;
}

const I64_MIN = -(2n ** 63n);

/** div_s / div_u / rem_s / rem_u; returns a trap code (0 when the result was written). */
export function i64DivRem(s: Int32Array, a: number, op: 'div_s' | 'div_u' | 'rem_s' | 'rem_u'): TrapCode {
  const b = a + 2;
  if (s[b] === 0 && s[b + HI] === 0) return TrapCode.DivideByZero;
  if (op === 'div_s' || op === 'rem_s') {
    if (fitsI32(s, a) && fitsI32(s, b)) {
      const x = s[a];
      const y = s[b];
      const r = op === 'div_s' ? Math.trunc(x / y) : x % y; // exact: |x|,|y| < 2^31
      s[a] = r | 0;
      s[a + HI] = r < 0 ? -1 : 0; // r = 2^31 only for -2^31 / -1, whose high word is 0
      return TrapCode.None;
    }
    const x = i64ToBigInt(s, a, true);
    const y = i64ToBigInt(s, b, true);
    if (op === 'div_s' && x === I64_MIN && y === -1n) return TrapCode.IntegerOverflow;
    bigIntToI64(s, a, op === 'div_s' ? x / y : x % y);
    return TrapCode.None;
  }
  if (s[a + HI] === 0 && s[b + HI] === 0) {
    const x = s[a] >>> 0;
    const y = s[b] >>> 0;
    s[a] = (op === 'div_u' ? Math.floor(x / y) : x % y) | 0;
    return TrapCode.None;
  }
  const x = i64ToBigInt(s, a, false);
  const y = i64ToBigInt(s, b, false);
  bigIntToI64(s, a, op === 'div_u' ? x / y : x % y);
  return TrapCode.None;
}

/** The i64 in slot `a` as a double, rounded once (exact below 2^53). */
export function i64ToF64(s: Int32Array, a: number, signed: boolean): number {
  const hi = signed ? s[a + HI] : s[a + HI] >>> 0;
  return hi * 4294967296 + (s[a] >>> 0);
}

/**
 * The i64 in slot `a` rounded once to f32. Going through f64 first would round twice, so
 * above 2^53 the bits that f64 would drop are folded into one sticky bit (round to odd),
 * which leaves the final f32 rounding unchanged.
 */
export function i64ToF32(s: Int32Array, a: number, signed: boolean): number {
  let lo = s[a] >>> 0;
  let hi = s[a + HI] >>> 0;
  let negative = false;
  if (signed && hi >= 0x80000000) {
    negative = true; // magnitude = two's complement negation
    lo = (~lo + 1) >>> 0;
    hi = (~hi + (lo === 0 ? 1 : 0)) >>> 0;
  }
  if (hi >= 0x200000) {
    const sticky = (lo & 0x7ff) !== 0 ? 0x800 : 0;
    lo = ((lo & ~0xfff) | (lo & 0x800) | sticky) >>> 0;
  }
  const magnitude = Math.fround(hi * 4294967296 + lo);
  return negative ? -magnitude : magnitude;
}

/** Writes trunc(x) (already range-checked, |x| < 2^64) as an i64 into slot `a`. */
export function truncToI64(s: Int32Array, a: number, x: number): void {
  const t = Math.trunc(x);
  const hi = Math.floor(t / 4294967296);
  s[a] = (t - hi * 4294967296) | 0;
  s[a + HI] = hi | 0;
}
