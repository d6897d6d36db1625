/**
 * The replay log: every call that changes OS-visible state the guest can observe through
 * its fds appends an event. `fold()` turns the log into the fd table a restore needs.
 * File contents and directory trees are not logged: they live in the host directory that
 * is copied alongside a snapshot.
 *
 * Offsets move on every read and write, so consecutive offset events of one fd coalesce,
 * and the log compacts into its base once it grows long: memory stays bounded and a call
 * costs one array write.
 */

export type FdKind = 'stdio' | 'preopen' | 'dir' | 'file' | 'listener' | 'socket';

/** One fd as plain data (JSON-safe: numbers and strings). */
export interface FdState {
  fd: number;
  kind: FdKind;
  filetype: number;
  rightsBase: number;
  rightsInheriting: number;
  fdflags: number;
  /** Files: the offset. stdio: bytes read (stdin) or written (stdout/stderr). */
  offset: number;
  /** stdio: which host stream it carries (0 stdin, 1 stdout, 2 stderr); fd_renumber may move it to another number. */
  stdio?: 0 | 1 | 2;
  /** Guest name of the preopen this fd lives under (a preopen: its own name). */
  preopen?: string;
  /** Path from the preopen root, '/'-joined, symlinks resolved ('' = the root). */
  path?: string;
  oflags?: number;
  /** fd_readdir: the last cookie the guest read from. */
  dirCookie?: string;
  /** Listeners: the address bound. */
  listen?: { host: string; port: number };
  /** Accepted connections: peer, bytes each way, shutdown flags. */
  peer?: string;
  received?: number;
  sent?: number;
  shutdown?: number;
  /** Filled in by state(): a file's size when the state was taken (checked on restore). */
  size?: number;
}

export type LogEvent =
  | { op: 'open'; fd: number; state: FdState }
  | { op: 'close'; fd: number }
  | { op: 'renumber'; from: number; to: number }
  | { op: 'path'; fd: number; path: string }
  | { op: 'offset'; fd: number; offset: number }
  | { op: 'flags'; fd: number; fdflags: number }
  | { op: 'rights'; fd: number; base: number; inheriting: number }
  | { op: 'cursor'; fd: number; cookie: string }
  | { op: 'traffic'; fd: number; received: number; sent: number }
  | { op: 'shutdown'; fd: number; how: number }
  | { op: 'exit'; code: number };

const COMPACT_AT = 4096;

export class ReplayLog {
  private base = new Map<number, FdState>();
  private baseExit: number | null = null;
  private events: LogEvent[] = [];
  /** Events ever recorded (compaction does not reset it). */
  count = 0;

  constructor(initial?: FdState[], exitCode: number | null = null) {
    if (initial) for (const s of initial) this.base.set(s.fd, { ...s });
    this.baseExit = exitCode;
  }

  record(e: LogEvent): void {
    this.count++;
    const last = this.events[this.events.length - 1];
    if (last !== undefined && last.op === e.op && 'fd' in last && 'fd' in e && last.fd === e.fd && (e.op === 'offset' || e.op === 'traffic' || e.op === 'cursor')) {
      this.events[this.events.length - 1] = e; // the newer value supersedes: coalesce
      return;
    }
    this.events.push(e);
    if (this.events.length >= COMPACT_AT) this.compact();
  }

  /** The events since the last compaction (for inspection and tests). */
  recent(): readonly LogEvent[] {
    return this.events;
  }

  compact(): void {
    const { fds, exitCode } = this.fold();
    this.base = new Map(fds.map((s) => [s.fd, s]));
    this.baseExit = exitCode;
    this.events = [];
  }

  /** Applies the log to its base: the fd table as plain data, sorted by fd. */
  fold(): { fds: FdState[]; exitCode: number | null } {
    const t = new Map<number, FdState>();
    for (const [fd, s] of this.base) t.set(fd, { ...s });
    let exitCode = this.baseExit;
    for (const e of this.events) {
      switch (e.op) {
        case 'open':
          t.set(e.fd, { ...e.state, fd: e.fd });
          break;
        case 'close':
          t.delete(e.fd);
          break;
        case 'renumber': {
          const s = t.get(e.from);
          t.delete(e.from);
          if (s) t.set(e.to, { ...s, fd: e.to });
          break;
        }
        case 'path':
          t.get(e.fd)!.path = e.path;
          break;
        case 'offset':
          t.get(e.fd)!.offset = e.offset;
          break;
        case 'flags':
          t.get(e.fd)!.fdflags = e.fdflags;
          break;
        case 'rights': {
          const s = t.get(e.fd)!;
          s.rightsBase = e.base;
          s.rightsInheriting = e.inheriting;
          break;
        }
        case 'cursor':
          t.get(e.fd)!.dirCookie = e.cookie;
          break;
        case 'traffic': {
          const s = t.get(e.fd)!;
          s.received = e.received;
          s.sent = e.sent;
          break;
        }
        case 'shutdown': {
          const s = t.get(e.fd)!;
          s.shutdown = (s.shutdown ?? 0) | e.how;
          break;
        }
        case 'exit':
          exitCode = e.code;
          break;
      }
    }
    return { fds: [...t.values()].sort((a, b) => a.fd - b.fd), exitCode };
  }
}
