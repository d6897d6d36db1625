/**
 * A small reader for the WebAssembly spec test script syntax (.wast).
 *
 * It tokenizes the script, builds S-expressions, and turns the top-level forms into commands.
 * Module text is NOT parsed here: it is handed to wabt.js (`convertScript`) to get the binary.
 * Literal values (`i32.const 0x7fff_ffff`, `f64.const nan:0x4000000000000`, ...) are resolved
 * exactly by compiling one module per script that holds every literal as a global initializer
 * and decoding the global section of its binary.
 *
 * This file deliberately does not depend on the interpreter.
 */

// ---------------------------------------------------------------------------------------------
// Values

export type ValTypeName = 'i32' | 'i64' | 'f32' | 'f64' | 'funcref' | 'externref';

/** Exact values, structurally the same as the interpreter's ExactValue (plus v128 for SIMD). */
export type ExactValue =
  | { type: 'i32'; bits: number }
  | { type: 'i64'; bits: bigint }
  | { type: 'f32'; bits: number }
  | { type: 'f64'; bits: bigint }
  | { type: 'funcref'; ref: unknown }
  | { type: 'externref'; ref: unknown }
  | { type: 'v128'; bits: bigint };

export type NanKind = 'canonical' | 'arithmetic';

/** One lane of an expected v128 with a NaN pattern. */
export type LaneExpectation =
  | { kind: 'bits'; bits: bigint }
  | { kind: 'nan'; nan: NanKind };

/** What an assert_return expects of one result. */
export type Expected =
  | { kind: 'value'; value: ExactValue }
  | { kind: 'nan'; type: 'f32' | 'f64'; nan: NanKind }
  | { kind: 'ref.func' } // any non-null funcref
  | { kind: 'ref.extern' } // any non-null externref
  | { kind: 'ref.null'; type?: 'funcref' | 'externref' } // type undefined = any null reference
  | { kind: 'v128-lanes'; shape: 'f32x4' | 'f64x2'; lanes: LaneExpectation[] }
  | { kind: 'either'; options: Expected[] };

// ---------------------------------------------------------------------------------------------
// Tokens and S-expressions

export class WastSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'WastSyntaxError';
  }
}

export interface SAtom {
  kind: 'atom';
  text: string;
  start: number;
  end: number;
  line: number;
}
export interface SString {
  kind: 'string';
  bytes: Uint8Array;
  start: number;
  end: number;
  line: number;
}
export interface SList {
  kind: 'list';
  items: SExpr[];
  start: number;
  end: number;
  line: number;
}
export type SExpr = SAtom | SString | SList;

import { Wabt, WABT_FEATURES, assemble, loadWabt } from '../helpers/wat';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

