/**
 * @mvvm/interpreter: a WebAssembly 2.0 interpreter whose whole execution state is plain
 * data. Pipeline: binary/ (decode) -> validation/ -> translation/ (internal code) ->
 * execution/ (store, run loop); state/ defines what a snapshot holds.
 */
export { Machine } from './machine';
export type { MachineOptions, RunOptions, StepResult, ImportValue, Imports, Tier } from './machine';
export { DEFAULT_TIER } from './machine';
export { Store } from './execution/store';
export { yieldToEventLoop } from './execution/yield';
export { ThreadGroup, DEFAULT_QUANTUM } from './threads/thread-group';
export type { ThreadGroupOptions, GroupThread, GroupStepResult } from './threads/thread-group';
export { GROUP_STATE_VERSION, MAX_GROUP_THREADS, MAX_GROUP_MEMORIES, MAX_GROUP_STACK_SLOTS } from './state/check-state';
export type { GroupState, ThreadSource } from './threads/group-state';
export type { ExternHandle } from './execution/store';
export { HostFunction, Suspend, MemoryInstance, TableInstance, PAGE_SIZE } from './execution/runtime';
export type { HostCallContext, HostFunctionImpl, CompiledModule } from './execution/runtime';
export { FuncRef, parseValType } from './execution/values';
export type { ExactValue, ValTypeName } from './execution/values';
export type { ThreadLimits, ThreadStatus } from './execution/thread';
export { DEFAULT_LIMITS, MAX_LIMITS, MAX_HOST_NESTING } from './execution/thread';
export { MAX_PAGES, MAX_TABLE_ENTRIES } from './execution/runtime';
export { MAX_EXTERNS } from './state/check-state';
export { decodeModule } from './binary/decoder';
export { READABLE_STATE_VERSIONS, STATE_VERSION, moduleFingerprint } from './state/machine-state';
export type { MachineState, MemoryState, TableState, ThreadState, WaitState } from './state/machine-state';
export { TRANSLATOR_VERSION } from './translation/opcodes';
export { instructionName } from './binary/opcode-names';
export { INSTRUCTIONS } from './instructions';
export type { Instruction, Immediates } from './instructions';
export { disassemble, disassembleText } from './translation/disassemble';
export type { DisassembledInstruction } from './translation/disassemble';
export {
  WasmError,
  MalformedError,
  UnsupportedFeatureError,
  ValidationError,
  LinkError,
  Trap,
  ExhaustionError,
  RestoreError,
  DeadlockError,
} from './errors';
export type { Module, FuncType } from './syntax/types';
export { ValType, entityTypes } from './syntax/types';

import { HostFunction } from './execution/runtime';
import type { HostFunctionImpl } from './execution/runtime';
import { parseValType, ValTypeName } from './execution/values';

/** A host function for `imports`, with its signature in the JS API's type names. */
export function hostFunction(type: { params: ValTypeName[]; results: ValTypeName[] }, fn: HostFunctionImpl, name?: string): HostFunction {
  return new HostFunction({ params: type.params.map(parseValType), results: type.results.map(parseValType) }, fn, name);
}
