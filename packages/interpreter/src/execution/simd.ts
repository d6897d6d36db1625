/**
 * The fixed-width SIMD instructions (0xFD prefix), run out of the run loop's line: the loop
 * has one group of cases for the four internal opcodes that carry them (instructions.ts),
 * which calls `simdOp`. A v128 value takes two value slots, four words, lane bytes in
 * little-endian order (the words of a slot pair hold the vector's bytes 0..15 in memory
 * order on a little-endian host, which is what the state model records).
 *
 * Operands are copied into a scratch vector area, computed lane by lane there and copied
 * back: no allocation per instruction (i64 lanes go through a BigInt64Array view, which
 * allocates BigInts; they are the rare shape in vectorised code).
 */
import * as table from '../instructions';
import { ValType } from '../syntax/types';
import { nearest } from './numeric';
import type { MemoryInstance } from './runtime';

// Module-level copies: an imported binding (or const enum member) can compile to a getter
// call on every use, which costs more than the work here.
const { BY_OP, SIMD_OP, signatureTypes } = table;
const SIMD_CONST = table.SIMD_CONST;
const SIMD_IMM = table.SIMD_IMM;
const SIMD_INTERNAL = table.SIMD_INTERNAL;
const SIMD_MEM_LANE = table.SIMD_MEM_LANE;
const V128_GLOBAL_GET = table.V128Form.GlobalGet;
const V128_GLOBAL_SET = table.V128Form.GlobalSet;
const V128_SELECT = table.V128Form.Select;
const V128_DROP = table.V128Form.Drop;

// Scratch: operand A at bytes 0..15, B at 16..31, C at 32..47, the result R at 48..63.
const buf = new ArrayBuffer(64);
const i8 = new Int8Array(buf);
const u8 = new Uint8Array(buf);
const i16 = new Int16Array(buf);
const u16 = new Uint16Array(buf);
const i32 = new Int32Array(buf);
const u32 = new Uint32Array(buf);
const f32 = new Float32Array(buf);
const f64 = new Float64Array(buf);
const i64 = new BigInt64Array(buf);
const u64 = new BigUint64Array(buf);

/** Per sub-opcode: v128 operands (0..3), a scalar operand after them (0/1), a v128 result (1) or a scalar one (0). */
const NUM_V = new Uint8Array(0x208);
const HAS_SCALAR = new Uint8Array(0x208);
const RESULT_V = new Uint8Array(0x208);
for (let sub = 0; sub < 0x208; sub++) {
  const ins = BY_OP.get(SIMD_OP + sub);
  if (ins === undefined || ins.signature === null) continue;
  const [pops, pushes] = signatureTypes(ins);
  NUM_V[sub] = pops.filter((t) => t === ValType.V128).length;
  HAS_SCALAR[sub] = pops.some((t) => t !== ValType.V128) ? 1 : 0;
  RESULT_V[sub] = pushes.length === 1 && pushes[0] === ValType.V128 ? 1 : 0;
}

/** Math.floor & co. hand a signalling NaN back unchanged; wasm wants it quieted. */
const quiet = (x: number): number => (x === x ? x : NaN);
const sat = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);
const mask = (c: boolean): number => (c ? -1 : 0);

function truncSat(x: number, lo: number, hi: number): number {
  if (x !== x) return 0;
  if (x <= lo) return lo;
  if (x >= hi) return hi;
  return Math.trunc(x);
}

function popcnt8(x: number): number {
  let n = 0;
  for (; x !== 0; x &= x - 1) n++;
  return n;
}

// A scalar result's two words.
let rlo = 0;
let rhi = 0;

/**
 * Runs the SIMD instruction whose carrier opcode `op` is at pc - 1 (its sub-opcode at pc).
 * Returns the new stack pointer, or -1 for an out-of-bounds memory access.
 */