function isHex(c: string): boolean {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Parses the whole script into its top-level S-expressions. */
export function parseSExprs(src: string): SExpr[] {
  let pos = 0;
  let line = 1;
  const n = src.length;
  const stack: SList[] = [];
  const top: SExpr[] = [];

  const push = (e: SExpr) => {
    if (stack.length > 0) stack[stack.length - 1].items.push(e);
    else top.push(e);
  };

  while (pos < n) {
    const c = src[pos];
    if (c === '\n') {
      line++;
      pos++;
      continue;
    }
    if (isSpace(c)) {
      pos++;
      continue;
    }
    if (c === ';' && src[pos + 1] === ';') {
      while (pos < n && src[pos] !== '\n') pos++;
      continue;
    }
    if (c === '(' && src[pos + 1] === ';') {
      const startLine = line;
      let depth = 1;
      pos += 2;
      while (depth > 0) {
        if (pos >= n) throw new WastSyntaxError('unterminated block comment', startLine);
        if (src[pos] === '(' && src[pos + 1] === ';') {
          depth++;
          pos += 2;
        } else if (src[pos] === ';' && src[pos + 1] === ')') {
          depth--;
          pos += 2;
        } else {
          if (src[pos] === '\n') line++;
          pos++;
        }
      }
      continue;
    }
    if (c === '(') {
      stack.push({ kind: 'list', items: [], start: pos, end: -1, line });
      pos++;
      continue;
    }
    if (c === ')') {
      const l = stack.pop();
      if (!l) throw new WastSyntaxError('unbalanced ")"', line);
      pos++;
      l.end = pos;
      push(l);
      continue;
    }
    if (c === '"') {
      const start = pos;
      const startLine = line;
      pos++;
      const bytes: number[] = [];
      for (;;) {
        if (pos >= n) throw new WastSyntaxError('unterminated string', startLine);
        const ch = src[pos];
        if (ch === '"') {
          pos++;
          break;
        }
        if (ch === '\n') throw new WastSyntaxError('newline in string', line);
        if (ch === '\\') {
          const e = src[pos + 1];
          if (e === 'n') (bytes.push(0x0a), (pos += 2));
          else if (e === 't') (bytes.push(0x09), (pos += 2));
          else if (e === 'r') (bytes.push(0x0d), (pos += 2));
          else if (e === '"') (bytes.push(0x22), (pos += 2));
          else if (e === "'") (bytes.push(0x27), (pos += 2));
          else if (e === '\\') (bytes.push(0x5c), (pos += 2));
          else if (e === 'u' && src[pos + 2] === '{') {
            const close = src.indexOf('}', pos + 3);
            if (close < 0) throw new WastSyntaxError('bad \\u escape', line);
            const hex = src.slice(pos + 3, close).replace(/_/g, '');
            if (!/^[0-9a-fA-F]+$/.test(hex)) throw new WastSyntaxError('bad \\u escape', line);
            const cp = parseInt(hex, 16);
            for (const b of utf8.encode(String.fromCodePoint(cp))) bytes.push(b);
            pos = close + 1;
          } else if (e !== undefined && isHex(e) && isHex(src[pos + 2] ?? '')) {
            bytes.push(parseInt(src.slice(pos + 1, pos + 3), 16));
            pos += 3;
          } else {
            throw new WastSyntaxError(`bad escape "\\${e}"`, line);
          }
          continue;
        }
        // Plain character(s): copy as UTF-8 (handles surrogate pairs via codePointAt).
        const cp = src.codePointAt(pos)!;
        const s = String.fromCodePoint(cp);
        for (const b of utf8.encode(s)) bytes.push(b);
        pos += s.length;
      }
      push({ kind: 'string', bytes: Uint8Array.from(bytes), start, end: pos, line: startLine });
      continue;
    }
    // Atom: up to whitespace, paren, quote or a line comment.
    const start = pos;
    while (pos < n) {
      const ch = src[pos];
      if (isSpace(ch) || ch === '(' || ch === ')' || ch === '"') break;
      if (ch === ';' && src[pos + 1] === ';') break;
      pos++;
    }
    push({ kind: 'atom', text: src.slice(start, pos), start, end: pos, line });
  }
  if (stack.length > 0) throw new WastSyntaxError('unclosed "("', stack[stack.length - 1].line);
  return top;
}

// ---------------------------------------------------------------------------------------------
// Commands

/** A module as written in the script, plus (after convertScript) its binary. */
export interface ModuleSource {
  form: 'text' | 'binary' | 'quote';
  /** `$id` if the module is named. */
  name?: string;
  /** For 'text': the `(module ...)` text; for 'quote': the concatenated quoted text. */
  text?: string;
  /** The binary (given directly for 'binary'; filled in by convertScript for text). */
  bytes?: Uint8Array;
  /** Set by convertScript when wabt.js could not turn the text into a binary. */
  wabtError?: string;
  line: number;
}

/** A literal constant written in the script, resolved to exact bits by resolveLiterals. */
export interface LiteralRef {
  type: 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
  /** The text after the opcode, e.g. `0x7fff_ffff` or `i32x4 1 2 3 4`. */
  text: string;
  line: number;
  value?: ExactValue;
  error?: string;
}

/** An argument or expected value before literal resolution. */
export type RawValue =
  | { kind: 'literal'; lit: LiteralRef }
  | { kind: 'ref.null'; type?: 'funcref' | 'externref' }
  | { kind: 'ref.extern'; host?: number }
  | { kind: 'ref.func' }
  | { kind: 'nan'; type: 'f32' | 'f64'; nan: NanKind }
  | { kind: 'v128-lanes'; shape: 'f32x4' | 'f64x2'; lanes: ({ nan: NanKind } | { lit: LiteralRef })[] }
  | { kind: 'either'; options: RawValue[] };

export interface InvokeAction {
  kind: 'invoke';
  module?: string;
  field: string;
  args: RawValue[];
  line: number;
}
export interface GetAction {
  kind: 'get';
  module?: string;
  field: string;
  line: number;
}
export type Action = InvokeAction | GetAction;

export type Command =
  | { kind: 'module'; line: number; module: ModuleSource }
  | { kind: 'register'; line: number; as: string; module?: string }
  | { kind: 'action'; line: number; action: Action }
  | { kind: 'assert_return'; line: number; action: Action; expected: RawValue[] }
  | { kind: 'assert_trap'; line: number; action: Action; message: string }
  | { kind: 'assert_exhaustion'; line: number; action: Action; message: string }
  | ModuleAssertion<'assert_invalid'>
  | ModuleAssertion<'assert_malformed'>
  | ModuleAssertion<'assert_unlinkable'>
  | ModuleAssertion<'assert_uninstantiable'>
  /** `(assert_trap (module ...) "msg")`: instantiation must trap. */
  | ModuleAssertion<'assert_trap_module'>
  /**
   * The threads proposal: `(thread $T (shared (module $M) ...) command ...)` runs the commands
   * on a new thread that sees only the named modules of the spawning thread; `(wait $T)` joins it.
   */
  | { kind: 'thread'; line: number; name: string; shared: string[]; commands: Command[] }
  | { kind: 'wait'; line: number; thread: string };

export interface ModuleAssertion<K extends string> {
  kind: K;
  line: number;
  module: ModuleSource;
  message: string;
}

export type CommandKind = Command['kind'];

export interface Script {
  file: string;
  commands: Command[];
  literals: LiteralRef[];
  /** The module text uses the threads proposal (shared memories, atomics): wabt parses it with that feature. */
  threads?: boolean;
}

/** Every command of a script, those inside `thread` blocks too (depth first, in order). */
export function allCommands(commands: Command[]): Command[] {
  return commands.flatMap((c) => (c.kind === 'thread' ? [c, ...allCommands(c.commands)] : [c]));
}

function fail(e: SExpr | undefined, msg: string, fallbackLine = 0): never {
  throw new WastSyntaxError(msg, e ? e.line : fallbackLine);
}

function atomText(e: SExpr | undefined): string | undefined {
  return e && e.kind === 'atom' ? e.text : undefined;
}

function stringText(e: SExpr, what: string): string {
  if (e.kind !== 'string') fail(e, `expected a string for ${what}`);
  return utf8Decoder.decode(e.bytes);
}

function head(e: SExpr): string | undefined {
  return e.kind === 'list' ? atomText(e.items[0]) : undefined;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

class ScriptBuilder {
  readonly literals: LiteralRef[] = [];
  constructor(
    readonly src: string,
    readonly file: string,
  ) {}

  module(e: SExpr): ModuleSource {
    if (e.kind !== 'list' || head(e) !== 'module') fail(e, 'expected (module ...)');
    let i = 1;
    let name: string | undefined;
    const maybeName = atomText(e.items[1]);
    if (maybeName && maybeName.startsWith('$')) {
      name = maybeName;
      i = 2;
    }
    const form = atomText(e.items[i]);
    if (form === 'binary' || form === 'quote') {
      const parts: Uint8Array[] = [];
      for (const s of e.items.slice(i + 1)) {
        if (s.kind !== 'string') fail(s, `(module ${form}) expects strings`);
        parts.push(s.bytes);
      }
      const bytes = concatBytes(parts);
      if (form === 'binary') return { form, name, bytes, line: e.line };
      // Quoted text is joined with spaces, like the reference interpreter's lexer would see it.
      const text = e.items
        .slice(i + 1)
        .map((s) => utf8Decoder.decode((s as SString).bytes))
        .join(' ');
      return { form, name, text, line: e.line };
    }
    return { form: 'text', name, text: this.src.slice(e.start, e.end), line: e.line };
  }

  literal(type: LiteralRef['type'], text: string, line: number): LiteralRef {
    const lit: LiteralRef = { type, text, line };
    this.literals.push(lit);
    return lit;
  }

  value(e: SExpr, isResult: boolean): RawValue {
    if (e.kind !== 'list') fail(e, 'expected a value');
    const op = head(e);
    const rest = e.items.slice(1);
    const restText = () => {
      if (rest.length === 0) fail(e, `${op} needs an operand`);
      return this.src.slice(rest[0].start, rest[rest.length - 1].end);
    };
    switch (op) {
      case 'i32.const':
      case 'i64.const':
        return { kind: 'literal', lit: this.literal(op.slice(0, 3) as 'i32' | 'i64', restText(), e.line) };
      case 'f32.const':
      case 'f64.const': {
        const t = op.slice(0, 3) as 'f32' | 'f64';
        const a = atomText(rest[0]);
        if (isResult && (a === 'nan:canonical' || a === 'nan:arithmetic')) {
          return { kind: 'nan', type: t, nan: a.slice(4) as NanKind };
        }
        return { kind: 'literal', lit: this.literal(t, restText(), e.line) };
      }
      case 'v128.const': {
        const shape = atomText(rest[0]);
        const laneTexts = rest.slice(1).map((x) => atomText(x) ?? '');
        if (isResult && (shape === 'f32x4' || shape === 'f64x2') && laneTexts.some((l) => l.startsWith('nan:') && (l === 'nan:canonical' || l === 'nan:arithmetic'))) {
          const lt = shape === 'f32x4' ? 'f32' : 'f64';
          return {
            kind: 'v128-lanes',
            shape,
            lanes: laneTexts.map((l) =>
              l === 'nan:canonical' || l === 'nan:arithmetic'
                ? { nan: l.slice(4) as NanKind }
                : { lit: this.literal(lt, l, e.line) },
            ),
          };
        }
        return { kind: 'literal', lit: this.literal('v128', restText(), e.line) };
      }
      case 'ref.null': {
        const t = atomText(rest[0]);
        if (t === undefined) return { kind: 'ref.null' };
        if (t === 'func' || t === 'funcref') return { kind: 'ref.null', type: 'funcref' };
        if (t === 'extern' || t === 'externref') return { kind: 'ref.null', type: 'externref' };
        return fail(e, `unknown ref.null type ${t}`);
      }
      case 'ref.extern': {
        const t = atomText(rest[0]);
        if (t === undefined) {
          if (!isResult) fail(e, 'ref.extern argument needs a number');
          return { kind: 'ref.extern' };
        }
        const v = Number(t.replace(/_/g, ''));
        if (!Number.isInteger(v)) fail(e, `bad ref.extern ${t}`);
        return { kind: 'ref.extern', host: v };
      }
      case 'ref.host': {
        const v = Number((atomText(rest[0]) ?? '').replace(/_/g, ''));
        return { kind: 'ref.extern', host: v };
      }
      case 'ref.func':
        if (!isResult) fail(e, 'ref.func is not a valid argument');
        return { kind: 'ref.func' };
      case 'either':
        if (!isResult) fail(e, 'either is only valid in results');
        return { kind: 'either', options: rest.map((x) => this.value(x, true)) };
      default:
        return fail(e, `unknown value form ${op}`);
    }
  }

  action(e: SExpr): Action {
    if (e.kind !== 'list') fail(e, 'expected an action');
    const op = head(e);
    let i = 1;
    let module: string | undefined;
    const m = atomText(e.items[1]);
    if (m && m.startsWith('$')) {
      module = m;
      i = 2;
    }
    const fieldE = e.items[i];
    if (!fieldE) fail(e, 'action needs a name');
    const field = stringText(fieldE, 'export name');
    if (op === 'invoke') {
      return { kind: 'invoke', module, field, args: e.items.slice(i + 1).map((x) => this.value(x, false)), line: e.line };
    }
    if (op === 'get') {
      if (e.items.length > i + 1) fail(e, 'get takes no arguments');
      return { kind: 'get', module, field, line: e.line };
    }
    return fail(e, `unknown action ${op}`);
  }

  message(e: SExpr | undefined, parent: SExpr): string {
    if (!e) fail(parent, 'missing failure message');
    return stringText(e, 'failure message');
  }

  command(e: SExpr): Command {
    if (e.kind !== 'list') fail(e, 'expected a command');
    const op = head(e);
    const line = e.line;
    const it = e.items;
    switch (op) {
      case 'module':
        return { kind: 'module', line, module: this.module(e) };
      case 'register': {
        const as = stringText(it[1], 'register name');
        const m = atomText(it[2]);
        return { kind: 'register', line, as, module: m };
      }
      case 'invoke':
      case 'get':
        return { kind: 'action', line, action: this.action(e) };
      case 'assert_return':
        return { kind: 'assert_return', line, action: this.action(it[1]), expected: it.slice(2).map((x) => this.value(x, true)) };
      case 'assert_trap':
        if (head(it[1]) === 'module') {
          return { kind: 'assert_trap_module', line, module: this.module(it[1]), message: this.message(it[2], e) };
        }
        return { kind: 'assert_trap', line, action: this.action(it[1]), message: this.message(it[2], e) };
      case 'assert_exhaustion':
        return { kind: 'assert_exhaustion', line, action: this.action(it[1]), message: this.message(it[2], e) };
      case 'assert_invalid':
      case 'assert_malformed':
      case 'assert_unlinkable':
      case 'assert_uninstantiable':
        return { kind: op, line, module: this.module(it[1]), message: this.message(it[2], e) };
      case 'thread': {
        const name = atomText(it[1]);
        if (!name || !name.startsWith('$')) fail(e, 'thread needs a $name');
        let i = 2;
        const shared: string[] = [];
        if (it[2] && head(it[2]) === 'shared') {
          for (const m of (it[2] as SList).items.slice(1)) {
            const id = m.kind === 'list' && head(m) === 'module' ? atomText(m.items[1]) : undefined;
            if (!id || !id.startsWith('$')) fail(m, 'shared expects (module $name) items');
            shared.push(id);
          }
          i = 3;
        }
        return { kind: 'thread', line, name, shared, commands: it.slice(i).map((x) => this.command(x)) };
      }
      case 'wait': {
        const thread = atomText(it[1]);
        if (!thread || !thread.startsWith('$')) fail(e, 'wait needs a thread $name');
        return { kind: 'wait', line, thread };
      }
      default:
        return fail(e, `unknown command ${op}`);
    }
  }
}

const MODULE_FIELDS = new Set(['type', 'import', 'func', 'table', 'memory', 'global', 'export', 'start', 'elem', 'data']);

/** Parses a .wast script into commands (module text and literals still unconverted). */
export function parseScript(src: string, file: string): Script {
  const b = new ScriptBuilder(src, file);
  const commands: Command[] = [];
  const forms = parseSExprs(src);
  for (let i = 0; i < forms.length; i++) {
    const e = forms[i];
    const h = head(e);
    if (e.kind === 'list' && h !== undefined && MODULE_FIELDS.has(h)) {
      // Bare module fields at top level form one inline module (like inline-module.wast).
      let j = i;
      while (j + 1 < forms.length && MODULE_FIELDS.has(head(forms[j + 1]) ?? '')) j++;
      const text = `(module ${src.slice(e.start, forms[j].end)})`;
      commands.push({ kind: 'module', line: e.line, module: { form: 'text', text, line: e.line } });
      i = j;
      continue;
    }
    commands.push(b.command(e));
  }
  return { file, commands, literals: b.literals };
}

// ---------------------------------------------------------------------------------------------
// wabt.js conversion

export { loadWabt, WABT_FEATURES };
export type { Wabt };

function watToBinary(wabt: Wabt, filename: string, text: string, simd: boolean, threads = false): Uint8Array {
  return assemble(wabt, utf8.encode(text), { ...WABT_FEATURES, ...(simd ? { simd: true } : {}), ...(threads ? { threads: true } : {}) }, filename);
}

function errorText(err: unknown): string {
  const s = err instanceof Error ? err.message : String(err);
  return s.trim().split('\n').slice(0, 3).join(' | ');
}

/** Whether the quoted text is a whole `(module ...)` rather than a list of module fields. */
function quotedIsWholeModule(text: string): boolean {
  try {
    const es = parseSExprs(text);
    return es.length === 1 && head(es[0]) === 'module';
  } catch {
    return false;
  }
}

function readULEB(b: Uint8Array, p: { o: number }): number {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = b[p.o++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) return result;
  }
}

function readSLEB(b: Uint8Array, p: { o: number }): bigint {
  let result = 0n;
  let shift = 0n;
  let byte: number;
  do {
    byte = b[p.o++];
    result |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
  } while (byte & 0x80);
  if (byte & 0x40) result -= 1n << shift;
  return result;
}

function readLE(b: Uint8Array, p: { o: number }, n: number): bigint {
  let v = 0n;
  for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[p.o + i]);
  p.o += n;
  return v;
}

