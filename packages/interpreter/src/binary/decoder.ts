/**
 * Decodes a WebAssembly 2.0 binary module into the AST of `syntax/types.ts`.
 *
 * Everything is decoded except the instructions of function bodies: for those only the
 * local declarations are read and the instruction byte range is recorded (the translator
 * decodes the instructions later). Constant expressions (global initialisers, segment
 * offsets and element items) are decoded here.
 *
 * Error messages follow the texts of the official spec tests (binary.wast,
 * binary-leb128.wast, custom.wast, ...), which are those of the reference interpreter.
 * Like the reference interpreter, a section's contents are read against the end of the
 * module rather than the end of the section, and the section size is checked once the
 * section is decoded ("section size mismatch"); this is what makes our messages agree
 * with the tests' for sections whose declared size and contents disagree.
 */
import { MalformedError, UnsupportedFeatureError, ValidationError } from '../errors';
import {
  ConstExpr,
  ConstInstr,
  CustomSection,
  DataSegment,
  ElemMode,
  ElemSegment,
  Export,
  ExternKind,
  FuncType,
  FunctionBody,
  Global,
  GlobalType,
  Import,
  ImportDesc,
  Limits,
  LocalRun,
  MemoryType,
  Module,
  NameMap,
  RefType,
  TableType,
  ValType,
} from '../syntax/types';
import { ByteReader } from './reader';
import { ATOMIC_OP, BY_OP, SIMD_INTERNAL, SIMD_OP } from '../instructions';

const MAGIC = 0x6d736100; // "\0asm", little-endian
const VERSION = 1;

/**
 * Implementation limit on the number of locals a function body may declare (parameters
 * not included). The spec only requires the total to fit in a u32, but every local takes
 * a slot in a frame, so a body declaring billions of them must be refused before anything
 * is allocated. 50000 is the limit browsers (V8, SpiderMonkey) use.
 */
export const MAX_LOCALS = 50000;

/** Section ids, in the binary format's numbering. */
enum SectionId {
  Custom = 0,
  Type = 1,
  Import = 2,
  Function = 3,
  Table = 4,
  Memory = 5,
  Global = 6,
  Export = 7,
  Start = 8,
  Element = 9,
  Code = 10,
  Data = 11,
  DataCount = 12,
}

/**
 * Position of each non-custom section in the order the spec requires; note that the data
 * count section (id 12) comes between the element and code sections.
 */
const SECTION_RANK: readonly number[] = [
  /* custom */ 0, /* type */ 1, /* import */ 2, /* function */ 3, /* table */ 4,
  /* memory */ 5, /* global */ 6, /* export */ 7, /* start */ 8, /* element */ 9,
  /* code */ 11, /* data */ 12, /* datacount */ 10,
];

const EXPORT_KINDS: readonly ExternKind[] = ['func', 'table', 'memory', 'global'];

export function decodeModule(bytes: Uint8Array, options: DecodeOptions = {}): Module {
  sharedMemories = options.threads !== false;
  const r = new ByteReader(bytes);
  const magic = r.fixed32();
  if (magic !== MAGIC) r.fail('magic header not detected', 0);
  const version = r.fixed32();
  if (version !== VERSION) r.fail('unknown binary version', 4);

  const m: Module = {
    bytes,
    types: [],
    imports: [],
    funcs: [],
    tables: [],
    memories: [],
    globals: [],
    exports: [],
    elems: [],
    datas: [],
    codes: [],
    customs: [],
    names: { functions: new Map(), locals: new Map() },
  };
  let nameSectionSeen = false;
  let lastRank = 0;

  while (!r.eof) {
    const sectionStart = r.pos;
    const id = r.u8();
    if (id > SectionId.DataCount) r.fail('malformed section id', sectionStart);
    const size = length(r);
    const contentStart = r.pos;
    const contentEnd = contentStart + size;

    if (id === SectionId.Custom) {
      // A custom section is read within its own bounds: its payload is opaque.
      const custom = insideSection(() => decodeCustomSection(new ByteReader(bytes, contentStart, contentEnd)));
      m.customs.push(custom);
      if (custom.name === 'name' && !nameSectionSeen) {
        nameSectionSeen = true;
        m.names = decodeNameSection(custom.bytes) ?? m.names;
      }
      r.pos = contentEnd;
      continue;
    }

    // A section out of order or repeated: the reference interpreter stops decoding
    // sections when the next id is not one that may follow, hence this message.
    const rank = SECTION_RANK[id];
    if (rank <= lastRank) r.fail('unexpected content after last section', sectionStart);
    lastRank = rank;

    insideSection(() => decodeSection(id, r, m));
    if (r.pos !== contentEnd) r.fail('section size mismatch', contentStart);
  }

  if (m.funcs.length !== m.codes.length) {
    r.fail('function and code section have inconsistent lengths', bytes.length);
  }
  if (m.dataCount !== undefined && m.dataCount !== m.datas.length) {
    r.fail('data count and data section have inconsistent lengths', bytes.length);
  }
  return m;
}

