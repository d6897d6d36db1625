/**
 * The threads proposal's atomic instructions (0xFE prefix), out of the run loop: the carrier
 * `atomic <sub> <offset>` calls atomicOp. One JavaScript thread runs every wasm thread of a
 * ThreadGroup (threads/thread-group.ts), one at a time, so an instruction is atomic by
 * construction and atomic.fence has nothing to order (it emits no code).
 *
 * Access rules: the effective address (operand + offset) is checked against the memory's size
 * ("out of bounds memory access"), then for natural alignment ("unaligned atomic"). On a
 * memory that is not shared every access works as a plain one, notify wakes nobody (returns 0)
 * and wait traps ("expected shared memory").
 *
 * wait with the expected value parks the thread: its operands are popped, it joins the
 * memory's queue (MemoryInstance.waiters) and the run loop returns RunResult.Waiting; notify,
 * or the group's virtual clock for a timeout, later pushes the result (Thread.wake).
 */
import { HI } from './layout';
import type { MemoryInstance } from './runtime';
import type { Thread } from './thread';
import { TrapCode } from './traps';

/** atomicOp's result when the thread parked in a wait (its three operands are still counted in sp). */
export const PARKED = -1000;

// Per sub-opcode 0x10..0x4e: the width index i (0x10 + i is the load), which gives the size.
const SIZE = [4, 8, 1, 2, 1, 2, 4];

/**
 * Runs atomic instruction `sub` with the operands below `sp`; returns the new sp, or
 * -TrapCode for a trap, or PARKED. `mem` is memory 0 (validation guarantees it exists).
 */
