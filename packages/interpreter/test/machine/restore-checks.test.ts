/**
 * Crafted machine states (issue 7): each is refused by Machine.restore with a RestoreError
 * of one line naming the field, never a TypeError, and before anything is allocated from it.
 * Also: host imports keep their addresses whatever the binding, host callbacks nest to a
 * bound, step() inside a host function, i64 arguments, the one table limit.
 */
import { ExhaustionError, LinkError, MAX_HOST_NESTING, Machine, MachineState, RestoreError, WasmError, hostFunction } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

const PROGRAM = `
(module
  (import "env" "a" (func $a (param i32) (result i32)))
  (import "env" "b" (func $b (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (memory (export "memory") 1 2)
  (table $tab 2 4 funcref)
  (elem (i32.const 0) $b $double)
  (global $g (mut funcref) (ref.func $double))
  (global $k i32 (i32.const 42))
  (func $double (param i32) (result i32) (i32.mul (local.get 0) (i32.const 2)))
  (func (export "loop") (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $double (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (local.get $acc))
  (func (export "callA") (param i32) (result i32) (call $a (local.get 0))))`;

const imports = () => ({
  env: {
    a: hostFunction({ params: ['i32'], results: ['i32'] }, ([x]) => (x as number) + 1),
    b: hostFunction({ params: ['i32'], results: ['i32'] }, ([x]) => (x as number) + 2),
  },
});

let bytes: Uint8Array;
/** Inside $double (address 2), called from `loop` (address 3): two frames. */
let inner: MachineState;
let expected: unknown[];

beforeAll(async () => {
  bytes = await wat(PROGRAM);
  expected = (await Machine.instantiate(bytes, imports())).invoke('loop', [50]);
  const m = await Machine.instantiate(bytes, imports());
  m.begin('loop', [50]);
  for (let i = 0; i < 1000 && m.thread.depth < 2; i++) m.step(1);
  expect(m.thread.depth).toBe(2);
  m.step(1); // past $double's first instruction
  inner = m.snapshot();
});

function restore(change: (s: MachineState & Record<string, any>) => void): Machine {
  const s = structuredClone(inner) as MachineState & Record<string, any>;
  change(s);
  return Machine.restoreSync(bytes, s, imports());
}

test('the unaltered state restores and finishes as the uninterrupted run', () => {
  expect(restore(() => undefined).step(Infinity).results).toEqual(expected);
  expect(inner.thread.funcAddr).toBe(2);
  expect(Array.from(inner.thread.frames.subarray(3))).toEqual([expect.any(Number), 0, 3]);
});

const CRAFTED: Array<[string, (s: MachineState & Record<string, any>) => void, RegExp]> = [
  ['a funcref table slot with a bad address', (s) => (s.tables[0].elements[1] = 99), /table 0: element 1 refers to no function/],
  ['a funcref global with a bad address', (s) => (s.globals[0] = 1000), /global 0 refers to no function/],
  ['an immutable global changed', (s) => (s.globals[2] = 7), /immutable global 1 differs/],
  ["status 'done' with no entry function", (s) => Object.assign(s.thread, { status: 'done', entryFuncAddr: -1 }), /'done' without an entry function/],
  ["status 'done' with frames left", (s) => (s.thread.status = 'done'), /'done' with frames left/],
  ["status 'suspended' away from a call", (s) => (s.thread.status = 'suspended'), /suspended machine is not at a call/],
  ['a host function as the current function', (s) => (s.thread.funcAddr = 0), /host function is the current function/],
  ['a host function as a frame function', (s) => (s.thread.frames[5] = 1), /not a wasm function|not the entry function/],
  ['a pc inside an instruction', (s) => (s.thread.pc = 1), /pc 1 is not on an instruction/],
  ['a pc past the function', (s) => (s.thread.pc = 10_000), /pc 10000 is not on an instruction/],
  ['a return pc that follows no call', (s) => (s.thread.frames[3] = 0), /return pc 0 does not follow a call/],
  ['an operand more than the code has', (s) => Object.assign(s.thread, { sp: s.thread.sp + 1, stack: Int32Array.from([...s.thread.stack, 0, 0]) }), /operands on the stack where the code has/],
  ['a frame pointer that moved', (s) => (s.thread.fp -= 1), /frame|operands/],
  ['memory beyond the module maximum', (s) => Object.assign(s.memories[0], { pages: 3, data: new Uint8Array(3 * 65536) }), /memory 0: 3 pages, the module allows 1 to 2/],
  ['memory below the module minimum', (s) => Object.assign(s.memories[0], { pages: 0, data: new Uint8Array(0) }), /memory 0: 0 pages, the module allows 1 to 2/],
  ['a table maximum below its size', (s) => (s.tables[0].max = 1), /table 0: maximum 1 differs/],
  ['a table larger than its maximum', (s) => Object.assign(s.tables[0], { size: 5, elements: new Int32Array(5) }), /table 0: size 5, the module allows 2 to 4/],
  ['a stack limit above the ceiling', (s) => (s.limits.stackSlots = 2 ** 30), /limits.stackSlots/],
  ['a call depth limit of zero', (s) => (s.limits.maxCallDepth = 0), /limits.maxCallDepth/],
  ['a million externs', (s) => (s.externs = Array.from({ length: 1_000_000 }, (_, i) => i)), /1000000 externs/],
  ['one extern listed twice', (s) => (s.externs = ['x', 'x']), /externs list one value twice/],
  ['a memory count that differs', (s) => s.memories.push(s.memories[0]), /2 memories, the module has 1/],
];

