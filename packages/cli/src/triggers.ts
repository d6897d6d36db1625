/**
 * When to take a checkpoint. A trigger says how many instructions may run before it must
 * be looked at again (`budget`), and whether it fires now. The driver runs exactly that
 * many, so `-c N` stops after exactly N instructions.
 */
import type { Machine } from '@mvvm/interpreter';
import { UsageError } from './args';
import { demangledName } from './demangle';
import { functionName, importedFunctions, namingOf } from './stack';

/** What a trigger looks at: a machine, or a threaded program (all its threads' instructions). */
export interface Counted {
  readonly instructionCount: number;
}

export interface Trigger {
  readonly name: string;
  /** Instructions that may run before the next look (Infinity: none needed). */
  budget(m: Counted): number;
  /** Called after every step and once before the first: does it fire now? */
  fired(m: Counted): boolean;
  /** Periodic triggers fire again; the others once. */
  readonly repeats: boolean;
  /** The instruction count it fires at, when known (for the progress bar). */
  target?(m: Counted): number;
}

export function atCount(n: number): Trigger {
  return {
    name: `after ${n} instructions`,
    repeats: false,
    budget: (m) => Math.max(n - m.instructionCount, 0),
    fired: (m) => m.instructionCount >= n,
    target: () => n,
  };
}

export function every(n: number, from: number): Trigger {
  let next = from + n;
  return {
    name: `every ${n} instructions`,
    repeats: true,
    budget: (m) => Math.max(next - m.instructionCount, 0),
    target: () => next,
    fired(m) {
      if (m.instructionCount < next) return false;
      next += n;
      return true;
    },
  };
}

/** Resolves NAME (from the name section, or an export name) or INDEX to a defined function's index. */
export function resolveFunction(m: Machine, spec: string): number {
  const module = m.instance.compiled.module;
  const imported = importedFunctions(module);
  let index = /^\d+$/.test(spec) ? Number(spec) : -1;
  if (index < 0) for (const [i, n] of module.names.functions) if (n === spec) index = i;
  if (index < 0) {
    const e = m.instance.exports.get(spec);
    if (e?.kind === 'func') index = Array.prototype.indexOf.call(m.instance.funcAddrs, e.addr);
  }
  if (index < 0) index = byDemangledName(module.names.functions, spec);
  if (index < 0 || index >= m.instance.funcAddrs.length) throw new UsageError(`no function '${spec}' in the module${suggestions(module.names.functions, spec)}`);
  if (index < imported) throw new UsageError(`function '${spec}' is an import: pick one defined in the module`);
  return index;
}

/**
 * The K-th entry into a function, through the interpreter's entry breakpoint: the run
 * loop stops right after each call into it (one comparison per call), so the machine
 * runs at full speed in between and the checkpoint lands on the callee's first instruction.
 */
export function atFunctionEntry(m: Machine, spec: string, k: number): Trigger {
  const index = resolveFunction(m, spec);
  m.breakOnEntry(index);
  return {
    name: `entry ${k} into ${functionName(namingOf(m), index)}`,
    repeats: false,
    budget: () => Infinity,
    fired() {
      if (m.thread.breakHits < k) return false;
      m.breakOnEntry(null); // done: later calls run without stopping
      return true;
    },
  };
}

/** A C++ function by its demangled name (`Brandes`, `g::Brandes`): the index when one function has it, -1 when none; several are listed. */
function byDemangledName(names: Map<number, string>, spec: string): number {
  const hits: Array<[number, string]> = [];
  for (const [i, n] of names) {
    const d = demangledName(n);
    if (d !== null && (d === spec || d.endsWith(`::${spec}`))) hits.push([i, n]);
  }
  if (hits.length > 1) {
    throw new UsageError(`'${spec}' names ${hits.length} functions: pick one by its name or index: ${hits.slice(0, 8).map(([i, n]) => `${n} (${i})`).join(', ')}${hits.length > 8 ? ', …' : ''}`);
  }
  return hits.length === 1 ? hits[0][0] : -1;
}

/** Up to five names that contain `spec` (case-insensitively, demangled or not), as a hint. */
function suggestions(names: Map<number, string>, spec: string): string {
  const want = spec.toLowerCase();
  const found: string[] = [];
  for (const [i, n] of names) {
    const d = demangledName(n);
    if (n.toLowerCase().includes(want) || d?.toLowerCase().includes(want)) found.push(d && d !== n ? `${d} = ${n} (${i})` : `${n} (${i})`);
    if (found.length > 5) break;
  }
  if (found.length === 0) return '';
  return `; did you mean ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}`;
}
