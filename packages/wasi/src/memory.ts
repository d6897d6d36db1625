import type { MemoryInstance } from '@mvvm/interpreter';
import { Errno } from './constants';
import { fail } from './errors';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/**
 * Bounds-checked access to the guest's memory for one call. Built per call because
 * memory.grow replaces the buffer. A pointer outside memory is EFAULT, never a JS error.
 */
export class GuestMemory {
  readonly u8: Uint8Array;
  readonly view: DataView;
  constructor(private readonly mem: MemoryInstance | null) {
    // A module without memory can still call proc_exit or sched_yield: any access is EFAULT.
    this.u8 = mem ? mem.u8 : new Uint8Array(0);
    this.view = mem ? mem.view : new DataView(new ArrayBuffer(0));
  }

  check(ptr: number, len: number): number {
    const p = ptr >>> 0;
    if (p + len > this.u8.length) fail(Errno.FAULT);
    return p;
  }

  /** Bounds-checks a range the host is about to write, and marks its pages dirty (incremental snapshots). */
  private checkWrite(ptr: number, len: number): number {
    const p = this.check(ptr, len);
    this.mem?.markDirty(p, len);
    return p;
  }

  u8At(p: number): number {
    return this.u8[this.check(p, 1)];
  }
  u16(p: number): number {
    return this.view.getUint16(this.check(p, 2), true);
  }
  u32(p: number): number {
    return this.view.getUint32(this.check(p, 4), true);
  }
  u64(p: number): bigint {
    return this.view.getBigUint64(this.check(p, 8), true);
  }
  setU8(p: number, v: number): void {
    this.u8[this.checkWrite(p, 1)] = v;
  }
  setU16(p: number, v: number): void {
    this.view.setUint16(this.checkWrite(p, 2), v, true);
  }
  setU32(p: number, v: number): void {
    this.view.setUint32(this.checkWrite(p, 4), v >>> 0, true);
  }
  setU64(p: number, v: bigint | number): void {
    this.view.setBigUint64(this.checkWrite(p, 8), BigInt.asUintN(64, BigInt(v)), true);
  }

  /** A view (not a copy) of guest bytes, to read. */
  bytes(ptr: number, len: number): Uint8Array {
    const p = this.check(ptr, len >>> 0);
    return this.u8.subarray(p, p + (len >>> 0));
  }

  /** A view of guest bytes the host will write into. */
  writableBytes(ptr: number, len: number): Uint8Array {
    const p = this.checkWrite(ptr, len >>> 0);
    return this.u8.subarray(p, p + (len >>> 0));
  }

  /** A path or other string argument: invalid UTF-8 is EILSEQ. */
  string(ptr: number, len: number): string {
    try {
      return utf8.decode(this.bytes(ptr, len));
    } catch (e) {
      if (e instanceof TypeError) fail(Errno.ILSEQ);
      throw e;
    }
  }

  /** The iovec / ciovec array at ptr as views into memory (`writable` for reads into the guest). */
  iovecs(ptr: number, count: number, writable = false): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.check(ptr, (count >>> 0) * 8);
    for (let i = 0; i < count >>> 0; i++) {
      const base = this.u32(ptr + 8 * i);
      const len = this.u32(ptr + 8 * i + 4);
      out.push(writable ? this.writableBytes(base, len) : this.bytes(base, len));
    }
    return out;
  }
}

export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}
