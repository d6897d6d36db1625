/**
 * @mvvm/wasi: WASI preview1 for @mvvm/interpreter machines, with a replay log from which
 * the OS-visible state is rebuilt on another host. This entry has no `node:` imports (it
 * runs in a browser with the in-memory file system); `./node` adds the Node host.
 */
export { WASI } from './wasi';
export type { WasiOptions, WasiState, RestoreReport, InputOption, OutputOption } from './wasi';
export type { Host } from './host';
export { MemoryFs } from './fs/memory-fs';
export type { HostFs, FileStat, OpenFlags, DirEntry, Handle } from './fs/types';
export { resolvePath } from './fs/sandbox';
export { Inbox, InputQueue, OutputSink } from './io/streams';
export type { Stream, Connection, Listener } from './io/streams';
export { ReplayLog } from './log/replay-log';
export type { FdState, FdKind, LogEvent } from './log/replay-log';
export { WasiErrnoError, WasiExit, WasiRestoreError, toErrno } from './errors';
export { STATE_LIMITS, checkState } from './state-check';
export { describeGrants, grantsAsked, ungranted } from './grants';
export type { GrantsAsked } from './grants';
export * from './constants';
export { SIGNATURES } from './syscalls/signatures';
export { MAX_THREADS, THREAD_LIMITS, WasiThreads, isThreaded, sharedMemoryImport } from './threads';
export type { ThreadsOptions, ThreadsOutcome } from './threads';

import { MemoryFs } from './fs/memory-fs';
import type { Host } from './host';

/** A host with only an in-memory file system (browser, tests). */
export function memoryHost(fs: MemoryFs = new MemoryFs()): Host & { fs: MemoryFs } {
  return { fs };
}