export function atomicOp(sub: number, offset: number, s32: Int32Array, sp: number, mem: MemoryInstance, t: Thread): number {
  // Operand count: notify 2, waits 3, loads 1, stores and rmw 2, cmpxchg 3.
  const operands = sub === 0 ? 2 : sub <= 2 ? 3 : sub < 0x17 ? 1 : sub < 0x48 ? 2 : 3;
  const base = sp - 2 * operands;
  const size = sub === 0 || sub === 1 ? 4 : sub === 2 ? 8 : SIZE[(sub - 0x10) % 7];
  if (sub === 1 || sub === 2) {
    if (!mem.shared) return -TrapCode.ExpectedSharedMemory;
  }
  const ea = (s32[base] >>> 0) + (offset >>> 0);
  if (ea + size > mem.byteLength) return -TrapCode.MemoryOutOfBounds;
  if ((ea & (size - 1)) !== 0) return -TrapCode.UnalignedAtomic;
  if (mem.atomicViews !== null) return agentAtomicOp(sub, size, ea, s32, sp, base, mem);
  const dv = mem.view;
  if (sub === 0) return notify(mem, ea, s32[base + 2] >>> 0, s32, base);
  if (sub <= 2) return wait(mem, ea, sub === 2, s32, base, t);

  // Old value (lo, hi), zero-extended from `size` bytes.
  const lo = size === 1 ? dv.getUint8(ea) : size === 2 ? dv.getUint16(ea, true) : dv.getInt32(ea, true);
  const hi = size === 8 ? dv.getInt32(ea + 4, true) : 0;
  if (sub < 0x17) { // load
    s32[base] = lo;
    s32[base + HI] = hi;
    return sp;
  }
  const vlo = s32[sp - 2];
  const vhi = s32[sp - 2 + HI];
  let nlo = vlo;
  let nhi = vhi;
  if (sub >= 0x48) { // cmpxchg: [addr expected replacement]; the expected value wrapped to `size`
    const elo = size === 1 ? s32[base + 2] & 0xff : size === 2 ? s32[base + 2] & 0xffff : s32[base + 2];
    const ehi = size === 8 ? s32[base + 2 + HI] : 0;
    if (elo === lo && ehi === hi) store(mem, ea, size, vlo, vhi);
    s32[base] = lo;
    s32[base + HI] = hi;
    return base + 2;
  }
  if (sub >= 0x1e) {
    switch (((sub - 0x1e) / 7) | 0) {
      case 0: // add
        nlo = (lo + vlo) | 0;
        nhi = (hi + vhi + ((lo >>> 0) + (vlo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
        break;
      case 1: // sub
        nlo = (lo - vlo) | 0;
        nhi = (hi - vhi - ((lo >>> 0) < (vlo >>> 0) ? 1 : 0)) | 0;
        break;
      case 2: nlo = lo & vlo; nhi = hi & vhi; break;
      case 3: nlo = lo | vlo; nhi = hi | vhi; break;
      case 4: nlo = lo ^ vlo; nhi = hi ^ vhi; break;
      default: break; // xchg: the operand itself
    }
    store(mem, ea, size, nlo, nhi);
    s32[base] = lo;
    s32[base + HI] = hi;
    return sp - 2;
  }
  store(mem, ea, size, vlo, vhi); // store
  return base;
}

/**
 * An atomic instruction on a memory that other agents (worker threads) share at the same time
 * (MemoryInstance.onSharedBuffer): the JavaScript Atomics on views of its SharedArrayBuffer
 * (little-endian hosts only: the caller checks), so that it is atomic with respect to them.
 * wait blocks this agent in Atomics.wait (a worker: a browser's main thread cannot block),
 * notify is Atomics.notify; the address is checked (bounds, alignment) by atomicOp.
 */
function agentAtomicOp(sub: number, size: number, ea: number, s32: Int32Array, sp: number, base: number, mem: MemoryInstance): number {
  const v = mem.atomicViews!;
  if (sub === 0) {
    s32[base] = Atomics.notify(v.i32, ea >>> 2, s32[base + 2] >>> 0);
    s32[base + HI] = 0;
    return base + 2;
  }
  if (sub <= 2) {
    const thi = s32[base + 4 + HI];
    const ns = thi < 0 ? Infinity : thi * 4294967296 + (s32[base + 4] >>> 0);
    const r = sub === 2 ? Atomics.wait(v.i64, ea >>> 3, word64(s32[base + 2], s32[base + 2 + HI]), ns / 1e6) : Atomics.wait(v.i32, ea >>> 2, s32[base + 2], ns / 1e6);
    s32[base] = r === 'ok' ? 0 : r === 'not-equal' ? 1 : 2;
    s32[base + HI] = 0;
    return base + 2;
  }
  const value = (at: number): number | bigint => (size === 8 ? word64(s32[at], s32[at + HI]) : s32[at]);
  const kind = sub < 0x17 ? 0 : sub < 0x1e ? 1 : sub < 0x48 ? 2 + (((sub - 0x1e) / 7) | 0) : 8;
  let old: number | bigint;
  if (size === 8) {
    const i = ea >>> 3;
    const a = v.i64;
    old = kind === 0 ? Atomics.load(a, i) : kind === 8 ? Atomics.compareExchange(a, i, value(base + 2) as bigint, value(sp - 2) as bigint) : (RMW[kind - 1](a, i, value(sp - 2)) as unknown as bigint);
    s32[base] = Number(BigInt.asIntN(32, old));
    s32[base + HI] = Number(old >> 32n);
  } else {
    const a = size === 1 ? v.u8 : size === 2 ? v.u16 : v.i32;
    const i = size === 1 ? ea : size === 2 ? ea >>> 1 : ea >>> 2;
    // The typed array wraps an operand to its width, as the instructions do (cmpxchg's expected value too).
    old = kind === 0 ? Atomics.load(a, i) : kind === 8 ? Atomics.compareExchange(a, i, s32[base + 2], s32[sp - 2]) : RMW[kind - 1](a, i, s32[sp - 2]);
    s32[base] = old;
    s32[base + HI] = 0;
  }
  if (kind !== 0) {
    mem.dirty[ea >>> 16] = 1;
    mem.dirty[(ea + size - 1) >>> 16] = 1;
  }
  return kind === 0 ? sp : kind === 1 ? base : base + 2; // load; store; read-modify-write and cmpxchg
}

function word64(lo: number, hi: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

/** By kind - 1 (1 store, 2 add, 3 sub, 4 and, 5 or, 6 xor, 7 exchange): the old value (a store's is unused). */
const RMW = [Atomics.store, Atomics.add, Atomics.sub, Atomics.and, Atomics.or, Atomics.xor, Atomics.exchange] as unknown as ReadonlyArray<
  (a: Uint8Array | Uint16Array | Int32Array | BigInt64Array, i: number, x: number | bigint) => number
>;

function store(mem: MemoryInstance, ea: number, size: number, lo: number, hi: number): void {
  const dv = mem.view;
  if (size === 1) dv.setUint8(ea, lo & 0xff);
  else if (size === 2) dv.setUint16(ea, lo & 0xffff, true);
  else {
    dv.setInt32(ea, lo, true);
    if (size === 8) dv.setInt32(ea + 4, hi, true);
  }
  mem.dirty[ea >>> 16] = 1;
  mem.dirty[(ea + size - 1) >>> 16] = 1;
}

/** memory.atomic.notify: wakes up to `count` waiters on `ea`, oldest first; pushes how many. */
function notify(mem: MemoryInstance, ea: number, count: number, s32: Int32Array, base: number): number {
  let woken = 0;
  const q = mem.waiters;
  for (let i = 0; i < q.length && woken < count; ) {
    const w = q[i];
    if (w.waitAddress === ea) {
      q.splice(i, 1);
      w.wake(0);
      woken++;
    } else i++;
  }
  s32[base] = woken;
  s32[base + HI] = 0;
  return base + 2;
}

/** memory.atomic.wait32/64 (shared memory, address checked): 1 "not-equal", 2 "timed-out", or park. */
function wait(mem: MemoryInstance, ea: number, wide: boolean, s32: Int32Array, base: number, t: Thread): number {
  const dv = mem.view;
  const equal = wide
    ? dv.getInt32(ea, true) === s32[base + 2] && dv.getInt32(ea + 4, true) === s32[base + 2 + HI]
    : dv.getInt32(ea, true) === s32[base + 2];
  const thi = s32[base + 4 + HI];
  // The timeout in ns (i64); negative: none.
  const timeout = thi < 0 ? Infinity : thi * 4294967296 + (s32[base + 4] >>> 0);
  let result = 1;
  if (equal) {
    if (t.grouped && timeout > 0) {
      t.waitMemory = mem;
      t.waitAddress = ea;
      t.waitTimeout = timeout;
      mem.waiters.push(t);
      return PARKED;
    }
    // Alone (or with timeout 0): nothing can notify meanwhile, so a timeout elapses at once.
    if (timeout === Infinity) return -TrapCode.Deadlock;
    result = 2;
  }
  s32[base] = result;
  s32[base + HI] = 0;
  return base + 2;
}
