/**
 * A WASI state read back from a snapshot is untrusted input: the file may have been
 * crafted. checkState() checks every field of it (types, ranges, fd numbers, kinds,
 * rights, offsets, path strings, list lengths) before anything is opened or bound, and
 * refuses with a WasiRestoreError naming the field. It only checks the state's shape and
 * ranges; what a restore may open or bind is decided in WASI.rebuild from the restoring
 * user's own options, never from the state.
 */
import { ALL_RIGHTS, DIRECTORY_RIGHTS, FILE_RIGHTS, FdFlags, FileType, LISTENER_RIGHTS, SOCKET_RIGHTS, STREAM_RIGHTS } from './constants';
import { WasiRestoreError } from './errors';
import type { FdKind, FdState } from './log/replay-log';
import type { WasiState } from './wasi';

/** Bounds on what a state may hold: far above any real program's, far below what hurts. */
export const STATE_LIMITS = {
  fds: 65_536,
  args: 65_536,
  envVars: 65_536,
  /** Sum of the lengths of all args and env strings. */
  argEnvChars: 16 << 20,
  pathChars: 4096,
  nameChars: 255,
  peerChars: 256,
  pollSubscriptions: 1 << 20,
} as const;

const U32_MAX = 0xffff_ffff;
const U64_MAX = (1n << 64n) - 1n;
const FDFLAGS_ALL = FdFlags.APPEND | FdFlags.DSYNC | FdFlags.NONBLOCK | FdFlags.RSYNC | FdFlags.SYNC;

/** What each kind of fd may ever hold (a state asking for more is refused). */
const KIND_RIGHTS: Record<FdKind, number> = {
  stdio: STREAM_RIGHTS,
  preopen: DIRECTORY_RIGHTS,
  dir: DIRECTORY_RIGHTS,
  file: FILE_RIGHTS,
  listener: LISTENER_RIGHTS,
  socket: SOCKET_RIGHTS,
};

/** File types a file fd may be reopened as: FIFOs (UNKNOWN) would block the open, the rest are not files. */
const REOPENABLE_FILE_TYPES = new Set<number>([FileType.REGULAR_FILE, FileType.CHARACTER_DEVICE, FileType.BLOCK_DEVICE]);

