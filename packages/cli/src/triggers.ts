/**
 * When to take a checkpoint. A trigger says how many instructions may run before it must
 * be looked at again (`budget`), and whether it fires now. The driver runs exactly that
 * many, so `-c N` stops after exactly N instructions.
 */
import type { Machine } from '@mvvm/interpreter';
import { UsageError } from './args';
import { functionName, importedFunctions, namingOf } from './stack';

export interface Trigger {
  readonly name: string;
  /** Instructions that may run before the next look (Infinity: none needed). */
  budget(m: Machine): number;
  /** Called after every step and once before the first: does it fire now? */
  fired(m: Machine): boolean;
  /** Periodic triggers fire again; the others once. */
  readonly repeats: boolean;
}

export function atCount(n: number): Trigger {
  return {
    name: `after ${n} instructions`,
    repeats: false,
    budget: (m) => Math.max(n - m.instructionCount, 0),
    fired: (m) => m.instructionCount >= n,
  };
}

export function every(n: number, from: number): Trigger {
  let next = from + n;
  return {
    name: `every ${n} instructions`,
    repeats: true,
    budget: (m) => Math.max(next - m.instructionCount, 0),
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
  if (index < 0 || index >= m.instance.funcAddrs.length) throw new UsageError(`no function '${spec}' in the module`);
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
    fired(m) {
      if (m.thread.breakHits < k) return false;
      m.breakOnEntry(null); // done: later calls run without stopping
      return true;
    },
  };
}
