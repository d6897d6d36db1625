/**
 * Module-level validation (spec "Validation > Modules"): everything except function
 * bodies, which the code validator checks with the `ModuleContext` built here.
 *
 * Messages use the wording of the spec tests' `assert_invalid` cases. Where a test names
 * an index ("unknown global 1") the index is appended, which also keeps the bare texts
 * ("unknown global") a prefix of ours.
 */
import { ValidationError } from '../errors';
import {
  ConstExpr,
  ExternKind,
  FuncType,
  GlobalType,
  Limits,
  MemoryType,
  Module,
  RefType,
  TableType,
  ValType,
  countImports,
} from '../syntax/types';

/** Memories are at most 2^16 pages of 64 KiB (4 GiB) in WebAssembly 2.0. */
export const MAX_MEMORY_PAGES = 65536;

/** The spec's context C, as far as function bodies need it. */
export interface ModuleContext {
  types: FuncType[];
  /** Type of each function, by function index (imports first). */
  funcTypes: FuncType[];
  tables: TableType[];
  memories: MemoryType[];
  globals: GlobalType[];
  /** Element type of each element segment. */
  elemTypes: RefType[];
  /** The data count section's value, if present (memory.init/data.drop need it). */
  dataCount: number | undefined;
  /**
   * C.refs: function indices that occur outside function bodies (element segments,
   * exports, global initialisers); `ref.func x` in a body is valid only for these.
   */
  refs: Set<number>;
  numImportedFuncs: number;
  numImportedGlobals: number;
}

function fail(message: string, offset?: number): never {
  throw new ValidationError(message, offset);
}

/**
 * Builds the context of a decoded module. Throws ValidationError("unknown type") when a
 * function refers to a type index that does not exist, since its type cannot be resolved.
 */
export function buildModuleContext(m: Module): ModuleContext {
  const typeOf = (typeIndex: number): FuncType =>
    typeIndex < m.types.length ? m.types[typeIndex] : fail(`unknown type ${typeIndex}`);

  const funcTypes: FuncType[] = [];
  const tables: TableType[] = [];
  const memories: MemoryType[] = [];
  const globals: GlobalType[] = [];
  for (const { desc } of m.imports) {
    switch (desc.kind) {
      case 'func': funcTypes.push(typeOf(desc.typeIndex)); break;
      case 'table': tables.push(desc.type); break;
      case 'memory': memories.push(desc.type); break;
      case 'global': globals.push(desc.type); break;
    }
  }
  const counts = countImports(m);
  for (const typeIndex of m.funcs) funcTypes.push(typeOf(typeIndex));
  tables.push(...m.tables);
  memories.push(...m.memories);
  for (const g of m.globals) globals.push(g.type);

  const refs = new Set<number>();
  const collectRefs = (e: ConstExpr): void => {
    for (const i of e.instrs) if (i.op === 'ref.func') refs.add(i.funcIndex);
  };
  for (const g of m.globals) collectRefs(g.init);
  for (const seg of m.elems) {
    seg.init.forEach(collectRefs);
    if (seg.mode.kind === 'active') collectRefs(seg.mode.offset);
  }
  for (const ex of m.exports) if (ex.kind === 'func') refs.add(ex.index);

  return {
    types: m.types,
    funcTypes,
    tables,
    memories,
    globals,
    elemTypes: m.elems.map((seg) => seg.elemType),
    dataCount: m.dataCount,
    refs,
    numImportedFuncs: counts.funcs,
    numImportedGlobals: counts.globals,
  };
}

/** Validates everything in the module except the function bodies. */
export function validateModule(m: Module): void {
  const c = buildModuleContext(m);

  for (const { desc } of m.imports) {
    if (desc.kind === 'table') checkTableType(desc.type);
    else if (desc.kind === 'memory') checkMemoryType(desc.type);
  }
  m.tables.forEach(checkTableType);
  m.memories.forEach(checkMemoryType);
  if (c.memories.length > 1) fail('multiple memories');

  for (const g of m.globals) checkConstExpr(c, g.init, g.type.valType);

  m.elems.forEach((seg) => {
    if (seg.mode.kind === 'active') {
      const { tableIndex, offset } = seg.mode;
      if (tableIndex >= c.tables.length) fail(`unknown table ${tableIndex}`, offset.offset);
      if (c.tables[tableIndex].elemType !== seg.elemType) fail('type mismatch', offset.offset);
      checkConstExpr(c, offset, ValType.I32);
    }
    for (const item of seg.init) checkConstExpr(c, item, seg.elemType);
  });

  for (const seg of m.datas) {
    if (seg.mode.kind === 'active') {
      const { memoryIndex, offset } = seg.mode;
      if (memoryIndex >= c.memories.length) fail(`unknown memory ${memoryIndex}`, offset.offset);
      checkConstExpr(c, offset, ValType.I32);
    }
  }

  if (m.start !== undefined) {
    const type = c.funcTypes[m.start];
    if (type === undefined) fail(`unknown function ${m.start}`);
    if (type.params.length !== 0 || type.results.length !== 0) fail('start function');
  }

  const spaceSizes: Record<ExternKind, number> = {
    func: c.funcTypes.length,
    table: c.tables.length,
    memory: c.memories.length,
    global: c.globals.length,
  };
  const exportNames = new Set<string>();
  for (const ex of m.exports) {
    if (ex.index >= spaceSizes[ex.kind]) fail(`unknown ${ex.kind === 'func' ? 'function' : ex.kind} ${ex.index}`);
    if (exportNames.has(ex.name)) fail('duplicate export name');
    exportNames.add(ex.name);
  }
}

function checkLimits(limits: Limits, range: number, rangeMessage: string): void {
  if (limits.min > range) fail(rangeMessage);
  if (limits.max !== undefined) {
    if (limits.max > range) fail(rangeMessage);
    if (limits.min > limits.max) fail('size minimum must not be greater than maximum');
  }
}

function checkTableType(t: TableType): void {
  // Table sizes are u32s, which the decoder already guarantees; only min <= max is left.
  checkLimits(t.limits, 0xffffffff, 'table size must be at most 2^32-1');
}

function checkMemoryType(t: MemoryType): void {
  checkLimits(t.limits, MAX_MEMORY_PAGES, 'memory size must be at most 65536 pages (4GiB)');
  if (t.shared === true && t.limits.max === undefined) fail('shared memory must have maximum');
}

/**
 * Checks that a constant expression produces exactly one value of type `expected`.
 * The decoder only lets constant instructions through; what remains is checking indices,
 * the 2.0 rule that `global.get` may only read an imported immutable global, and types.
 */
export function checkConstExpr(c: ModuleContext, expr: ConstExpr, expected: ValType): void {
  const stack: ValType[] = [];
  for (const instr of expr.instrs) {
    switch (instr.op) {
      case 'const':
      case 'ref.null':
        stack.push(instr.type);
        break;
      case 'v128.const':
        stack.push(ValType.V128);
        break;
      case 'ref.func':
        if (instr.funcIndex >= c.funcTypes.length) fail(`unknown function ${instr.funcIndex}`, expr.offset);
        stack.push(ValType.FuncRef);
        break;
      case 'global.get': {
        const x = instr.globalIndex;
        // Only imported globals are in scope in constant expressions (2.0).
        if (x >= c.numImportedGlobals) fail(`unknown global ${x}`, expr.offset);
        if (c.globals[x].mutable) fail('constant expression required', expr.offset);
        stack.push(c.globals[x].valType);
        break;
      }
    }
  }
  if (stack.length !== 1 || stack[0] !== expected) fail('type mismatch', expr.offset);
}
