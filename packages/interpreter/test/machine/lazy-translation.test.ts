/**
 * Functions are translated on first call (translation/module-code.ts), yet every body is
 * validated before anything runs, snapshots hold pcs relative to their function (so a
 * restore that translates in another order resumes exactly), and a restore translates the
 * functions on the restored stack.
 */
import { HostFunction, Machine, ValidationError } from '@mvvm/interpreter';
import type { MachineState } from '@mvvm/interpreter';
import { largeModule } from '../../../../bench/startup/large-module';
import { wat } from '../helpers/wat';

/** Stand-ins for the two WASI calls the generated module makes: fd_write collects the text. */
function wasiStub(out: string[]) {
  return {
    wasi_snapshot_preview1: {
      fd_write: new HostFunction({ params: [0x7f, 0x7f, 0x7f, 0x7f], results: [0x7f] }, ([, iov, , nwritten], ctx) => {
        const view = ctx.memory!.view;
        const ptr = view.getUint32(iov as number, true);
        const len = view.getUint32((iov as number) + 4, true);
        out.push(new TextDecoder().decode(ctx.memory!.u8.subarray(ptr, ptr + len)));
        view.setUint32(nwritten as number, len, true);
        return [0];
      }),
      proc_exit: new HostFunction({ params: [0x7f], results: [] }, () => []),
    },
  };
}

test('a large module translates only what runs, and gives the same output as V8', async () => {
  const bytes = largeModule({ functions: 3000, called: 40 });
  const out: string[] = [];
  const m = await Machine.instantiate(bytes, wasiStub(out));
  const code = m.instance.compiled.code;
  expect(code.translated).toBe(0); // validated, nothing translated
  m.begin('_start');
  m.step(Infinity);
  expect(code.translated).toBe(41); // _start and the 40 functions it calls
  expect(code.length).toBeLessThan(m.instance.compiled.functions.length * 10);

  const v8out: string[] = [];
  let memory: WebAssembly.Memory | undefined;
  const { instance } = (await WebAssembly.instantiate(bytes as Uint8Array<ArrayBuffer>, {
    wasi_snapshot_preview1: {
      fd_write: (_fd: number, iov: number, _n: number, nw: number) => {
        const dv = new DataView(memory!.buffer);
        const ptr = dv.getUint32(iov, true);
        const len = dv.getUint32(iov + 4, true);
        v8out.push(new TextDecoder().decode(new Uint8Array(memory!.buffer, ptr, len)));
        dv.setUint32(nw, len, true);
        return 0;
      },
      proc_exit: () => {},
    },
  })) as unknown as WebAssembly.WebAssemblyInstantiatedSource;
  memory = instance.exports.memory as WebAssembly.Memory;
  (instance.exports._start as () => void)();
  expect(out.join('')).toMatch(/^large: [0-9a-f]{8}\n$/);
  expect(out).toEqual(v8out);
});

test('an invalid function that is never called still refuses the module before anything runs', async () => {
  const bytes = await wat(`
    (module
      (func (export "fine") (result i32) (i32.const 1))
      (func $never (result i32) (i64.const 1)))`);
  expect(() => Machine.compile(bytes)).toThrow(ValidationError);
  await expect(Machine.instantiate(bytes)).rejects.toThrow(/type mismatch/);
});

// main calls $first (which returns) and then $deep, which recurses: a snapshot inside $deep
// has $first translated before $deep in the original machine, but a restore translates only
// what is on the stack ($deep, main), so $deep lands elsewhere in the restored code.
const ORDERED = `
(module
  (global $sum (mut i64) (i64.const 0))
  (func $first (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3)))
  (func $deep (param $n i32) (result i64)
    (global.set $sum (i64.add (global.get $sum) (i64.extend_i32_u (local.get $n))))
    (if (result i64) (i32.eqz (local.get $n))
      (then (global.get $sum))
      (else (i64.add (call $deep (i32.sub (local.get $n) (i32.const 1))) (i64.const 1)))))
  (func (export "main") (param i32) (result i64)
    (i64.add (i64.extend_i32_u (call $first (local.get 0))) (call $deep (local.get 0))))
  (func $unused (result i32) (i32.const 7)))`;

test('a restore translates the functions on its stack, in its own order, and resumes exactly', async () => {
  const bytes = await wat(ORDERED);
  const ref = await Machine.instantiate(bytes);
  ref.begin('main', [30]);
  const expected = ref.step(Infinity).results;
  const total = ref.instructionCount;

  for (const at of [5, 17, Math.floor(total / 2), total - 3]) {
    const m = await Machine.instantiate(bytes);
    m.begin('main', [30]);
    m.step(at);
    const state: MachineState = m.snapshot();
    const r = await Machine.restore(bytes, structuredClone(state));
    const code = r.instance.compiled.code;
    const onStack = new Set([state.thread.funcAddr]);
    for (let i = 2; i < state.thread.frames.length; i += 3) if (state.thread.frames[i] >= 0) onStack.add(state.thread.frames[i]);
    expect(code.translated).toBe(onStack.size); // exactly the stack's functions
    expect(r.snapshot().thread).toEqual(state.thread); // same relative pcs, whatever the layout
    // Step the rest one instruction at a time: every count still exact.
    let steps = 0;
    let result = r.step(1);
    while (!result.done) {
      steps++;
      result = r.step(1);
    }
    expect(result.results).toEqual(expected);
    expect(r.instructionCount).toBe(total);
    expect(steps + 1).toBe(total - at);
  }
});
