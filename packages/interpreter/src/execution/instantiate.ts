import { decodeModule } from '../binary/decoder';
import { LinkError, Trap } from '../errors';
import { ConstExpr, FuncType, Limits, MemoryType, countImports, valTypeName } from '../syntax/types';
import { ModuleCode, untranslatedFunction } from '../translation/module-code';
import { validateFunctions } from '../translation/translator';
import { buildModuleContext, validateModule } from '../validation/module';
import { HI } from './layout';
import {
  CompiledModule,
  FunctionInstance,
  HostFunction,
  MAX_TABLE_ENTRIES,
  MemoryInstance,
  ModuleInstance,
  TableInstance,
  globalWordIndex,
} from './runtime';
import type { ExternHandle, Store } from './store';

/** What a module's import can be satisfied with. */
export type ImportValue = HostFunction | ExternHandle;
export type Imports = Record<string, Record<string, ImportValue>>;

/**
 * Decode and validate: everything about a module that does not need a store. Functions are
 * translated later, each on its first call (translation/module-code.ts).
 */
export function compileModule(bytes: Uint8Array, options: { deterministic?: boolean; threads?: boolean } = {}): CompiledModule {
  const module = decodeModule(bytes, { threads: options.threads });
  validateModule(module);
  const ctx = buildModuleContext(module);
  validateFunctions(module, ctx);
  const functions = module.codes.map((_, i) => untranslatedFunction(module, ctx, i));
  return { module, ctx, functions, code: new ModuleCode(module, ctx, functions, options.deterministic === true) };
}

function sameFuncType(a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i]);
}

function limitsMatch(actual: Limits, declared: Limits): boolean {
  if (actual.min < declared.min) return false;
  if (declared.max === undefined) return true;
  return actual.max !== undefined && actual.max <= declared.max;
}

/** A memory matches an import's type: limits, and shared exactly when the import says shared. */
function checkMemoryImport(mem: MemoryInstance, type: MemoryType, where: string): void {
  if (!limitsMatch({ min: mem.pages, max: mem.max }, type.limits) || mem.shared !== (type.shared === true)) {
    throw new LinkError(`incompatible import type: memory ${where}`);
  }
}

export interface InstantiateOptions {
  /**
   * Restore mode: allocate everything but leave tables, memories, globals and segments
   * as the caller will overwrite them from a snapshot, and do not run the start function.
   */
  skipInitialization?: boolean;
}

/**
 * The spec's instantiation: resolve and check imports, allocate the module's entities in
 * the store, initialize globals, then apply element and data segments in order (a trap
 * part-way leaves the earlier writes in place, as WebAssembly 2.0 specifies). Running the
 * start function is the caller's job (it needs the run loop). Returns the instance.
 */
