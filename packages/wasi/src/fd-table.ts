import { Errno, FileType } from './constants';
import { fail } from './errors';
import type { FileId, SandboxDir } from './fs/sandbox';
import type { Handle, HostFs } from './fs/types';
import type { Connection, Listener, Stream } from './io/streams';
import type { FdKind, FdState, ReplayLog } from './log/replay-log';

/** An open fd: its WASI-visible state plus the live host object behind it. */
export interface FdEntry {
  fd: number;
  kind: FdKind;
  filetype: FileType;
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
  offset: number;
  /** stdio: the host stream it carries (0, 1, 2), whatever number it was renumbered to. */
  stdio?: 0 | 1 | 2;
  /** Files and directories: the host handle. */
  handle?: Handle;
  /** Files and directories: preopen name, its host root, and the path below it. */
  preopen?: string;
  root?: string;
  rel?: string[];
  /** Directories: the host identity they were opened on (lookups check it, fs/sandbox.ts). */
  id?: FileId;
  oflags?: number;
  stream?: Stream;
  listener?: Listener;
  listen?: { host: string; port: number };
  conn?: Connection;
  peer?: string;
  received?: number;
  sent?: number;
  shutdown?: number;
  dirCookie?: string;
}

/**
 * The fd table. Every change goes through here so that it reaches the replay log:
 * the table is the live state, the log the record a restore is built from.
 */
export class FdTable {
  readonly entries = new Map<number, FdEntry>();
  constructor(readonly log: ReplayLog) {}

  /** The entry for fd, which must hold every right in `rights` (ENOTCAPABLE otherwise). */
  get(fd: number, rights = 0): FdEntry {
    const e = this.entries.get(fd);
    if (e === undefined) fail(Errno.BADF);
    if ((e.rightsBase & rights) !== rights) fail(Errno.NOTCAPABLE);
    return e;
  }

  /** Installs an entry at `fd`, or at the lowest free number (as POSIX open does). */
  add(e: Omit<FdEntry, 'fd'>, fd?: number): FdEntry {
    let n = fd ?? 0;
    if (fd === undefined) while (this.entries.has(n)) n++;
    const entry = e as FdEntry;
    entry.fd = n;
    this.entries.set(n, entry);
    this.log.record({ op: 'open', fd: n, state: describe(entry) });
    return entry;
  }

  remove(fd: number): FdEntry {
    const e = this.get(fd);
    this.entries.delete(fd);
    this.log.record({ op: 'close', fd });
    return e;
  }

  /** Moves `from` onto `to`, replacing whatever was there (the caller closes it) or taking a free number. */
  renumber(from: number, to: number): void {
    const e = this.get(from);
    this.entries.delete(from);
    e.fd = to;
    this.entries.set(to, e);
    this.log.record({ op: 'renumber', from, to });
  }

  /**
   * The guest renamed `from` to `to` under the host directory `root`: every fd at or below
   * `from` now lives below `to` (an open directory stays usable, a file is found there on
   * restore). Fds under another root that reach the same host directory are not followed:
   * their lookups fail the identity check instead (ENOENT), never escape.
   */
  moved(root: string, from: string[], to: string[]): void {
    for (const e of this.entries.values()) {
      if (e.root !== root || e.rel === undefined || e.rel.length < from.length) continue;
      if (!from.every((c, i) => e.rel![i] === c)) continue;
      e.rel = [...to, ...e.rel.slice(from.length)];
      this.log.record({ op: 'path', fd: e.fd, path: e.rel.join('/') });
    }
  }

  setOffset(e: FdEntry, offset: number): void {
    e.offset = offset;
    this.log.record({ op: 'offset', fd: e.fd, offset });
  }

  setFlags(e: FdEntry, fdflags: number): void {
    e.fdflags = fdflags;
    this.log.record({ op: 'flags', fd: e.fd, fdflags });
  }

  setRights(e: FdEntry, base: number, inheriting: number): void {
    e.rightsBase = base;
    e.rightsInheriting = inheriting;
    this.log.record({ op: 'rights', fd: e.fd, base, inheriting });
  }

  setCursor(e: FdEntry, cookie: bigint): void {
    e.dirCookie = cookie.toString();
    this.log.record({ op: 'cursor', fd: e.fd, cookie: e.dirCookie });
  }

  traffic(e: FdEntry, received: number, sent: number): void {
    e.received = (e.received ?? 0) + received;
    e.sent = (e.sent ?? 0) + sent;
    this.log.record({ op: 'traffic', fd: e.fd, received: e.received, sent: e.sent });
  }

  setShutdown(e: FdEntry, how: number): void {
    e.shutdown = (e.shutdown ?? 0) | how;
    this.log.record({ op: 'shutdown', fd: e.fd, how });
  }

  /** The live table as plain data: what fold() of the log must equal (tests check it). */
  describeAll(): FdState[] {
    return [...this.entries.values()].sort((a, b) => a.fd - b.fd).map(describe);
  }
}

/** An entry's WASI-visible state as plain data (no host objects). */
export function describe(e: FdEntry): FdState {
  const s: FdState = {
    fd: e.fd,
    kind: e.kind,
    filetype: e.filetype,
    rightsBase: e.rightsBase,
    rightsInheriting: e.rightsInheriting,
    fdflags: e.fdflags,
    offset: e.offset,
  };
  if (e.stdio !== undefined) s.stdio = e.stdio;
  if (e.preopen !== undefined) s.preopen = e.preopen;
  if (e.rel !== undefined) s.path = e.rel.join('/');
  if (e.oflags !== undefined) s.oflags = e.oflags;
  if (e.dirCookie !== undefined) s.dirCookie = e.dirCookie;
  if (e.listen !== undefined) s.listen = { ...e.listen };
  if (e.peer !== undefined) s.peer = e.peer;
  if (e.received !== undefined) s.received = e.received;
  if (e.sent !== undefined) s.sent = e.sent;
  if (e.shutdown !== undefined) s.shutdown = e.shutdown;
  return s;
}

/** A directory or preopen fd as the sandbox resolves paths under it. */
export function sandboxDir(e: FdEntry): SandboxDir {
  return { root: e.root!, rel: e.rel!, id: e.id!, handle: e.handle };
}

/** Releases whatever host object an entry holds; errors are the host's business now. */
export function closeEntry(fs: HostFs, e: FdEntry): void {
  try {
    if (e.handle !== undefined) fs.close(e.handle);
    if (e.kind === 'socket') (e.conn ?? e.stream)?.close();
    e.listener?.close();
  } catch {
    // closing cannot fail in a way the guest could act on
  }
}

