/**
 * The JS tier (src/execution/js-tier.ts) changes nothing but speed: under `eager` (every
 * function compiled) and `auto` (hot ones) results, memory, instruction counts, the exact
 * pc of every stop, traps, host calls and suspension, breakpoints and call-depth exhaustion
 * are those of the interpreter, and a snapshot taken under one tier finishes under another.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExhaustionError, Machine, Suspend, Tier, Trap, WasmError, hostFunction } from '../../src';
import { HOT_THRESHOLD } from '../../src/execution/js-tier';
import { LO } from '../../src/execution/layout';
import type { CompiledFunction } from '../../src/translation/translator';
import { wat } from '../helpers/wat';

const kernel = (name: string) => readFileSync(join(__dirname, '../../../../bench/kernels', `${name}.wasm`));

// Kernels of the benchmark at small sizes: i64 hashing, f64 (sqrt, div), sorting with
// calls, a br_table interpreter, recursion, indirect calls.
const KERNELS: [string, number][] = [['hash64', 1], ['mandelbrot', 10], ['nbody', 30], ['sort', 200], ['vm', 150], ['fib', 12], ['dispatch', 3]];

interface Outcome {
  results: unknown[];
  count: number;
  memory: Uint8Array;
}

async function runWith(bytes: Uint8Array, tier: Tier, args: unknown[]): Promise<Outcome & { m: Machine }> {
  const m = await Machine.instantiate(bytes, {}, { tier });
  const results = m.invoke('run', args);
  return { m, results, count: m.instructionCount, memory: m.memory!.u8.slice() };
}

function compiledFunctions(m: Machine): number {
  return m.instance.compiled.functions.filter((f) => f.jit !== null).length;
}

describe.each(KERNELS)('kernel %s(%d)', (name, n) => {
  let bytes: Uint8Array;
  let reference: Outcome;
  beforeAll(async () => {
    bytes = kernel(name);
    reference = await runWith(bytes, 'interpreter', [n]);
  });

  test.each(['eager', 'auto'] as Tier[])('under %s: same results, memory and instruction count', async (tier) => {
    const out = await runWith(bytes, tier, [n]);
    expect(out.results).toEqual(reference.results);
    expect(out.count).toBe(reference.count);
    expect(Buffer.compare(out.memory, reference.memory)).toBe(0);
    if (tier === 'eager') expect(compiledFunctions(out.m)).toBeGreaterThan(0);
  });

  test.each([
    ['eager', 'interpreter'],
    ['interpreter', 'eager'],
    ['eager', 'eager'],
  ] as [Tier, Tier][])('snapshot every k-th instruction under %s, restore under %s: finishes identically', async (from, to) => {
    const k = Math.floor(reference.count / 23) | 1;
    let points = 0;
    for (let at = 1; at < reference.count; at += k) {
      const m = await Machine.instantiate(bytes, {}, { tier: from });
      m.begin('run', [n]);
      expect(m.step(at).done).toBe(false);
      expect(m.instructionCount).toBe(at);
      const restored = await Machine.restore(bytes, structuredClone(m.snapshot()), {}, { tier: to });
      const r = restored.step(Infinity);
      expect(r.results).toEqual(reference.results);
      expect(restored.instructionCount).toBe(reference.count);
      expect(Buffer.compare(restored.memory!.u8, reference.memory)).toBe(0);
      points++;
    }
    expect(points).toBeGreaterThanOrEqual(20);
  });
});

// A loop at the function's first instruction (its header is pc 0: a resumption there is
// not a call, the locals come from the frame) with a call inside (the callee's declared
// locals start at zero although its frame's slots held the caller's old values).
const LOOP_AT_0 = `(module
  (func $f (param $x i32) (result i32) (local $t i32) (local $d f64)
    (local.set $t (i32.add (local.get $t) (local.get $x)))
    (local.set $d (f64.add (local.get $d) (f64.const 1.5)))
    (i32.add (local.get $t) (i32.trunc_f64_s (local.get $d))))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (call $f (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s)))`;

// Forward branches inside a loop (if/else, br_table, a call in one arm): structured code
// checks the budget once per region (at the loop header, after the call) and only counts
// at the branches in between, so stops must still land where the interpreter's do.
const BRANCHY_LOOP = `(module
  (func $g (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (if (i32.and (local.get $i) (i32.const 1))
        (then (local.set $s (i32.add (local.get $s) (local.get $i))))
        (else (local.set $s (i32.xor (local.get $s) (i32.const 7)))))
      (block $b2 (block $b1 (block $b0
        (br_table $b0 $b1 $b2 (i32.rem_u (local.get $i) (i32.const 3))))
        (local.set $s (i32.add (local.get $s) (call $g (local.get $i))))
        (br $b2))
        (local.set $s (i32.sub (local.get $s) (i32.const 1))))
      (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $n))))
    (local.get $s)))`;

test.each([
  ['hash64', 1, () => kernel('hash64')],
  ['sort', 60, () => kernel('sort')],
  ['a loop with forward branches and a call', 600, () => wat(BRANCHY_LOOP)],
  ['fib', 15, () => kernel('fib')],
  ['vm', 20, () => kernel('vm')],
  ['a loop at pc 0', 800, () => wat(LOOP_AT_0)],
] as [string, number, () => Uint8Array | Promise<Uint8Array>][])('step(k) stops compiled code (%s) at exactly the pc, sp and frame of the interpreter', async (_name, n, load) => {
  const bytes = await load();
  const a = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
  const b = await Machine.instantiate(bytes, {}, { tier: 'eager' });
  a.begin('run', [n]);
  b.begin('run', [n]);
  let steps = 0;
  for (;;) {
    const k = 1 + (steps % 17) * 13; // strides that land everywhere inside segments
    const ra = a.step(k);
    const rb = b.step(k);
    expect(rb.done).toBe(ra.done);
    expect(b.instructionCount).toBe(a.instructionCount);
    const [ta, tb] = [a.thread, b.thread];
    expect([tb.pc, tb.sp, tb.fp, tb.frameTop]).toEqual([ta.pc, ta.sp, ta.fp, ta.frameTop]);
    steps++;
    if (ra.done) {
      expect(rb.results).toEqual(ra.results);
      break;
    }
    if (steps % 50 === 0) {
      // The frames below sp are the same plain data.
      expect(Buffer.compare(Buffer.from(tb.s32.buffer, 0, tb.sp * 4), Buffer.from(ta.s32.buffer, 0, ta.sp * 4))).toBe(0);
    }
  }
  expect(steps).toBeGreaterThan(100);
  // The structured version (labelled loops, resumable at loop headers) is what runs.
  expect(b.instance.compiled.functions.filter((f) => f.jit?.name === 'jit').length).toBeGreaterThan(0);
});

const TRAPPING = `(module (memory 1)
  (func (export "div") (param $n i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.div_s (i32.const 1000) (i32.sub (local.get $n) (local.get $i)))))
      (i32.store (i32.shl (local.get $i) (i32.const 2)) (local.get $s))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (local.get $s))
  (func (export "oob") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (i64.store (local.get $i) (i64.extend_i32_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (local.get $n)))
      (br $l))
    (i32.const 0))
  ;; i64 accesses straddling the end of memory: the low word would fit, the high word not
  ;; (nothing may be written, the stack must hold the address still).
  (func (export "straddle_store") (param $i i32) (result i64) (local $s i64)
    (loop $l
      (local.set $s (i64.add (local.get $s) (i64.load (local.get $i))))
      (i64.store offset=8 (local.get $i) (i64.extend_i32_u (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (local.get $s))
  (func (export "straddle_load") (param $i i32) (result i64) (local $s i64)
    (loop $l
      (i64.store (local.get $i) (i64.const 0x0102030405060708))
      (local.set $s (i64.add (local.get $s) (i64.load offset=9 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l))
    (local.get $s))
  (func $down (param i32) (result i32) (call $down (i32.add (local.get 0) (i32.const 1))))
  (func (export "deep") (result i32) (call $down (i32.const 0))))`;

/** Invokes fn, which must trap with `message`: the error and the machine's state after it. */
function trapOutcome(m: Machine, fn: string, args: unknown[], message: string) {
  let error: unknown;
  try {
    m.invoke(fn, args);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(Trap);
  expect((error as Error).message).toContain(message);
  const th = m.thread;
  return {
    message: (error as Error).message, count: m.instructionCount, detail: th.trapDetail,
    registers: [th.pc, th.sp, th.fp, th.frameTop], stack: Array.from(th.s32.subarray(0, th.sp)),
  };
}

test.each([
  ['div', [3000], 'integer divide by zero'],
  ['oob', [7], 'out of bounds memory access'],
  ['straddle_store', [65536 - 4000], 'out of bounds memory access'],
  ['straddle_load', [65536 - 4000], 'out of bounds memory access'],
])('a trap in compiled code (%s) is the interpreter\'s: message, count, memory', async (fn, args, message) => {
  const bytes = await wat(TRAPPING);
  const outcomes = [];
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier });
    outcomes.push({ ...trapOutcome(m, fn, args, message), memory: m.memory!.u8.slice(), dirty: Array.from(m.memory!.dirty) });
  }
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[0].count).toBeGreaterThan(10000);
  expect(outcomes[0].stack.length).toBeGreaterThan(2);
});

