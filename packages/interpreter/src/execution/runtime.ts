import { FuncType, Module, RefType } from '../syntax/types';
import type { ModuleCode } from '../translation/module-code';
import type { CompiledFunction } from '../translation/translator';
import type { ModuleContext } from '../validation/module';
import { LO } from './layout';
import type { Thread } from './thread';

export const PAGE_SIZE = 65536;
/** Memories may grow to the spec's 4 GiB unless the module says less. */
export const MAX_PAGES = 65536;
/**
 * The most entries a table may hold in this runtime: a table whose minimum is above it does
 * not instantiate (LinkError), table.grow past it fails, and a snapshot cannot ask for more.
 * One limit for all three, so that every table a program can have can also be restored.
 */
export const MAX_TABLE_ENTRIES = 10_000_000;

/** A module decoded and validated once, its functions translated on first call; instances share it. */
export interface CompiledModule {
  module: Module;
  ctx: ModuleContext;
  /** The internal code, growing as functions are translated. */
  code: ModuleCode;
  /** Defined functions, in order (index = function index - imported functions). */
  functions: CompiledFunction[];
}

/**
 * The result a host function may return instead of its results: the machine stops before
 * the call (pc on the call, arguments still on the stack) and, once `until` settles,
 * performs the call again. A snapshot taken meanwhile simply holds a machine about to call.
 */
export class Suspend {
  constructor(readonly until?: Promise<unknown>) {}
}

export interface HostCallContext {
  /** Memory 0 of the calling instance, if it has one (read it through `.u8` / `.view`). */
  memory: MemoryInstance | null;
}

export type HostFunctionImpl = (args: unknown[], ctx: HostCallContext) => unknown;

/** A function written in TypeScript that a module can import. */
export class HostFunction {
  readonly kind = 'host-function';
  constructor(readonly type: FuncType, readonly fn: HostFunctionImpl, readonly name = fn.name || 'host') {}
}

/** One function of the store: wasm code of an instance, or a host function. One shape for both. */
export class FunctionInstance {
  constructor(
    readonly type: FuncType,
    /** Canonical signature id, compared by call_indirect. */
    readonly typeId: number,
    readonly instance: ModuleInstance | null,
    readonly compiled: CompiledFunction | null,
    readonly host: HostFunction | null,
  ) {}
}

/**
 * A linear memory. `u8` and `view` cover exactly its `pages` (`byteLength` bytes); the
 * `buffer` underneath may be larger: memory.grow over-allocates geometrically, so growing
 * step by step copies O(final size) bytes in all rather than the whole memory every call.
 * The spare capacity costs no RSS until written (the engine maps zero pages lazily), and is
 * never written, so it stays zero for the next grow. A resizable ArrayBuffer would avoid the
 * copies too, but V8 11 (Node 20) runs DataView over one ~15x slower (bench/README.md).
 */
export class MemoryInstance {
  buffer: ArrayBuffer;
  u8: Uint8Array;
  view: DataView;
  /** pages × 64 KiB: the bounds the run loop and the host check against. */
  byteLength: number;
  /**
   * One byte per 64 KiB page, set to 1 by every write since the last clearDirty(): what
   * an incremental snapshot stores. Host code that writes into `u8` calls markDirty.
   */
  dirty: Uint8Array;
  /**
   * The threads waiting on this memory (memory.atomic.wait of a shared memory), in the order
   * they began to wait; each one's `waitAddress` says where. notify wakes the first N with a
   * matching address: FIFO per address. Part of a ThreadGroup's state.
   */
  readonly waiters: Thread[] = [];
  /**
   * A memory whose bytes live in a SharedArrayBuffer that other agents (worker threads) use
   * too (MemoryInstance.onSharedBuffer): `sharedSize[0]` is its current size in pages, which
   * any of them may grow. Null otherwise. The views still cover exactly `pages`: the run
   * loop re-reads the shared size only on its rare paths (memory.size, memory.grow, an
   * access out of bounds, which retries once the size grew: refresh()), and the atomic
   * instructions are real Atomics on the typed views below (execution/atomics.ts).
   */
  sharedSize: Int32Array | null = null;
  /** With sharedSize: views of the whole SharedArrayBuffer for the atomic instructions. */
  atomicViews: { u8: Uint8Array; u16: Uint16Array; i32: Int32Array; i64: BigInt64Array } | null = null;

