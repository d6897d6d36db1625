/**
 * A memory on a SharedArrayBuffer that other agents share (MemoryInstance.onSharedBuffer, the
 * memory of threads on worker threads), on one thread here: every atomic instruction through
 * JavaScript's Atomics gives what the interpreter's own shared memory gives (results and
 * bytes, every width, operands beyond the width, cmpxchg's expected value wrapped), and a
 * growth of the shared size by another agent is seen by memory.size and by an access beyond
 * the old size, under every tier.
 */
import { Machine, MemoryInstance, PAGE_SIZE, Store, Trap, hostFunction } from '../../src';
import { WABT_FEATURES, assemble, loadWabt } from '../helpers/wat';

const OPS = ['add', 'sub', 'and', 'or', 'xor', 'xchg'];
// [type, width infix, suffix, bytes]
const WIDTHS: Array<[string, string, string, number]> = [
  ['i32', '', '', 4], ['i32', '8', '_u', 1], ['i32', '16', '_u', 2],
  ['i64', '', '', 8], ['i64', '8', '_u', 1], ['i64', '16', '_u', 2], ['i64', '32', '_u', 4],
];

function atomicsModule(): string {
  const fns: string[] = [];
  for (const [t, w, u] of WIDTHS) {
    const rmw = `${t}.atomic.rmw${w}`;
    const name = `${t}${w}`;
    for (const op of OPS) fns.push(`(func (export "${name}.${op}") (param i32 ${t}) (result ${t}) (${rmw}.${op}${u} (local.get 0) (local.get 1)))`);
    fns.push(`(func (export "${name}.cmpxchg") (param i32 ${t} ${t}) (result ${t}) (${rmw}.cmpxchg${u} (local.get 0) (local.get 1) (local.get 2)))`);
    fns.push(`(func (export "${name}.load") (param i32) (result ${t}) (${t}.atomic.load${w}${u} (local.get 0)))`);
    fns.push(`(func (export "${name}.store") (param i32 ${t}) (${t}.atomic.store${w} (local.get 0) (local.get 1)))`);
  }
  return `(module (import "env" "memory" (memory 1 4 shared)) (import "env" "tick" (func $tick (param i32)))
    ${fns.join('\n    ')}
    (func (export "wait32") (param i32 i32) (result i32) (memory.atomic.wait32 (local.get 0) (local.get 1) (i64.const 0)))
    (func (export "wait64") (param i32 i64) (result i32) (memory.atomic.wait64 (local.get 0) (local.get 1) (i64.const 0)))
    (func (export "notify") (param i32) (result i32) (memory.atomic.notify (local.get 0) (i32.const 5)))
    (func (export "size") (result i32) (memory.size))
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "get") (param i32) (result i32) (i32.load (local.get 0)))
    (func (export "put") (param i32 i32) (i32.store (local.get 0) (local.get 1)))
    (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
    (func (export "sizeLoop") (param i32) (result i32) (local i32)
      (loop $l (call $tick (local.get 0)) (local.set 1 (i32.add (local.get 1) (memory.size))) (local.set 0 (i32.sub (local.get 0) (i32.const 1))) (br_if $l (local.get 0)))
      (local.get 1)))`;
}

/** A SharedArrayBuffer of `max` pages and its size word, as worker-threads.ts makes them. */
function sharedBuffer(pages: number, max: number): { buffer: SharedArrayBuffer; size: Int32Array } {
  const size = new Int32Array(new SharedArrayBuffer(4));
  size[0] = pages;
  return { buffer: new SharedArrayBuffer(max * PAGE_SIZE), size };
}