/** Decodes the global section of a module made only of `(global T (T.const ...))`. */
function decodeGlobals(bin: Uint8Array): ExactValue[] {
  const p = { o: 8 };
  const out: ExactValue[] = [];
  while (p.o < bin.length) {
    const id = bin[p.o++];
    const size = readULEB(bin, p);
    const end = p.o + size;
    if (id === 6) {
      const count = readULEB(bin, p);
      for (let i = 0; i < count; i++) {
        p.o += 2; // valtype, mutability
        const op = bin[p.o++];
        if (op === 0x41) out.push({ type: 'i32', bits: Number(BigInt.asUintN(32, readSLEB(bin, p))) });
        else if (op === 0x42) out.push({ type: 'i64', bits: BigInt.asUintN(64, readSLEB(bin, p)) });
        else if (op === 0x43) out.push({ type: 'f32', bits: Number(readLE(bin, p, 4)) });
        else if (op === 0x44) out.push({ type: 'f64', bits: readLE(bin, p, 8) });
        else if (op === 0xfd) {
          readULEB(bin, p); // v128.const = 0xfd 12
          out.push({ type: 'v128', bits: readLE(bin, p, 16) });
        } else throw new Error(`unexpected opcode 0x${op.toString(16)} in literal module`);
        if (bin[p.o++] !== 0x0b) throw new Error('literal module: expected end');
      }
    }
    p.o = end;
  }
  return out;
}

