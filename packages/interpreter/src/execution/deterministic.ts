import { HI as HI_WORD } from './layout';
import { nearest } from './numeric';

// A module-level copy: an imported binding can compile to a getter call on every use.
const HI = HI_WORD;

/**
 * Deterministic NaNs (Machine option `deterministic`): the run loop sends the renumbered
 * NaN-producing instructions (translation/opcodes.ts, DETERMINISTIC_OPCODE) here. Where
 * float arithmetic produces a NaN the spec lets its sign and payload vary (an "arithmetic
 * NaN") and hosts differ: x86 gives fff8..., arm64 and s390x 7ff8..., so a run migrated
 * between them could tell. Here every such result is the canonical NaN (7fc00000 /
 * 7ff8000000000000) on every host.
 */
/** Runs NaN-producing float instruction `op` on the stack top (sp), canonicalising a NaN result. Returns the new sp. */
export function deterministicFloat(op: number, s32: Int32Array, f32: Float32Array, f64: Float64Array, sp: number): number {
  if ((op >= 0x92 && op <= 0x97) || (op >= 0xa0 && op <= 0xa5)) sp -= 2; // binary: pops one
  const a = sp - 2; // the result's slot (low word), also the first operand's
  const b = sp; // a binary op's second operand
  const w = a >> 1; // the same slots as f64 indices
  switch (op) {
    case 0x8d: f32[a] = Math.ceil(f32[a]); break;
    case 0x8e: f32[a] = Math.floor(f32[a]); break;
    case 0x8f: f32[a] = Math.trunc(f32[a]); break;
    case 0x90: f32[a] = nearest(f32[a]); break;
    case 0x91: f32[a] = Math.sqrt(f32[a]); break;
    case 0x92: f32[a] += f32[b]; break;
    case 0x93: f32[a] -= f32[b]; break;
    case 0x94: f32[a] *= f32[b]; break;
    case 0x95: f32[a] /= f32[b]; break;
    case 0x96: f32[a] = Math.min(f32[a], f32[b]); break;
    case 0x97: f32[a] = Math.max(f32[a], f32[b]); break;
    case 0x9b: f64[w] = Math.ceil(f64[w]); break;
    case 0x9c: f64[w] = Math.floor(f64[w]); break;
    case 0x9d: f64[w] = Math.trunc(f64[w]); break;
    case 0x9e: f64[w] = nearest(f64[w]); break;
    case 0x9f: f64[w] = Math.sqrt(f64[w]); break;
    case 0xa0: f64[w] += f64[w + 1]; break;
    case 0xa1: f64[w] -= f64[w + 1]; break;
    case 0xa2: f64[w] *= f64[w + 1]; break;
    case 0xa3: f64[w] /= f64[w + 1]; break;
    case 0xa4: f64[w] = Math.min(f64[w], f64[w + 1]); break;
    case 0xa5: f64[w] = Math.max(f64[w], f64[w + 1]); break;
    case 0xb6: f32[a] = f64[w]; break;
    case 0xbb: f64[w] = f32[a]; break;
  }
  if ((op >= 0x9b && op <= 0xa5) || op === 0xbb) {
    if (f64[w] !== f64[w]) {
      s32[a] = 0;
      s32[a + HI] = 0x7ff80000;
    }
  } else if (f32[a] !== f32[a]) {
    s32[a] = 0x7fc00000;
  }
  return sp;
}

/** The SIMD float instructions (0xFD sub-opcodes) whose lanes may be arithmetic NaNs: f32x4 ones, f64x2 ones. */
export const SIMD_NAN_F32: ReadonlySet<number> = new Set([0x5e, 0x67, 0x68, 0x69, 0x6a, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9]);
export const SIMD_NAN_F64: ReadonlySet<number> = new Set([0x5f, 0x74, 0x75, 0x7a, 0x94, 0xef, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5]);

/**
 * Deterministic NaNs for SIMD: the v128 result of NaN-producing SIMD float instruction
 * `sub`, just computed at words [at, at + 4), gets the canonical NaN in every NaN lane.
 */
export function canonicalizeV128(sub: number, s32: Int32Array, at: number): void {
  if (SIMD_NAN_F32.has(sub)) {
    for (let k = 0; k < 4; k++) {
      const x = s32[at + k];
      if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) s32[at + k] = 0x7fc00000;
    }
  } else {
    for (let k = 0; k < 4; k += 2) {
      const hi = s32[at + k + 1];
      if ((hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) | s32[at + k]) !== 0) {
        s32[at + k] = 0;
        s32[at + k + 1] = 0x7ff80000;
      }
    }
  }
}