describe('a memory on a SharedArrayBuffer (MemoryInstance.onSharedBuffer)', () => {
  let bytes: Uint8Array;
  beforeAll(async () => {
    bytes = assemble(await loadWabt(), atomicsModule(), { ...WABT_FEATURES, threads: true });
  });

  function machines(tier: 'interpreter' | 'auto' | 'eager' = 'auto') {
    const own = new Store().createMemory(1, 4, true);
    const store = new Store();
    const { buffer, size } = sharedBuffer(1, 4);
    const mem = MemoryInstance.onSharedBuffer(buffer, size, 4);
    const onBuffer = { kind: 'memory' as const, store, addr: store.addMemory(mem) };
    // tick(n), called by sizeLoop with the iterations left: runs onTick (another agent's doing).
    const hooks: { onTick: (n: number) => void } = { onTick: () => undefined };
    const tick = hostFunction({ params: ['i32'], results: [] }, ([n]) => hooks.onTick(n as number));
    const a = Machine.instantiateSync(bytes, { env: { memory: own, tick } }, { tier });
    const b = Machine.instantiateSync(bytes, { env: { memory: onBuffer, tick } }, { tier });
    return { a, b, mem, buffer, size, hooks };
  }

  test('every atomic instruction gives the same results and bytes as the interpreter\'s shared memory', () => {
    const { a, b } = machines();
    expect(b.memory!.atomicViews).not.toBeNull();
    expect(a.memory!.atomicViews).toBeNull();
    const seed = new Uint8Array(256).map((_, i) => (i * 37 + 11) & 0xff);
    a.memory!.u8.set(seed);
    b.memory!.u8.set(seed);
    const values32 = [0, 1, -1, 0x7fffffff, 0x12345678, -0x6543210f, 0x1ff, 0x1fffe];
    const values64 = [0n, 1n, -1n, 0x123456789abcdef0n, -0x7edcba9876543210n, 0x1ffn, 0x1fffen, 0x1_0000_0001n];
    let calls = 0;
    for (const [t, w, , size] of WIDTHS) {
      const vals = t === 'i32' ? values32 : values64;
      const name = `${t}${w}`;
      for (let k = 0; k < vals.length; k++) {
        const addr = 16 * k + size * (k % (16 / size)); // aligned, various places
        const v = vals[k];
        const e = vals[(k + 3) % vals.length];
        const run = (m: Machine) => [
          m.invoke(`${name}.load`, [addr]),
          ...OPS.map((op) => m.invoke(`${name}.${op}`, [addr, v])),
          m.invoke(`${name}.cmpxchg`, [addr, e, v]), // mostly not equal
          m.invoke(`${name}.cmpxchg`, [addr, m.invoke(`${name}.load`, [addr])[0], e]), // equal
          m.invoke(`${name}.cmpxchg`, [addr, t === 'i32' ? (m.invoke(`${name}.load`, [addr])[0] as number) + (size < 4 ? 1 << (8 * size) : 0) : (m.invoke(`${name}.load`, [addr])[0] as bigint) + (size < 8 ? 1n << BigInt(8 * size) : 0n), v]), // equal once wrapped
          m.invoke(`${name}.store`, [addr, e]),
          m.invoke(`${name}.load`, [addr]),
        ];
        const ra = run(a);
        expect(run(b)).toEqual(ra);
        calls += ra.length;
      }
    }
    expect(Buffer.from(b.memory!.u8.subarray(0, 256))).toEqual(Buffer.from(a.memory!.u8.subarray(0, 256)));
    expect(Buffer.from(a.memory!.u8.subarray(0, 256))).not.toEqual(Buffer.from(seed)); // they did write
    expect(calls).toBeGreaterThan(500);
  });

  test('wait (timeout 0) and notify with no waiter: the same results', () => {
    const { a, b } = machines();
    for (const m of [a, b]) m.invoke('i64.store', [8, 5n]);
    const run = (m: Machine) => [m.invoke('wait32', [8, 5]), m.invoke('wait32', [8, 6]), m.invoke('wait64', [8, 5n]), m.invoke('wait64', [8, 6n]), m.invoke('notify', [8])];
    expect(run(b)).toEqual(run(a));
    expect(run(b)).toEqual([[2], [1], [2], [1], [0]]);
  });

  test.each(['interpreter', 'auto', 'eager'] as const)('grown by another agent: memory.size and accesses beyond the old size see it (tier %s)', (tier) => {
    const { b, buffer, size, mem, hooks } = machines(tier);
    expect(b.invoke('sizeLoop', [1000])).toEqual([1000]);
    // Another agent (a second view of the same buffer) grows it by 2 pages.
    const other = MemoryInstance.onSharedBuffer(buffer, size, 4);
    expect(other.grow(2)).toBe(1);
    expect(mem.pages).toBe(1); // not seen until a rare path
    other.u8[3 * PAGE_SIZE - 4] = 42;
    expect(b.invoke('get', [3 * PAGE_SIZE - 4])).toEqual([42]); // out of its old bounds: re-read, retried
    expect(mem.pages).toBe(3);
    b.invoke('put', [2 * PAGE_SIZE, 7]);
    expect(other.view.getInt32(2 * PAGE_SIZE, true)).toBe(7);
    hooks.onTick = (n) => {
      if (n === 400) expect(other.grow(1)).toBe(3); // while the loop runs (compiled but for eager's first turn)
    };
    expect(b.invoke('sizeLoop', [1000])).toEqual([600 * 3 + 400 * 4]); // memory.size re-reads, also in compiled code
    expect(other.grow(0)).toBe(4);
    expect(b.invoke('grow', [1])).toEqual([-1]); // at the maximum
    expect(() => b.invoke('get', [4 * PAGE_SIZE])).toThrow(new Trap('out of bounds memory access')); // still out after the re-read
  });

  test('memory.grow on one agent is seen by the other; bulk memory beyond the old size is retried too', () => {
    const { b, buffer, size } = machines();
    const other = MemoryInstance.onSharedBuffer(buffer, size, 4);
    expect(b.invoke('grow', [1])).toEqual([1]);
    expect(other.pages).toBe(1);
    expect(other.refresh()).toBe(true);
    expect(other.pages).toBe(2);
    expect(other.grow(1)).toBe(2);
    b.invoke('fill', [2 * PAGE_SIZE + 10, 9, 4]);
    expect([...other.u8.subarray(2 * PAGE_SIZE + 9, 2 * PAGE_SIZE + 15)]).toEqual([0, 9, 9, 9, 9, 0]);
  });

  test('a buffer too small for the size word, or a maximum beyond the limit, is refused', () => {
    const { buffer, size } = sharedBuffer(1, 1);
    size[0] = 2;
    expect(() => MemoryInstance.onSharedBuffer(buffer, size, 4)).toThrow(RangeError);
    size[0] = 1;
    expect(() => MemoryInstance.onSharedBuffer(buffer, size, 70000)).toThrow(RangeError);
  });
});
