import { ExhaustionError, Machine, Suspend, Trap, hostFunction } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

const TRAPS = `
(module
  (type $v (func))
  (type $i (func (param i32)))
  (memory 1)
  (table 3 funcref)
  (elem (i32.const 0) $nop)
  (func $nop)
  (func (export "unreachable") unreachable)
  (func (export "div0") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "rem0_i64") (result i64) (i64.rem_u (i64.const 1) (i64.const 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "overflow_i64") (result i64) (i64.div_s (i64.const 0x8000000000000000) (i64.const -1)))
  (func (export "nan_to_int") (result i32) (i32.trunc_f64_s (f64.const nan)))
  (func (export "big_to_int") (result i64) (i64.trunc_f32_u (f32.const 1e30)))
  (func (export "oob_load") (result i32) (i32.load (i32.const 65534)))
  (func (export "oob_store") (i64.store offset=0xffff (i32.const 0) (i64.const 1)))
  (func (export "oob_fill") (memory.fill (i32.const 65000) (i32.const 0) (i32.const 1000)))
  (func (export "oob_table") (drop (table.get 0 (i32.const 3))))
  (func (export "undefined_element") (call_indirect (type $v) (i32.const 7)))
  (func (export "uninitialized_element") (call_indirect (type $v) (i32.const 1)))
  (func (export "type_mismatch") (call_indirect (type $i) (i32.const 5) (i32.const 0)))
  (func $rec (export "recurse") (param i32) (result i32)
    (i32.add (i32.const 1) (call $rec (local.get 0))))
)`;

describe('every trap kind is a typed Trap with the spec wording', () => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.instantiate(await wat(TRAPS), {}, { limits: { maxCallDepth: 500 } });
  });

  test.each([
    ['unreachable', 'unreachable'],
    ['div0', 'integer divide by zero'],
    ['rem0_i64', 'integer divide by zero'],
    ['overflow', 'integer overflow'],
    ['overflow_i64', 'integer overflow'],
    ['nan_to_int', 'invalid conversion to integer'],
    ['big_to_int', 'integer overflow'],
    ['oob_load', 'out of bounds memory access'],
    ['oob_store', 'out of bounds memory access'],
    ['oob_fill', 'out of bounds memory access'],
    ['oob_table', 'out of bounds table access'],
    ['undefined_element', 'undefined element 7'],
    ['uninitialized_element', 'uninitialized element 1'],
    ['type_mismatch', 'indirect call type mismatch'],
  ])('%s', (name, message) => {
    let caught: unknown;
    try {
      m.invoke(name, []);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(Trap);
    expect((caught as Error).message).toBe(message);
    // The machine is usable again after a trap.
    expect(() => m.invoke('div0', [])).toThrow(Trap);
  });

  test('deep recursion traps at the configured depth, never as a JS RangeError', () => {
    const before = m.instructionCount;
    expect(() => m.invoke('recurse', [0])).toThrow(ExhaustionError);
    expect(() => m.invoke('recurse', [0])).toThrow('call stack exhausted');
    // ~500 frames of 5 instructions each: the limit, not the JS stack, stopped it.
    expect(m.instructionCount - before).toBeLessThan(2 * 500 * 10);
  });

  test('a much deeper limit still does not touch the JS call stack', async () => {
    const deep = await Machine.instantiate(await wat(TRAPS), {}, { limits: { maxCallDepth: 200_000, stackSlots: 1 << 22 } });
    expect(() => deep.invoke('recurse', [0])).toThrow(ExhaustionError);
  });
});

describe('host functions', () => {
  const CALLER = `
  (module
    (import "env" "add" (func $add (param i32 i64) (result i64)))
    (import "env" "wait" (func $wait (result i32)))
    (import "env" "fail" (func $fail))
    (memory (export "memory") 1)
    (func (export "sum") (result i64) (call $add (i32.const 40) (i64.const 2)))
    (func (export "waits") (result i32) (i32.add (call $wait) (call $wait)))
    (func (export "fails") (call $fail))
    (func (export "poke") (i32.store (i32.const 16) (i32.const 0x01020304))))`;

  test('receive JS values, return results, see the caller memory', async () => {
    let seen: number[] = [];
    const imports = {
      env: {
        add: hostFunction({ params: ['i32', 'i64'], results: ['i64'] }, (args, ctx) => {
          seen = Array.from(ctx.memory!.u8.subarray(16, 20));
          return [BigInt(args[0] as number) + (args[1] as bigint)];
        }),
        wait: hostFunction({ params: [], results: ['i32'] }, () => [1]),
        fail: hostFunction({ params: [], results: [] }, () => {
          throw new Error('host says no');
        }),
      },
    };
    const m = await Machine.instantiate(await wat(CALLER), imports);
    m.invoke('poke', []);
    expect(m.invoke('sum', [])).toEqual([42n]);
    expect(seen).toEqual([4, 3, 2, 1]); // little-endian, whatever the host
    expect(() => m.invoke('fails', [])).toThrow('host says no');
  });

  test('a host function can suspend the machine; it resumes by retrying the call', async () => {
    let ready = false;
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const bytes = await wat(CALLER);
    const imports = {
      env: {
        add: hostFunction({ params: ['i32', 'i64'], results: ['i64'] }, () => [0n]),
        wait: hostFunction({ params: [], results: ['i32'] }, () => {
          calls++;
          if (!ready) return new Suspend(gate);
          return [20];
        }),
        fail: hostFunction({ params: [], results: [] }, () => []),
      },
    };
    const m = await Machine.instantiate(bytes, imports);
    m.begin('waits', []);
    const r = m.step(Infinity);
    expect(r.suspended).toBe(true);
    expect(r.until).toBe(gate);
    const countAtSuspend = m.instructionCount;

    // A snapshot taken while suspended restores to "about to call" and completes there too.
    const restored = await Machine.restore(bytes, structuredClone(m.snapshot()), {
      env: { ...imports.env, wait: hostFunction({ params: [], results: ['i32'] }, () => [20]) },
    });
    expect(restored.step(Infinity).results).toEqual([40]);

    const finished = m.run();
    ready = true;
    release();
    expect(await finished).toEqual([40]);
    // suspended by step(), suspended again by run()'s first slice (not ready yet), then two completed calls
    expect(calls).toBe(4);
    expect(m.instructionCount).toBe(restored.instructionCount);
    expect(m.instructionCount).toBeGreaterThan(countAtSuspend);
  });
});