/**
 * Runs a section decoder, reporting a read past the end of the bytes with the message the
 * spec tests expect inside a section ("unexpected end" is kept for the module header).
 */
function insideSection<T>(decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    if (e instanceof MalformedError && !(e instanceof UnsupportedFeatureError) && /^unexpected end( \(|$)/.test(e.message)) {
      throw new MalformedError('unexpected end of section or function', e.offset);
    }
    throw e;
  }
}

function decodeSection(id: SectionId, r: ByteReader, m: Module): void {
  switch (id) {
    case SectionId.Type:
      m.types = vec(r, funcType);
      break;
    case SectionId.Import:
      m.imports = vec(r, importEntry);
      break;
    case SectionId.Function:
      m.funcs = vec(r, (r) => r.u32());
      break;
    case SectionId.Table:
      m.tables = vec(r, tableType);
      break;
    case SectionId.Memory:
      m.memories = vec(r, memoryType);
      break;
    case SectionId.Global:
      m.globals = vec(r, (r): Global => ({ type: globalType(r), init: constExpr(r) }));
      break;
    case SectionId.Export:
      m.exports = vec(r, exportEntry);
      break;
    case SectionId.Start:
      m.start = r.u32();
      break;
    case SectionId.Element:
      m.elems = vec(r, elemSegment);
      break;
    case SectionId.Code:
      m.codes = vec(r, functionBody);
      break;
    case SectionId.Data:
      m.datas = vec(r, dataSegment);
      break;
    case SectionId.DataCount:
      m.dataCount = r.u32();
      break;
  }
}

// ---------------------------------------------------------------------------------------
// Primitive helpers

/**
 * A u32 byte length (of a section, a function body or a name) that must not exceed the
 * bytes left in the reader.
 */
function length(r: ByteReader): number {
  const at = r.pos;
  const n = r.u32();
  if (n > r.end - r.pos) r.fail('length out of bounds', at);
  return n;
}

/**
 * A vector. Its count is not checked against the bytes left (the spec tests expect
 * "unexpected end" when the elements run out), but nothing is allocated in advance and
 * every element takes at least one byte, so a huge count cannot exhaust memory.
 */
function vec<T>(r: ByteReader, element: (r: ByteReader) => T): T[] {
  const n = r.u32();
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(element(r));
  return out;
}

/** A UTF-8 name; its length is bounds-checked first so an overlong one reads as such. */
function name(r: ByteReader): string {
  const at = r.pos;
  length(r);
  r.pos = at;
  return r.name();
}

/**
 * A single byte that the reference interpreter reads as a one-byte LEB128 (function type
 * form, limits flags): a continuation bit there is an over-long integer, not a bad value.
 */
function lebByte(r: ByteReader): number {
  const at = r.pos;
  const b = r.u8();
  if (b & 0x80) r.fail('integer representation too long', at);
  return b;
}