test('unbounded recursion under eager is an ExhaustionError at the configured depth', async () => {
  const bytes = await wat(TRAPPING);
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier, limits: { maxCallDepth: 500 } });
    expect(() => m.invoke('deep')).toThrow(ExhaustionError);
    expect(m.thread.depth).toBe(500);
  }
});

// Compiled code calls compiled code on the JavaScript stack (arguments of all kinds as
// parameters, an i64 result): a recursion 100,000 deep finishes as in the interpreter, and
// the configured depth limit is an ExhaustionError at exactly that depth (never the
// engine's own RangeError).
const DEEP = `(module
  (func $sum (param $n i32) (param $acc i64) (param $f f64) (result i64)
    (if (result i64) (i32.eqz (local.get $n))
      (then (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $f))))
      (else (i64.add (i64.const 1)
        (call $sum (i32.sub (local.get $n) (i32.const 1)) (i64.add (local.get $acc) (i64.const 0x100000003)) (f64.add (local.get $f) (f64.const 0.5)))))))
  (func (export "run") (param i32) (result i64) (call $sum (local.get 0) (i64.const 0) (f64.const 0))))`;

test('deep recursion in compiled code: results as the interpreter, ExhaustionError at the configured depth', async () => {
  const bytes = await wat(DEEP);
  const outcomes = [];
  for (const tier of ['interpreter', 'eager', 'auto'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier, limits: { maxCallDepth: 120000, stackSlots: 1 << 21 } });
    outcomes.push({ results: m.invoke('run', [100000]), count: m.instructionCount });
    // both functions compiled, with the entry compiled callers call
    if (tier === 'eager') expect(m.instance.compiled.functions.map((f) => f.fast !== null)).toEqual([true, true]);
    const limited = await Machine.instantiate(bytes, {}, { tier, limits: { maxCallDepth: 50000, stackSlots: 1 << 21 } });
    expect(() => limited.invoke('run', [100000])).toThrow(ExhaustionError);
    expect(limited.thread.depth).toBe(50000);
  }
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[2]).toEqual(outcomes[0]);
  expect(outcomes[0].count).toBeGreaterThan(100000);
});

