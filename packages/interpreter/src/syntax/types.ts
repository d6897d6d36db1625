/**
 * The abstract syntax of a WebAssembly 2.0 module, as the binary decoder produces it and
 * every later stage (validation, translation, instantiation) consumes it.
 * Names and shapes follow the spec's "Structure" chapter.
 */

/** Value types, encoded with their binary-format byte so the decoder needs no table. */
export enum ValType {
  I32 = 0x7f,
  I64 = 0x7e,
  F32 = 0x7d,
  F64 = 0x7c,
  V128 = 0x7b, // 128-bit SIMD vector: takes two value slots (four words)
  FuncRef = 0x70,
  ExternRef = 0x6f,
}

/** Value slots a value of type `t` takes on the stack and among the locals: 2 for v128, else 1. */
export function slotCount(t: ValType): number {
  return t === ValType.V128 ? 2 : 1;
}

/** Value slots `types` take together. */
export function slotsOf(types: readonly ValType[]): number {
  let n = 0;
  for (const t of types) n += t === ValType.V128 ? 2 : 1;
  return n;
}

export type RefType = ValType.FuncRef | ValType.ExternRef;

export function isRefType(t: ValType): t is RefType {
  return t === ValType.FuncRef || t === ValType.ExternRef;
}

export function valTypeName(t: ValType): string {
  switch (t) {
    case ValType.I32: return 'i32';
    case ValType.I64: return 'i64';
    case ValType.F32: return 'f32';
    case ValType.F64: return 'f64';
    case ValType.V128: return 'v128';
    case ValType.FuncRef: return 'funcref';
    case ValType.ExternRef: return 'externref';
    default: return `<unknown type 0x${(t as number).toString(16)}>`;
  }
}

export interface FuncType {
  params: ValType[];
  results: ValType[];
}

/** Limits of a memory (in 64 KiB pages) or a table (in elements); u32 values. */
export interface Limits {
  min: number;
  max?: number;
}

export interface TableType {
  elemType: RefType;
  limits: Limits;
}

export interface MemoryType {
  limits: Limits;
  /** A shared memory (threads proposal; limits flags 0x02/0x03): must have a maximum. */
  shared?: boolean;
}

export interface GlobalType {
  valType: ValType;
  mutable: boolean;
}

export type ExternKind = 'func' | 'table' | 'memory' | 'global';

export type ImportDesc =
  | { kind: 'func'; typeIndex: number }
  | { kind: 'table'; type: TableType }
  | { kind: 'memory'; type: MemoryType }
  | { kind: 'global'; type: GlobalType };

export interface Import {
  module: string;
  name: string;
  desc: ImportDesc;
}

export interface Export {
  name: string;
  kind: ExternKind;
  index: number;
}

/**
 * One instruction of a constant expression. Numeric constants are kept as raw bits
 * (lo and hi 32-bit words, as unsigned-or-signed int32 values) so no float ever
 * passes through a JS number and loses its NaN payload.
 */
export type ConstInstr =
  | { op: 'const'; type: ValType.I32 | ValType.I64 | ValType.F32 | ValType.F64; lo: number; hi: number }
  /** v128.const: its four little-endian 32-bit words. */
  | { op: 'v128.const'; words: [number, number, number, number] }
  | { op: 'ref.null'; type: RefType }
  | { op: 'ref.func'; funcIndex: number }
  | { op: 'global.get'; globalIndex: number };

/** A constant expression: the instructions before its `end` (the `end` is not kept). */
export interface ConstExpr {
  instrs: ConstInstr[];
  /** Byte offset of the expression in the module, for error messages. */
  offset: number;
}

export interface Global {
  type: GlobalType;
  init: ConstExpr;
}

export type ElemMode =
  | { kind: 'passive' }
  | { kind: 'declarative' }
  | { kind: 'active'; tableIndex: number; offset: ConstExpr };

export interface ElemSegment {
  elemType: RefType;
  /** Each element as a constant expression; the `funcidx*` encodings become `ref.func` here. */
  init: ConstExpr[];
  mode: ElemMode;
}

export type DataMode =
  | { kind: 'passive' }
  | { kind: 'active'; memoryIndex: number; offset: ConstExpr };

export interface DataSegment {
  bytes: Uint8Array;
  mode: DataMode;
}

/** A run of locals of one type, as the binary format declares them. */
export interface LocalRun {
  count: number;
  type: ValType;
}

/** A function body: its local declarations and the byte range of its instructions. */
export interface FunctionBody {
  locals: LocalRun[];
  /** Offset in the module bytes of the first instruction (after the local declarations). */
  codeStart: number;
  /** Offset one past the body's final `end` opcode (the `end` is included in the range). */
  codeEnd: number;
}

export interface CustomSection {
  name: string;
  bytes: Uint8Array;
}

/** What the `name` custom section says; all optional, a malformed name section is ignored. */
export interface NameMap {
  module?: string;
  functions: Map<number, string>;
  locals: Map<number, Map<number, string>>;
}

export interface Module {
  /** The module's bytes; function bodies point into them. */
  bytes: Uint8Array;
  types: FuncType[];
  imports: Import[];
  /** Type index of each function defined in the module (imported functions not included). */
  funcs: number[];
  tables: TableType[];
  memories: MemoryType[];
  globals: Global[];
  exports: Export[];
  start?: number;
  elems: ElemSegment[];
  datas: DataSegment[];
  /** The data count section's value, if the section is present. */
  dataCount?: number;
  codes: FunctionBody[];
  customs: CustomSection[];
  names: NameMap;
}

/** Counts of imported entities per kind, computed once: index spaces put imports first. */
export interface ImportCounts {
  funcs: number;
  tables: number;
  memories: number;
  globals: number;
}

export function countImports(m: Module): ImportCounts {
  const c: ImportCounts = { funcs: 0, tables: 0, memories: 0, globals: 0 };
  for (const imp of m.imports) {
    switch (imp.desc.kind) {
      case 'func': c.funcs++; break;
      case 'table': c.tables++; break;
      case 'memory': c.memories++; break;
      case 'global': c.globals++; break;
    }
  }
  return c;
}

/** The module's memory, table and global types in index order (imported ones first). */
export function entityTypes(m: Module): { memories: MemoryType[]; tables: TableType[]; globals: GlobalType[] } {
  const out = { memories: [] as MemoryType[], tables: [] as TableType[], globals: [] as GlobalType[] };
  for (const imp of m.imports) {
    if (imp.desc.kind === 'memory') out.memories.push(imp.desc.type);
    else if (imp.desc.kind === 'table') out.tables.push(imp.desc.type);
    else if (imp.desc.kind === 'global') out.globals.push(imp.desc.type);
  }
  out.memories.push(...m.memories);
  out.tables.push(...m.tables);
  out.globals.push(...m.globals.map((g) => g.type));
  return out;
}
