/**
 * wasi-threads on worker threads: every wasm thread of the program (the main one, running
 * `_start`, too) runs on its own Node worker thread, truly in parallel, all on one memory
 * backed by a SharedArrayBuffer — the option to the deterministic ThreadGroup of threads.ts.
 *
 * - Memory: a growable SharedArrayBuffer up to the memory's maximum where the host has them
 *   (else one of the maximum size); its current size in pages is a shared word that
 *   memory.grow compare-exchanges. Each worker's interpreter re-reads it only on its rare
 *   paths (memory.size, memory.grow, an out-of-bounds access: MemoryInstance.refresh).
 * - Atomics: the atomic instructions are JavaScript Atomics on the buffer; wait blocks the
 *   worker in Atomics.wait, notify is Atomics.notify. Plain loads and stores stay plain.
 * - WASI: one WASI instance, on this (the calling) thread, owns the fds and the rest of the
 *   state: a worker's WASI call is posted here, run against this thread's view of the
 *   shared memory, and answered while the worker blocks (thread-worker.ts). A call that
 *   suspends (a read that waits for input) is awaited here; only its worker waits.
 * - The end: `_start` returning (exit code 0), proc_exit in any thread, or a trap in any
 *   thread ends the program; every worker is terminated before the promise settles.
 * - Not here: snapshots. The threads' states live in the workers, so there is no consistent
 *   point to take them at: checkpoints, migration and the replay of the group need the
 *   deterministic ThreadGroup (WasiThreads). Runs are not reproducible, as on any real threads.
 *
 * Node only (worker_threads): exported from '@mvvm/wasi/node'. The workers load the built
 * package (dist/thread-worker.js).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { LinkError, Machine, MemoryInstance, PAGE_SIZE, Suspend, Trap, WasmError } from '@mvvm/interpreter';
import type { HostFunction } from '@mvvm/interpreter';
import { WasiExit } from './errors';
import type { ThreadWorkerData, ThreadWorkerMessage } from './thread-worker';
import { MAX_THREADS, isThreaded, sharedMemoryImport } from './threads';
import type { ThreadsOptions, ThreadsOutcome } from './threads';
import type { WASI } from './wasi';

export interface WorkerThreadsOptions extends Pick<ThreadsOptions, 'tier' | 'deterministic' | 'limits' | 'maxThreads'> {
  /** Called with each worker as it is created (tests check that every one is gone at the end). */
  onWorker?: (worker: Worker, tid: number) => void;
}

/**
 * How the program ended, how many threads it had (the main one and every tid thread-spawn
 * handed out: a thread spawned just before the end may never have started) and its memory at the end.
 */
export type WorkersOutcome = ThreadsOutcome & { threads: number; memory: Uint8Array };

/** The built worker entry: next to this file in dist/, or dist/ seen from the sources (tests). */
function workerFile(): string {
  const here = path.join(__dirname, 'thread-worker.js');
  return fs.existsSync(here) ? here : path.join(__dirname, '..', 'dist', 'thread-worker.js');
}

/** A SharedArrayBuffer for `min` pages that can hold `max`: growable where the host can. */
function sharedBuffer(min: number, max: number): SharedArrayBuffer {
  try {
    const Growable = SharedArrayBuffer as unknown as new (bytes: number, o: { maxByteLength: number }) => SharedArrayBuffer & { growable?: boolean };
    const b = new Growable(min * PAGE_SIZE, { maxByteLength: max * PAGE_SIZE });
    if (b.growable === true) return b;
  } catch {
    // no growable SharedArrayBuffer here: the maximum at once
  }
  return new SharedArrayBuffer(max * PAGE_SIZE);
}

/**
 * Runs a wasi-threads program with every thread on a worker thread; `wasi` serves their WASI
 * calls. Settles once the program ended and every worker is gone: an exit code, or the trap
 * of a thread (its error rebuilt here: Trap, LinkError or WasmError, with its message).
 */