// Compiled stores mark a page once per run of stores into it (the last page marked is
// remembered): pages alternate, and one store straddles two pages.
const PAGES = `(module (memory (export "memory") 8)
  (func (export "run") (param $n i32) (local $i i32) (local $a i32)
    (loop $l
      (local.set $a (select (i32.const 327780) (i32.const 131172) (i32.and (local.get $i) (i32.const 1))))
      (if (i32.eq (local.get $i) (i32.const 6)) (then (local.set $a (i32.const 262142))))
      (i32.store (local.get $a) (local.get $i))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))))`;

test('dirty pages of compiled stores are the interpreter\'s', async () => {
  const bytes = await wat(PAGES);
  const pages = [];
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier });
    m.invoke('run', [2]); // compiles the loop under eager
    m.memory!.clearDirty();
    m.invoke('run', [9]);
    pages.push(m.memory!.dirtyPages());
  }
  expect(pages[1]).toEqual(pages[0]);
  expect(pages[0]).toEqual(expect.arrayContaining([2, 3, 4, 5])); // 262142: pages 3 and 4
});

test('host calls from a compiled loop: suspension, callbacks into wasm and dirty pages as in the interpreter', async () => {
  const bytes = await wat(`(module
    (import "env" "tick" (func $tick (param i32) (result i32)))
    (memory (export "memory") 4)
    (func (export "sq") (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
    (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $tick (local.get $i))))
        (i32.store8 (i32.mul (local.get $i) (i32.const 97)) (local.get $s))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $s)))`);
  const outcomes = [];
  for (const tier of ['interpreter', 'eager', 'auto'] as Tier[]) {
    let m: Machine;
    let suspensions = 0;
    const suspended = new Set<number>();
    const tick = hostFunction({ params: ['i32'], results: ['i32'] }, ([i]) => {
      if ((i as number) % 100 === 7 && !suspended.has(i as number)) {
        suspended.add(i as number);
        suspensions++;
        return new Suspend(Promise.resolve());
      }
      return [(m.invoke('sq', [i]) as number[])[0] & 0xff];
    });
    m = await Machine.instantiate(bytes, { env: { tick } }, { tier });
    m.begin('run', [2000]);
    const slices: number[] = [];
    const results = await m.run({ sliceInstructions: 3001, onSlice: (mm) => void slices.push(mm.instructionCount) });
    outcomes.push({ results, suspensions, count: m.instructionCount, slices, memory: m.memory!.u8.slice(), dirty: Array.from(m.memory!.dirty) });
  }
  expect(outcomes[0].suspensions).toBe(20);
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[2]).toEqual(outcomes[0]);
});