test.each(CRAFTED)('refused: %s', (_name, change, message) => {
  expect(() => restore(change)).toThrow(RestoreError);
  expect(() => restore(change)).toThrow(message);
});

test('null or wrongly typed fields anywhere are a RestoreError, never a TypeError', () => {
  const replacements: unknown[] = [null, undefined, 'x', 7, [], {}, new Uint8Array(4)];
  const paths: string[][] = [
    ...Object.keys(inner).map((k) => [k]),
    ...Object.keys(inner.thread).map((k) => ['thread', k]),
    ['memories', '0'], ['tables', '0'], ['memories', '0', 'data'], ['memories', '0', 'pages'], ['tables', '0', 'elements'], ['tables', '0', 'elemType'],
    ['limits', 'stackSlots'],
  ];
  let refused = 0;
  for (const path of paths) {
    for (const v of replacements) {
      const attempt = () =>
        restore((s) => {
          let at: any = s;
          for (const k of path.slice(0, -1)) at = at[k];
          at[path[path.length - 1]] = v;
        });
      try {
        attempt();
      } catch (e) {
        if (!(e instanceof RestoreError)) throw new Error(`${path.join('.')} = ${String(v)}: ${(e as Error).stack}`);
        expect((e as Error).message).not.toContain('\n');
        refused++;
      }
    }
  }
  expect(refused).toBeGreaterThan(paths.length * 5);
  expect(() => Machine.restoreSync(bytes, null as unknown as MachineState)).toThrow(RestoreError);
});

test('restoring with another binding of the imports runs the import the state names', async () => {
  const text = `
    (module
      (import "env" "a" (func $a (result i32)))
      (import "env" "b" (func $b (result i32)))
      (type $t (func (result i32)))
      (table 2 funcref)
      (elem (i32.const 0) $a $b)
      (func (export "call") (param i32) (result i32) (call_indirect (type $t) (local.get 0))))`;
  const code = await wat(text);
  // At snapshot time one host function object fills both imports...
  const shared = hostFunction({ params: [], results: ['i32'] }, () => 7);
  const m = await Machine.instantiate(code, { env: { a: shared, b: shared } });
  expect(m.invoke('call', [1])).toEqual([7]);
  const state = structuredClone(m.snapshot());
  // ...at restore two: table slot 1 still calls what fills import b.
  const a = hostFunction({ params: [], results: ['i32'] }, () => 1);
  const b = hostFunction({ params: [], results: ['i32'] }, () => 2);
  const r = await Machine.restore(code, state, { env: { a, b } });
  expect(r.invoke('call', [0])).toEqual([1]);
  expect(r.invoke('call', [1])).toEqual([2]);
});

describe('host-side limits', () => {
  const CALLBACKS = `
    (module
      (import "env" "viaHost" (func $viaHost (param i32) (result i64)))
      (func (export "sum") (param $n i32) (result i64)
        (if (result i64) (i32.eqz (local.get $n))
          (then (i64.const 0))
          (else (i64.add (i64.extend_i32_u (local.get $n)) (call $viaHost (i32.sub (local.get $n) (i32.const 1)))))))
      (func (export "id64") (param i64) (result i64) (local.get 0)))`;

  test('recursion through host callbacks ends in an ExhaustionError, and the machine stays usable', async () => {
    let m!: Machine;
    const viaHost = hostFunction({ params: ['i32'], results: ['i64'] }, ([n]) => m.invoke('sum', [n]));
    m = await Machine.instantiate(await wat(CALLBACKS), { env: { viaHost } });
    expect(m.invoke('sum', [MAX_HOST_NESTING - 1])).toEqual([BigInt((MAX_HOST_NESTING - 1) * MAX_HOST_NESTING / 2)]);
    expect(() => m.invoke('sum', [1_000_000])).toThrow(ExhaustionError);
    expect(() => m.invoke('sum', [1_000_000])).toThrow(`host callbacks nested deeper than ${MAX_HOST_NESTING}`);
    expect(m.thread.hostCallDepth).toBe(0);
    expect(m.invoke('sum', [3])).toEqual([6n]);
  });

  test('step() from inside a host function is a WasmError', async () => {
    let m!: Machine;
    const viaHost = hostFunction({ params: ['i32'], results: ['i64'] }, () => {
      m.step(10);
      return 0n;
    });
    m = await Machine.instantiate(await wat(CALLBACKS), { env: { viaHost } });
    expect(() => m.invoke('sum', [2])).toThrow(WasmError);
    expect(() => m.invoke('sum', [2])).toThrow('step() called from inside a host function');
    expect(m.invoke('sum', [0])).toEqual([0n]);
  });

  test('i64 arguments that are not integers are a TypeError', async () => {
    const m = await Machine.instantiate(await wat(CALLBACKS), { env: { viaHost: hostFunction({ params: ['i32'], results: ['i64'] }, () => 0n) } });
    for (const bad of [0.5, NaN, Infinity, -1.25]) expect(() => m.invoke('id64', [bad])).toThrow(TypeError);
    expect(m.invoke('id64', [-3])).toEqual([-3n]);
    expect(m.invoke('id64', [2n ** 63n])).toEqual([-(2n ** 63n)]);
  });

  test('a table minimum above MAX_TABLE_ENTRIES does not instantiate', async () => {
    const code = await wat('(module (table 10000001 funcref))');
    expect(() => Machine.instantiateSync(code)).toThrow(LinkError);
    expect(() => Machine.instantiateSync(code)).toThrow("table 0: minimum size 10000001 is above this runtime's limit of 10000000 entries");
  });
});
