import { Machine, Trap, WasmError, hostFunction } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

// wasm -> host -> wasm -> host -> wasm ...: `sum(n)` asks the host for sum(n-1), which the
// host computes by calling back into the exported `sum`.
const CALLBACKS = `
(module
  (import "env" "viaHost" (func $viaHost (param i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "sum") (param $n i32) (result i64)
    (if (result i64) (i32.eqz (local.get $n))
      (then (i64.const 0))
      (else (i64.add (i64.extend_i32_u (local.get $n)) (call $viaHost (i32.sub (local.get $n) (i32.const 1)))))))
  (func (export "boom") (param i32) (result i64) unreachable))`;

describe('host functions calling back into wasm', () => {
  test('nest on the same stack and return the right results', async () => {
    let m!: Machine;
    let deepest = 0;
    const imports = {
      env: {
        viaHost: hostFunction({ params: ['i32'], results: ['i64'] }, ([n]) => {
          deepest = Math.max(deepest, m.thread.hostCallDepth);
          return m.invoke('sum', [n]);
        }),
      },
    };
    m = await Machine.instantiate(await wat(CALLBACKS), imports);
    expect(m.invoke('sum', [100])).toEqual([5050n]);
    expect(deepest).toBe(100);
    // The machine is idle and reusable afterwards, and its stack is back where it was.
    expect(m.thread.status).toBe('done');
    expect(m.thread.frameTop).toBe(0);
    expect(m.invoke('sum', [3])).toEqual([6n]);
  });

  test('a trap in the callback propagates through the host function as the Trap', async () => {
    let m!: Machine;
    const imports = {
      env: { viaHost: hostFunction({ params: ['i32'], results: ['i64'] }, ([n]) => m.invoke('boom', [n])) },
    };
    m = await Machine.instantiate(await wat(CALLBACKS), imports);
    expect(() => m.invoke('sum', [5])).toThrow(Trap);
    expect(() => m.invoke('sum', [5])).toThrow('unreachable');
    expect(m.invoke('sum', [0])).toEqual([0n]);
  });

  test('a snapshot cannot be taken from inside a host function', async () => {
    let m!: Machine;
    let error: unknown;
    const imports = {
      env: {
        viaHost: hostFunction({ params: ['i32'], results: ['i64'] }, () => {
          try {
            m.snapshot();
          } catch (e) {
            error = e;
          }
          return [0n];
        }),
      },
    };
    m = await Machine.instantiate(await wat(CALLBACKS), imports);
    m.invoke('sum', [1]);
    expect(error).toBeInstanceOf(WasmError);
    expect((error as Error).message).toMatch(/inside a host function/);
    expect(() => m.snapshot()).not.toThrow();
  });
});