function valType(r: ByteReader): ValType {
  const at = r.pos;
  const b = r.u8();
  switch (b) {
    case ValType.I32:
    case ValType.I64:
    case ValType.F32:
    case ValType.F64:
    case ValType.FuncRef:
    case ValType.ExternRef:
    case ValType.V128:
      return b;
    default:
      return r.fail('malformed value type', at);
  }
}

function refType(r: ByteReader): RefType {
  const at = r.pos;
  const b = r.u8();
  if (b !== ValType.FuncRef && b !== ValType.ExternRef) r.fail('malformed reference type', at);
  return b;
}

// ---------------------------------------------------------------------------------------
// Types

function funcType(r: ByteReader): FuncType {
  const at = r.pos;
  if (lebByte(r) !== 0x60) r.fail('malformed function type', at);
  const params = vec(r, valType);
  const results = vec(r, valType);
  return { params, results };
}

/** Limits: flags 0 (min) or 1 (min max); a memory's may also be 2/3 (shared, threads proposal). */
function limitsWithFlags(r: ByteReader, maxFlags: number): [Limits, number] {
  const at = r.pos;
  const flags = lebByte(r);
  if (flags > maxFlags) r.fail('integer too large', at);
  const min = r.u32();
  return [(flags & 1) === 1 ? { min, max: r.u32() } : { min }, flags];
}

function tableType(r: ByteReader): TableType {
  const elemType = refType(r);
  return { elemType, limits: limitsWithFlags(r, 1)[0] };
}

export interface DecodeOptions {
  /**
   * The threads proposal (default true): memory limits flags 2/3 are shared memories. false:
   * WebAssembly 2.0, where they are malformed ("integer too large"), as its spec tests say.
   */
  threads?: boolean;
}

/** decodeModule's `threads` option for the module being decoded (decoding is synchronous). */
let sharedMemories = true;

function memoryType(r: ByteReader): MemoryType {
  const [limits, flags] = limitsWithFlags(r, sharedMemories ? 3 : 1);
  return flags >= 2 ? { limits, shared: true } : { limits };
}

function globalType(r: ByteReader): GlobalType {
  const valType_ = valType(r);
  const at = r.pos;
  const mut = r.u8();
  if (mut > 1) r.fail('malformed mutability', at);
  return { valType: valType_, mutable: mut === 1 };
}

// ---------------------------------------------------------------------------------------
// Imports and exports

function importEntry(r: ByteReader): Import {
  const module = name(r);
  const field = name(r);
  const at = r.pos;
  const kind = r.u8();
  let desc: ImportDesc;
  switch (kind) {
    case 0: desc = { kind: 'func', typeIndex: r.u32() }; break;
    case 1: desc = { kind: 'table', type: tableType(r) }; break;
    case 2: desc = { kind: 'memory', type: memoryType(r) }; break;
    case 3: desc = { kind: 'global', type: globalType(r) }; break;
    default: return r.fail('malformed import kind', at);
  }
  return { module, name: field, desc };
}

function exportEntry(r: ByteReader): Export {
  const exportName = name(r);
  const at = r.pos;
  const kind = EXPORT_KINDS[r.u8()];
  if (kind === undefined) r.fail('malformed export kind', at);
  return { name: exportName, kind, index: r.u32() };
}

// ---------------------------------------------------------------------------------------
// Constant expressions

/**
 * Whether a single-byte opcode is an instruction of WebAssembly 2.0 (SIMD aside). The
 * gaps are opcodes of other proposals (exceptions, tail calls, ...) or unassigned.
 */
function isInstructionOpcode(op: number): boolean {
  return (
    (op >= 0x00 && op <= 0x05) || // unreachable nop block loop if else
    (op >= 0x0b && op <= 0x11) || // end br br_if br_table return call call_indirect
    (op >= 0x1a && op <= 0x1c) || // drop select select-t
    (op >= 0x20 && op <= 0x26) || // local.*, global.*, table.get/set
    (op >= 0x28 && op <= 0xc4) || // memory, constants, numeric, sign extension
    (op >= 0xd0 && op <= 0xd2) // ref.null ref.is_null ref.func
  );
}

