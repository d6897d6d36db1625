/** Call stacks with function names from the module's name section and wasm byte offsets (traps, inspect, debug, snapshot meta). */
import { instructionName } from '@mvvm/interpreter';
import type { Machine, MachineState, Module } from '@mvvm/interpreter';

export interface StackEntry {
  /** Function index in the module (imports first). */
  func: number;
  name: string;
  /** Position in the internal code: where this frame is (innermost) or returns to. */
  pc: number;
  /** Byte offset in the module of the wasm instruction this frame is at (a caller: its call); absent when unknown. */
  offset?: number;
  /** That instruction's name (`i32.div_s`, `call`). */
  instr?: string;
}

export interface FunctionNaming {
  /** Store address -> function index. */
  funcAddrs: ArrayLike<number>;
  names: Map<number, string>;
  /** The module's bytes and, for a pc of function `func` as the thread holds it, the byte offset of its wasm instruction (-1: unknown). */
  locate?: { bytes: Uint8Array; offset(func: number, pc: number): number };
}

export function namingOf(machine: Machine): FunctionNaming {
  const compiled = machine.instance.compiled;
  return {
    funcAddrs: machine.instance.funcAddrs,
    names: functionNames(compiled.module),
    locate: { bytes: compiled.module.bytes, offset: (_func, pc) => compiled.code.wasmOffset(pc) },
  };
}

/** The name section's function names, and export names for functions it does not name. */
export function functionNames(module: Module): Map<number, string> {
  const names = new Map(module.names.functions);
  for (const e of module.exports) if (e.kind === 'func' && !names.has(e.index)) names.set(e.index, e.name);
  return names;
}

export function functionName(naming: FunctionNaming, index: number): string {
  return naming.names.get(index) ?? `func[${index}]`;
}

/** Innermost first; a trapped thread's innermost frame is at the instruction that trapped. */
export function callStack(thread: Pick<MachineState['thread'], 'status' | 'funcAddr' | 'pc' | 'frames'>, naming: FunctionNaming): StackEntry[] {
  if (thread.status !== 'running' && thread.status !== 'suspended' && thread.status !== 'trapped' && thread.status !== 'waiting') return [];
  const indexOf = (addr: number) => Array.prototype.indexOf.call(naming.funcAddrs, addr) as number;
  const out: StackEntry[] = [];
  /** `at`: a pc inside the instruction to show (the return pc minus one for a caller: its call). */
  const push = (addr: number, pc: number, at: number) => {
    const func = indexOf(addr);
    const e: StackEntry = { func, name: functionName(naming, func), pc };
    const offset = naming.locate && func >= 0 ? naming.locate.offset(func, at) : -1;
    if (offset >= 0) {
      e.offset = offset;
      e.instr = instructionName(naming.locate!.bytes, offset);
    }
    out.push(e);
  };
  // A trap leaves pc past the trapping instruction's first word.
  push(thread.funcAddr, thread.pc, thread.status === 'trapped' ? thread.pc - 1 : thread.pc);
  // Frame i (i >= 1) holds the caller's function address and return pc; frame 0 returns to the host.
  for (let i = thread.frames.length - 3; i >= 3; i -= 3) push(thread.frames[i + 2], thread.frames[i], thread.frames[i] - 1);
  return out;
}

/** `main (func 8, 0x1a2 i32.div_s)`: the wasm byte offset as node prints it, else the internal pc. */
export function formatFrame(e: StackEntry): string {
  return `${e.name} (func ${e.func}, ${e.offset !== undefined ? `0x${e.offset.toString(16)} ${e.instr}` : `pc ${e.pc}`})`;
}

/** One line a frame; beyond `max` frames (a deep recursion), the innermost and outermost ones with a count between. */
export function formatStack(stack: StackEntry[], max = Infinity): string[] {
  const lines = stack.map((e, i) => `#${i} ${formatFrame(e)}`);
  if (lines.length <= max) return lines;
  const tail = Math.min(5, Math.floor(max / 4));
  return [...lines.slice(0, max - tail), `... ${lines.length - max} more frames ...`, ...lines.slice(lines.length - tail)];
}

/** Frames a trap prints at the most. */
export const TRAP_FRAMES = 40;

/** The live thread's registers, in the shape callStack takes. */
export function liveThread(machine: Machine) {
  const t = machine.thread;
  return { status: t.status, funcAddr: t.funcAddr, pc: t.pc, frames: t.frames.subarray(0, t.frameTop) };
}

/** The wasm call stack where each trap the run loop saw happened (drive.ts records, main and debug print). */
export const trapStacks = new WeakMap<Error, StackEntry[]>();

/** Function indices below this are imports. */
export function importedFunctions(module: Module): number {
  return module.imports.filter((i) => i.desc.kind === 'func').length;
}
