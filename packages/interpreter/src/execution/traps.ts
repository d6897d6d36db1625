import { ExhaustionError, Trap } from '../errors';

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
];

/** `detail` (a table index) is appended where the spec's messages name one. */
export function trapError(code: TrapCode, detail = -1): Trap {
  let message = TRAP_MESSAGES[code];
  if ((code === TrapCode.UninitializedElement || code === TrapCode.UndefinedElement) && detail >= 0) message += ` ${detail}`;
  return code === TrapCode.CallStackExhausted ? new ExhaustionError(message) : new Trap(message);
}