const VALTYPE_TEXT: Record<LiteralRef['type'], string> = { i32: 'i32', i64: 'i64', f32: 'f32', f64: 'f64', v128: 'v128' };

function literalModuleText(lits: LiteralRef[]): string {
  return (
    '(module\n' +
    lits.map((l) => `(global ${VALTYPE_TEXT[l.type]} (${l.type}.const ${l.text}))`).join('\n') +
    '\n)'
  );
}

/** Resolves every literal of the script to its exact bits with one wabt compilation. */
export function resolveLiterals(wabt: Wabt, script: Script): void {
  const lits = script.literals.filter((l) => !l.value && !l.error);
  if (lits.length === 0) return;
  const simd = lits.some((l) => l.type === 'v128');
  const convert = (group: LiteralRef[]) => {
    const values = decodeGlobals(watToBinary(wabt, `${script.file}#literals`, literalModuleText(group), simd));
    if (values.length !== group.length) throw new Error(`literal module: ${values.length} globals for ${group.length} literals`);
    group.forEach((l, i) => (l.value = values[i]));
  };
  try {
    convert(lits);
  } catch {
    // Some literal is bad: convert them one by one so only its commands fail.
    for (const l of lits) {
      try {
        convert([l]);
      } catch (err) {
        l.error = `wabt could not parse ${l.type}.const ${l.text}: ${errorText(err)}`;
      }
    }
  }
}

