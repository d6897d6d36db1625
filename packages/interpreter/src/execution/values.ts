import { WasmError } from '../errors';
import { ValType, valTypeName } from '../syntax/types';
import { HI, LO } from './layout';
import type { Store } from './store';

/**
 * Conversions between a value slot (a low word at `at` in an Int32Array laid out as
 * layout.ts says: the stack or the globals) and the two outside representations:
 * - JS values, as the WebAssembly JS API has them: i32/f32/f64 numbers, i64 bigint,
 *   references null, a FuncRef, or the host value itself for externref;
 * - ExactValue, which keeps every bit (NaN payloads included) for tests and tools.
 */

/** An opaque handle to a function of a store, as funcref values reach JavaScript. */
export class FuncRef {
  constructor(readonly store: Store, readonly addr: number) {}
}

export type ExactValue =
  | { type: 'i32'; bits: number }
  | { type: 'i64'; bits: bigint }
  | { type: 'f32'; bits: number }
  | { type: 'f64'; bits: bigint }
  | { type: 'funcref'; ref: FuncRef | null }
  | { type: 'externref'; ref: unknown }
  /** The 128 bits as an unsigned bigint, byte 0 (lane 0) lowest. */
  | { type: 'v128'; bits: bigint };

export type ValTypeName = 'i32' | 'i64' | 'f32' | 'f64' | 'v128' | 'funcref' | 'externref';

const NAME_TO_TYPE: Record<ValTypeName, ValType> = {
  i32: ValType.I32,
  i64: ValType.I64,
  f32: ValType.F32,
  f64: ValType.F64,
  v128: ValType.V128,
  funcref: ValType.FuncRef,
  externref: ValType.ExternRef,
};

export function parseValType(name: string): ValType {
  const t = NAME_TO_TYPE[name as ValTypeName];
  if (t === undefined) throw new WasmError(`unknown value type '${name}'`);
  return t;
}

// Scratch space for float <-> bits in host byte order.
const scratch = new ArrayBuffer(8);
const scratchI32 = new Int32Array(scratch);
const scratchF32 = new Float32Array(scratch);
const scratchF64 = new Float64Array(scratch);

function writeF64(words: Int32Array, at: number, v: number): void {
  scratchF64[0] = v;
  words[at] = scratchI32[LO];
  words[at + HI] = scratchI32[LO + HI];
}

function readF64(words: Int32Array, at: number): number {
  scratchI32[LO] = words[at];
  scratchI32[LO + HI] = words[at + HI];
  return scratchF64[0];
}

function writeF32(words: Int32Array, at: number, v: number): void {
  scratchF32[0] = v;
  words[at] = scratchI32[0];
}

function readF32(words: Int32Array, at: number): number {
  scratchI32[0] = words[at];
  return scratchF32[0];
}

/** Reads the slot as a JS value of type `t`. */
export function slotToJS(store: Store, words: Int32Array, at: number, t: ValType): unknown {
  switch (t) {
    case ValType.I32: return words[at];
    case ValType.I64: return BigInt.asIntN(64, (BigInt(words[at + HI]) << 32n) | BigInt(words[at] >>> 0));
    case ValType.F32: return readF32(words, at);
    case ValType.F64: return readF64(words, at);
    case ValType.FuncRef: return words[at] === 0 ? null : store.funcRef(words[at] - 1);
    case ValType.ExternRef: return words[at] === 0 ? null : store.externs[words[at] - 1];
    // The JS API has no v128 values: this runtime hands out the 128 bits as an unsigned bigint.
    case ValType.V128: return (slotToExact(store, words, at, t) as { bits: bigint }).bits;
  }
  throw new WasmError(`cannot convert a ${valTypeName(t)} value`);
}

