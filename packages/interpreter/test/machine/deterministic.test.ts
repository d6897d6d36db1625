/**
 * Deterministic NaNs (Machine option `deterministic`): every NaN that float arithmetic
 * produces has the canonical bits (7fc00000 / 7ff8000000000000) whatever the host and the
 * inputs' NaN bits, bit operations still keep payloads, and the mode travels in snapshots.
 */
import { Machine } from '@mvvm/interpreter';
import type { ExactValue } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

const CANON32 = 0x7fc00000;
const CANON64 = 0x7ff8000000000000n;
/** NaNs with the sign set and a payload: what an x86 host computes, and more. */
const NEG_NAN64 = 0xfff8000000000123n;
const NEG_NAN32 = 0xffc00123;

const MODULE = `
(module
  (func (export "f64_div") (param f64 f64) (result f64) (f64.div (local.get 0) (local.get 1)))
  (func (export "f64_add") (param f64 f64) (result f64) (f64.add (local.get 0) (local.get 1)))
  (func (export "f64_sub") (param f64 f64) (result f64) (f64.sub (local.get 0) (local.get 1)))
  (func (export "f64_mul") (param f64 f64) (result f64) (f64.mul (local.get 0) (local.get 1)))
  (func (export "f64_min") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
  (func (export "f64_max") (param f64 f64) (result f64) (f64.max (local.get 0) (local.get 1)))
  (func (export "f64_sqrt") (param f64) (result f64) (f64.sqrt (local.get 0)))
  (func (export "f64_ceil") (param f64) (result f64) (f64.ceil (local.get 0)))
  (func (export "f64_floor") (param f64) (result f64) (f64.floor (local.get 0)))
  (func (export "f64_trunc") (param f64) (result f64) (f64.trunc (local.get 0)))
  (func (export "f64_nearest") (param f64) (result f64) (f64.nearest (local.get 0)))
  (func (export "f64_promote") (param f32) (result f64) (f64.promote_f32 (local.get 0)))
  (func (export "f64_neg") (param f64) (result f64) (f64.neg (local.get 0)))
  (func (export "f32_div") (param f32 f32) (result f32) (f32.div (local.get 0) (local.get 1)))
  (func (export "f32_add") (param f32 f32) (result f32) (f32.add (local.get 0) (local.get 1)))
  (func (export "f32_sub") (param f32 f32) (result f32) (f32.sub (local.get 0) (local.get 1)))
  (func (export "f32_mul") (param f32 f32) (result f32) (f32.mul (local.get 0) (local.get 1)))
  (func (export "f32_min") (param f32 f32) (result f32) (f32.min (local.get 0) (local.get 1)))
  (func (export "f32_max") (param f32 f32) (result f32) (f32.max (local.get 0) (local.get 1)))
  (func (export "f32_sqrt") (param f32) (result f32) (f32.sqrt (local.get 0)))
  (func (export "f32_ceil") (param f32) (result f32) (f32.ceil (local.get 0)))
  (func (export "f32_floor") (param f32) (result f32) (f32.floor (local.get 0)))
  (func (export "f32_trunc") (param f32) (result f32) (f32.trunc (local.get 0)))
  (func (export "f32_nearest") (param f32) (result f32) (f32.nearest (local.get 0)))
  (func (export "f32_demote") (param f64) (result f32) (f32.demote_f64 (local.get 0)))
  (func (export "f32_abs") (param f32) (result f32) (f32.abs (local.get 0)))
  ;; a loop of float work that ends on a NaN, for the snapshot test: sum of 1/(i - k) ... then 0/0
  (func (export "walk") (param $n i32) (result f64) (local $x f64)
    (loop $l
      (local.set $x (f64.add (local.get $x) (f64.div (f64.const 1) (f64.convert_i32_s (local.get $n)))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $l (i32.gt_s (local.get $n) (i32.const 0))))
    (f64.mul (local.get $x) (f64.div (f64.const 0) (f64.const 0)))))`;

const f64 = (bits: bigint): ExactValue => ({ type: 'f64', bits });
const f32 = (bits: number): ExactValue => ({ type: 'f32', bits });
const f64n = (x: number): ExactValue => f64(new BigUint64Array(new Float64Array([x]).buffer)[0]);
const f32n = (x: number): ExactValue => f32(new Uint32Array(new Float32Array([x]).buffer)[0]);