export function simdOp(op: number, code: Int32Array, pc: number, s: Int32Array, sp: number, mem: MemoryInstance | null, g32: Int32Array, gw: Int32Array): number {
  const sub = code[pc];
  if (sub >= SIMD_INTERNAL) return v128Form(sub, code[pc + 1], s, sp, g32, gw);
  if (op === SIMD_CONST && sub === 0x0c) {
    s[sp] = code[pc + 1];
    s[sp + 1] = code[pc + 2];
    s[sp + 2] = code[pc + 3];
    s[sp + 3] = code[pc + 4];
    return sp + 4;
  }
  // The commonest instructions of vectorised loops, straight on the stack's words.
  switch (sub) {
    case 0x00: { // v128.load
      const a = (s[sp - 2] >>> 0) + (code[pc + 1] >>> 0);
      if (a + 16 > mem!.byteLength) return -1;
      const v = mem!.view;
      s[sp - 2] = v.getInt32(a, true);
      s[sp - 1] = v.getInt32(a + 4, true);
      s[sp] = v.getInt32(a + 8, true);
      s[sp + 1] = v.getInt32(a + 12, true);
      return sp + 2;
    }
    case 0x0b: { // v128.store
      const a = (s[sp - 6] >>> 0) + (code[pc + 1] >>> 0);
      if (a + 16 > mem!.byteLength) return -1;
      const v = mem!.view;
      v.setInt32(a, s[sp - 4], true);
      v.setInt32(a + 4, s[sp - 3], true);
      v.setInt32(a + 8, s[sp - 2], true);
      v.setInt32(a + 12, s[sp - 1], true);
      mem!.dirty[a >>> 16] = 1;
      mem!.dirty[(a + 15) >>> 16] = 1;
      return sp - 6;
    }
    case 0x4e: s[sp - 8] &= s[sp - 4]; s[sp - 7] &= s[sp - 3]; s[sp - 6] &= s[sp - 2]; s[sp - 5] &= s[sp - 1]; return sp - 4; // v128.and
    case 0x50: s[sp - 8] |= s[sp - 4]; s[sp - 7] |= s[sp - 3]; s[sp - 6] |= s[sp - 2]; s[sp - 5] |= s[sp - 1]; return sp - 4; // v128.or
    case 0x51: s[sp - 8] ^= s[sp - 4]; s[sp - 7] ^= s[sp - 3]; s[sp - 6] ^= s[sp - 2]; s[sp - 5] ^= s[sp - 1]; return sp - 4; // v128.xor
    case 0xae: s[sp - 8] += s[sp - 4]; s[sp - 7] += s[sp - 3]; s[sp - 6] += s[sp - 2]; s[sp - 5] += s[sp - 1]; return sp - 4; // i32x4.add
    case 0xb1: s[sp - 8] -= s[sp - 4]; s[sp - 7] -= s[sp - 3]; s[sp - 6] -= s[sp - 2]; s[sp - 5] -= s[sp - 1]; return sp - 4; // i32x4.sub
    case 0xb5: // i32x4.mul
      s[sp - 8] = Math.imul(s[sp - 8], s[sp - 4]);
      s[sp - 7] = Math.imul(s[sp - 7], s[sp - 3]);
      s[sp - 6] = Math.imul(s[sp - 6], s[sp - 2]);
      s[sp - 5] = Math.imul(s[sp - 5], s[sp - 1]);
      return sp - 4;
    case 0x11: case 0x13: // i32x4.splat, f32x4.splat (the f32's bits)
      s[sp - 1] = s[sp] = s[sp + 1] = s[sp - 2];
      return sp + 2;
  }
  if (sub <= 0x0b || (sub >= 0x54 && sub <= 0x5d)) return memoryOp(op, sub, code, pc, s, sp, mem!);
  const nv = NUM_V[sub];
  const base = sp - 4 * nv - 2 * HAS_SCALAR[sub];
  for (let k = 0; k < 4 * nv; k++) i32[k] = s[base + k];
  const x = s[base + 4 * nv];
  const xh = s[base + 4 * nv + 1];
  const imm = op === SIMD_IMM ? code[pc + 1] : 0;
  compute(sub, x, xh, imm, code, pc);
  if (RESULT_V[sub] === 1) {
    s[base] = i32[12];
    s[base + 1] = i32[13];
    s[base + 2] = i32[14];
    s[base + 3] = i32[15];
    return base + 4;
  }
  s[base] = rlo;
  s[base + 1] = rhi;
  return base + 2;
}

/** The v128 forms of global.get/set, select and drop (local.get/set/tee are run loop cases). */
function v128Form(sub: number, imm: number, s: Int32Array, sp: number, g32: Int32Array, gw: Int32Array): number {
  switch (sub) {
    case V128_GLOBAL_GET: {
      const w = gw[imm];
      s[sp] = g32[w];
      s[sp + 1] = g32[w + 1];
      s[sp + 2] = g32[w + 2];
      s[sp + 3] = g32[w + 3];
      return sp + 4;
    }
    case V128_GLOBAL_SET: {
      const w = gw[imm];
      g32[w] = s[sp - 4];
      g32[w + 1] = s[sp - 3];
      g32[w + 2] = s[sp - 2];
      g32[w + 3] = s[sp - 1];
      return sp - 4;
    }
    case V128_SELECT:
      // [a b c] -> [c ? a : b]: a at sp-10, b at sp-6, c at sp-2
      if (s[sp - 2] === 0) s.copyWithin(sp - 10, sp - 6, sp - 2);
      return sp - 6;
    case V128_DROP:
      return sp - 4;
  }
  throw new Error(`internal error: unknown SIMD form 0x${sub.toString(16)}`);
}