const BREAK_CALLEE = `(module
    (func $f (param i32) (result i32) (i32.xor (local.get 0) (i32.const 0x55)))
    (func (export "run") (param $n i32) (result i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 37)))
          (then (local.set $s (call $f (local.get $s)))))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (local.get $s)))`;

test.each([
  ['set before the callee is compiled', false],
  ['set once the callee is compiled (its callers would call it directly)', true],
])('breakpoints stop compiled callers at the callee\'s first instruction, as the interpreter does: %s', async (_name, compiledFirst) => {
  const bytes = await wat(BREAK_CALLEE);
  const stops: unknown[] = [];
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier });
    if (compiledFirst) {
      m.invoke('run', [100]);
      if (tier === 'eager') expect(m.instance.compiled.functions.map((f) => f.fast !== null)).toEqual([true, true]);
    }
    m.breakOnEntry(0);
    m.begin('run', [5000]);
    const at: number[] = [];
    let r = m.step(Infinity);
    for (; !r.done; r = m.step(Infinity)) {
      expect(r.breakpoint).toBe(true);
      at.push(m.instructionCount, m.thread.pc, m.thread.funcAddr);
    }
    stops.push([at, r.results]);
  }
  expect((stops[0] as number[][])[0].length).toBe(3 * 135);
  expect(stops[1]).toEqual(stops[0]);
});

test('auto compiles a function once it is hot, not before', async () => {
  const bytes = await wat(`(module
    (func $cold (result i32) (i32.const 1))
    (func (export "loop") (param $n i32) (result i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (local.get $n)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (i32.add (local.get $s) (call $cold))))`);
  const m = await Machine.instantiate(bytes, {}, { tier: 'auto' });
  const [cold, hot] = m.instance.compiled.functions;
  expect(m.invoke('loop', [HOT_THRESHOLD / 2])).toEqual([(HOT_THRESHOLD / 2) * (HOT_THRESHOLD / 2 + 1) / 2 + 1]);
  expect(hot.jit).toBeNull();
  expect(m.invoke('loop', [HOT_THRESHOLD * 2])).toEqual([((HOT_THRESHOLD * 2) * (HOT_THRESHOLD * 2 + 1) / 2 + 1) | 0]);
  expect(hot.jit).not.toBeNull();
  expect(cold.jit).toBeNull();
  const off = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
  off.invoke('loop', [HOT_THRESHOLD * 2]);
  expect(off.instance.compiled.functions[1].jit).toBeNull();
});