/** [export, args]: each produces a NaN, from non-NaN inputs or from NaN inputs with sign and payload. */
const F64_CASES: [string, ExactValue[]][] = [
  ['f64_div', [f64n(0), f64n(0)]],
  ['f64_div', [f64(NEG_NAN64), f64n(2)]],
  ['f64_add', [f64n(Infinity), f64n(-Infinity)]],
  ['f64_add', [f64n(1), f64(NEG_NAN64)]],
  ['f64_sub', [f64n(Infinity), f64n(Infinity)]],
  ['f64_mul', [f64n(0), f64n(Infinity)]],
  ['f64_min', [f64(NEG_NAN64), f64n(1)]],
  ['f64_max', [f64n(1), f64(NEG_NAN64)]],
  ['f64_sqrt', [f64n(-1)]],
  ['f64_ceil', [f64(NEG_NAN64)]],
  ['f64_floor', [f64(NEG_NAN64)]],
  ['f64_trunc', [f64(NEG_NAN64)]],
  ['f64_nearest', [f64(NEG_NAN64)]],
  ['f64_promote', [f32(NEG_NAN32)]],
];
const F32_CASES: [string, ExactValue[]][] = [
  ['f32_div', [f32n(0), f32n(0)]],
  ['f32_add', [f32n(Infinity), f32n(-Infinity)]],
  ['f32_add', [f32(NEG_NAN32), f32n(1)]],
  ['f32_sub', [f32n(-Infinity), f32n(-Infinity)]],
  ['f32_mul', [f32(NEG_NAN32), f32n(3)]],
  ['f32_min', [f32n(1), f32(NEG_NAN32)]],
  ['f32_max', [f32(NEG_NAN32), f32n(1)]],
  ['f32_sqrt', [f32n(-4)]],
  ['f32_ceil', [f32(NEG_NAN32)]],
  ['f32_floor', [f32(NEG_NAN32)]],
  ['f32_trunc', [f32(NEG_NAN32)]],
  ['f32_nearest', [f32(NEG_NAN32)]],
  ['f32_demote', [f64(NEG_NAN64)]],
];

test('in deterministic mode every NaN from float arithmetic is the canonical NaN', async () => {
  const m = await Machine.instantiate(await wat(MODULE), {}, { deterministic: true });
  for (const [name, args] of F64_CASES) expect([name, m.invokeExact(name, args)]).toEqual([name, [f64(CANON64)]]);
  for (const [name, args] of F32_CASES) expect([name, m.invokeExact(name, args)]).toEqual([name, [f32(CANON32)]]);
  // Results that are not NaN are untouched.
  expect(m.invokeExact('f64_div', [f64n(1), f64n(4)])).toEqual([f64n(0.25)]);
  expect(m.invokeExact('f32_sqrt', [f32n(9)])).toEqual([f32n(3)]);
  expect(m.invokeExact('f64_nearest', [f64n(2.5)])).toEqual([f64n(2)]);
  expect(m.invokeExact('f32_demote', [f64n(1.5)])).toEqual([f32n(1.5)]);
  // Bit operations are not arithmetic: they keep sign and payload, as the spec says.
  expect(m.invokeExact('f64_neg', [f64(CANON64)])).toEqual([f64(0xfff8000000000000n)]);
  expect(m.invokeExact('f32_abs', [f32(NEG_NAN32)])).toEqual([f32(0x7fc00123)]);
});

test('off (the default), NaNs are what this host computes: the sign V8 gives here', async () => {
  const bytes = await wat(MODULE);
  const m = await Machine.instantiate(bytes);
  const v8 = new WebAssembly.Instance(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>)).exports as unknown as Record<string, (a: number, b: number) => number>;
  const host = new BigUint64Array(new Float64Array([v8.f64_div(0, 0)]).buffer)[0];
  expect(m.invokeExact('f64_div', [f64n(0), f64n(0)])).toEqual([f64(host)]);
  // Same module, deterministic: canonical whatever this host gives.
  const d = await Machine.instantiate(bytes, {}, { deterministic: true });
  expect(d.invokeExact('f64_div', [f64n(0), f64n(0)])).toEqual([f64(CANON64)]);
});

test('the mode is in the snapshot: a restored machine stays deterministic, and counts the same', async () => {
  const bytes = await wat(MODULE);
  const plain = await Machine.instantiate(bytes);
  plain.begin('walk', [200]);
  plain.step(Infinity);
  const total = plain.instructionCount;

  const m = await Machine.instantiate(bytes, {}, { deterministic: true });
  m.begin('walk', [200]);
  m.step(Math.floor(total / 2));
  const state = m.snapshot();
  expect(state.deterministic).toBe(true);
  const restored = await Machine.restore(bytes, structuredClone(state)); // no option: the state's mode
  const r = restored.step(Infinity);
  expect(r.done).toBe(true);
  expect(restored.instructionCount).toBe(total); // same instructions, same count
  expect(r.results).toEqual([NaN]);
  // walk's result is x * (0/0): canonical in this mode.
  expect(restored.invokeExact('walk', [{ type: 'i32', bits: 5 }])).toEqual([f64(CANON64)]);
  expect(restored.invokeExact('f64_div', [f64n(0), f64n(0)])).toEqual([f64(CANON64)]);

  // A state from a machine without the mode restores without it, unless asked.
  const off = await Machine.restore(bytes, plain.snapshot());
  expect(off.snapshot().deterministic).toBe(false);
  const on = await Machine.restore(bytes, plain.snapshot(), {}, { deterministic: true });
  expect(on.invokeExact('f64_div', [f64n(0), f64n(0)])).toEqual([f64(CANON64)]);
});

test('a compiled module keeps the mode it was compiled with', async () => {
  const bytes = await wat(MODULE);
  const compiled = Machine.compile(bytes, { deterministic: true });
  const m = await Machine.instantiate(compiled);
  expect(m.invokeExact('f32_div', [f32n(0), f32n(0)])).toEqual([f32(CANON32)]);
  await expect(Machine.instantiate(compiled, {}, { deterministic: false })).rejects.toThrow(/compiled with deterministic NaNs/);
});