/**
 * wabt omits the DataCount section when a module has no data segments, even if its code uses
 * `memory.init` / `data.drop`; the binary format requires the section then, so such a binary is
 * malformed ("data count section required") while the text module is merely invalid ("unknown
 * data segment", memory_init.wast / bulk tests). Encode it as the spec's encoder would: insert a
 * DataCount section (count = number of data segments) before the code section.
 */
function addMissingDataCount(bin: Uint8Array, text: string): Uint8Array {
  if (!/\b(data\.drop|memory\.init)\b/.test(text)) return bin;
  const p = { o: 8 };
  let codeAt = -1;
  let dataCount = 0;
  while (p.o < bin.length) {
    const at = p.o;
    const id = bin[p.o++];
    const size = readULEB(bin, p);
    if (id === 12) return bin;
    if (id === 10 && codeAt < 0) codeAt = at;
    if (id === 11) {
      const q = { o: p.o };
      dataCount = readULEB(bin, q);
      if (codeAt < 0) codeAt = at;
    }
    p.o += size;
  }
  if (codeAt < 0) codeAt = bin.length;
  const count: number[] = [];
  let c = dataCount;
  do {
    count.push((c & 0x7f) | (c >= 0x80 ? 0x80 : 0));
    c >>>= 7;
  } while (c > 0);
  const section = Uint8Array.from([12, count.length, ...count]);
  return concatBytes([bin.subarray(0, codeAt), section, bin.subarray(codeAt)]);
}