/** Whether `sub` is a 0xFD-prefixed (SIMD) instruction of 2.0. */
function isSimdOpcode(sub: number): boolean {
  return sub < SIMD_INTERNAL && BY_OP.has(SIMD_OP + sub);
}

/** Highest sub-opcode of the 0xFC prefix in 2.0 (saturating truncation, bulk memory, tables). */
const MAX_FC_SUBOP = 17;

/**
 * A constant expression, up to and including its `end`. Only the instructions that may be
 * constant are decoded; any other real instruction is an invalid (not malformed) module,
 * an unknown opcode a malformed one. Type checking is left to the validator.
 */
function constExpr(r: ByteReader): ConstExpr {
  const offset = r.pos;
  const instrs: ConstInstr[] = [];
  for (;;) {
    const at = r.pos;
    const op = r.u8();
    switch (op) {
      case 0x0b:
        return { instrs, offset };
      case 0x41:
        instrs.push({ op: 'const', type: ValType.I32, lo: r.s32(), hi: 0 });
        break;
      case 0x42: {
        const [lo, hi] = r.s64();
        instrs.push({ op: 'const', type: ValType.I64, lo, hi });
        break;
      }
      case 0x43:
        instrs.push({ op: 'const', type: ValType.F32, lo: r.fixed32(), hi: 0 });
        break;
      case 0x44: {
        const lo = r.fixed32();
        instrs.push({ op: 'const', type: ValType.F64, lo, hi: r.fixed32() });
        break;
      }
      case 0xd0:
        instrs.push({ op: 'ref.null', type: refType(r) });
        break;
      case 0xd2:
        instrs.push({ op: 'ref.func', funcIndex: r.u32() });
        break;
      case 0x23:
        instrs.push({ op: 'global.get', globalIndex: r.u32() });
        break;
      case 0xfd: {
        const sub = r.u32();
        if (sub !== 12) {
          if (!isSimdOpcode(sub)) r.fail('illegal opcode', at);
          throw new ValidationError('constant expression required', at);
        }
        const words: [number, number, number, number] = [r.fixed32(), r.fixed32(), r.fixed32(), r.fixed32()];
        instrs.push({ op: 'v128.const', words });
        break;
      }
      case 0xfc:
        if (r.u32() > MAX_FC_SUBOP) r.fail('illegal opcode', at);
        throw new ValidationError('constant expression required', at);
      case 0xfe:
        if (!BY_OP.has(ATOMIC_OP + r.u32())) r.fail('illegal opcode', at);
        throw new ValidationError('constant expression required', at);
      default:
        if (!isInstructionOpcode(op)) r.fail('illegal opcode', at);
        throw new ValidationError('constant expression required', at);
    }
  }
}

/** A `funcidx` of the element encodings 0..3, as the `ref.func` expression it stands for. */
function funcIndexExpr(r: ByteReader): ConstExpr {
  const offset = r.pos;
  return { instrs: [{ op: 'ref.func', funcIndex: r.u32() }], offset };
}

// ---------------------------------------------------------------------------------------
// Segments

/**
 * The eight element segment encodings. The flags' bits: 0 = passive or declarative (else
 * active), 1 = explicit table index (active) or declarative (non-active), 2 = the items
 * are expressions rather than function indices. An element kind or reference type is
 * present whenever bit 0 or 1 is set.
 */
