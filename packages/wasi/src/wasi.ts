import { HostFunction, Machine, hostFunction } from '@mvvm/interpreter';
import { ALL_RIGHTS, DIRECTORY_RIGHTS, Errno, FileType, LISTENER_RIGHTS, STREAM_RIGHTS, Rights } from './constants';
import { WasiErrnoError, WasiExit, WasiRestoreError, toErrno } from './errors';
import { FdTable, closeEntry } from './fd-table';
import type { FdEntry } from './fd-table';
import { MemoryFs } from './fs/memory-fs';
import { checkedDir, idOf, resolvePath, sameFile } from './fs/sandbox';
import type { Resolved, SandboxDir } from './fs/sandbox';
import { joinHost } from './fs/types';
import type { FileStat, HostFs } from './fs/types';
import type { Host } from './host';
import { InputQueue, OutputSink } from './io/streams';
import type { Stream } from './io/streams';
import { ReplayLog } from './log/replay-log';
import type { FdState, LogEvent } from './log/replay-log';
import { GuestMemory, encodeUtf8 } from './memory';
import { grantsAsked, ungranted } from './grants';
import { checkState } from './state-check';
import { SYSCALLS } from './syscalls';
import { SIGNATURES } from './syscalls/signatures';

export type InputOption = number | Stream | Uint8Array | string;
export type OutputOption = number | Stream | ((chunk: Uint8Array) => void);

export interface WasiOptions {
  /** Accepted for node:wasi compatibility; only 'preview1' exists. */
  version?: 'preview1';
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Guest path -> host directory (a path on `host.fs`). fds 3, 4, ... in this order. */
  preopens?: Record<string, string>;
  /** proc_exit makes start() return the code (default, as in node:wasi) instead of ending the process. */
  returnOnExit?: boolean;
  /** A host fd (Node host), a Stream, or the whole input up front. */
  stdin?: InputOption;
  stdout?: OutputOption;
  stderr?: OutputOption;
  /** File system, stdio fds and sockets. Default: an empty in-memory file system. */
  host?: Host;
  /** Preopened TCP listeners (Node host), numbered after the directory preopens. */
  listen?: Array<{ host?: string; port: number }>;
  /** Called with host errors that are not plain errnos (they still become an errno for the guest): for debugging. */
  onHostError?: (call: string, error: unknown) => void;
  /**
   * Rebuild the OS side from `wasi.state()` taken elsewhere (see WASI.restore). Untrusted:
   * checked field by field, and it opens only what `preopens` and `listen` grant.
   */
  restoreFrom?: WasiState;
}

/** The OS-visible state of a WASI instance as plain (JSON-safe) data, derived from the replay log. */
export interface WasiState {
  version: 1;
  args: string[];
  env: Record<string, string>;
  fds: FdState[];
  exitCode: number | null;
  /** The guest's monotonic clock when taken: it continues from there after a restore. */
  monotonicNs: string;
  /** Events recorded since the instance (or its first ancestor) started. */
  logEvents: number;
  /**
   * A poll_oneoff the machine is suspended in: its clock deadlines (absolute, in each
   * clock's own terms, as decimal strings), so the retry after a restore waits only for
   * what was left of the timeout.
   */
  pendingPoll?: { key: string; deadlines: (string | null)[] } | null;
}

/** What a restore could not carry over (connections cannot move between hosts). */
export interface RestoreReport {
  lostConnections: Array<{ fd: number; peer: string; received: number; sent: number }>;
}

/** Nanoseconds from performance.now (µs resolution in Node and browsers). */
function hostMonotonicNs(): bigint {
  return BigInt(Math.floor(performance.now() * 1e6));
}

/**
 * A WASI preview1 implementation for @mvvm/interpreter machines. Use as node:wasi:
 *
 *   const wasi = new WASI({ args, env, preopens: { '/sandbox': dir }, host });
 *   const m = await Machine.instantiate(bytes, wasi.getImports());
 *   const code = await wasi.start(m);
 *
 * and to move a run: `const s = wasi.state()` with `m.snapshot()`, then
 * `WASI.restore(s, { ...options, preopens: { '/sandbox': copy } })` and `Machine.restore`.
 */