  /** `shared`: the threads proposal's shared memory (may be imported by several stores). */
  constructor(public pages: number, readonly max: number | undefined, readonly shared = false) {
    this.byteLength = pages * PAGE_SIZE;
    this.buffer = new ArrayBuffer(this.byteLength);
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.dirty = new Uint8Array(pages + 1); // +1: a write's last byte may index one past the end
  }

  /**
   * A shared memory on `buffer`, used by several agents at once: `size[0]` is the current
   * size in pages (at most `max`), kept with Atomics. `buffer` is a growable
   * SharedArrayBuffer (grown with the memory) or one of `max` pages. The caller makes both.
   */
  static onSharedBuffer(buffer: SharedArrayBuffer, size: Int32Array, max: number): MemoryInstance {
    const pages = Atomics.load(size, 0);
    if (!Number.isInteger(max) || max > MAX_PAGES || pages > max || pages * PAGE_SIZE > buffer.byteLength) {
      throw new RangeError(`a shared buffer of ${buffer.byteLength} bytes cannot hold ${pages} of at most ${max} pages`);
    }
    const m = new MemoryInstance(0, max, true);
    m.sharedSize = size;
    m.atomicViews = { u8: new Uint8Array(buffer), u16: new Uint16Array(buffer), i32: new Int32Array(buffer), i64: new BigInt64Array(buffer) };
    // A SharedArrayBuffer serves as this memory's storage: views are made on it as on an ArrayBuffer.
    m.replaceBuffer(buffer as unknown as ArrayBuffer, pages);
    return m;
  }

  /** A memory on a shared buffer: takes the shared size if another agent grew it; true if it did. */
  refresh(): boolean {
    if (this.sharedSize === null) return false;
    const pages = Atomics.load(this.sharedSize, 0);
    if (pages === this.pages) return false;
    this.replaceBuffer(this.buffer, pages);
    return true;
  }

  markDirty(offset: number, length: number): void {
    if (length <= 0) return;
    this.dirty.fill(1, Math.floor(offset / PAGE_SIZE), Math.floor((offset + length - 1) / PAGE_SIZE) + 1);
  }

