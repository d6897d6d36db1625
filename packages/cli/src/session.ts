/**
 * A program being run by the CLI: the module, its machine, its WASI instance (for
 * modules that import wasi_snapshot_preview1) and where its snapshots go. Starting fresh
 * and resuming from a snapshot end in the same shape, so every command drives both alike.
 */
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CompiledModule, Imports, Machine, MalformedError, Tier, ValidationError } from '@mvvm/interpreter';
import { EncodedSnapshot, assertSameModule, checkpoint, moduleHash, restoreGroup, restoreMachine, snapshotBounds } from '@mvvm/snapshot';
import { BASE_FILE_META, loadChainFromFiles, zlibCodec } from '@mvvm/snapshot/node';
import { GatewayClientOptions, GatewayHost } from '@mvvm/migrate';
import { WASI, WasiThreads, checkState, describeGrants, grantsAsked, isThreaded, nodeHost } from '@mvvm/wasi/node';
import { Preopen, UsageError } from './args';
import type { Reporter } from './report';
import { writeSnapshotFile } from './snapshot-file';
import { callStack, liveThread, namingOf } from './stack';

export interface Launch {
  wasm: string;
  /** The guest's arguments after its name. */
  args: string[];
  env: Record<string, string>;
  dirs: Preopen[];
  /** Call this export instead of `_start` (modules without WASI), with numeric arguments. */
  invoke?: string;
  /** Canonical NaNs (Machine option `deterministic`). */
  deterministic?: boolean;
  /** The JS tier (Machine option `tier`). */
  tier?: Tier;
  /** `mvvm gateway` relays a listening socket for the program (the fd after its preopens). */
  gateway?: GatewayClientOptions;
}

export interface Session {
  wasmPath: string;
  bytes: Uint8Array;
  hash: Uint8Array;
  /** The machine, or a threaded program's main thread. */
  machine: Machine;
  /** A wasi-threads program: every thread (the machine above is its thread 0). */
  threads?: WasiThreads | null;
  wasi: WASI | null;
  /** Guest name -> host directory, recorded in snapshots for information (restore uses only its own --dir). */
  preopens: Record<string, string>;
  /** The snapshot the next incremental one is based on. */
  last: { id: Uint8Array; path: string } | null;
  /** The relay of its listening socket (run --gateway): closed when the run ends here. */
  gateway?: GatewayHost | null;
}

const WASI_MODULE = 'wasi_snapshot_preview1';