function elemSegment(r: ByteReader): ElemSegment {
  const at = r.pos;
  const flags = r.u32();
  if (flags > 7) r.fail('malformed elements segment kind', at);
  const usesExprs = (flags & 4) !== 0;

  let mode: ElemMode;
  if (flags & 1) {
    mode = { kind: flags & 2 ? 'declarative' : 'passive' };
  } else {
    const tableIndex = flags & 2 ? r.u32() : 0;
    mode = { kind: 'active', tableIndex, offset: constExpr(r) };
  }

  let elemType: RefType = ValType.FuncRef;
  if (flags & 3) {
    if (usesExprs) {
      elemType = refType(r);
    } else {
      const kindAt = r.pos;
      if (r.u8() !== 0x00) r.fail('malformed element kind', kindAt); // 0x00 = funcref
    }
  }
  const init = vec(r, usesExprs ? constExpr : funcIndexExpr);
  return { elemType, init, mode };
}

function dataSegment(r: ByteReader): DataSegment {
  const at = r.pos;
  const flags = r.u32();
  let segment: DataSegment;
  switch (flags) {
    case 0:
    case 2: {
      const memoryIndex = flags === 2 ? r.u32() : 0;
      const offset = constExpr(r);
      segment = { bytes: dataBytes(r), mode: { kind: 'active', memoryIndex, offset } };
      break;
    }
    case 1:
      segment = { bytes: dataBytes(r), mode: { kind: 'passive' } };
      break;
    default:
      return r.fail('malformed data segment kind', at);
  }
  return segment;
}

/** Unlike names, a segment's byte count is not bounds-checked first: a short segment is an "unexpected end". */
function dataBytes(r: ByteReader): Uint8Array {
  return r.bytesN(r.u32());
}

// ---------------------------------------------------------------------------------------
// Code

function functionBody(r: ByteReader): FunctionBody {
  const size = length(r);
  const bodyStart = r.pos;
  const codeEnd = bodyStart + size;
  // The local declarations may not run past the body.
  const body = new ByteReader(r.bytes, bodyStart, codeEnd);
  const localsAt = body.pos;
  let total = 0;
  const locals = vec(body, (b): LocalRun => {
    const count = b.u32();
    total += count;
    if (total > MAX_LOCALS) b.fail('too many locals', localsAt);
    return { count, type: valType(b) };
  });
  const codeStart = body.pos;
  if (codeEnd <= codeStart || r.bytes[codeEnd - 1] !== 0x0b) {
    r.fail('END opcode expected', codeEnd - 1);
  }
  r.pos = codeEnd;
  return { locals, codeStart, codeEnd };
}

// ---------------------------------------------------------------------------------------
// Custom sections

function decodeCustomSection(r: ByteReader): CustomSection {
  const sectionName = name(r);
  return { name: sectionName, bytes: r.bytesN(r.end - r.pos) };
}

/**
 * The `name` custom section (spec appendix "Name Section"): subsections 0 (module name),
 * 1 (function names) and 2 (local names), each at most once and in that order; other
 * subsections (extended-name-section proposal) are skipped. A malformed name section does
 * not make the module malformed: it is ignored as a whole (the result is undefined).
 */
function decodeNameSection(payload: Uint8Array): NameMap | undefined {
  const names: NameMap = { functions: new Map(), locals: new Map() };
  const r = new ByteReader(payload);
  let lastId = -1;
  try {
    while (!r.eof) {
      const id = r.u8();
      if (id <= lastId) return undefined;
      lastId = id;
      const size = length(r);
      const sub = new ByteReader(payload, r.pos, r.pos + size);
      switch (id) {
        case 0:
          names.module = name(sub);
          break;
        case 1:
          names.functions = nameMap(sub);
          break;
        case 2:
          for (const [funcIndex, locals] of vec(sub, (s) => [s.u32(), nameMap(s)] as const)) {
            names.locals.set(funcIndex, locals);
          }
          break;
        default:
          sub.pos = sub.end;
      }
      if (!sub.eof) return undefined;
      r.pos = sub.end;
    }
  } catch (e) {
    if (e instanceof MalformedError) return undefined;
    throw e;
  }
  return names;
}

function nameMap(r: ByteReader): Map<number, string> {
  const map = new Map<number, string>();
  for (const [index, n] of vec(r, (s) => [s.u32(), name(s)] as const)) map.set(index, n);
  return map;
}