export async function runOnWorkers(bytes: Uint8Array, wasi: WASI, options: WorkerThreadsOptions = {}): Promise<WorkersOutcome> {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new WasmError('worker threads need a little-endian host (the atomic instructions use typed arrays)');
  const compiled = Machine.compile(bytes, { deterministic: options.deterministic });
  const mem = sharedMemoryImport(compiled.module);
  if (mem === null || !isThreaded(compiled.module)) throw new WasmError('not a wasi-threads module: it imports no shared memory or no wasi.thread-spawn');
  const calls = wasi.getImports().wasi_snapshot_preview1;
  for (const imp of compiled.module.imports) {
    if (imp.module === 'wasi_snapshot_preview1' && calls[imp.name] === undefined) throw new LinkError(`unknown import wasi_snapshot_preview1.${imp.name}`);
  }
  const memory = sharedBuffer(mem.min, mem.max);
  const size = new Int32Array(new SharedArrayBuffer(4));
  size[0] = mem.min;
  const view = MemoryInstance.onSharedBuffer(memory, size, mem.max);
  const common = {
    bytes,
    memory,
    size,
    tids: new Int32Array(new SharedArrayBuffer(4)),
    maxPages: mem.max,
    maxThreads: Math.min(options.maxThreads ?? MAX_THREADS, MAX_THREADS),
    memoryImport: [mem.module, mem.name] as [string, string],
    options: { tier: options.tier, deterministic: options.deterministic, limits: options.limits },
  };
  const file = workerFile();
  const workers = new Set<Worker>();
  const ports = new Set<MessagePort>();
  let outcome: ThreadsOutcome | null = null;
  let settle!: (o: ThreadsOutcome) => void;
  const ended = new Promise<ThreadsOutcome>((resolve) => (settle = resolve));

  const end = (o: ThreadsOutcome): void => {
    if (outcome !== null) return;
    outcome = o;
    if ('exitCode' in o) wasi.exitCode = o.exitCode;
    settle(o);
  };

  const serve = async (port: MessagePort, reply: Int32Array, tid: number, m: { name: string; args: unknown[] }): Promise<void> => {
    if (outcome !== null) return; // the program ended: its worker is being terminated
    const f: HostFunction = calls[m.name];
    try {
      let r: unknown;
      for (;;) {
        view.refresh(); // as grown by any thread
        r = f.fn(m.args, { memory: view });
        if (!(r instanceof Suspend)) break;
        await Promise.resolve(r.until).catch(() => undefined);
        if (outcome !== null) return;
      }
      if (outcome !== null) return;
      port.postMessage({ results: r });
      Atomics.store(reply, 0, 1);
      Atomics.notify(reply, 0);
    } catch (e) {
      if (e instanceof WasiExit) end({ exitCode: e.code });
      else end({ trap: e instanceof Error ? new Trap(`${m.name}: ${e.message}`) : new Trap(String(e)), thread: tid });
    }
  };

  const start = (tid: number, arg: number): void => {
    if (outcome !== null) return;
    const { port1, port2 } = new MessageChannel();
    const reply = new Int32Array(new SharedArrayBuffer(4));
    const data: ThreadWorkerData = { ...common, wasiPort: port2, reply, tid, arg };
    const w = new Worker(file, { workerData: data, transferList: [port2] });
    workers.add(w);
    ports.add(port1);
    options.onWorker?.(w, tid);
    port1.on('message', (m: { name: string; args: unknown[] }) => void serve(port1, reply, tid, m));
    w.on('message', (m: ThreadWorkerMessage) => {
      if ('spawn' in m) start(m.spawn, m.arg);
      else if ('done' in m) {
        if (m.done === 0) end({ exitCode: 0 });
      } else end({ trap: revive(m.error), thread: tid });
    });
    w.on('error', (e) => end({ trap: e, thread: tid }));
    w.on('exit', () => {
      workers.delete(w);
      port1.close();
      ports.delete(port1);
    });
  };

  start(0, 0);
  const o = await ended;
  await Promise.all([...workers].map((w) => w.terminate()));
  for (const p of ports) p.close();
  view.refresh();
  return { ...o, threads: Math.min(Atomics.load(common.tids, 0), common.maxThreads - 1) + 1, memory: view.u8 };
}

/** A worker's error, sent as plain data, as this thread's error class. */
function revive(e: { name: string; message: string }): Error {
  if (e.name === 'Trap' || e.name === 'ExhaustionError') return new Trap(e.message);
  if (e.name === 'LinkError') return new LinkError(e.message);
  return new WasmError(e.name === 'WasmError' ? e.message : `${e.name}: ${e.message}`);
}
