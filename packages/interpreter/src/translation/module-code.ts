import type { JitContext } from '../execution/js-tier';
import { entityTypes, slotCount, slotsOf } from '../syntax/types';
import type { Module } from '../syntax/types';
import type { ModuleContext } from '../validation/module';
import { SIMD_NAN_F32, SIMD_NAN_F64 } from '../execution/deterministic';
import { SIMD_PLAIN } from '../instructions';
import { CodeBuilder } from './code-builder';
import { DETERMINISTIC_OPCODE, NAN_PRODUCING, instructionLength, numberInstructions } from './opcodes';
import { CompiledFunction, FunctionTranslator } from './translator';

/**
 * A module's internal code, translated lazily: a function's code is appended the first
 * time it is called (or stood on a restored stack), so starting a program with tens of
 * thousands of functions translates only the few hundred it runs. The module was validated
 * as a whole before (validateFunctions), so translating cannot fail here.
 *
 * `words`, `ordinals` and `segmentLengths` are replaced as they grow: whoever caches them
 * (the run loop) re-reads them after a translation. Since where a function lands depends on
 * the order of first calls, a snapshot holds each pc as an offset from its function's entry.
 */
export class ModuleCode {
  private readonly out = new CodeBuilder();
  /** The code (valid up to `length`): branch targets are absolute offsets in it. */
  words: Int32Array;
  /** Per code word: its instruction's number (opcodes.ts, numberInstructions). */
  ordinals: Int32Array = new Int32Array(1);
  /** Per instruction start: instructions left in its straight-line segment, itself included. */
  segmentLengths: Int32Array = new Int32Array(1);
  /**
   * Per code word: the byte offset in the module of the wasm instruction it was translated
   * from (-1 for words of no instruction). A side table for stack traces and debuggers,
   * filled at translation and never read by the run loop.
   */
  private offsets: Int32Array = new Int32Array(1).fill(-1);
  private numbered = 0;
  /** Functions translated so far. */
  translated = 0;

  constructor(
    private readonly module: Module,
    private readonly ctx: ModuleContext,
    private readonly functions: readonly CompiledFunction[],
    /** Canonical NaNs from float arithmetic (opcodes.ts, DETERMINISTIC_OPCODE). */
    readonly deterministic = false,
  ) {
    this.words = this.out.words;
  }

  get length(): number {
    return this.out.length;
  }

  /** What the JS tier needs to know of the module (execution/js-tier.ts). */
  jitContext(): JitContext {
    return {
      numImports: this.ctx.numImportedFuncs,
      functions: this.functions,
      funcType: (i) => this.ctx.funcTypes[i],
      type: (i) => this.module.types[i],
      globalType: (i) => this.ctx.globals[i].valType,
      sharedMemory: entityTypes(this.module).memories[0]?.shared === true,
      localTypes: (funcIndex) => {
        const types = [...this.ctx.funcTypes[funcIndex].params];
        for (const run of this.module.codes[funcIndex - this.ctx.numImportedFuncs].locals) for (let i = 0; i < run.count; i++) types.push(run.type);
        return types;
      },
    };
  }

  /** Translates `f` (one of this module's functions) unless it already is. */
  translate(f: CompiledFunction): void {
    if (f.entry >= 0) return;
    const translator = new FunctionTranslator(this.module, this.ctx, this.out, f.funcIndex, true);
    const t = translator.translate();
    this.words = this.out.words;
    if (this.ordinals.length < this.words.length + 1) {
      this.ordinals = grown(this.ordinals, this.words.length + 1);
      this.segmentLengths = grown(this.segmentLengths, this.words.length + 1);
    }
    if (this.offsets.length < this.words.length + 1) this.offsets = grown(this.offsets, this.words.length + 1, -1);
    const marks = translator.marks!;
    const n = translator.markCount;
    const offsets = this.offsets;
    for (let i = 0; i < n; i += 2) {
      // The words instruction i emitted: up to the next one's start (none: an empty range).
      const off = marks[i + 1];
      const end = i + 2 < n ? marks[i + 2] : t.end;
      for (let w = marks[i]; w < end; w++) offsets[w] = off;
    }
    this.numbered = numberInstructions(this.words, t.entry, t.end, this.numbered, this.ordinals, this.segmentLengths);
    if (this.deterministic) {
      for (let pc = t.entry; pc < t.end; pc += instructionLength(this.words, pc)) {
        const op = this.words[pc];
        if (NAN_PRODUCING.has(op) || (op === SIMD_PLAIN && (SIMD_NAN_F32.has(this.words[pc + 1]) || SIMD_NAN_F64.has(this.words[pc + 1])))) {
          this.words[pc] += DETERMINISTIC_OPCODE;
        }
      }
    }
    f.entry = t.entry;
    f.end = t.end;
    f.frameWords = t.frameWords;
    f.simd = t.simd;
    f.atomics = t.atomics;
    this.translated++;
  }

  /** The module byte offset of the wasm instruction that internal code word `pc` belongs to; -1 if none (not translated). */
  wasmOffset(pc: number): number {
    return pc >= 0 && pc < this.length ? this.offsets[pc] : -1;
  }

  /** Translates every function (tools and tests that walk the whole code). */
  translateAll(): void {
    for (const f of this.functions) this.translate(f);
  }
}

function grown(a: Int32Array, length: number, fill = 0): Int32Array {
  const next = new Int32Array(length);
  if (fill !== 0) next.fill(fill, a.length);
  next.set(a);
  return next;
}

/** A defined function's record before translation: what a call needs to know is filled in by translate(). */
export function untranslatedFunction(module: Module, ctx: ModuleContext, index: number): CompiledFunction {
  const funcIndex = ctx.numImportedFuncs + index;
  const type = ctx.funcTypes[funcIndex];
  let numLocals = slotsOf(type.params);
  for (const run of module.codes[index].locals) numLocals += run.count * slotCount(run.type);
  const numParams = slotsOf(type.params);
  const numResults = slotsOf(type.results);
  const simd = numLocals !== type.params.length + module.codes[index].locals.reduce((n, run) => n + run.count, 0) || numResults !== type.results.length;
  return { funcIndex, type, simd, atomics: false, entry: -1, end: 0, numParams, numLocals, numResults, frameWords: 0, heat: 0, jit: null, fast: null };
}
