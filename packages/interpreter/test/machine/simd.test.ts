/**
 * SIMD (v128, the 0xFD instructions) beyond the spec scripts: a C program auto-vectorised by
 * clang -O3 -msimd128 gives V8's result and memory, and survives a snapshot at many points
 * (v128 values on the stack, in locals and across calls); v128 globals, locals, params,
 * results, select, drop and branches that carry v128 values; the JS tier leaves SIMD
 * functions to the interpreter and still compiles their callers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, Tier, hostFunction } from '../../src';
import { disassemble } from '../../src/translation/disassemble';
import { assemble, loadWabt, WABT_FEATURES } from '../helpers/wat';

const program = (name: string) => readFileSync(join(__dirname, '../programs/simd', `${name}.wasm`));

const simdWat = async (text: string): Promise<Uint8Array> => assemble(await loadWabt(), text, { ...WABT_FEATURES, simd: true });

async function v8Run(bytes: Uint8Array, n: number): Promise<{ result: number; memory: Uint8Array }> {
  const instance = await WebAssembly.instantiate(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>), {});
  const result = (instance.exports.run as (n: number) => number)(n);
  return { result: result, memory: new Uint8Array((instance.exports.memory as WebAssembly.Memory).buffer).slice() };
}

describe.each(['simd', 'scalar'])('the C program built %s', (name) => {
  test('gives V8 its result and memory', async () => {
    const bytes = program(name);
    const v8 = await v8Run(bytes, 3);
    const m = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
    expect(m.invoke('run', [3])).toEqual([v8.result]);
    expect(Buffer.compare(m.memory!.u8, v8.memory)).toBe(0);
  });
});

function instructionNames(m: Machine): Set<string> {
  const code = m.instance.compiled.code;
  return new Set(disassemble(code.words, 0, code.length).map((i) => i.name));
}

test('the SIMD build runs vectorised code, the scalar build none', async () => {
  const simd = await Machine.instantiate(program('simd'), {});
  simd.invoke('run', [1]);
  const names = instructionNames(simd);
  for (const n of ['v128.load', 'v128.store', 'i8x16.shuffle', 'i32x4.add', 'i64x2.add', 'f32x4.mul', 'v128.bitselect']) expect(names).toContain(n);
  const scalar = await Machine.instantiate(program('scalar'), {});
  scalar.invoke('run', [1]);
  expect([...instructionNames(scalar)].filter((n) => /v128|x\d+\./.test(n))).toEqual([]);
  expect([...instructionNames(scalar)]).toContain('i32.add');
});

test('the SIMD program survives a snapshot at many points, restored under either tier', async () => {
  const bytes = program('simd');
  const ref = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
  const expected = ref.invoke('run', [2]);
  const total = ref.instructionCount;
  const k = Math.floor(total / 41) | 1;
  let points = 0;
  for (let at = 1; at < total; at += k) {
    const m = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
    m.begin('run', [2]);
    expect(m.step(at).done).toBe(false);
    const state = structuredClone(m.snapshot());
    const restored = await Machine.restore(bytes, state, {}, { tier: points % 2 === 0 ? 'interpreter' : 'eager' });
    const r = restored.step(Infinity);
    expect(r.results).toEqual(expected);
    expect(restored.instructionCount).toBe(total);
    expect(Buffer.compare(restored.memory!.u8, ref.memory!.u8)).toBe(0);
    points++;
  }
  expect(points).toBeGreaterThanOrEqual(40);
});

// v128 everywhere a value can be: globals (mutable, exported, initialised by v128.const),
// locals, params and results across calls, select, drop, block results, br_if and br_table
// that carry a v128 past other values, and a loop.
const PLUMBING = `
(module
  (memory 1)
  (global $g (mut v128) (v128.const i32x4 1 2 3 4))
  (global $k v128 (v128.const i64x2 0x1111111122222222 0x3333333344444444))
  (func $twice (param $a v128) (param $x i32) (param $b v128) (result v128 i32)
    (i32x4.add (local.get $a) (local.get $b))
    (i32.add (local.get $x) (local.get $x)))
  (func $pick (param $c i32) (result v128)
    (select (global.get $g) (global.get $k) (local.get $c)))
  (func $route (param $i i32) (result v128)
    (block $b2 (result v128)
      (block $b1 (result v128)
        (block $b0 (result v128)
          (i32.const 99) (drop)
          (v128.const i32x4 10 20 30 40)
          (local.get $i)
          (br_table $b0 $b1 $b2))
        (i32x4.mul (v128.const i32x4 2 2 2 2))
        (return))
      (i32x4.neg)
      (return)))
  (func (export "main") (param $n i32) (result v128 i32 v128)
    (local $acc v128) (local $i i32) (local $t i32)
    (loop $l
      (call $twice (global.get $g) (local.get $i) (v128.const i32x4 1 1 1 1))
      (local.set $t)
      (global.set $g)
      (local.set $acc (i32x4.add (local.get $acc) (call $pick (i32.and (local.get $i) (i32.const 1)))))
      (v128.store (i32.const 16) (local.get $acc))
      (drop (local.tee $acc (v128.xor (local.get $acc) (call $route (i32.rem_u (local.get $i) (i32.const 3))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)
    (i32.add (local.get $t) (i32.load (i32.const 20)))
    (global.get $g)))
`;

const PLUMBING_RUN = PLUMBING.replace(/\)\s*$/, `
  (export "memory" (memory 0))
  (func (export "run") (param $n i32) (result i32)
    (local $a v128) (local $t i32) (local $b v128)
    (call 3 (local.get $n))
    (local.set $b) (local.set $t) (local.set $a)
    (v128.store (i32.const 64) (local.get $a))
    (v128.store (i32.const 80) (local.get $b))
    (local.get $t)))`);

const bitsAt = (mem: Uint8Array, at: number): bigint => {
  let x = 0n;
  for (let i = 15; i >= 0; i--) x = (x << 8n) | BigInt(mem[at + i]);
  return x;
};

test('v128 in globals, locals, params, results, select, drop and branches: V8 agrees', async () => {
  const bytes = await simdWat(PLUMBING_RUN);
  const v8 = await v8Run(bytes, 25);
  const m = await Machine.instantiate(bytes, {});
  expect(m.invoke('run', [25])).toEqual([v8.result]);
  expect(Buffer.compare(m.memory!.u8, v8.memory)).toBe(0);
  const fresh = await Machine.instantiate(bytes, {});
  const [a, t, b] = fresh.invokeExact('main', [{ type: 'i32', bits: 25 }]);
  expect(a).toEqual({ type: 'v128', bits: bitsAt(v8.memory, 64) });
  expect(t).toEqual({ type: 'i32', bits: v8.result >>> 0 });
  expect(b).toEqual({ type: 'v128', bits: bitsAt(v8.memory, 80) });
  expect(bitsAt(v8.memory, 64)).not.toBe(0n);
});

test('a snapshot of a machine with v128 globals, locals and operands restores at every instruction', async () => {
  const bytes = await simdWat(PLUMBING_RUN);
  const ref = await Machine.instantiate(bytes, {});
  const expected = ref.invoke('run', [7]);
  const total = ref.instructionCount;
  for (let at = 1; at < total; at++) {
    const m = await Machine.instantiate(bytes, {});
    m.begin('run', [7]);
    m.step(at);
    const state = structuredClone(m.snapshot());
    expect(state.version).toBe(3);
    expect(state.globalsHigh?.length).toBe(state.globals.length);
    const restored = await Machine.restore(bytes, state, {});
    expect(restored.step(Infinity).results).toEqual(expected);
    expect(Buffer.compare(restored.memory!.u8, ref.memory!.u8)).toBe(0);
  }
  expect(total).toBeGreaterThan(300);
});

test('a state whose v128 globals lack their upper halves is refused', async () => {
  const bytes = await simdWat(PLUMBING_RUN);
  const m = await Machine.instantiate(bytes, {});
  m.begin('run', [3]);
  m.step(50);
  const state = m.snapshot();
  delete state.globalsHigh;
  await expect(Machine.restore(bytes, state, {})).rejects.toThrow(/v128 globals/);
});

// A scalar loop calls a SIMD function: the tier compiles the loop and leaves the SIMD
// function to the interpreter, with the same results and counts.
const MIXED = `
(module
  (memory (export "memory") 1)
  (func $vsum (param $p i32) (result i32)
    (local $v v128)
    (local.set $v (i32x4.add (v128.load (local.get $p)) (v128.load offset=16 (local.get $p))))
    (v128.store (local.get $p) (i32x4.mul (local.get $v) (v128.const i32x4 3 5 7 11)))
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
             (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))
  (func (export "run") (param $n i32) (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (i32.store (i32.and (i32.mul (local.get $i) (i32.const 4)) (i32.const 1023)) (local.get $i))
      (local.set $s (i32.add (local.get $s) (call $vsum (i32.and (i32.mul (local.get $i) (i32.const 16)) (i32.const 511)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s)))
`;

test.each(['eager', 'auto'] as Tier[])('the JS tier (%s) leaves SIMD functions to the interpreter and compiles their callers', async (tier) => {
  const bytes = await simdWat(MIXED);
  const v8 = await v8Run(bytes, 3000);
  const ref = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
  expect(ref.invoke('run', [3000])).toEqual([v8.result]);
  const m = await Machine.instantiate(bytes, {}, { tier });
  expect(m.invoke('run', [3000])).toEqual([v8.result]);
  expect(m.instructionCount).toBe(ref.instructionCount);
  expect(Buffer.compare(m.memory!.u8, v8.memory)).toBe(0);
  const [vsum, run] = m.instance.compiled.functions;
  expect(vsum.simd).toBe(true);
  expect(vsum.jit).toBeNull();
  expect(vsum.heat).toBe(-1); // the tier was asked and declined
  expect(run.simd).toBe(false);
  expect(run.jit).not.toBeNull();
});

test('step(k) with the tier on stops at the same pcs as the interpreter in SIMD code', async () => {
  const bytes = await simdWat(MIXED);
  const a = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
  const b = await Machine.instantiate(bytes, {}, { tier: 'eager' });
  a.begin('run', [200]);
  b.begin('run', [200]);
  for (let steps = 0; ; steps++) {
    const k = 1 + (steps % 13) * 7;
    const ra = a.step(k);
    const rb = b.step(k);
    expect([b.thread.pc, b.thread.sp, b.thread.fp, b.instructionCount]).toEqual([a.thread.pc, a.thread.sp, a.thread.fp, a.instructionCount]);
    if (ra.done) {
      expect(rb.results).toEqual(ra.results);
      break;
    }
  }
});

test('deterministic NaNs: SIMD float arithmetic gives the canonical NaN in every NaN lane', async () => {
  const bytes = await simdWat(`(module
    (func (export "f32") (param i32) (result v128)
      (f32x4.add (f32x4.splat (f32.reinterpret_i32 (local.get 0))) (v128.const f32x4 1 2 3 4)))
    (func (export "f64") (param i64) (result v128)
      (f64x2.mul (f64x2.splat (f64.reinterpret_i64 (local.get 0))) (v128.const f64x2 1 2)))
    (func (export "abs") (param i32) (result v128)
      (f32x4.abs (f32x4.splat (f32.reinterpret_i32 (local.get 0))))))`);
  const on = await Machine.instantiate(bytes, {}, { deterministic: true });
  const off = await Machine.instantiate(bytes, {});
  const lanes32 = (x: bigint) => [0, 1, 2, 3].map((k) => Number((x >> BigInt(32 * k)) & 0xffffffffn));
  const bits = (m: Machine, name: string, arg: unknown) => (m.invoke(name, [arg])[0] as bigint);
  // A NaN with the sign set and a payload: the host keeps its payload, the mode does not.
  expect(lanes32(bits(on, 'f32', 0xffc0_1234 | 0))).toEqual([0x7fc00000, 0x7fc00000, 0x7fc00000, 0x7fc00000]);
  const hostLanes = lanes32(bits(off, 'f32', 0xffc0_1234 | 0));
  for (const l of hostLanes) expect(l & 0x7fc00000).toBe(0x7fc00000); // a NaN all the same
  const f64 = bits(on, 'f64', -0x0007_edcb_a987_6543n); // 0xfff8123456789abd: a negative NaN with payload
  expect(f64).toBe((0x7ff8000000000000n << 64n) | 0x7ff8000000000000n);
  // Not arithmetic (abs moves bits): the payload stays, with the mode on too.
  expect(lanes32(bits(on, 'abs', 0xffc0_1234 | 0))).toEqual([0x7fc01234, 0x7fc01234, 0x7fc01234, 0x7fc01234]);
});

test('v128 crosses to the host and back as a bigint: params and results of imports and exports', async () => {
  const bytes = await simdWat(`(module
    (import "env" "swap" (func $swap (param i32 v128 f64) (result v128 i32)))
    (func (export "go") (param v128) (result v128 i32)
      (call $swap (i32.const 7) (i32x4.add (local.get 0) (v128.const i32x4 1 1 1 1)) (f64.const 2.5))))`);
  const seen: unknown[][] = [];
  const m = await Machine.instantiate(bytes, {
    env: {
      swap: hostFunction({ params: ['i32', 'v128', 'f64'], results: ['v128', 'i32'] }, (args) => {
        seen.push(args);
        return [(args[1] as bigint) << 32n, (args[0] as number) * 6];
      }),
    },
  });
  const x = 0x00000004_00000003_00000002_00000001n;
  const [v, i] = m.invoke('go', [x]) as [bigint, number];
  expect(seen).toEqual([[7, 0x00000005_00000004_00000003_00000002n, 2.5]]);
  expect(v).toBe(BigInt.asUintN(128, 0x00000005_00000004_00000003_00000002n << 32n));
  expect(i).toBe(42);
});

test('restore checks: an immutable v128 global changed in its upper half, upper halves where no v128 global is, a version-1 state with one', async () => {
  const bytes = await simdWat(PLUMBING_RUN);
  const m = await Machine.instantiate(bytes, {});
  m.begin('run', [3]);
  m.step(40);
  const good = m.snapshot();
  const tampered = structuredClone(good);
  tampered.globalsHigh![3] ^= 1; // $k (global 1, immutable): its upper slot's high word
  await expect(Machine.restore(bytes, tampered, {})).rejects.toThrow(/immutable global 1 differs from its initializer/);
  const v1 = structuredClone(good);
  v1.version = 1;
  await expect(Machine.restore(bytes, v1, {})).rejects.toThrow(/globalsHigh/);
  await expect(Machine.restore(bytes, structuredClone(good), {})).resolves.toBeDefined();

  const plain = program('scalar');
  const p = await Machine.instantiate(plain, {});
  p.begin('run', [1]);
  p.step(100);
  const state = p.snapshot();
  state.globalsHigh = new Int32Array(state.globals.length);
  await expect(Machine.restore(plain, state, {})).rejects.toThrow(/'globalsHigh' is present but the module has no v128 global/);
});