function bad(field: string, what: string): never {
  throw new WasiRestoreError(`WASI state: ${field} ${what}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function record(v: unknown, field: string): Record<string, unknown> {
  if (!isRecord(v)) bad(field, 'is not an object');
  return v;
}

function list(v: unknown, field: string, max: number): unknown[] {
  if (!Array.isArray(v)) bad(field, 'is not a list');
  if (v.length > max) bad(field, `has ${v.length} entries (at most ${max})`);
  return v;
}

function int(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(field, 'is not an integer');
  if (v < min || v > max) bad(field, `is ${v}, out of range ${min}..${max}`);
  return v;
}

function str(v: unknown, field: string, maxChars: number): string {
  if (typeof v !== 'string') bad(field, 'is not a string');
  if (v.length > maxChars) bad(field, `is ${v.length} characters long (at most ${maxChars})`);
  if (v.includes('\0')) bad(field, 'contains a NUL character');
  return v;
}

/** A u64 as a decimal string (the state's JSON-safe form of bigints). */
function u64String(v: unknown, field: string): string {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v) || BigInt(v) > U64_MAX) bad(field, 'is not a decimal u64');
  return v;
}

function mask(v: unknown, field: string, allowed: number, what: string): number {
  const n = int(v, field, 0, ALL_RIGHTS);
  if (n & ~allowed) bad(field, `holds bits ${(n & ~allowed).toString(16)} (hex) that ${what} never has`);
  return n;
}

/**
 * A path below a preopen as the runtime records it: relative, '/'-separated components,
 * none empty, '.' or '..' (the recorded path is the resolved one; anything else is crafted).
 * '' is the preopen root itself.
 */
function relPath(v: unknown, field: string, allowRoot: boolean): string {
  const p = str(v, field, STATE_LIMITS.pathChars);
  if (p === '') {
    if (!allowRoot) bad(field, 'is empty');
    return p;
  }
  if (p.startsWith('/')) bad(field, `'${p}' is absolute`);
  for (const c of p.split('/')) {
    if (c === '' || c === '.' || c === '..') bad(field, `'${p}' is not a plain relative path (empty, '.' or '..' component)`);
    if (c.length > STATE_LIMITS.nameChars) bad(field, `has a component of ${c.length} characters (at most ${STATE_LIMITS.nameChars})`);
  }
  return p;
}

/** The fields a state and an fd may have: anything else is refused, not silently dropped. */
const STATE_FIELDS = new Set(['version', 'args', 'env', 'fds', 'exitCode', 'monotonicNs', 'logEvents', 'pendingPoll']);
const FD_FIELDS = new Set(['fd', 'kind', 'filetype', 'rightsBase', 'rightsInheriting', 'fdflags', 'offset', 'preopen', 'path', 'oflags', 'stdio', 'dirCookie', 'listen', 'peer', 'received', 'sent', 'shutdown', 'size']);

function onlyFields(o: Record<string, unknown>, fields: Set<string>, at: string): void {
  for (const k of Object.keys(o)) if (!fields.has(k)) bad(`${at}${at ? '.' : ''}${k.slice(0, 64)}`, 'is not a field of a WASI state');
}

function checkFd(v: unknown, i: number): FdState {
  const at = `fds[${i}]`;
  const o = record(v, at);
  onlyFields(o, FD_FIELDS, at);
  const kind = o.kind;
  if (typeof kind !== 'string' || !(kind in KIND_RIGHTS)) bad(`${at}.kind`, `'${String(kind)}' is not one of ${Object.keys(KIND_RIGHTS).join(', ')}`);
  const k = kind as FdKind;
  const s: FdState = {
    fd: int(o.fd, `${at}.fd`, 0, U32_MAX),
    kind: k,
    filetype: int(o.filetype, `${at}.filetype`, 0, FileType.SYMBOLIC_LINK),
    rightsBase: mask(o.rightsBase, `${at}.rightsBase`, KIND_RIGHTS[k], `a ${k} fd`),
    rightsInheriting: mask(o.rightsInheriting, `${at}.rightsInheriting`, ALL_RIGHTS, 'any fd'),
    fdflags: mask(o.fdflags, `${at}.fdflags`, FDFLAGS_ALL, 'any fd'),
    offset: int(o.offset, `${at}.offset`, 0, Number.MAX_SAFE_INTEGER),
  };
  const fileLike = k === 'preopen' || k === 'dir' || k === 'file';
  // Fields that only some kinds have: present on another kind means crafted.
  const only = (name: string, kinds: FdKind[]) => {
    if (o[name] !== undefined && !kinds.includes(k)) bad(`${at}.${name}`, `is set on a ${k} fd`);
  };
  only('preopen', ['preopen', 'dir', 'file']);
  only('path', ['preopen', 'dir', 'file']);
  only('oflags', ['dir', 'file']);
  only('dirCookie', ['preopen', 'dir']);
  only('stdio', ['stdio']);
  only('listen', ['listener']);
  only('size', ['file']);
  for (const f of ['peer', 'received', 'sent', 'shutdown']) only(f, ['socket']);
  if (fileLike) {
    if (o.preopen === undefined) bad(`${at}.preopen`, 'is missing');
    s.preopen = str(o.preopen, `${at}.preopen`, STATE_LIMITS.pathChars);
    if (s.preopen === '') bad(`${at}.preopen`, 'is empty');
    if (k === 'preopen') {
      if (o.path !== undefined && o.path !== '') bad(`${at}.path`, 'of a preopen must be empty');
      if (o.path !== undefined) s.path = '';
    } else {
      if (o.path === undefined) bad(`${at}.path`, 'is missing');
      s.path = relPath(o.path, `${at}.path`, k === 'dir');
    }
    if (k === 'file') {
      if (!REOPENABLE_FILE_TYPES.has(s.filetype)) bad(`${at}.filetype`, `${s.filetype} cannot be reopened as a file (a regular file or a device only)`);
    } else if (s.filetype !== FileType.DIRECTORY) bad(`${at}.filetype`, `is ${s.filetype}, not a directory`);
  }
  if (o.oflags !== undefined) s.oflags = int(o.oflags, `${at}.oflags`, 0, 15);
  if (o.dirCookie !== undefined) s.dirCookie = u64String(o.dirCookie, `${at}.dirCookie`);
  if (o.size !== undefined) s.size = int(o.size, `${at}.size`, 0, Number.MAX_SAFE_INTEGER);
  if (k === 'stdio') {
    if (o.stdio !== undefined) s.stdio = int(o.stdio, `${at}.stdio`, 0, 2) as 0 | 1 | 2;
    else if (s.fd > 2) bad(`${at}.stdio`, `is missing and fd ${s.fd} is not 0, 1 or 2: which stream it is cannot be told`);
    else s.stdio = s.fd as 0 | 1 | 2;
  }
  if (k === 'listener' && o.listen !== undefined) {
    const l = record(o.listen, `${at}.listen`);
    s.listen = { host: str(l.host, `${at}.listen.host`, STATE_LIMITS.nameChars), port: int(l.port, `${at}.listen.port`, 0, 65535) };
  }
  if (k === 'socket') {
    if (o.peer !== undefined) s.peer = str(o.peer, `${at}.peer`, STATE_LIMITS.peerChars);
    if (o.received !== undefined) s.received = int(o.received, `${at}.received`, 0, Number.MAX_SAFE_INTEGER);
    if (o.sent !== undefined) s.sent = int(o.sent, `${at}.sent`, 0, Number.MAX_SAFE_INTEGER);
    if (o.shutdown !== undefined) s.shutdown = int(o.shutdown, `${at}.shutdown`, 0, 3);
  }
  return s;
}

/** The state, checked field by field; throws WasiRestoreError naming the first bad field. */
export function checkState(input: unknown): WasiState {
  const o = record(input, 'the WASI state');
  onlyFields(o, STATE_FIELDS, '');
  if (o.version !== 1) bad('version', `${JSON.stringify(o.version) ?? 'undefined'} is not supported (only 1)`);
  let chars = 0;
  const args = list(o.args, 'args', STATE_LIMITS.args).map((a, i) => {
    const s = str(a, `args[${i}]`, STATE_LIMITS.argEnvChars);
    chars += s.length;
    return s;
  });
  const envIn = record(o.env, 'env');
  const keys = Object.keys(envIn);
  if (keys.length > STATE_LIMITS.envVars) bad('env', `has ${keys.length} variables (at most ${STATE_LIMITS.envVars})`);
  const env: Record<string, string> = {};
  for (const k of keys) {
    if (k === '' || k.includes('=') || k.includes('\0')) bad('env', `has a bad variable name ${JSON.stringify(k.slice(0, 64))}`);
    env[k] = str(envIn[k], `env.${k}`, STATE_LIMITS.argEnvChars);
    chars += k.length + env[k].length;
  }
  if (chars > STATE_LIMITS.argEnvChars) bad('args and env', `hold ${chars} characters (at most ${STATE_LIMITS.argEnvChars})`);
  const fds = list(o.fds, 'fds', STATE_LIMITS.fds).map(checkFd);
  const seen = new Set<number>();
  for (const [i, s] of fds.entries()) {
    if (seen.has(s.fd)) bad(`fds[${i}].fd`, `${s.fd} appears twice`);
    seen.add(s.fd);
  }
  const exitCode = o.exitCode === null ? null : int(o.exitCode, 'exitCode', 0, U32_MAX);
  const state: WasiState = {
    version: 1,
    args,
    env,
    fds,
    exitCode,
    monotonicNs: u64String(o.monotonicNs, 'monotonicNs'),
    logEvents: int(o.logEvents, 'logEvents', 0, Number.MAX_SAFE_INTEGER),
    pendingPoll: null,
  };
  if (o.pendingPoll !== undefined && o.pendingPoll !== null) {
    const p = record(o.pendingPoll, 'pendingPoll');
    const key = str(p.key, 'pendingPoll.key', 64);
    if (!/^\d+:\d+:\d+$/.test(key)) bad('pendingPoll.key', `'${key}' is not SUBS:OUT:NSUBS`);
    const deadlines = list(p.deadlines, 'pendingPoll.deadlines', STATE_LIMITS.pollSubscriptions).map((d, i) => (d === null ? null : u64String(d, `pendingPoll.deadlines[${i}]`)));
    state.pendingPoll = { key, deadlines };
  }
  return state;
}