export function readModule(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Compiles a module read from `path`; a file that is not one is named, with what it is not. */
export function compileFile(path: string, bytes: Uint8Array, deterministic = false): CompiledModule {
  if (bytes.length < 8 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new UsageError(`${path} is not a WebAssembly module (${bytes.length < 4 ? `${bytes.length} bytes` : 'no \\0asm header'})`);
  }
  try {
    return Machine.compile(bytes, { deterministic });
  } catch (e) {
    if (e instanceof MalformedError) {
      const cut = /unexpected end|out of bounds/.test(e.message) ? `truncated or corrupt (${bytes.length} bytes): ` : '';
      throw new UsageError(`${path} is not a well-formed WebAssembly module: ${cut}${e.message}`);
    }
    if (e instanceof ValidationError) throw new UsageError(`${path} is not a valid WebAssembly module: ${e.message}`);
    throw e;
  }
}

function usesWasi(compiled: CompiledModule): boolean {
  return compiled.module.imports.some((i) => i.module === WASI_MODULE);
}

export function preopenMap(dirs: Preopen[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dirs) {
    const host = resolve(d.host);
    let isDir = false;
    try {
      isDir = statSync(host).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) {
      // HOST:GUEST with one colon is a common slip for HOST::GUEST.
      const single = /^([^:]+):([^:]+)$/.exec(d.host);
      throw new UsageError(`--dir ${d.host}: no such directory${single ? ` (for guest name ${single[2]}, write ${single[1]}::${single[2]})` : ''}`);
    }
    out[d.guest] = host;
  }
  return out;
}

export async function start(launch: Launch): Promise<Session> {
  const bytes = readModule(launch.wasm);
  const compiled = compileFile(launch.wasm, bytes, launch.deterministic);
  const preopens = preopenMap(launch.dirs);
  let wasi: WASI | null = null;
  let gateway: GatewayHost | null = null;
  let imports: Imports = {};
  if (usesWasi(compiled)) {
    gateway = launch.gateway ? new GatewayHost(nodeHost(), { program: basename(launch.wasm), ...launch.gateway }) : null;
    wasi = new WASI({ args: [basename(launch.wasm), ...launch.args], env: launch.env, preopens, returnOnExit: true, ...(gateway ? { host: gateway.host, listen: [{ port: 0 }] } : {}) });
    imports = wasi.getImports();
  }
  if (isThreaded(compiled.module)) {
    // wasi-threads: the main thread runs _start; thread-spawn adds instances on the shared memory.
    if (!wasi) throw new UsageError(`${launch.wasm} spawns threads but imports no WASI`);
    if (launch.invoke) throw new UsageError(`--invoke: ${launch.wasm} is a wasi-threads program, which starts at _start`);
    const threads = await WasiThreads.start(compiled, wasi, { deterministic: launch.deterministic, tier: launch.tier });
    return { wasmPath: launch.wasm, bytes, hash: await moduleHash(bytes), machine: threads.main, threads, wasi, preopens, last: null, gateway };
  }
  const machine = await Machine.instantiate(compiled, imports, { deterministic: launch.deterministic, tier: launch.tier });
  if (launch.invoke) machine.begin(launch.invoke, launch.args.map(Number));
  else if (machine.instance.exports.has('_start')) machine.begin('_start', []);
  else throw new UsageError(`${launch.wasm} exports no _start: name the function to run with --invoke`);
  return { wasmPath: launch.wasm, bytes, hash: await moduleHash(bytes), machine, wasi, preopens, last: null, gateway };
}

/**
 * Rebuilds a session from a snapshot (and its bases). The snapshot is untrusted: its
 * preopens and listeners are granted only by this restore's own `dirs` (--dir, by guest
 * name) and `listen` (--listen), never by what the file recorded; what it asks for is
 * reported, and a snapshot asking for more is refused with one line (WasiRestoreError).
 */
export async function resume(wasm: string, snapshotPath: string, dirs: Preopen[], bases: string[], listen: Array<{ host: string; port: number }> = [], report?: Reporter, tier?: Tier): Promise<Session> {
  const bytes = readModule(wasm);
  const compiled = compileFile(wasm, bytes);
  // Bounded by what this module can hold before anything is inflated or allocated.
  const resolved = await loadChainFromFiles(snapshotPath, bases, zlibCodec, await snapshotBounds(bytes));
  await assertSameModule(bytes, resolved); // before the WASI state touches any host file
  const preopens = preopenMap(dirs);
  let wasi: WASI | null = null;
  let imports: Imports = {};
  if (resolved.wasi !== null && resolved.wasi !== undefined) {
    const state = checkState(resolved.wasi);
    report?.info(`the snapshot asks for ${describeGrants(grantsAsked(state))}`);
    wasi = WASI.restore(state, { preopens, listen, returnOnExit: true });
    imports = wasi.getImports();
  } else if (usesWasi(compiled)) {
    throw new UsageError(`${snapshotPath} holds no WASI state but ${wasm} imports WASI`);
  }
  let machine: Machine;
  let threads: WasiThreads | null = null;
  try {
    if (resolved.group) {
      if (!wasi) throw new UsageError(`${snapshotPath} holds threads but no WASI state`);
      const w = wasi;
      threads = await restoreGroup(bytes, resolved, (group) => WasiThreads.restore(bytes, group, w, { tier }));
      machine = threads.main;
    } else {
      machine = await restoreMachine(bytes, resolved, imports, { tier, adoptMemory: true }); // the memory was rebuilt for this restore: no second copy
    }
  } catch (e) {
    wasi?.close(); // no half-restored session: release the files and listeners it had opened
    throw e;
  }
  return { wasmPath: wasm, bytes, hash: resolved.moduleHash, machine, threads, wasi, preopens, last: { id: resolved.id, path: snapshotPath } };
}

/** Refuses, with one line, what works on one machine only (migration, the debugger) for a threaded program. */
export function singleThreaded(s: Session, what: string): void {
  if (s.threads) throw new UsageError(`${what} is not available for a wasi-threads program (${s.threads.group.threads.length} threads): use checkpoint and restore`);
}

/** What counts a session's instructions: the machine, or all the threads of a threaded program. */
export function counter(s: Session): { readonly instructionCount: number } {
  return s.threads ?? s.machine;
}

export interface WriteOptions {
  path: string;
  incremental: boolean;
  compress: boolean;
  trigger: string;
}

/** Takes a snapshot of the session now and writes it atomically. */
export async function writeSnapshot(s: Session, o: WriteOptions): Promise<EncodedSnapshot> {
  const base = o.incremental && s.last ? s.last : null;
  const meta: Record<string, unknown> = {
    program: basename(s.wasmPath),
    createdAt: new Date().toISOString(),
    trigger: o.trigger,
    preopens: s.preopens,
    // Names from the name section, so `inspect` can show the stack without the module.
    stack: callStack(liveThread(s.machine), namingOf(s.machine)),
    ...(s.threads ? { threads: s.threads.group.threads.map((t) => ({ status: t.machine.thread.status, instructions: t.machine.instructionCount, stack: callStack(liveThread(t.machine), namingOf(t.machine)) })) } : {}),
  };
  // A base is found again by name only beside the snapshot (a restore follows no other path).
  if (base && dirname(resolve(o.path)) === dirname(resolve(base.path))) meta[BASE_FILE_META] = basename(base.path);
  const snap = await checkpoint(s.threads?.group ?? s.machine, {
    moduleHash: s.hash,
    wasi: s.wasi?.state() ?? null,
    meta,
    base: base?.id,
    compress: o.compress,
    codec: zlibCodec,
  });
  await writeSnapshotFile(o.path, snap.bytes);
  s.last = { id: snap.id, path: o.path };
  return snap;
}