test('an unknown tier is refused', async () => {
  const bytes = await wat('(module)');
  await expect(Machine.instantiate(bytes, {}, { tier: 'fast' as Tier })).rejects.toThrow(WasmError);
});

// call_indirect from compiled code: iteration i calls table slot i & 3 (four functions of
// type $op, arguments of every kind; $d branches), except slot $last at iteration $at; at
// iteration $swap, table.set puts slot 2's function into slot 0. Slot 4 is null, 5 has
// another type ($wrong: "other" calls it, so that it is compiled too), 6 is a host
// function of type $op, the table has 10 slots.
const INDIRECT = `(module
  (type $op (func (param i32 i64 f64) (result i32)))
  (type $other (func (param i32) (result i32)))
  (import "env" "host" (func $host (type $op)))
  (table $t 10 funcref)
  (elem (i32.const 0) $a $b $c $d)
  (elem (i32.const 5) $wrong $host)
  (func $a (type $op) (i32.add (local.get 0) (i32.wrap_i64 (local.get 1))))
  (func $b (type $op) (i32.add (i32.mul (local.get 0) (i32.const 3)) (i32.trunc_f64_s (local.get 2))))
  (func $c (type $op) (i32.xor (local.get 0) (i32.wrap_i64 (i64.shr_u (local.get 1) (i64.const 29)))))
  (func $d (type $op) (local $k i32)
    (loop $l
      (local.set 0 (i32.rotl (local.get 0) (i32.const 5)))
      (br_if $l (i32.lt_u (local.tee $k (i32.add (local.get $k) (i32.const 1))) (i32.const 3))))
    (local.get 0))
  (func $wrong (type $other) (local.get 0))
  (func (export "other") (param i32) (result i32) (call $wrong (local.get 0)))
  (func (export "run") (param $n i32) (param $at i32) (param $last i32) (param $swap i32) (result i32) (local $i i32) (local $s i32)
    (loop $l
      (if (i32.eq (local.get $i) (local.get $swap)) (then (table.set $t (i32.const 0) (table.get $t (i32.const 2)))))
      (local.set $s (call_indirect (type $op)
        (local.get $s)
        (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 0x100000001))
        (f64.convert_i32_s (local.get $i))
        (select (local.get $last) (i32.and (local.get $i) (i32.const 3)) (i32.eq (local.get $i) (local.get $at)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $s)))`;

const indirectImports = () => ({
  env: {
    host: hostFunction({ params: ['i32', 'i64', 'f64'], results: ['i32'] }, ([s, x, d]) => [
      ((s as number) * 7 + Number(BigInt.asIntN(32, x as bigint)) + (d as number)) | 0,
    ]),
  },
});

/** Counts the calls of the functions' compiled-callers entries (calls made by compiled code directly). */
function countFastCalls(functions: CompiledFunction[]): () => number {
  let calls = 0;
  for (const f of functions) {
    const fast = f.fast;
    if (fast === null) continue;
    f.fast = (...args: Parameters<NonNullable<typeof fast>>) => {
      calls++;
      return fast(...args);
    };
  }
  return () => calls;
}

/** Counts the calls of $a..$d's compiled-callers entry (call_indirect from compiled code made directly). */
function countDirectCalls(m: Machine): () => number {
  const callees = m.instance.compiled.functions.slice(0, 4);
  for (const f of callees) expect(f.fast).not.toBeNull();
  return countFastCalls(callees);
}

const lowWords = (s32: Int32Array, sp: number): number[] => Array.from(s32.subarray(0, sp)).filter((_, i) => (i & 1) === LO);

/**
 * Steps a (the interpreter) and b (compiled code) k instructions at a time to the end: at
 * every stop the same count, registers, frame records and values, then the same results.
 */
function expectSameSteps(a: Machine, b: Machine, k: number): void {
  for (;;) {
    const ra = a.step(k);
    const rb = b.step(k);
    expect(rb.done).toBe(ra.done);
    expect(b.instructionCount).toBe(a.instructionCount);
    const [ta, tb] = [a.thread, b.thread];
    expect([tb.pc, tb.sp, tb.fp, tb.frameTop, tb.funcAddr]).toEqual([ta.pc, ta.sp, ta.fp, ta.frameTop, ta.funcAddr]);
    expect(Array.from(tb.frames.subarray(0, tb.frameTop))).toEqual(Array.from(ta.frames.subarray(0, ta.frameTop)));
    // The values' low words (an i32 slot's high word is whatever was there before: a
    // compiled call's arguments never pass through the frame).
    expect(lowWords(tb.s32, tb.sp)).toEqual(lowWords(ta.s32, ta.sp));
    if (ra.done) {
      expect(rb.results).toEqual(ra.results);
      return;
    }
  }
}