function memoryOp(op: number, sub: number, code: Int32Array, pc: number, s: Int32Array, sp: number, mem: MemoryInstance): number {
  const m = mem.u8;
  const size = mem.byteLength;
  const offset = code[pc + 1] >>> 0;
  if (op === SIMD_MEM_LANE) {
    // [addr v] -> [v] (load lane) or [] (store lane)
    const lane = code[pc + 2];
    const n = 1 << (sub & 3); // 8 16 32 64 bits: sub 0x54.. and 0x58..
    const a = (s[sp - 6] >>> 0) + offset;
    if (a + n > size) return -1;
    for (let k = 0; k < 4; k++) i32[k] = s[sp - 4 + k];
    if (sub <= 0x57) {
      for (let k = 0; k < n; k++) u8[lane * n + k] = m[a + k];
      for (let k = 0; k < 4; k++) s[sp - 6 + k] = i32[k];
      return sp - 2;
    }
    for (let k = 0; k < n; k++) m[a + k] = u8[lane * n + k];
    mem.dirty[a >>> 16] = 1;
    mem.dirty[(a + n - 1) >>> 16] = 1;
    return sp - 6;
  }
  if (sub === 0x0b) {
    // v128.store: [addr v] -> []
    const a = (s[sp - 6] >>> 0) + offset;
    if (a + 16 > size) return -1;
    for (let k = 0; k < 4; k++) i32[k] = s[sp - 4 + k];
    for (let k = 0; k < 16; k++) m[a + k] = u8[k];
    mem.dirty[a >>> 16] = 1;
    mem.dirty[(a + 15) >>> 16] = 1;
    return sp - 6;
  }
  // Loads: [addr] -> [v]
  const n = sub === 0 ? 16 : sub <= 6 ? 8 : sub <= 0x0a ? 1 << (sub - 7) : sub === 0x5c ? 4 : 8;
  const a = (s[sp - 2] >>> 0) + offset;
  if (a + n > size) return -1;
  i32.fill(0, 0, 4);
  for (let k = 0; k < n; k++) u8[k] = m[a + k];
  switch (sub) {
    case 0x01: for (let k = 0; k < 8; k++) i16[24 + k] = i8[k]; break;
    case 0x02: for (let k = 0; k < 8; k++) i16[24 + k] = u8[k]; break;
    case 0x03: for (let k = 0; k < 4; k++) i32[12 + k] = i16[k]; break;
    case 0x04: for (let k = 0; k < 4; k++) i32[12 + k] = u16[k]; break;
    case 0x05: for (let k = 0; k < 2; k++) { i32[12 + 2 * k] = i32[k]; i32[13 + 2 * k] = i32[k] >> 31; } break;
    case 0x06: for (let k = 0; k < 2; k++) { i32[12 + 2 * k] = i32[k]; i32[13 + 2 * k] = 0; } break;
    case 0x07: for (let k = 0; k < 16; k++) u8[48 + k] = u8[0]; break;
    case 0x08: for (let k = 0; k < 8; k++) u16[24 + k] = u16[0]; break;
    case 0x09: for (let k = 0; k < 4; k++) i32[12 + k] = i32[0]; break;
    case 0x0a: for (let k = 0; k < 4; k++) i32[12 + k] = i32[k & 1]; break;
    default: for (let k = 0; k < 4; k++) i32[12 + k] = i32[k]; // v128.load, load32_zero, load64_zero
  }
  s[sp - 2] = i32[12];
  s[sp - 1] = i32[13];
  s[sp] = i32[14];
  s[sp + 1] = i32[15];
  return sp + 2;
}

