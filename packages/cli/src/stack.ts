/** Call stacks with function names from the module's name section (inspect, debug, snapshot meta). */
import type { Machine, MachineState, Module } from '@mvvm/interpreter';

export interface StackEntry {
  /** Function index in the module (imports first). */
  func: number;
  name: string;
  /** Position in the internal code: where this frame is (innermost) or returns to. */
  pc: number;
}

export interface FunctionNaming {
  /** Store address -> function index. */
  funcAddrs: ArrayLike<number>;
  names: Map<number, string>;
}

export function namingOf(machine: Machine): FunctionNaming {
  return { funcAddrs: machine.instance.funcAddrs, names: machine.instance.compiled.module.names.functions };
}

export function functionName(naming: FunctionNaming, index: number): string {
  return naming.names.get(index) ?? `func[${index}]`;
}

/** Innermost first. */
export function callStack(thread: Pick<MachineState['thread'], 'status' | 'funcAddr' | 'pc' | 'frames'>, naming: FunctionNaming): StackEntry[] {
  if (thread.status !== 'running' && thread.status !== 'suspended') return [];
  const indexOf = (addr: number) => Array.prototype.indexOf.call(naming.funcAddrs, addr) as number;
  const out: StackEntry[] = [];
  const push = (addr: number, pc: number) => {
    const func = indexOf(addr);
    out.push({ func, name: functionName(naming, func), pc });
  };
  push(thread.funcAddr, thread.pc);
  // Frame i (i >= 1) holds the caller's function address and return pc; frame 0 returns to the host.
  for (let i = thread.frames.length - 3; i >= 3; i -= 3) push(thread.frames[i + 2], thread.frames[i]);
  return out;
}

export function formatStack(stack: StackEntry[]): string[] {
  return stack.map((e, i) => `#${i} ${e.name} (func ${e.func}, pc ${e.pc})`);
}

/** Function indices below this are imports. */
export function importedFunctions(module: Module): number {
  return module.imports.filter((i) => i.desc.kind === 'func').length;
}