describe('call_indirect in compiled code', () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    bytes = await wat(INDIRECT);
  });

  test('calls the table\'s compiled functions directly, with the interpreter\'s results and count', async () => {
    const reference = await Machine.instantiate(bytes, indirectImports(), { tier: 'interpreter' });
    const expected = reference.invoke('run', [20000, 10001, 6, -1]); // one call of the host function at 10001
    const m = await Machine.instantiate(bytes, indirectImports(), { tier: 'eager' });
    m.invoke('run', [8, -1, 0, -1]); // compiles run and $a..$d
    const before = m.instructionCount;
    const direct = countDirectCalls(m);
    expect(m.invoke('run', [20000, 10001, 6, -1])).toEqual(expected);
    expect(m.instructionCount - before).toBe(reference.instructionCount);
    // (nearly) every call went from compiled code to compiled code, not through the run loop
    expect(direct()).toBeGreaterThan(19000);
    expect(direct()).toBeLessThan(20000);
  });

  test('step(k) for every k from 1 to 60 stops at the interpreter\'s pc, sp, frames and stack words', async () => {
    for (let k = 1; k <= 60; k++) {
      const a = await Machine.instantiate(bytes, indirectImports(), { tier: 'interpreter' });
      const b = await Machine.instantiate(bytes, indirectImports(), { tier: 'eager' });
      a.begin('run', [48, 30, 6, 20]);
      b.begin('run', [48, 30, 6, 20]);
      expectSameSteps(a, b, k);
    }
  });

  test.each([
    ['a null slot', 4, 'uninitialized element'],
    ['another signature', 5, 'indirect call type mismatch'],
    ['an index past the end', 10, 'undefined element'],
    ['an index of 2^32 - 1', -1, 'undefined element'],
  ])('%s traps as in the interpreter: message, count, registers, stack', async (_name, slot, message) => {
    const outcomes = [];
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      const m = await Machine.instantiate(bytes, indirectImports(), { tier });
      expect(m.invoke('other', [5])).toEqual([5]);
      // $wrong compiled: what refuses it is the signature check
      if (tier === 'eager') expect(m.instance.compiled.functions[4].fast).not.toBeNull();
      outcomes.push(trapOutcome(m, 'run', [5000, 3001, slot, -1], message));
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[0].count).toBeGreaterThan(3000 * 10);
  });

  test('table.set changes the target mid-run: compiled code calls the new function', async () => {
    const results = [];
    for (const tier of ['interpreter', 'eager'] as Tier[]) {
      const m = await Machine.instantiate(bytes, indirectImports(), { tier });
      if (tier === 'eager') m.invoke('run', [8, -1, 0, -1]); // compiles everything, table unchanged
      const direct = tier === 'eager' ? countDirectCalls(m) : () => -1;
      const swapped = m.invoke('run', [4000, -1, 0, 2001]);
      const count = direct();
      // slot 0 now holds $c: every call through it went to $c
      const table = m.instance.tables[0];
      expect(table.elements[0]).toBe(table.elements[2]);
      results.push({ swapped, again: m.invoke('run', [4000, -1, 0, -1]) });
      if (tier === 'eager') expect(count).toBeGreaterThan(3900);
    }
    expect(results[1]).toEqual(results[0]);
    const plain = await Machine.instantiate(bytes, indirectImports(), { tier: 'interpreter' });
    expect(plain.invoke('run', [4000, -1, 0, -1])).not.toEqual(results[0].swapped); // the swap matters
  });

  test.each([
    ['eager', 'interpreter'],
    ['eager', 'eager'],
  ] as [Tier, Tier][])('a snapshot mid-run under %s, restored under %s, finishes identically', async (from, to) => {
    const args = [3000, 2500, 6, 1500];
    const reference = await Machine.instantiate(bytes, indirectImports(), { tier: 'interpreter' });
    const expected = reference.invoke('run', args);
    const total = reference.instructionCount;
    let points = 0;
    for (let at = 997; at < total; at += Math.floor(total / 13)) {
      const m = await Machine.instantiate(bytes, indirectImports(), { tier: from });
      m.begin('run', args);
      expect(m.step(at).done).toBe(false);
      expect(m.instructionCount).toBe(at);
      const restored = await Machine.restore(bytes, structuredClone(m.snapshot()), indirectImports(), { tier: to });
      expect(restored.step(Infinity).results).toEqual(expected);
      expect(restored.instructionCount).toBe(total);
      points++;
    }
    expect(points).toBeGreaterThanOrEqual(12);
  });
});