/** Computes instruction `sub` on the scratch operands (A, B, C; scalar x, xh) into R or rlo/rhi. */
function compute(sub: number, x: number, xh: number, imm: number, code: Int32Array, pc: number): void {
  let k = 0;
  switch (sub) {
    case 0x0d: // i8x16.shuffle
      for (k = 0; k < 16; k++) {
        const idx = (code[pc + 1 + (k >> 2)] >>> ((k & 3) * 8)) & 0xff;
        u8[48 + k] = u8[idx]; // A's bytes are 0..15, B's 16..31
      }
      return;
    case 0x0e: for (k = 0; k < 16; k++) u8[48 + k] = u8[16 + k] < 16 ? u8[u8[16 + k]] : 0; return; // swizzle
    case 0x0f: for (k = 0; k < 16; k++) i8[48 + k] = x; return;
    case 0x10: for (k = 0; k < 8; k++) i16[24 + k] = x; return;
    case 0x11: case 0x13: for (k = 0; k < 4; k++) i32[12 + k] = x; return;
    case 0x12: case 0x14: for (k = 0; k < 4; k += 2) { i32[12 + k] = x; i32[13 + k] = xh; } return;
    case 0x15: rlo = i8[imm]; rhi = 0; return;
    case 0x16: rlo = u8[imm]; rhi = 0; return;
    case 0x17: copyA(); i8[48 + imm] = x; return;
    case 0x18: rlo = i16[imm]; rhi = 0; return;
    case 0x19: rlo = u16[imm]; rhi = 0; return;
    case 0x1a: copyA(); i16[24 + imm] = x; return;
    case 0x1b: case 0x1f: rlo = i32[imm]; rhi = 0; return;
    case 0x1c: case 0x20: copyA(); i32[12 + imm] = x; return;
    case 0x1d: case 0x21: rlo = i32[2 * imm]; rhi = i32[2 * imm + 1]; return;
    case 0x1e: case 0x22: copyA(); i32[12 + 2 * imm] = x; i32[13 + 2 * imm] = xh; return;
    // i8x16 comparisons
    case 0x23: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] === i8[16 + k]); return;
    case 0x24: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] !== i8[16 + k]); return;
    case 0x25: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] < i8[16 + k]); return;
    case 0x26: for (k = 0; k < 16; k++) i8[48 + k] = mask(u8[k] < u8[16 + k]); return;
    case 0x27: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] > i8[16 + k]); return;
    case 0x28: for (k = 0; k < 16; k++) i8[48 + k] = mask(u8[k] > u8[16 + k]); return;
    case 0x29: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] <= i8[16 + k]); return;
    case 0x2a: for (k = 0; k < 16; k++) i8[48 + k] = mask(u8[k] <= u8[16 + k]); return;
    case 0x2b: for (k = 0; k < 16; k++) i8[48 + k] = mask(i8[k] >= i8[16 + k]); return;
    case 0x2c: for (k = 0; k < 16; k++) i8[48 + k] = mask(u8[k] >= u8[16 + k]); return;
    // i16x8 comparisons
    case 0x2d: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] === i16[8 + k]); return;
    case 0x2e: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] !== i16[8 + k]); return;
    case 0x2f: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] < i16[8 + k]); return;
    case 0x30: for (k = 0; k < 8; k++) i16[24 + k] = mask(u16[k] < u16[8 + k]); return;
    case 0x31: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] > i16[8 + k]); return;
    case 0x32: for (k = 0; k < 8; k++) i16[24 + k] = mask(u16[k] > u16[8 + k]); return;
    case 0x33: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] <= i16[8 + k]); return;
    case 0x34: for (k = 0; k < 8; k++) i16[24 + k] = mask(u16[k] <= u16[8 + k]); return;
    case 0x35: for (k = 0; k < 8; k++) i16[24 + k] = mask(i16[k] >= i16[8 + k]); return;
    case 0x36: for (k = 0; k < 8; k++) i16[24 + k] = mask(u16[k] >= u16[8 + k]); return;
    // i32x4 comparisons
    case 0x37: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] === i32[4 + k]); return;
    case 0x38: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] !== i32[4 + k]); return;
    case 0x39: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] < i32[4 + k]); return;
    case 0x3a: for (k = 0; k < 4; k++) i32[12 + k] = mask(u32[k] < u32[4 + k]); return;
    case 0x3b: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] > i32[4 + k]); return;
    case 0x3c: for (k = 0; k < 4; k++) i32[12 + k] = mask(u32[k] > u32[4 + k]); return;
    case 0x3d: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] <= i32[4 + k]); return;
    case 0x3e: for (k = 0; k < 4; k++) i32[12 + k] = mask(u32[k] <= u32[4 + k]); return;
    case 0x3f: for (k = 0; k < 4; k++) i32[12 + k] = mask(i32[k] >= i32[4 + k]); return;
    case 0x40: for (k = 0; k < 4; k++) i32[12 + k] = mask(u32[k] >= u32[4 + k]); return;
    // f32x4 comparisons
    case 0x41: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] === f32[4 + k]); return;
    case 0x42: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] !== f32[4 + k]); return;
    case 0x43: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] < f32[4 + k]); return;
    case 0x44: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] > f32[4 + k]); return;
    case 0x45: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] <= f32[4 + k]); return;
    case 0x46: for (k = 0; k < 4; k++) i32[12 + k] = mask(f32[k] >= f32[4 + k]); return;
    // f64x2 comparisons
    case 0x47: for (k = 0; k < 2; k++) i64Mask(k, f64[k] === f64[2 + k]); return;
    case 0x48: for (k = 0; k < 2; k++) i64Mask(k, f64[k] !== f64[2 + k]); return;
    case 0x49: for (k = 0; k < 2; k++) i64Mask(k, f64[k] < f64[2 + k]); return;
    case 0x4a: for (k = 0; k < 2; k++) i64Mask(k, f64[k] > f64[2 + k]); return;
    case 0x4b: for (k = 0; k < 2; k++) i64Mask(k, f64[k] <= f64[2 + k]); return;
    case 0x4c: for (k = 0; k < 2; k++) i64Mask(k, f64[k] >= f64[2 + k]); return;
    // Bitwise
    case 0x4d: for (k = 0; k < 4; k++) i32[12 + k] = ~i32[k]; return;
    case 0x4e: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] & i32[4 + k]; return;
    case 0x4f: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] & ~i32[4 + k]; return;
    case 0x50: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] | i32[4 + k]; return;
    case 0x51: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] ^ i32[4 + k]; return;
    case 0x52: for (k = 0; k < 4; k++) i32[12 + k] = (i32[k] & i32[8 + k]) | (i32[4 + k] & ~i32[8 + k]); return;
    case 0x53: rlo = (i32[0] | i32[1] | i32[2] | i32[3]) !== 0 ? 1 : 0; rhi = 0; return;
    // Conversions between float shapes
    case 0x5e: f32[12] = f64[0]; f32[13] = f64[1]; i32[14] = 0; i32[15] = 0; return;
    case 0x5f: f64[6] = f32[0]; f64[7] = f32[1]; return;
    // i8x16
    case 0x60: for (k = 0; k < 16; k++) i8[48 + k] = i8[k] < 0 ? -i8[k] : i8[k]; return;
    case 0x61: for (k = 0; k < 16; k++) i8[48 + k] = -i8[k]; return;
    case 0x62: for (k = 0; k < 16; k++) u8[48 + k] = popcnt8(u8[k]); return;
    case 0x63: rlo = 1; for (k = 0; k < 16; k++) if (u8[k] === 0) rlo = 0; rhi = 0; return;
    case 0x64: rlo = 0; for (k = 0; k < 16; k++) rlo |= (u8[k] >>> 7) << k; rhi = 0; return;
    case 0x65: for (k = 0; k < 16; k++) i8[48 + k] = sat(i16[k], -128, 127); return;
    case 0x66: for (k = 0; k < 16; k++) u8[48 + k] = sat(i16[k], 0, 255); return;
    case 0x67: for (k = 0; k < 4; k++) f32[12 + k] = Math.ceil(f32[k]); return;
    case 0x68: for (k = 0; k < 4; k++) f32[12 + k] = Math.floor(f32[k]); return;
    case 0x69: for (k = 0; k < 4; k++) f32[12 + k] = Math.trunc(f32[k]); return;
    case 0x6a: for (k = 0; k < 4; k++) f32[12 + k] = nearest(f32[k]); return;
    case 0x6b: for (k = 0; k < 16; k++) i8[48 + k] = i8[k] << (x & 7); return;
    case 0x6c: for (k = 0; k < 16; k++) i8[48 + k] = i8[k] >> (x & 7); return;
    case 0x6d: for (k = 0; k < 16; k++) u8[48 + k] = u8[k] >>> (x & 7); return;
    case 0x6e: for (k = 0; k < 16; k++) i8[48 + k] = i8[k] + i8[16 + k]; return;
    case 0x6f: for (k = 0; k < 16; k++) i8[48 + k] = sat(i8[k] + i8[16 + k], -128, 127); return;
    case 0x70: for (k = 0; k < 16; k++) u8[48 + k] = sat(u8[k] + u8[16 + k], 0, 255); return;
    case 0x71: for (k = 0; k < 16; k++) i8[48 + k] = i8[k] - i8[16 + k]; return;
    case 0x72: for (k = 0; k < 16; k++) i8[48 + k] = sat(i8[k] - i8[16 + k], -128, 127); return;
    case 0x73: for (k = 0; k < 16; k++) u8[48 + k] = sat(u8[k] - u8[16 + k], 0, 255); return;
    case 0x74: for (k = 0; k < 2; k++) f64[6 + k] = quiet(Math.ceil(f64[k])); return;
    case 0x75: for (k = 0; k < 2; k++) f64[6 + k] = quiet(Math.floor(f64[k])); return;
    case 0x76: for (k = 0; k < 16; k++) i8[48 + k] = Math.min(i8[k], i8[16 + k]); return;
    case 0x77: for (k = 0; k < 16; k++) u8[48 + k] = Math.min(u8[k], u8[16 + k]); return;
    case 0x78: for (k = 0; k < 16; k++) i8[48 + k] = Math.max(i8[k], i8[16 + k]); return;
    case 0x79: for (k = 0; k < 16; k++) u8[48 + k] = Math.max(u8[k], u8[16 + k]); return;
    case 0x7a: for (k = 0; k < 2; k++) f64[6 + k] = quiet(Math.trunc(f64[k])); return;
    case 0x7b: for (k = 0; k < 16; k++) u8[48 + k] = (u8[k] + u8[16 + k] + 1) >>> 1; return;
    case 0x7c: for (k = 0; k < 8; k++) i16[24 + k] = i8[2 * k] + i8[2 * k + 1]; return;
    case 0x7d: for (k = 0; k < 8; k++) i16[24 + k] = u8[2 * k] + u8[2 * k + 1]; return;
    case 0x7e: for (k = 0; k < 4; k++) i32[12 + k] = i16[2 * k] + i16[2 * k + 1]; return;
    case 0x7f: for (k = 0; k < 4; k++) i32[12 + k] = u16[2 * k] + u16[2 * k + 1]; return;
    // i16x8
    case 0x80: for (k = 0; k < 8; k++) i16[24 + k] = i16[k] < 0 ? -i16[k] : i16[k]; return;
    case 0x81: for (k = 0; k < 8; k++) i16[24 + k] = -i16[k]; return;
    case 0x82: for (k = 0; k < 8; k++) i16[24 + k] = sat((i16[k] * i16[8 + k] + 0x4000) >> 15, -32768, 32767); return;
    case 0x83: rlo = 1; for (k = 0; k < 8; k++) if (u16[k] === 0) rlo = 0; rhi = 0; return;
    case 0x84: rlo = 0; for (k = 0; k < 8; k++) rlo |= (u16[k] >>> 15) << k; rhi = 0; return;
    case 0x85: for (k = 0; k < 8; k++) i16[24 + k] = sat(i32[k], -32768, 32767); return;
    case 0x86: for (k = 0; k < 8; k++) u16[24 + k] = sat(i32[k], 0, 65535); return;
    case 0x87: for (k = 0; k < 8; k++) i16[24 + k] = i8[k]; return;
    case 0x88: for (k = 0; k < 8; k++) i16[24 + k] = i8[8 + k]; return;
    case 0x89: for (k = 0; k < 8; k++) i16[24 + k] = u8[k]; return;
    case 0x8a: for (k = 0; k < 8; k++) i16[24 + k] = u8[8 + k]; return;
    case 0x8b: for (k = 0; k < 8; k++) i16[24 + k] = i16[k] << (x & 15); return;
    case 0x8c: for (k = 0; k < 8; k++) i16[24 + k] = i16[k] >> (x & 15); return;
    case 0x8d: for (k = 0; k < 8; k++) u16[24 + k] = u16[k] >>> (x & 15); return;
    case 0x8e: for (k = 0; k < 8; k++) i16[24 + k] = i16[k] + i16[8 + k]; return;
    case 0x8f: for (k = 0; k < 8; k++) i16[24 + k] = sat(i16[k] + i16[8 + k], -32768, 32767); return;
    case 0x90: for (k = 0; k < 8; k++) u16[24 + k] = sat(u16[k] + u16[8 + k], 0, 65535); return;
    case 0x91: for (k = 0; k < 8; k++) i16[24 + k] = i16[k] - i16[8 + k]; return;
    case 0x92: for (k = 0; k < 8; k++) i16[24 + k] = sat(i16[k] - i16[8 + k], -32768, 32767); return;
    case 0x93: for (k = 0; k < 8; k++) u16[24 + k] = sat(u16[k] - u16[8 + k], 0, 65535); return;
    case 0x94: for (k = 0; k < 2; k++) f64[6 + k] = quiet(nearest(f64[k])); return;
    case 0x95: for (k = 0; k < 8; k++) i16[24 + k] = Math.imul(i16[k], i16[8 + k]); return;
    case 0x96: for (k = 0; k < 8; k++) i16[24 + k] = Math.min(i16[k], i16[8 + k]); return;
    case 0x97: for (k = 0; k < 8; k++) u16[24 + k] = Math.min(u16[k], u16[8 + k]); return;
    case 0x98: for (k = 0; k < 8; k++) i16[24 + k] = Math.max(i16[k], i16[8 + k]); return;
    case 0x99: for (k = 0; k < 8; k++) u16[24 + k] = Math.max(u16[k], u16[8 + k]); return;
    case 0x9b: for (k = 0; k < 8; k++) u16[24 + k] = (u16[k] + u16[8 + k] + 1) >>> 1; return;
    case 0x9c: for (k = 0; k < 8; k++) i16[24 + k] = i8[k] * i8[16 + k]; return;
    case 0x9d: for (k = 0; k < 8; k++) i16[24 + k] = i8[8 + k] * i8[24 + k]; return;
    case 0x9e: for (k = 0; k < 8; k++) u16[24 + k] = u8[k] * u8[16 + k]; return;
    case 0x9f: for (k = 0; k < 8; k++) u16[24 + k] = u8[8 + k] * u8[24 + k]; return;
    // i32x4
    case 0xa0: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] < 0 ? -i32[k] : i32[k]; return;
    case 0xa1: for (k = 0; k < 4; k++) i32[12 + k] = -i32[k]; return;
    case 0xa3: rlo = 1; for (k = 0; k < 4; k++) if (i32[k] === 0) rlo = 0; rhi = 0; return;
    case 0xa4: rlo = 0; for (k = 0; k < 4; k++) rlo |= (u32[k] >>> 31) << k; rhi = 0; return;
    case 0xa7: for (k = 0; k < 4; k++) i32[12 + k] = i16[k]; return;
    case 0xa8: for (k = 0; k < 4; k++) i32[12 + k] = i16[4 + k]; return;
    case 0xa9: for (k = 0; k < 4; k++) i32[12 + k] = u16[k]; return;
    case 0xaa: for (k = 0; k < 4; k++) i32[12 + k] = u16[4 + k]; return;
    case 0xab: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] << x; return;
    case 0xac: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] >> x; return;
    case 0xad: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] >>> x; return;
    case 0xae: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] + i32[4 + k]; return;
    case 0xb1: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] - i32[4 + k]; return;
    case 0xb5: for (k = 0; k < 4; k++) i32[12 + k] = Math.imul(i32[k], i32[4 + k]); return;
    case 0xb6: for (k = 0; k < 4; k++) i32[12 + k] = Math.min(i32[k], i32[4 + k]); return;
    case 0xb7: for (k = 0; k < 4; k++) u32[12 + k] = Math.min(u32[k], u32[4 + k]); return;
    case 0xb8: for (k = 0; k < 4; k++) i32[12 + k] = Math.max(i32[k], i32[4 + k]); return;
    case 0xb9: for (k = 0; k < 4; k++) u32[12 + k] = Math.max(u32[k], u32[4 + k]); return;
    case 0xba: for (k = 0; k < 4; k++) i32[12 + k] = i16[2 * k] * i16[8 + 2 * k] + i16[2 * k + 1] * i16[9 + 2 * k]; return;
    case 0xbc: for (k = 0; k < 4; k++) i32[12 + k] = i16[k] * i16[8 + k]; return;
    case 0xbd: for (k = 0; k < 4; k++) i32[12 + k] = i16[4 + k] * i16[12 + k]; return;
    case 0xbe: for (k = 0; k < 4; k++) u32[12 + k] = u16[k] * u16[8 + k]; return;
    case 0xbf: for (k = 0; k < 4; k++) u32[12 + k] = u16[4 + k] * u16[12 + k]; return;
    // i64x2
    case 0xc0: for (k = 0; k < 2; k++) i64[6 + k] = i64[k] < 0n ? -i64[k] : i64[k]; return;
    case 0xc1: for (k = 0; k < 2; k++) i64[6 + k] = -i64[k]; return;
    case 0xc3: rlo = i64[0] !== 0n && i64[1] !== 0n ? 1 : 0; rhi = 0; return;
    case 0xc4: rlo = (u32[1] >>> 31) | ((u32[3] >>> 31) << 1); rhi = 0; return;
    case 0xc7: for (k = 0; k < 2; k++) i64[6 + k] = BigInt(i32[k]); return;
    case 0xc8: for (k = 0; k < 2; k++) i64[6 + k] = BigInt(i32[2 + k]); return;
    case 0xc9: for (k = 0; k < 2; k++) u64[6 + k] = BigInt(u32[k]); return;
    case 0xca: for (k = 0; k < 2; k++) u64[6 + k] = BigInt(u32[2 + k]); return;
    case 0xcb: case 0xcc: case 0xcd: for (k = 0; k < 2; k++) shift64(sub, k, x & 63); return;
    case 0xce: for (k = 0; k < 2; k++) add64(k, i32[4 + 2 * k], i32[5 + 2 * k]); return;
    case 0xd1: for (k = 0; k < 2; k++) add64(k, -i32[4 + 2 * k] | 0, ~i32[5 + 2 * k] + (i32[4 + 2 * k] === 0 ? 1 : 0)); return;
    case 0xd5: for (k = 0; k < 2; k++) i64[6 + k] = i64[k] * i64[2 + k]; return;
    case 0xd6: for (k = 0; k < 2; k++) i64Mask(k, i64[k] === i64[2 + k]); return;
    case 0xd7: for (k = 0; k < 2; k++) i64Mask(k, i64[k] !== i64[2 + k]); return;
    case 0xd8: for (k = 0; k < 2; k++) i64Mask(k, i64[k] < i64[2 + k]); return;
    case 0xd9: for (k = 0; k < 2; k++) i64Mask(k, i64[k] > i64[2 + k]); return;
    case 0xda: for (k = 0; k < 2; k++) i64Mask(k, i64[k] <= i64[2 + k]); return;
    case 0xdb: for (k = 0; k < 2; k++) i64Mask(k, i64[k] >= i64[2 + k]); return;
    case 0xdc: for (k = 0; k < 2; k++) i64[6 + k] = BigInt(i32[k]) * BigInt(i32[4 + k]); return;
    case 0xdd: for (k = 0; k < 2; k++) i64[6 + k] = BigInt(i32[2 + k]) * BigInt(i32[6 + k]); return;
    case 0xde: for (k = 0; k < 2; k++) u64[6 + k] = BigInt(u32[k]) * BigInt(u32[4 + k]); return;
    case 0xdf: for (k = 0; k < 2; k++) u64[6 + k] = BigInt(u32[2 + k]) * BigInt(u32[6 + k]); return;
    // f32x4 arithmetic (abs, neg, pmin, pmax move bits: NaN payloads stay exact)
    case 0xe0: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] & 0x7fffffff; return;
    case 0xe1: for (k = 0; k < 4; k++) i32[12 + k] = i32[k] ^ 0x80000000; return;
    case 0xe3: for (k = 0; k < 4; k++) f32[12 + k] = Math.sqrt(f32[k]); return;
    case 0xe4: for (k = 0; k < 4; k++) f32[12 + k] = f32[k] + f32[4 + k]; return;
    case 0xe5: for (k = 0; k < 4; k++) f32[12 + k] = f32[k] - f32[4 + k]; return;
    case 0xe6: for (k = 0; k < 4; k++) f32[12 + k] = f32[k] * f32[4 + k]; return;
    case 0xe7: for (k = 0; k < 4; k++) f32[12 + k] = f32[k] / f32[4 + k]; return;
    case 0xe8: for (k = 0; k < 4; k++) f32[12 + k] = Math.min(f32[k], f32[4 + k]); return;
    case 0xe9: for (k = 0; k < 4; k++) f32[12 + k] = Math.max(f32[k], f32[4 + k]); return;
    case 0xea: for (k = 0; k < 4; k++) i32[12 + k] = f32[4 + k] < f32[k] ? i32[4 + k] : i32[k]; return;
    case 0xeb: for (k = 0; k < 4; k++) i32[12 + k] = f32[k] < f32[4 + k] ? i32[4 + k] : i32[k]; return;
    // f64x2 arithmetic
    case 0xec: for (k = 0; k < 2; k++) { i32[12 + 2 * k] = i32[2 * k]; i32[13 + 2 * k] = i32[2 * k + 1] & 0x7fffffff; } return;
    case 0xed: for (k = 0; k < 2; k++) { i32[12 + 2 * k] = i32[2 * k]; i32[13 + 2 * k] = i32[2 * k + 1] ^ 0x80000000; } return;
    case 0xef: for (k = 0; k < 2; k++) f64[6 + k] = Math.sqrt(f64[k]); return;
    case 0xf0: for (k = 0; k < 2; k++) f64[6 + k] = f64[k] + f64[2 + k]; return;
    case 0xf1: for (k = 0; k < 2; k++) f64[6 + k] = f64[k] - f64[2 + k]; return;
    case 0xf2: for (k = 0; k < 2; k++) f64[6 + k] = f64[k] * f64[2 + k]; return;
    case 0xf3: for (k = 0; k < 2; k++) f64[6 + k] = f64[k] / f64[2 + k]; return;
    case 0xf4: for (k = 0; k < 2; k++) f64[6 + k] = Math.min(f64[k], f64[2 + k]); return;
    case 0xf5: for (k = 0; k < 2; k++) f64[6 + k] = Math.max(f64[k], f64[2 + k]); return;
    case 0xf6: for (k = 0; k < 2; k++) pick64(k, f64[2 + k] < f64[k]); return;
    case 0xf7: for (k = 0; k < 2; k++) pick64(k, f64[k] < f64[2 + k]); return;
    // Conversions
    case 0xf8: for (k = 0; k < 4; k++) i32[12 + k] = truncSat(f32[k], -2147483648, 2147483647); return;
    case 0xf9: for (k = 0; k < 4; k++) u32[12 + k] = truncSat(f32[k], 0, 4294967295); return;
    case 0xfa: for (k = 0; k < 4; k++) f32[12 + k] = i32[k]; return;
    case 0xfb: for (k = 0; k < 4; k++) f32[12 + k] = u32[k]; return;
    case 0xfc: for (k = 0; k < 2; k++) i32[12 + k] = truncSat(f64[k], -2147483648, 2147483647); i32[14] = 0; i32[15] = 0; return;
    case 0xfd: for (k = 0; k < 2; k++) u32[12 + k] = truncSat(f64[k], 0, 4294967295); i32[14] = 0; i32[15] = 0; return;
    case 0xfe: for (k = 0; k < 2; k++) f64[6 + k] = i32[k]; return;
    case 0xff: for (k = 0; k < 2; k++) f64[6 + k] = u32[k]; return;
  }
  throw new Error(`internal error: unknown SIMD instruction 0xfd ${sub}`);
}