export function instantiate(store: Store, compiled: CompiledModule, imports: Imports, options: InstantiateOptions = {}): ModuleInstance {
  const m = compiled.module;
  const counts = countImports(m);
  const funcAddrs = new Int32Array(counts.funcs + m.funcs.length);
  const tableAddrs: number[] = [];
  const memAddrs: number[] = [];
  const globalAddrs: number[] = [];

  m.tables.forEach((t, i) => {
    if (t.limits.min > MAX_TABLE_ENTRIES) {
      throw new LinkError(`table ${i}: minimum size ${t.limits.min} is above this runtime's limit of ${MAX_TABLE_ENTRIES} entries`);
    }
  });
  let fi = 0;
  for (const imp of m.imports) {
    const value = imports[imp.module]?.[imp.name];
    const where = `${imp.module}.${imp.name}`;
    if (value === undefined) throw new LinkError(`unknown import: ${where}`);
    const desc = imp.desc;
    if (value instanceof HostFunction) {
      if (desc.kind !== 'func') throw new LinkError(`incompatible import type: ${where} is a function, expected a ${desc.kind}`);
      const expected = m.types[desc.typeIndex];
      if (!sameFuncType(value.type, expected)) throw new LinkError(`incompatible import type: ${where} has the wrong signature`);
      // Each import its own address, even when one host function fills several: a snapshot
      // names functions by address, so an address must always mean the same import.
      funcAddrs[fi++] = store.addFunction(new FunctionInstance(value.type, store.typeId(value.type), null, null, value));
      continue;
    }
    if (value.kind !== desc.kind) throw new LinkError(`incompatible import type: ${where} is a ${value.kind}, expected a ${desc.kind}`);
    if (value.store !== store) {
      // A shared memory is the one entity several stores (threads) may hold: it joins this one.
      const mem = value.kind === 'memory' ? value.store.memories[value.addr] : undefined;
      if (mem === undefined || !mem.shared || desc.kind !== 'memory') throw new LinkError(`cannot link ${where}: it belongs to another store`);
      checkMemoryImport(mem, desc.type, where);
      const at = store.memories.indexOf(mem);
      memAddrs.push(at >= 0 ? at : store.addMemory(mem));
      continue;
    }
    switch (desc.kind) {
      case 'func':
        if (!sameFuncType(store.functions[value.addr].type, m.types[desc.typeIndex])) {
          throw new LinkError(`incompatible import type: ${where} has the wrong signature`);
        }
        funcAddrs[fi++] = value.addr;
        break;
      case 'table': {
        const t = store.tables[value.addr];
        if (t.elemType !== desc.type.elemType || !limitsMatch({ min: t.size, max: t.max }, desc.type.limits)) {
          throw new LinkError(`incompatible import type: table ${where}`);
        }
        tableAddrs.push(value.addr);
        break;
      }
      case 'memory': {
        checkMemoryImport(store.memories[value.addr], desc.type, where);
        memAddrs.push(value.addr);
        break;
      }
      case 'global': {
        const g = store.globalTypes[value.addr];
        if (g.valType !== desc.type.valType || g.mutable !== desc.type.mutable) {
          throw new LinkError(`incompatible import type: global ${where} is ${g.mutable ? 'mut ' : ''}${valTypeName(g.valType)}`);
        }
        globalAddrs.push(value.addr);
        break;
      }
    }
  }

  const inst: ModuleInstance = {
    index: store.instances.length,
    compiled,
    funcAddrs,
    tableAddrs,
    tables: [],
    memAddrs,
    globalWords: new Int32Array(0),
    globalAddrs,
    elemAddrs: [],
    dataAddrs: [],
    typeIds: new Int32Array(m.types.map((t) => store.typeId(t))),
    exports: new Map(),
  };
  for (let i = 0; i < m.funcs.length; i++) {
    const type = m.types[m.funcs[i]];
    funcAddrs[counts.funcs + i] = store.addFunction(new FunctionInstance(type, store.typeId(type), inst, compiled.functions[i], null));
  }
  for (const t of m.tables) tableAddrs.push(store.addTable(new TableInstance(t.elemType, t.limits.min, t.limits.max)));
  inst.tables = tableAddrs.map((addr) => store.tables[addr]);
  for (const mt of m.memories) memAddrs.push(store.addMemory(new MemoryInstance(mt.limits.min, mt.limits.max, mt.shared === true)));
  for (const g of m.globals) {
    const addr = store.addGlobal(g.type);
    globalAddrs.push(addr);
    if (!options.skipInitialization) {
      const [lo, hi, lo2, hi2] = evalConst(store, inst, g.init);
      const w = globalWordIndex(addr);
      store.globalWords[w] = lo;
      store.globalWords[w + HI] = hi;
      store.globalWords[w + 2] = lo2;
      store.globalWords[w + 2 + HI] = hi2;
    }
  }
  inst.globalWords = new Int32Array(globalAddrs.map(globalWordIndex));
  for (const seg of m.elems) {
    const refs = new Int32Array(seg.init.length);
    if (!options.skipInitialization) seg.init.forEach((e, i) => (refs[i] = evalConst(store, inst, e)[0]));
    store.elems.push({ elemType: seg.elemType, refs });
    inst.elemAddrs.push(store.elems.length - 1);
  }
  for (const seg of m.datas) {
    store.datas.push({ bytes: seg.bytes });
    inst.dataAddrs.push(store.datas.length - 1);
  }
  for (const e of m.exports) {
    const addr =
      e.kind === 'func' ? funcAddrs[e.index] :
      e.kind === 'table' ? tableAddrs[e.index] :
      e.kind === 'memory' ? memAddrs[e.index] : globalAddrs[e.index];
    inst.exports.set(e.name, { kind: e.kind, addr });
  }
  store.instances.push(inst);
  if (!options.skipInitialization) initializeSegments(store, inst);
  return inst;
}

/** Active element segments, then active data segments, each dropped once applied. */
function initializeSegments(store: Store, inst: ModuleInstance): void {
  const m = inst.compiled.module;
  m.elems.forEach((seg, i) => {
    const elem = store.elems[inst.elemAddrs[i]];
    if (seg.mode.kind === 'active') {
      const table = store.tables[inst.tableAddrs[seg.mode.tableIndex]];
      const offset = evalConst(store, inst, seg.mode.offset)[0] >>> 0;
      const refs = elem.refs!;
      if (offset + refs.length > table.size) throw new Trap('out of bounds table access');
      table.elements.set(refs, offset);
    }
    if (seg.mode.kind !== 'passive') elem.refs = null;
  });
  m.datas.forEach((seg, i) => {
    if (seg.mode.kind !== 'active') return;
    const mem = store.memories[inst.memAddrs[seg.mode.memoryIndex]];
    const offset = evalConst(store, inst, seg.mode.offset)[0] >>> 0;
    if (offset + seg.bytes.length > mem.byteLength) throw new Trap('out of bounds memory access');
    mem.u8.set(seg.bytes, offset);
    mem.markDirty(offset, seg.bytes.length);
    store.datas[inst.dataAddrs[i]].bytes = null;
  });
}

/** Evaluates a (validated) constant expression to its slot words [lo, hi] (and a v128's upper slot [lo2, hi2]). */
export function evalConst(store: Store, inst: ModuleInstance, expr: ConstExpr): [number, number, number, number] {
  let lo = 0;
  let hi = 0;
  let lo2 = 0;
  let hi2 = 0;
  for (const ins of expr.instrs) {
    switch (ins.op) {
      case 'const':
        lo = ins.lo;
        hi = ins.hi;
        break;
      case 'ref.null':
        lo = 0;
        hi = 0;
        break;
      case 'ref.func':
        lo = inst.funcAddrs[ins.funcIndex] + 1;
        hi = 0;
        break;
      case 'v128.const':
        // Little-endian words in (lo, hi) slot order, as the stack holds a v128 (simd.ts).
        [lo, hi, lo2, hi2] = ins.words;
        break;
      case 'global.get': {
        const w = globalWordIndex(inst.globalAddrs[ins.globalIndex]);
        lo = store.globalWords[w];
        hi = store.globalWords[w + HI];
        lo2 = store.globalWords[w + 2];
        hi2 = store.globalWords[w + 2 + HI];
        break;
      }
    }
  }
  return [lo, hi, lo2, hi2];
}