/** Writes a JS value into the slot as type `t` (the JS API's ToWebAssemblyValue). */
export function jsToSlot(store: Store, words: Int32Array, at: number, t: ValType, v: unknown): void {
  words[at + HI] = 0;
  switch (t) {
    case ValType.I32:
      words[at] = Number(v) | 0;
      return;
    case ValType.I64: {
      if (typeof v !== 'bigint' && typeof v !== 'number') throw new TypeError(`i64 value must be a bigint, got ${typeof v}`);
      // The JS API's ToBigInt64 raises a TypeError for what is not a bigint; integer numbers are a convenience here.
      if (typeof v === 'number' && !Number.isInteger(v)) throw new TypeError(`i64 value must be a bigint or an integer, got ${v}`);
      const big = BigInt.asIntN(64, BigInt(v));
      words[at] = Number(BigInt.asIntN(32, big));
      words[at + HI] = Number(big >> 32n);
      return;
    }
    case ValType.F32: writeF32(words, at, Number(v)); return;
    case ValType.F64: writeF64(words, at, Number(v)); return;
    case ValType.FuncRef:
      if (v === null) words[at] = 0;
      else if (v instanceof FuncRef && v.store === store) words[at] = v.addr + 1;
      else throw new TypeError('funcref value must be null or a function of the same store');
      return;
    case ValType.ExternRef:
      words[at] = v === null ? 0 : store.internExtern(v) + 1;
      return;
    case ValType.V128:
      // As slotToJS hands it out: the 128 bits as a bigint (taken modulo 2^128).
      if (typeof v !== 'bigint') throw new TypeError(`v128 value must be a bigint, got ${typeof v}`);
      exactToSlot(store, words, at, t, { type: 'v128', bits: BigInt.asUintN(128, v) });
      return;
  }
  throw new WasmError(`cannot convert to a ${valTypeName(t)} value`);
}

export function slotToExact(store: Store, words: Int32Array, at: number, t: ValType): ExactValue {
  switch (t) {
    case ValType.I32: return { type: 'i32', bits: words[at] >>> 0 };
    case ValType.I64: return { type: 'i64', bits: (BigInt(words[at + HI] >>> 0) << 32n) | BigInt(words[at] >>> 0) };
    case ValType.F32: return { type: 'f32', bits: words[at] >>> 0 };
    case ValType.F64: return { type: 'f64', bits: (BigInt(words[at + HI] >>> 0) << 32n) | BigInt(words[at] >>> 0) };
    case ValType.FuncRef: return { type: 'funcref', ref: words[at] === 0 ? null : store.funcRef(words[at] - 1) };
    case ValType.ExternRef: return { type: 'externref', ref: words[at] === 0 ? null : store.externs[words[at] - 1] };
    case ValType.V128: {
      let bits = 0n;
      for (let i = 3; i >= 0; i--) bits = (bits << 32n) | BigInt(words[at + 2 * (i >> 1) + (i & 1) * HI] >>> 0);
      return { type: 'v128', bits };
    }
  }
  throw new WasmError(`cannot convert a ${valTypeName(t)} value`);
}

export function exactToSlot(store: Store, words: Int32Array, at: number, t: ValType, v: ExactValue): void {
  if (NAME_TO_TYPE[v.type] !== t) throw new TypeError(`expected a ${valTypeName(t)} value, got ${v.type}`);
  words[at + HI] = 0;
  switch (v.type) {
    case 'i32':
    case 'f32':
      words[at] = v.bits | 0;
      return;
    case 'i64':
    case 'f64':
      words[at] = Number(BigInt.asIntN(32, v.bits));
      words[at + HI] = Number(BigInt.asIntN(32, v.bits >> 32n));
      return;
    case 'funcref':
    case 'externref':
      jsToSlot(store, words, at, t, v.ref);
      return;
    case 'v128':
      for (let i = 0; i < 4; i++) words[at + 2 * (i >> 1) + (i & 1) * HI] = Number(BigInt.asIntN(32, v.bits >> BigInt(32 * i)));
      return;
  }
}