/** 64-bit lane k of R = A's lane k + (lo, hi), in 32-bit words (no BigInt). */
function add64(k: number, lo: number, hi: number): void {
  const alo = i32[2 * k];
  const sum = (alo + lo) | 0;
  i32[12 + 2 * k] = sum;
  i32[13 + 2 * k] = (i32[2 * k + 1] + hi + ((sum >>> 0) < (alo >>> 0) ? 1 : 0)) | 0;
}

/** 64-bit lane k of R = A's lane k shifted by n (0..63): 0xcb shl, 0xcc shr_s, 0xcd shr_u. */
function shift64(sub: number, k: number, n: number): void {
  const lo = i32[2 * k];
  const hi = i32[2 * k + 1];
  let rl: number;
  let rh: number;
  if (n === 0) {
    rl = lo;
    rh = hi;
  } else if (sub === 0xcb) {
    if (n < 32) { rh = (hi << n) | (lo >>> (32 - n)); rl = lo << n; } else { rh = lo << (n - 32); rl = 0; }
  } else if (n < 32) {
    rl = (lo >>> n) | (hi << (32 - n));
    rh = sub === 0xcc ? hi >> n : hi >>> n;
  } else {
    rl = sub === 0xcc ? hi >> (n - 32) : hi >>> (n - 32);
    rh = sub === 0xcc ? hi >> 31 : 0;
  }
  i32[12 + 2 * k] = rl;
  i32[13 + 2 * k] = rh;
}

/** R = A, before one lane is replaced. */
function copyA(): void {
  for (let k = 0; k < 4; k++) i32[12 + k] = i32[k];
}

/** 64-bit lane k of R: all ones or zero. */
function i64Mask(k: number, c: boolean): void {
  i32[12 + 2 * k] = c ? -1 : 0;
  i32[13 + 2 * k] = c ? -1 : 0;
}

/** 64-bit lane k of R: B's when `b`, else A's (bits moved, not converted). */
function pick64(k: number, b: boolean): void {
  const from = b ? 4 + 2 * k : 2 * k;
  i32[12 + 2 * k] = i32[from];
  i32[13 + 2 * k] = i32[from + 1];
}