  /** Indices of the pages written since the last clearDirty(). */
  dirtyPages(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.pages; p++) if (this.dirty[p] !== 0) out.push(p);
    return out;
  }

  clearDirty(): void {
    this.dirty.fill(0);
  }

  /** memory.grow: the old size in pages, or -1 when the limit or the host says no. */
  grow(delta: number): number {
    if (this.sharedSize !== null) return this.growShared(delta);
    const old = this.pages;
    const limit = Math.min(this.max ?? MAX_PAGES, MAX_PAGES);
    if (delta > limit - old) return -1;
    if (delta === 0) return old;
    const pages = old + delta;
    let buffer = this.buffer;
    if (pages * PAGE_SIZE > buffer.byteLength) {
      // Double the capacity (at most to the limit), or take exactly what is needed when the
      // host cannot give that much.
      const capacity = Math.min(limit, Math.max(pages, 2 * (buffer.byteLength / PAGE_SIZE)));
      const next = allocate(capacity * PAGE_SIZE) ?? (capacity > pages ? allocate(pages * PAGE_SIZE) : null);
      if (next === null) return -1; // the host could not allocate: wasm sees a failed grow, not a crash
      new Uint8Array(next).set(this.u8);
      buffer = next;
    }
    this.replaceBuffer(buffer, pages);
    return old;
  }

  /** grow() of a memory on a shared buffer: a compare-exchange of the shared size, the buffer grown first. */
  private growShared(delta: number): number {
    const size = this.sharedSize!;
    const limit = Math.min(this.max!, MAX_PAGES);
    const buffer = this.buffer as unknown as SharedArrayBuffer & { growable?: boolean; grow?(bytes: number): void };
    for (;;) {
      const old = Atomics.load(size, 0);
      if (delta > limit - old) return -1;
      const pages = old + delta;
      if (delta !== 0 && buffer.byteLength < pages * PAGE_SIZE) {
        if (buffer.growable !== true) return -1;
        try {
          buffer.grow!(pages * PAGE_SIZE);
        } catch {
          // Another agent grew it further meanwhile (a SharedArrayBuffer never shrinks), or the host said no.
          if (buffer.byteLength < pages * PAGE_SIZE) return -1;
        }
      }
      if (delta === 0 || Atomics.compareExchange(size, 0, old, pages) === old) {
        this.replaceBuffer(this.buffer, pages);
        return old;
      }
    }
  }

  /** Makes `buffer` (at least pages × 64 KiB, zero beyond what was written) this memory's storage. */
  replaceBuffer(buffer: ArrayBuffer, pages: number): void {
    this.buffer = buffer;
    this.byteLength = pages * PAGE_SIZE;
    this.u8 = new Uint8Array(buffer, 0, this.byteLength);
    this.view = new DataView(buffer, 0, this.byteLength);
    if (pages + 1 > this.dirty.length) {
      const dirty = new Uint8Array(Math.max(pages + 1, Math.min(2 * this.dirty.length, MAX_PAGES + 1)));
      dirty.set(this.dirty.subarray(0, this.pages));
      this.dirty = dirty;
    }
    this.pages = pages;
  }
}

function allocate(bytes: number): ArrayBuffer | null {
  try {
    return new ArrayBuffer(bytes);
  } catch {
    return null;
  }
}

/**
 * A table's elements as encoded references: 0 is null, otherwise a function address + 1
 * (funcref) or an extern index + 1 (externref). Plain integers, so tables snapshot as data.
 */
export class TableInstance {
  elements: Int32Array;
  constructor(readonly elemType: RefType, public size: number, readonly max: number | undefined) {
    this.elements = new Int32Array(Math.max(size, 4));
  }

  grow(delta: number, init: number): number {
    const old = this.size;
    const limit = this.max ?? 0xffffffff;
    if (delta > limit - old) return -1;
    const size = old + delta;
    if (size > MAX_TABLE_ENTRIES) return -1; // the host limit: fail the grow, as the spec allows
    if (size > this.elements.length) {
      const next = new Int32Array(Math.max(size, this.elements.length * 2));
      next.set(this.elements.subarray(0, old));
      this.elements = next;
    }
    this.elements.fill(init, old, size);
    this.size = size;
    return old;
  }
}

export interface ElemInstance {
  elemType: RefType;
  /** Encoded references; null once dropped. */
  refs: Int32Array | null;
}

export interface DataInstance {
  bytes: Uint8Array | null;
}

/** An instantiated module: its entities' addresses in the store. */
export interface ModuleInstance {
  index: number;
  compiled: CompiledModule;
  funcAddrs: Int32Array;
  tableAddrs: number[];
  /** The tables themselves (store.tables[tableAddrs[i]]: a table instance never changes), read by the JS tier's call_indirect. */
  tables: TableInstance[];
  memAddrs: number[];
  /** Word index (in the store's global words) of each global's low word. */
  globalWords: Int32Array;
  globalAddrs: number[];
  elemAddrs: number[];
  dataAddrs: number[];
  /** Canonical signature id of each of the module's types. */
  typeIds: Int32Array;
  exports: Map<string, { kind: 'func' | 'table' | 'memory' | 'global'; addr: number }>;
}

/**
 * Index of a global's low word in the store's globals array: four words per global, its
 * value slot (layout.ts) then, for a v128, the slot of its upper 64 bits.
 */
export function globalWordIndex(addr: number): number {
  return 4 * addr + LO;
}
