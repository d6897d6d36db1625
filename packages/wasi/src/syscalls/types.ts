import type { Suspend } from '@mvvm/interpreter';
import type { GuestMemory } from '../memory';
import type { WASI } from '../wasi';

/**
 * One preview1 function: gets the instance, the caller's memory and the call's arguments
 * (i32 as unsigned numbers, i64 as bigint); returns an errno, or a Suspend to be retried.
 * Throwing a WasiErrnoError (or any host error) is the same as returning its errno.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Syscall = (w: WASI, m: GuestMemory, ...args: any[]) => number | Suspend;