export class WASI {
  readonly fs: HostFs;
  readonly host: Host;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly log: ReplayLog;
  readonly fds: FdTable;
  readonly restoreReport: RestoreReport = { lostConnections: [] };
  /** The collected output when stdout/stderr were not given (in-memory host). */
  readonly stdout: OutputSink | null = null;
  readonly stderr: OutputSink | null = null;
  /** A poll_oneoff that suspended: its deadlines survive the retry of the same call. */
  pendingPoll: { key: string; deadlines: (bigint | null)[] } | null = null;
  exitCode: number | null = null;
  private readonly returnOnExit: boolean;
  private readonly monotonicOffset: bigint;
  private imports: { wasi_snapshot_preview1: Record<string, HostFunction> } | null = null;
  /** Encoded args and environment, computed once. */
  readonly argBytes: Uint8Array[];
  readonly envBytes: Uint8Array[];

  constructor(private readonly options: WasiOptions = {}) {
    this.host = options.host ?? { fs: new MemoryFs() };
    this.fs = this.host.fs;
    const from = options.restoreFrom === undefined ? undefined : checkState(options.restoreFrom);
    this.args = options.args ?? from?.args ?? [];
    const env = options.env ?? from?.env ?? {};
    this.env = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined) this.env[k] = String(v);
    this.argBytes = this.args.map((a) => encodeUtf8(a + '\0'));
    this.envBytes = Object.entries(this.env).map(([k, v]) => encodeUtf8(`${k}=${v}\0`));
    this.returnOnExit = options.returnOnExit ?? true;
    this.monotonicOffset = from ? BigInt(from.monotonicNs) - hostMonotonicNs() : 0n;
    if (options.stdout === undefined && !this.host.fdStream) this.stdout = new OutputSink();
    if (options.stderr === undefined && !this.host.fdStream) this.stderr = new OutputSink();
    if (from) {
      this.log = new ReplayLog();
      this.log.count = from.logEvents;
      this.fds = new FdTable(this.log);
      this.exitCode = from.exitCode;
      if (from.pendingPoll) {
        this.pendingPoll = { key: from.pendingPoll.key, deadlines: from.pendingPoll.deadlines.map((d) => (d === null ? null : BigInt(d))) };
      }
      this.rebuild(from);
    } else {
      this.log = new ReplayLog();
      this.fds = new FdTable(this.log);
      this.openInitial();
    }
  }

  /**
   * Same as `new WASI({ ...options, restoreFrom: state })`. The state is untrusted (it may
   * come from a crafted snapshot): every field is checked, its preopens and listeners are
   * opened only where `options.preopens` / `options.listen` grant them, and every path is
   * resolved inside its preopen as the guest's own calls are. Anything else is a
   * WasiRestoreError naming the field or fd, with nothing left open.
   */
  static restore(state: WasiState, options: WasiOptions = {}): WASI {
    return new WASI({ ...options, restoreFrom: state });
  }

  // ---- stdio, preopens, listeners ----

  /** One of this instance's own stdio streams (never a host fd a state names). */
  private stdioStream(fd: 0 | 1 | 2): Stream {
    const opt = fd === 0 ? this.options.stdin : fd === 1 ? this.options.stdout : this.options.stderr;
    if (opt === undefined) {
      if (fd === 0) return this.host.fdStream ? this.host.fdStream(0, 'read') : new InputQueue(new Uint8Array(0));
      if (this.host.fdStream) return this.host.fdStream(fd, 'write');
      return fd === 1 ? this.stdout! : this.stderr!;
    }
    if (typeof opt === 'number') {
      if (!this.host.fdStream) throw new TypeError('stdio as a host fd number needs a host with fdStream (the Node host)');
      return this.host.fdStream(opt, fd === 0 ? 'read' : 'write');
    }
    if (typeof opt === 'function') return new OutputSink(opt);
    if (typeof opt === 'string' || opt instanceof Uint8Array) return new InputQueue(opt);
    return opt;
  }

  private stdioEntry(which: 0 | 1 | 2, offset: number, fdflags: number): Omit<FdEntry, 'fd'> {
    const stream = this.stdioStream(which);
    const rights = STREAM_RIGHTS & ~(which === 0 ? Rights.FD_WRITE : Rights.FD_READ);
    return { kind: 'stdio', filetype: stream.filetype, rightsBase: rights, rightsInheriting: 0, fdflags, offset, stream, stdio: which };
  }

  private preopenEntry(name: string, hostDir: string): Omit<FdEntry, 'fd'> {
    const st = this.fs.lstat(hostDir);
    if (st.filetype !== FileType.DIRECTORY) throw new TypeError(`preopen '${name}': ${hostDir} is not a directory`);
    const handle = this.openChecked(hostDir, st, true, false);
    return { kind: 'preopen', filetype: FileType.DIRECTORY, rightsBase: DIRECTORY_RIGHTS, rightsInheriting: ALL_RIGHTS, fdflags: 0, offset: 0, handle, preopen: name, root: hostDir, rel: [], id: idOf(st) };
  }

  /** Opens what `st` describes, and only that: a file swapped in since the lstat is refused. */
  private openChecked(hostPath: string, st: FileStat, read: boolean, write: boolean): number {
    const directory = st.filetype === FileType.DIRECTORY;
    const handle = this.fs.open(hostPath, { read, write, create: false, exclusive: false, truncate: false, directory });
    try {
      if (!sameFile(this.fs.fstat(handle), st)) throw new WasiErrnoError(Errno.NOENT, `${hostPath} changed while it was being opened`);
    } catch (e) {
      this.fs.close(handle);
      throw e;
    }
    return handle;
  }

  private listenerEntry(host: string, port: number): Omit<FdEntry, 'fd'> {
    if (!this.host.listen) throw new TypeError('preopened listeners need a host with sockets (the Node host)');
    const listener = this.host.listen(host, port);
    return { kind: 'listener', filetype: FileType.SOCKET_STREAM, rightsBase: LISTENER_RIGHTS, rightsInheriting: STREAM_RIGHTS | Rights.SOCK_SHUTDOWN, fdflags: 0, offset: 0, listener, listen: listener.address };
  }

  private openInitial(): void {
    for (const fd of [0, 1, 2] as const) this.fds.add(this.stdioEntry(fd, 0, 0), fd);
    for (const [name, dir] of Object.entries(this.options.preopens ?? {})) this.fds.add(this.preopenEntry(name, dir));
    for (const l of this.options.listen ?? []) this.fds.add(this.listenerEntry(l.host ?? '127.0.0.1', l.port));
  }

  /**
   * Rebuilds every fd of a (checked) state on this host: the same numbers, files, offsets,
   * flags and rights. What is opened or bound is what the restoring user granted:
   * preopens by guest name from options.preopens (so they can point anywhere), the state's
   * listeners in order from options.listen, files and directories resolved inside their
   * preopen. A state asking for more, or a file that is missing, of another type or of
   * another size, is a WasiRestoreError, and whatever was opened so far is closed again.
   */
  private rebuild(state: WasiState): void {
    const refused = ungranted(grantsAsked(state), this.options.preopens ?? {}, this.options.listen ?? []);
    if (refused !== null) throw new WasiRestoreError(refused);
    try {
      this.rebuildFds(state);
    } catch (err) {
      this.close();
      if (err instanceof WasiRestoreError) throw err;
      throw new WasiRestoreError(`restoring the WASI state: ${(err as Error)?.message ?? String(err)}`);
    }
  }

  private rebuildFds(state: WasiState): void {
    const granted = this.options.preopens ?? {};
    const listens = this.options.listen ?? [];
    let listenerIndex = 0;
    for (const s of state.fds) {
      const where = `fd ${s.fd}`;
      let e: Omit<FdEntry, 'fd'>;
      switch (s.kind) {
        case 'stdio': {
          e = this.stdioEntry(s.stdio!, s.offset, s.fdflags); // checkState settled which stream
          break;
        }
        case 'preopen': {
          const dir = granted[s.preopen!]; // granted: checked by rebuild()
          try {
            e = this.preopenEntry(s.preopen!, dir);
          } catch (err) {
            throw new WasiRestoreError(`${where}: preopen '${s.preopen}' -> '${dir}': ${(err as Error).message}`);
          }
          break;
        }
        case 'file':
        case 'dir':
          e = this.reopen(s, granted);
          break;
        case 'listener': {
          const l = listens[listenerIndex++]; // granted: checked by rebuild()
          e = this.listenerEntry(l.host ?? '127.0.0.1', l.port);
          break;
        }
        case 'socket': {
          // A TCP connection cannot move by itself: unless the host re-attaches it (a relay), the fd
          // stays valid but reads see the end and writes EPIPE.
          const lost = { fd: s.fd, peer: s.peer ?? '?', received: s.received ?? 0, sent: s.sent ?? 0 };
          const conn = this.host.reattach?.(lost) ?? null;
          e = { kind: 'socket', filetype: FileType.SOCKET_STREAM, rightsBase: s.rightsBase, rightsInheriting: s.rightsInheriting, fdflags: s.fdflags, offset: 0, stream: conn ?? lostConnection(), peer: s.peer, received: s.received, sent: s.sent, shutdown: s.shutdown };
          if (conn) e.conn = conn;
          else this.restoreReport.lostConnections.push(lost);
          break;
        }
      }
      const entry = this.fds.add({ ...e, rightsBase: s.rightsBase, rightsInheriting: s.rightsInheriting, fdflags: s.fdflags, offset: s.offset }, s.fd);
      if (s.dirCookie !== undefined) entry.dirCookie = s.dirCookie;
    }
  }

  /**
   * Reopens a file or directory fd of a state: its recorded path is resolved from the
   * preopen's root through the same sandbox as the guest's own calls (fs/sandbox.ts, by
   * handles from the root where the host can), must lead there without crossing a
   * symlink, and must hold a file of the recorded type (and size).
   */
  private reopen(s: FdState, granted: Record<string, string>): Omit<FdEntry, 'fd'> {
    const root = granted[s.preopen!]; // granted: checked by rebuild()
    const where = `fd ${s.fd}: '${s.path === '' ? s.preopen! : `${s.preopen}/${s.path}`}'`;
    let rootStat: FileStat;
    let rootHandle: number;
    try {
      rootStat = this.fs.lstat(root);
      if (rootStat.filetype !== FileType.DIRECTORY) throw new WasiErrnoError(Errno.NOTDIR, 'not a directory');
      rootHandle = this.openChecked(root, rootStat, true, false);
    } catch (err) {
      throw new WasiRestoreError(`${where}: preopen '${s.preopen}' -> '${root}': ${(err as Error).message}`);
    }
    try {
      return this.reopenBelow(s, where, { root, rel: [], id: idOf(rootStat), handle: rootHandle }, rootStat);
    } finally {
      this.fs.close(rootHandle);
      this.fs.releaseScratch?.();
    }
  }

  private reopenBelow(s: FdState, where: string, root: SandboxDir, rootStat: FileStat): Omit<FdEntry, 'fd'> {
    const shown = joinHost(root.root, s.path!); // for messages: the path, not the handle it went through
    let r: Resolved;
    try {
      r = s.path === '' ? { rel: [], hostPath: checkedDir(this.fs, root).hostPath, stat: rootStat } : resolvePath(this.fs, root, s.path!, false);
    } catch (err) {
      if (toErrno(err) === Errno.NOENT) throw new WasiRestoreError(`${where} is missing on this host (${shown})`);
      throw new WasiRestoreError(`${where} cannot be resolved inside preopen '${s.preopen}' (${root.root}): ${(err as Error).message}`);
    }
    const st = r.stat;
    if (st === null) throw new WasiRestoreError(`${where} is missing on this host (${shown})`);
    if (r.rel.join('/') !== s.path) throw new WasiRestoreError(`${where} leads through a symlink on this host (to '${r.rel.join('/')}')`);
    if (st.filetype !== s.filetype) throw new WasiRestoreError(`${where} (host path ${shown}) has file type ${st.filetype} on this host, ${s.filetype} in the state`);
    if (s.kind === 'file' && s.size !== undefined && Number(st.size) !== s.size) {
      throw new WasiRestoreError(`${where} (host path ${shown}) changed size: ${s.size} bytes in the state, ${st.size} on this host`);
    }
    const dir = s.kind === 'dir';
    const write = !dir && (s.rightsBase & (Rights.FD_WRITE | Rights.FD_ALLOCATE | Rights.FD_FILESTAT_SET_SIZE)) !== 0;
    const read = dir || (s.rightsBase & Rights.FD_READ) !== 0 || !write;
    let handle;
    try {
      handle = this.openChecked(r.hostPath, st, read, write);
    } catch (err) {
      throw new WasiRestoreError(`${where}: cannot reopen it (host path ${shown}): ${(err as Error).message}`);
    }
    return { kind: s.kind, filetype: s.filetype, rightsBase: s.rightsBase, rightsInheriting: s.rightsInheriting, fdflags: s.fdflags, offset: s.offset, handle, preopen: s.preopen, root: root.root, rel: r.rel, id: dir ? idOf(st) : undefined, oflags: s.oflags };
  }

  // ---- clocks ----

  monotonicNs(): bigint {
    return hostMonotonicNs() + this.monotonicOffset;
  }

  realtimeNs(): bigint {
    return BigInt(Math.floor((performance.timeOrigin + performance.now()) * 1e6));
  }

  // ---- the import object ----

  /** `{ wasi_snapshot_preview1: { ...46 functions } }` for Machine.instantiate / restore. */
  getImports(): { wasi_snapshot_preview1: Record<string, HostFunction> } {
    if (this.imports) return this.imports;
    const ns: Record<string, HostFunction> = {};
    for (const [name, sig] of Object.entries(SIGNATURES)) {
      const impl = SYSCALLS[name];
      const params = sig.params;
      ns[name] = hostFunction(
        { params, results: sig.results },
        (args, ctx) => {
          // i32 arguments arrive signed; every i32 in preview1 is unsigned (pointers, fds, flags, sizes).
          for (let i = 0; i < params.length; i++) if (params[i] === 'i32') args[i] = (args[i] as number) >>> 0;
          try {
            return impl(this, new GuestMemory(ctx.memory), ...args);
          } catch (e) {
            if (e instanceof WasiExit) throw e;
            if (this.options.onHostError && !(e instanceof WasiErrnoError)) this.options.onHostError(name, e);
            return toErrno(e);
          } finally {
            this.fs.releaseScratch?.(); // the directory handles this call's path lookups opened
          }
        },
        name,
      );
    }
    this.imports = { wasi_snapshot_preview1: ns };
    return this.imports;
  }

  get wasiImport(): Record<string, HostFunction> {
    return this.getImports().wasi_snapshot_preview1;
  }

  /**
   * Runs `_start` to the end (or continues a restored machine that is mid-run) and returns
   * the exit code. With returnOnExit false, proc_exit ends the process as in node:wasi.
   */
  async start(machine: Machine, runOptions?: Parameters<Machine['run']>[0]): Promise<number> {
    const status = machine.thread.status;
    if (status !== 'running' && status !== 'suspended') machine.begin('_start', []);
    let code = 0;
    try {
      await machine.run(runOptions);
    } catch (e) {
      if (!(e instanceof WasiExit)) throw e;
      code = e.code;
    }
    this.exitCode = code;
    if (!this.returnOnExit) {
      const proc = (globalThis as { process?: { exit(code: number): never } }).process;
      if (proc) proc.exit(code);
    }
    return code;
  }

  /** Records proc_exit in the log and unwinds the machine. */
  exit(code: number): never {
    this.exitCode = code;
    this.log.record({ op: 'exit', code });
    throw new WasiExit(code);
  }

  // ---- state ----

  /** The OS-visible state as plain data (fold of the replay log, plus file sizes now). */
  state(): WasiState {
    const { fds, exitCode } = this.log.fold();
    for (const s of fds) {
      const live = this.fds.entries.get(s.fd);
      if (s.kind === 'file' && live?.handle !== undefined) {
        try {
          s.size = Number(this.fs.fstat(live.handle).size);
        } catch {
          // the host file vanished under an open fd: a restore will report it missing
        }
      }
      if (s.kind === 'listener' && live?.listener) s.listen = { ...live.listener.address };
    }
    const pendingPoll = this.pendingPoll && { key: this.pendingPoll.key, deadlines: this.pendingPoll.deadlines.map((d) => (d === null ? null : d.toString())) };
    return { version: 1, args: [...this.args], env: { ...this.env }, fds, exitCode, monotonicNs: this.monotonicNs().toString(), logEvents: this.log.count, pendingPoll };
  }

  /** The events recorded since the last compaction. */
  recentEvents(): readonly LogEvent[] {
    return this.log.recent();
  }

  /** Closes every host handle, stream and listener (the guest's fds go away). */
  close(): void {
    for (const e of this.fds.entries.values()) closeEntry(this.fs, e);
    this.fds.entries.clear();
  }
}

/** A connection that did not survive the move: reads see the end, writes EPIPE. */
function lostConnection(): Stream {
  const input = new InputQueue(new Uint8Array(0));
  return Object.assign(input, {
    filetype: FileType.SOCKET_STREAM,
    write(): number {
      throw new WasiErrnoError(Errno.PIPE, 'the connection was lost when the program moved hosts');
    },
  });
}
