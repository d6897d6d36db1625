/**
 * The entry of one worker thread of `runOnWorkers` (worker-threads.ts): one wasm thread of a
 * wasi-threads program, an instance of the module on the program's SharedArrayBuffer memory.
 *
 * It runs `_start` (thread 0) or `wasi_thread_start(tid, arg)` to the end on this worker's
 * own interpreter, without yielding: memory.atomic.wait blocks the worker in Atomics.wait.
 * Its WASI calls go to the coordinating thread, which owns the fds and the WASI state: the
 * call is posted on `wasiPort`, the worker blocks on `reply` until the answer is there and
 * reads it with receiveMessageOnPort. thread-spawn takes the next tid from the shared
 * counter and asks the coordinator for a worker. The end (done, or an error as plain data)
 * is posted to the coordinator, which ends the program.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { HostFunction, Machine, MemoryInstance, Store, hostFunction } from '@mvvm/interpreter';
import type { FuncType, Imports, MachineOptions } from '@mvvm/interpreter';
import { Errno } from './constants';
import { THREAD_LIMITS } from './threads';

/** What the coordinator gives each worker. */
export interface ThreadWorkerData {
  bytes: Uint8Array;
  memory: SharedArrayBuffer;
  /** [0]: the memory's size in pages. */
  size: Int32Array;
  /** [0]: the last tid handed out. */
  tids: Int32Array;
  maxPages: number;
  maxThreads: number;
  memoryImport: [string, string];
  wasiPort: MessagePort;
  /** [0]: 1 once the coordinator's answer to a WASI call is on wasiPort. */
  reply: Int32Array;
  tid: number;
  arg: number;
  options: Pick<MachineOptions, 'tier' | 'deterministic' | 'limits'>;
}

/** A worker's messages to the coordinator. */
export type ThreadWorkerMessage =
  | { spawn: number; arg: number }
  | { done: number }
  | { error: { name: string; message: string } };

function main(d: ThreadWorkerData): void {
  const post = (m: ThreadWorkerMessage): void => parentPort!.postMessage(m);
  try {
    const compiled = Machine.compile(d.bytes, { deterministic: d.options.deterministic });
    const store = new Store();
    const memory = { kind: 'memory' as const, store, addr: store.addMemory(MemoryInstance.onSharedBuffer(d.memory, d.size, d.maxPages)) };
    const wasi: Record<string, HostFunction> = {};
    for (const imp of compiled.module.imports) {
      if (imp.module !== 'wasi_snapshot_preview1' || imp.desc.kind !== 'func') continue;
      const type: FuncType = compiled.module.types[imp.desc.typeIndex];
      const name = imp.name;
      wasi[name] = new HostFunction(type, (args) => call(d, name, args), name);
    }
    const spawn = hostFunction({ params: ['i32'], results: ['i32'] }, ([arg]) => {
      const tid = Atomics.add(d.tids, 0, 1) + 1;
      if (tid >= d.maxThreads) return [-Errno.AGAIN];
      post({ spawn: tid, arg: arg as number });
      return [tid];
    }, 'thread-spawn');
    const imports: Imports = { wasi_snapshot_preview1: wasi, wasi: { 'thread-spawn': spawn } };
    const [mm, mn] = d.memoryImport;
    imports[mm] = { ...(imports[mm] ?? {}), [mn]: memory };
    const limits = d.tid === 0 ? d.options.limits : (d.options.limits ?? THREAD_LIMITS);
    const machine = Machine.instantiateSync(compiled, imports, { tier: d.options.tier, deterministic: d.options.deterministic, limits });
    if (d.tid === 0) machine.begin('_start');
    else machine.begin('wasi_thread_start', [d.tid, d.arg]);
    for (;;) {
      const r = machine.step(2 ** 50);
      if (r.done) break;
      if (r.suspended || r.waiting || r.breakpoint) throw new Error('internal error: a worker thread cannot suspend');
    }
    post({ done: d.tid });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ error: { name: err.name, message: err.message } });
  }
}

/** A WASI call made by the coordinator: blocks until its results are there. */
function call(d: ThreadWorkerData, name: string, args: unknown[]): unknown {
  Atomics.store(d.reply, 0, 0);
  d.wasiPort.postMessage({ name, args });
  Atomics.wait(d.reply, 0, 0);
  const m = receiveMessageOnPort(d.wasiPort);
  if (m === undefined) throw new Error(`internal error: no answer to WASI call ${name}`);
  return (m.message as { results: unknown }).results;
}

if (parentPort !== null && workerData !== null && typeof workerData === 'object') main(workerData as ThreadWorkerData);