/** Turns every text module of the script into a binary (sets `bytes` or `wabtError`). */
export function convertModules(wabt: Wabt, script: Script): void {
  const simd = script.file.replace(/^.*\//, '').startsWith('simd_');
  for (const c of allCommands(script.commands)) {
    if (!('module' in c) || typeof c.module !== 'object') continue;
    const m = c.module;
    if (m.bytes) continue;
    // Quoted modules test the text format: only converted where a binary is actually needed.
    if (m.form === 'quote' && c.kind === 'assert_malformed') continue;
    let text = m.text!;
    if (m.form === 'quote' && !quotedIsWholeModule(text)) text = `(module ${text})`;
    try {
      m.bytes = addMissingDataCount(watToBinary(wabt, `${script.file}:${m.line}`, text, simd, script.threads === true), text);
    } catch (err) {
      m.wabtError = errorText(err);
    }
  }
}

/** Reads, parses and converts one script. */
export function loadScript(wabt: Wabt, src: string, file: string, options: { threads?: boolean } = {}): Script {
  const script = parseScript(src, file);
  if (options.threads === true) script.threads = true;
  resolveLiterals(wabt, script);
  convertModules(wabt, script);
  return script;
}

// ---------------------------------------------------------------------------------------------
// From raw values to exact values / expectations

export class LiteralError extends Error {}

function literalValue(lit: LiteralRef): ExactValue {
  if (lit.value) return lit.value;
  throw new LiteralError(lit.error ?? `unresolved literal ${lit.type}.const ${lit.text}`);
}

/** An argument value; `ref.extern N` becomes the host value N (a number). */
export function argValue(v: RawValue): ExactValue {
  switch (v.kind) {
    case 'literal':
      return literalValue(v.lit);
    case 'ref.null':
      return v.type === 'externref' ? { type: 'externref', ref: null } : { type: 'funcref', ref: null };
    case 'ref.extern':
      return { type: 'externref', ref: v.host };
    default:
      throw new LiteralError(`${v.kind} is not a valid argument`);
  }
}

export function expectation(v: RawValue): Expected {
  switch (v.kind) {
    case 'literal':
      return { kind: 'value', value: literalValue(v.lit) };
    case 'nan':
      return { kind: 'nan', type: v.type, nan: v.nan };
    case 'ref.null':
      return { kind: 'ref.null', type: v.type };
    case 'ref.extern':
      return v.host === undefined ? { kind: 'ref.extern' } : { kind: 'value', value: { type: 'externref', ref: v.host } };
    case 'ref.func':
      return { kind: 'ref.func' };
    case 'v128-lanes':
      return {
        kind: 'v128-lanes',
        shape: v.shape,
        lanes: v.lanes.map((l) => {
          if ('nan' in l) return { kind: 'nan', nan: l.nan };
          const x = literalValue(l.lit);
          return { kind: 'bits', bits: BigInt(x.type === 'f32' || x.type === 'f64' ? x.bits : 0) };
        }),
      };
    case 'either':
      return { kind: 'either', options: v.options.map(expectation) };
  }
}

// ---------------------------------------------------------------------------------------------
// Matching and printing

function isNanBits(bits: bigint, width: 32 | 64, kind: NanKind): boolean {
  const mantBits = width === 32 ? 23n : 52n;
  const expMask = width === 32 ? 0xffn : 0x7ffn;
  const exp = (bits >> mantBits) & expMask;
  const mant = bits & ((1n << mantBits) - 1n);
  const quiet = 1n << (mantBits - 1n);
  if (exp !== expMask) return false;
  return kind === 'canonical' ? mant === quiet : (mant & quiet) !== 0n;
}

/** The value's bits as a bigint (for numbers and v128). */
function bitsOf(v: ExactValue): bigint | undefined {
  if ('bits' in v) return typeof v.bits === 'bigint' ? v.bits : BigInt(v.bits);
  return undefined;
}

/** Reads v128 bits from what the interpreter returns (a bigint `bits` or 16 `bytes`). */
function v128Bits(v: unknown): bigint | undefined {
  const o = v as { type?: string; bits?: unknown; bytes?: unknown };
  if (!o || o.type !== 'v128') return undefined;
  if (typeof o.bits === 'bigint') return BigInt.asUintN(128, o.bits);
  if (o.bytes instanceof Uint8Array && o.bytes.length === 16) {
    let x = 0n;
    for (let i = 15; i >= 0; i--) x = (x << 8n) | BigInt(o.bytes[i]);
    return x;
  }
  return undefined;
}

export function matches(exp: Expected, got: ExactValue): boolean {
  switch (exp.kind) {
    case 'value': {
      const e = exp.value;
      if (e.type === 'v128') return v128Bits(got) === e.bits;
      if (got.type !== e.type) return false;
      if (e.type === 'funcref' || e.type === 'externref') return (got as { ref: unknown }).ref === e.ref;
      const gb = bitsOf(got);
      return gb !== undefined && normBits(e.type, gb) === bitsOf(e);
    }
    case 'nan': {
      if (got.type !== exp.type) return false;
      const gb = bitsOf(got);
      return gb !== undefined && isNanBits(normBits(exp.type, gb), exp.type === 'f32' ? 32 : 64, exp.nan);
    }
    case 'ref.func':
      return got.type === 'funcref' && got.ref !== null && got.ref !== undefined;
    case 'ref.extern':
      return got.type === 'externref' && got.ref !== null && got.ref !== undefined;
    case 'ref.null':
      if (exp.type !== undefined && got.type !== exp.type) return false;
      return (got.type === 'funcref' || got.type === 'externref') && got.ref === null;
    case 'v128-lanes': {
      const b = v128Bits(got);
      if (b === undefined) return false;
      const w = exp.shape === 'f32x4' ? 32 : 64;
      return exp.lanes.every((l, i) => {
        const lane = (b >> BigInt(i * w)) & ((1n << BigInt(w)) - 1n);
        return l.kind === 'bits' ? lane === l.bits : isNanBits(lane, w, l.nan);
      });
    }
    case 'either':
      return exp.options.some((o) => matches(o, got));
  }
}

/** Normalises returned bits to the unsigned range (defensive: the contract says unsigned). */
function normBits(type: string, b: bigint): bigint {
  return BigInt.asUintN(type === 'i32' || type === 'f32' ? 32 : type === 'v128' ? 128 : 64, b);
}

function hex(b: bigint, digits: number): string {
  return '0x' + b.toString(16).padStart(digits, '0');
}

function f32FromBits(b: number): number {
  const dv = new DataView(new ArrayBuffer(4));
  dv.setUint32(0, b >>> 0, true);
  return dv.getFloat32(0, true);
}

function f64FromBits(b: bigint): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setBigUint64(0, BigInt.asUintN(64, b), true);
  return dv.getFloat64(0, true);
}