// Compiled callers pass an f64 as one double, an i32 or f32 as one word (its high word is
// dead), an i64 or a reference as two words; an i64 result's high word comes back beside the
// return value, several results through the frame. Every kind, both ways, direct and
// indirect: an i32 argument made by i32.wrap_i64 (whose slot still holds the i64's high word
// in the interpreter) that the callee extends, an i64 argument whose high word the callee
// returns, funcref arguments null and not.
const KINDS = `(module
  (type $narrowT (func (param i64) (result i32)))
  (table $t 3 funcref)
  (elem (i32.const 0) $mix $narrow $sq)
  (func $mix (param i32 i64 f32 f64) (result i64)
    (i64.add
      (i64.xor (i64.extend_i32_u (local.get 0)) (i64.rotl (local.get 1) (i64.const 13)))
      (i64.add (i64.extend_i32_u (i32.reinterpret_f32 (local.get 2))) (i64.reinterpret_f64 (local.get 3)))))
  (func $narrow (type $narrowT)
    (i32.xor (i32.wrap_i64 (i64.shr_u (local.get 0) (i64.const 32))) (i32.mul (i32.wrap_i64 (local.get 0)) (i32.const 3))))
  (func $half (param f32) (result f32) (f32.mul (local.get 0) (f32.const 0.5)))
  (func $sq (param f64) (result f64) (f64.mul (local.get 0) (local.get 0)))
  (func $split (param i64) (result i32 i64) (i32.wrap_i64 (local.get 0)) (i64.shr_s (local.get 0) (i64.const 7)))
  (func $ref (param funcref) (result funcref) (local.get 0))
  (func $ext (param i32) (result i64) (i64.extend_i32_u (local.get 0)))
  (func (export "run") (param $n i32) (result i64) (local $i i32) (local $acc i64) (local $x i64) (local $y i64)
    (loop $l
      (local.set $x (i64.mul (i64.extend_i32_u (i32.add (local.get $i) (i32.const 1))) (i64.const 0x9E3779B97F4A7C15)))
      (local.set $acc (i64.add (local.get $acc)
        (call $mix (local.get $i) (local.get $x) (call $half (f32.convert_i32_s (local.get $i))) (call $sq (f64.convert_i32_s (local.get $i))))))
      (local.set $acc (i64.xor (local.get $acc) (i64.extend_i32_u (call_indirect (type $narrowT) (local.get $x) (i32.const 1)))))
      (call $split (local.get $x))
      (local.set $y)
      (call $ext)
      (local.get $y)
      (i64.add)
      (local.get $acc)
      (i64.add)
      (local.set $acc)
      (local.set $acc (i64.add (local.get $acc) (call $ext (i32.wrap_i64 (local.get $x)))))
      (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (ref.is_null (call $ref
        (if (result funcref) (i32.and (local.get $i) (i32.const 1)) (then (ref.func $sq)) (else (ref.null func))))))))
      (local.set $acc (i64.rotl (local.get $acc) (i64.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $acc)))`;


