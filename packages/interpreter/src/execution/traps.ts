import { DeadlockError, ExhaustionError, Trap, WasmError } from '../errors';

/**
 * Trap codes: the executor and its helpers return a code instead of throwing, so the run
 * loop can save its registers before the Trap is raised. 0 means no trap.
 */
export enum TrapCode {
  None = 0,
  Unreachable,
  DivideByZero,
  IntegerOverflow,
  InvalidConversion,
  MemoryOutOfBounds,
  TableOutOfBounds,
  UndefinedElement,
  UninitializedElement,
  IndirectCallTypeMismatch,
  CallStackExhausted,
  /** A host function threw: the error travels in the thread's `hostError`. */
  HostError,
  /** Not a trap: the signal from callHost that the host function asked to suspend. */
  HostSuspend,
  UnalignedAtomic,
  ExpectedSharedMemory,
  /** memory.atomic.wait without a timeout on a machine outside any thread group: nothing could wake it. */
  Deadlock,
}

/** The spec's wording for each trap (the spec tests match on these). */
export const TRAP_MESSAGES: readonly string[] = [
  '',
  'unreachable',
  'integer divide by zero',
  'integer overflow',
  'invalid conversion to integer',
  'out of bounds memory access',
  'out of bounds table access',
  'undefined element',
  'uninitialized element',
  'indirect call type mismatch',
  'call stack exhausted',
  'host function failed',
  'host function suspended',
  'unaligned atomic',
  'expected shared memory',
  'deadlock: memory.atomic.wait with no timeout on a machine outside a thread group (nothing can notify it)',
];

/** `detail` (a table index) is appended where the spec's messages name one. */
export function trapError(code: TrapCode, detail = -1): WasmError {
  let message = TRAP_MESSAGES[code];
  if ((code === TrapCode.UninitializedElement || code === TrapCode.UndefinedElement) && detail >= 0) message += ` ${detail}`;
  if (code === TrapCode.Deadlock) return new DeadlockError(message);
  return code === TrapCode.CallStackExhausted ? new ExhaustionError(message) : new Trap(message);
}