function showNum(x: number): string {
  return Object.is(x, -0) ? '-0' : String(x);
}

export function showValue(v: unknown): string {
  if (v === null || typeof v !== 'object') return `<not a value: ${String(v)}>`;
  const o = v as ExactValue;
  try {
    switch (o.type) {
      case 'i32': {
        const u = Number(o.bits) >>> 0;
        const s = u | 0;
        return `i32:${u} (${hex(BigInt(u), 8)}${s !== u ? `, ${s}` : ''})`;
      }
      case 'i64': {
        const u = BigInt.asUintN(64, BigInt(o.bits));
        const s = BigInt.asIntN(64, u);
        return `i64:${u} (${hex(u, 16)}${s !== u ? `, ${s}` : ''})`;
      }
      case 'f32': {
        const u = Number(o.bits) >>> 0;
        return `f32:${showNum(f32FromBits(u))} (${hex(BigInt(u), 8)})`;
      }
      case 'f64': {
        const u = BigInt.asUintN(64, BigInt(o.bits));
        return `f64:${showNum(f64FromBits(u))} (${hex(u, 16)})`;
      }
      case 'funcref':
        return o.ref === null ? 'ref.null func' : 'ref.func';
      case 'externref':
        return o.ref === null ? 'ref.null extern' : `ref.extern ${String(o.ref)}`;
      case 'v128': {
        const b = v128Bits(o);
        return b === undefined ? 'v128:?' : `v128:${hex(b, 32)}`;
      }
    }
  } catch {
    /* fall through */
  }
  return `<${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}>`;
}

export function showExpected(e: Expected): string {
  switch (e.kind) {
    case 'value':
      return showValue(e.value);
    case 'nan':
      return `${e.type}:nan:${e.nan}`;
    case 'ref.func':
      return 'ref.func (any)';
    case 'ref.extern':
      return 'ref.extern (any)';
    case 'ref.null':
      return e.type ? `ref.null ${e.type === 'funcref' ? 'func' : 'extern'}` : 'ref.null';
    case 'v128-lanes':
      return `v128 ${e.shape} ${e.lanes.map((l) => (l.kind === 'nan' ? `nan:${l.nan}` : hex(l.bits, e.shape === 'f32x4' ? 8 : 16))).join(' ')}`;
    case 'either':
      return `either(${e.options.map(showExpected).join(' | ')})`;
  }
}
