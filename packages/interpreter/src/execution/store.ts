import { FuncType, GlobalType, ValType } from '../syntax/types';
import { DEFAULT_LIMITS, Thread, ThreadLimits } from './thread';
import {
  DataInstance,
  ElemInstance,
  FunctionInstance,
  MemoryInstance,
  ModuleInstance,
  TableInstance,
  globalWordIndex,
} from './runtime';
import { ExactValue, FuncRef, exactToSlot } from './values';

/**
 * Everything that exists at run time, addressed by integers as in the spec's store:
 * functions, tables, memories, globals, element and data segments, module instances,
 * and the thread that runs them. Instances that link to each other share one store.
 */
export class Store {
  readonly functions: FunctionInstance[] = [];
  readonly tables: TableInstance[] = [];
  readonly memories: MemoryInstance[] = [];
  readonly globalTypes: GlobalType[] = [];
  /** Every global's value (four words each: a value slot, layout.ts, and a v128's upper slot), indexed by globalWordIndex(addr). */
  globalWords = new Int32Array(32);
  readonly elems: ElemInstance[] = [];
  readonly datas: DataInstance[] = [];
  readonly instances: ModuleInstance[] = [];
  /** Host values that externref slots refer to (a slot holds index + 1). */
  readonly externs: unknown[] = [];
  private readonly externIds = new Map<unknown, number>();
  private readonly typeIds = new Map<string, number>();
  private readonly funcRefs = new Map<number, FuncRef>();
  readonly thread: Thread;
  /** The JS tier (execution/js-tier.ts): 0 off (interpreter only), 1 hot functions, 2 every function. */
  tier: 0 | 1 | 2 = 0;

  constructor(limits: Partial<ThreadLimits> = {}) {
    this.thread = new Thread({ ...DEFAULT_LIMITS, ...limits });
  }

  /** A small integer per distinct signature: call_indirect compares these. */
  typeId(t: FuncType): number {
    const key = `${t.params.join(',')}->${t.results.join(',')}`;
    let id = this.typeIds.get(key);
    if (id === undefined) {
      id = this.typeIds.size;
      this.typeIds.set(key, id);
    }
    return id;
  }

  addFunction(f: FunctionInstance): number {
    this.functions.push(f);
    return this.functions.length - 1;
  }

  addTable(t: TableInstance): number {
    this.tables.push(t);
    return this.tables.length - 1;
  }

  addMemory(m: MemoryInstance): number {
    this.memories.push(m);
    return this.memories.length - 1;
  }

  /** Allocates a global (value zero); returns its address. */
  addGlobal(type: GlobalType): number {
    const addr = this.globalTypes.length;
    this.globalTypes.push(type);
    if (4 * addr + 4 > this.globalWords.length) {
      const next = new Int32Array(this.globalWords.length * 2);
      next.set(this.globalWords);
      this.globalWords = next;
    }
    return addr;
  }

  internExtern(v: unknown): number {
    let id = this.externIds.get(v);
    if (id === undefined) {
      id = this.externs.length;
      this.externs.push(v);
      this.externIds.set(v, id);
    }
    return id;
  }

  funcRef(addr: number): FuncRef {
    let ref = this.funcRefs.get(addr);
    if (ref === undefined) {
      ref = new FuncRef(this, addr);
      this.funcRefs.set(addr, ref);
    }
    return ref;
  }

  // Handles for host-created entities (the spectest module, embedders).

  /** A memory; `shared` (which needs `maxPages`) may be imported by the instances of other stores (threads). */
  createMemory(minPages: number, maxPages?: number, shared = false): ExternHandle {
    if (shared && maxPages === undefined) throw new RangeError('a shared memory must have a maximum');
    return { kind: 'memory', store: this, addr: this.addMemory(new MemoryInstance(minPages, maxPages, shared)) };
  }

  createGlobal(type: 'i32' | 'i64' | 'f32' | 'f64' | 'funcref' | 'externref', mutable: boolean, value: ExactValue): ExternHandle {
    const valType = { i32: ValType.I32, i64: ValType.I64, f32: ValType.F32, f64: ValType.F64, funcref: ValType.FuncRef, externref: ValType.ExternRef }[type];
    const addr = this.addGlobal({ valType, mutable });
    exactToSlot(this, this.globalWords, globalWordIndex(addr), valType, value);
    return { kind: 'global', store: this, addr };
  }

  createTable(elemType: 'funcref' | 'externref', min: number, max?: number): ExternHandle {
    const t = elemType === 'funcref' ? ValType.FuncRef : ValType.ExternRef;
    return { kind: 'table', store: this, addr: this.addTable(new TableInstance(t, min, max)) };
  }
}

/** A store entity as it crosses module boundaries (exports, imports). */
export interface ExternHandle {
  kind: 'func' | 'table' | 'memory' | 'global';
  store: Store;
  addr: number;
}