describe('arguments and results of every kind between compiled functions', () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    bytes = await wat(KINDS);
  });

  test('results and counts as the interpreter, the calls made directly', async () => {
    const reference = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
    const expected = reference.invoke('run', [3000]);
    for (const tier of ['eager', 'auto'] as Tier[]) {
      const m = await Machine.instantiate(bytes, {}, { tier });
      m.invoke('run', [tier === 'eager' ? 4 : 1500]); // compiles them
      const before = m.instructionCount;
      const direct = countFastCalls(m.instance.compiled.functions);
      expect(m.invoke('run', [3000])).toEqual(expected);
      expect(m.instructionCount - before).toBe(reference.instructionCount);
      if (tier === 'eager') expect(m.instance.compiled.functions.map((f) => f.fast !== null)).toEqual([true, true, true, true, true, true, true, true]);
      // eight calls an iteration, all but those of the run loop's first entries direct
      expect(direct()).toBeGreaterThan(3000 * 8 * 0.9);
    }
  });

  test('step(k) stops at the interpreter\'s pc, sp, frames and stack words', async () => {
    for (const k of [1, 2, 3, 5, 7, 11, 13, 17, 29, 31, 64, 97]) {
      const a = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
      const b = await Machine.instantiate(bytes, {}, { tier: 'eager' });
      a.begin('run', [40]);
      b.begin('run', [40]);
      expectSameSteps(a, b, k);
    }
  });

  test('a snapshot mid-run under eager restores under the interpreter and finishes identically', async () => {
    const reference = await Machine.instantiate(bytes, {}, { tier: 'interpreter' });
    const expected = reference.invoke('run', [500]);
    const total = reference.instructionCount;
    for (let at = 501; at < total; at += Math.floor(total / 11)) {
      const m = await Machine.instantiate(bytes, {}, { tier: 'eager' });
      m.begin('run', [500]);
      expect(m.step(at).done).toBe(false);
      const restored = await Machine.restore(bytes, structuredClone(m.snapshot()), {}, { tier: 'interpreter' });
      expect(restored.step(Infinity).results).toEqual(expected);
      expect(restored.instructionCount).toBe(total);
    }
  });
});

test('a full value stack in compiled recursion is an ExhaustionError at the interpreter\'s depth and count', async () => {
  const bytes = await wat(DEEP);
  const outcomes = [];
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    // the stack, not the call depth, runs out
    const m = await Machine.instantiate(bytes, {}, { tier, limits: { maxCallDepth: 1 << 20, stackSlots: 30000 } });
    if (tier === 'eager') m.invoke('run', [3]); // compiles both
    const before = m.instructionCount;
    const direct = tier === 'eager' ? countFastCalls(m.instance.compiled.functions) : () => -1;
    expect(() => m.invoke('run', [100000])).toThrow(ExhaustionError);
    outcomes.push({ depth: m.thread.depth, count: m.instructionCount - before });
    if (tier === 'eager') expect(direct()).toBeGreaterThan(outcomes[0].depth / 2);
  }
  expect(outcomes[1]).toEqual(outcomes[0]);
  expect(outcomes[0].depth).toBeGreaterThan(1000);
  expect(outcomes[0].depth).toBeLessThan(30000);
});

test('a function with a frame too big for compiled callers is called by the run loop, same results', async () => {
  // 2100 i64 locals: a frame of more than 4096 words
  const bytes = await wat(`(module
    (func $big (param $x i32) (result i32) (local ${'i64 '.repeat(2100)})
      (local.set 2100 (i64.mul (i64.extend_i32_u (local.get $x)) (i64.const 0x100000001)))
      (i32.xor (i32.wrap_i64 (local.get 2100)) (i32.wrap_i64 (i64.shr_u (local.get 2100) (i64.const 29)))))
    (func (export "run") (param $n i32) (result i32) (local $i i32) (local $s i32)
      (loop $l
        (local.set $s (i32.add (local.get $s) (call $big (i32.add (local.get $i) (local.get $s)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
      (local.get $s)))`);
  const outcomes = [];
  for (const tier of ['interpreter', 'eager'] as Tier[]) {
    const m = await Machine.instantiate(bytes, {}, { tier });
    outcomes.push({ results: m.invoke('run', [300]), count: m.instructionCount });
    if (tier === 'eager') {
      const [big, run] = m.instance.compiled.functions;
      expect(big.frameWords).toBeGreaterThan(4096);
      expect([big.jit !== null, big.fast === null, run.fast !== null]).toEqual([true, true, true]);
    }
  }
  expect(outcomes[1]).toEqual(outcomes[0]);
});
