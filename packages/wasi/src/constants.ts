/**
 * WASI preview1 constants and struct layouts, transcribed from typenames.witx
 * (shared/reference/wasi-preview1). test/witx.test.ts parses the witx and checks every
 * enum value, flag bit and function signature here against it.
 */

/** errno, in witx order (the value is the index). */
export const ERRNO_NAMES = [
  'success', '2big', 'acces', 'addrinuse', 'addrnotavail', 'afnosupport', 'again', 'already', 'badf',
  'badmsg', 'busy', 'canceled', 'child', 'connaborted', 'connrefused', 'connreset', 'deadlk',
  'destaddrreq', 'dom', 'dquot', 'exist', 'fault', 'fbig', 'hostunreach', 'idrm', 'ilseq', 'inprogress',
  'intr', 'inval', 'io', 'isconn', 'isdir', 'loop', 'mfile', 'mlink', 'msgsize', 'multihop',
  'nametoolong', 'netdown', 'netreset', 'netunreach', 'nfile', 'nobufs', 'nodev', 'noent', 'noexec',
  'nolck', 'nolink', 'nomem', 'nomsg', 'noprotoopt', 'nospc', 'nosys', 'notconn', 'notdir', 'notempty',
  'notrecoverable', 'notsock', 'notsup', 'notty', 'nxio', 'overflow', 'ownerdead', 'perm', 'pipe',
  'proto', 'protonosupport', 'prototype', 'range', 'rofs', 'spipe', 'srch', 'stale', 'timedout',
  'txtbsy', 'xdev', 'notcapable',
] as const;

export enum Errno {
  SUCCESS = 0, TOOBIG = 1, ACCES = 2, ADDRINUSE = 3, ADDRNOTAVAIL = 4, AFNOSUPPORT = 5, AGAIN = 6,
  ALREADY = 7, BADF = 8, BADMSG = 9, BUSY = 10, CANCELED = 11, CHILD = 12, CONNABORTED = 13,
  CONNREFUSED = 14, CONNRESET = 15, DEADLK = 16, DESTADDRREQ = 17, DOM = 18, DQUOT = 19, EXIST = 20,
  FAULT = 21, FBIG = 22, HOSTUNREACH = 23, IDRM = 24, ILSEQ = 25, INPROGRESS = 26, INTR = 27,
  INVAL = 28, IO = 29, ISCONN = 30, ISDIR = 31, LOOP = 32, MFILE = 33, MLINK = 34, MSGSIZE = 35,
  MULTIHOP = 36, NAMETOOLONG = 37, NETDOWN = 38, NETRESET = 39, NETUNREACH = 40, NFILE = 41,
  NOBUFS = 42, NODEV = 43, NOENT = 44, NOEXEC = 45, NOLCK = 46, NOLINK = 47, NOMEM = 48, NOMSG = 49,
  NOPROTOOPT = 50, NOSPC = 51, NOSYS = 52, NOTCONN = 53, NOTDIR = 54, NOTEMPTY = 55,
  NOTRECOVERABLE = 56, NOTSOCK = 57, NOTSUP = 58, NOTTY = 59, NXIO = 60, OVERFLOW = 61,
  OWNERDEAD = 62, PERM = 63, PIPE = 64, PROTO = 65, PROTONOSUPPORT = 66, PROTOTYPE = 67, RANGE = 68,
  ROFS = 69, SPIPE = 70, SRCH = 71, STALE = 72, TIMEDOUT = 73, TXTBSY = 74, XDEV = 75,
  NOTCAPABLE = 76,
}

export enum ClockId { REALTIME = 0, MONOTONIC = 1, PROCESS_CPUTIME = 2, THREAD_CPUTIME = 3 }
export enum Whence { SET = 0, CUR = 1, END = 2 }

export enum FileType {
  UNKNOWN = 0, BLOCK_DEVICE = 1, CHARACTER_DEVICE = 2, DIRECTORY = 3, REGULAR_FILE = 4,
  SOCKET_DGRAM = 5, SOCKET_STREAM = 6, SYMBOLIC_LINK = 7,
}

export enum FdFlags { APPEND = 1, DSYNC = 2, NONBLOCK = 4, RSYNC = 8, SYNC = 16 }
export enum FstFlags { ATIM = 1, ATIM_NOW = 2, MTIM = 4, MTIM_NOW = 8 }
export enum LookupFlags { SYMLINK_FOLLOW = 1 }
export enum OFlags { CREAT = 1, DIRECTORY = 2, EXCL = 4, TRUNC = 8 }
export enum EventType { CLOCK = 0, FD_READ = 1, FD_WRITE = 2 }
export enum EventRwFlags { HANGUP = 1 }
export enum SubClockFlags { ABSTIME = 1 }
export enum RiFlags { PEEK = 1, WAITALL = 2 }
export enum RoFlags { DATA_TRUNCATED = 1 }
export enum SdFlags { RD = 1, WR = 2 }
export enum PreopenType { DIR = 0 }

/** Rights, in witx order (bit i = 1 << i). 29 bits: they fit a JS number's bitwise range. */
export const RIGHT_NAMES = [
  'fd_datasync', 'fd_read', 'fd_seek', 'fd_fdstat_set_flags', 'fd_sync', 'fd_tell', 'fd_write',
  'fd_advise', 'fd_allocate', 'path_create_directory', 'path_create_file', 'path_link_source',
  'path_link_target', 'path_open', 'fd_readdir', 'path_readlink', 'path_rename_source',
  'path_rename_target', 'path_filestat_get', 'path_filestat_set_size', 'path_filestat_set_times',
  'fd_filestat_get', 'fd_filestat_set_size', 'fd_filestat_set_times', 'path_symlink',
  'path_remove_directory', 'path_unlink_file', 'poll_fd_readwrite', 'sock_shutdown', 'sock_accept',
] as const;

export const Rights = {
  FD_DATASYNC: 1 << 0, FD_READ: 1 << 1, FD_SEEK: 1 << 2, FD_FDSTAT_SET_FLAGS: 1 << 3, FD_SYNC: 1 << 4,
  FD_TELL: 1 << 5, FD_WRITE: 1 << 6, FD_ADVISE: 1 << 7, FD_ALLOCATE: 1 << 8,
  PATH_CREATE_DIRECTORY: 1 << 9, PATH_CREATE_FILE: 1 << 10, PATH_LINK_SOURCE: 1 << 11,
  PATH_LINK_TARGET: 1 << 12, PATH_OPEN: 1 << 13, FD_READDIR: 1 << 14, PATH_READLINK: 1 << 15,
  PATH_RENAME_SOURCE: 1 << 16, PATH_RENAME_TARGET: 1 << 17, PATH_FILESTAT_GET: 1 << 18,
  PATH_FILESTAT_SET_SIZE: 1 << 19, PATH_FILESTAT_SET_TIMES: 1 << 20, FD_FILESTAT_GET: 1 << 21,
  FD_FILESTAT_SET_SIZE: 1 << 22, FD_FILESTAT_SET_TIMES: 1 << 23, PATH_SYMLINK: 1 << 24,
  PATH_REMOVE_DIRECTORY: 1 << 25, PATH_UNLINK_FILE: 1 << 26, POLL_FD_READWRITE: 1 << 27,
  SOCK_SHUTDOWN: 1 << 28, SOCK_ACCEPT: 1 << 29,
} as const;

export const ALL_RIGHTS = (1 << 30) - 1;

const R = Rights;
/** What a regular file fd may ever hold. */
export const FILE_RIGHTS =
  R.FD_DATASYNC | R.FD_READ | R.FD_SEEK | R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_TELL | R.FD_WRITE |
  R.FD_ADVISE | R.FD_ALLOCATE | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_SIZE | R.FD_FILESTAT_SET_TIMES |
  R.POLL_FD_READWRITE;
/** What a directory fd may ever hold (its own operations; files opened below inherit). */
export const DIRECTORY_RIGHTS =
  R.FD_FDSTAT_SET_FLAGS | R.FD_SYNC | R.FD_ADVISE | R.PATH_CREATE_DIRECTORY | R.PATH_CREATE_FILE |
  R.PATH_LINK_SOURCE | R.PATH_LINK_TARGET | R.PATH_OPEN | R.FD_READDIR | R.PATH_READLINK |
  R.PATH_RENAME_SOURCE | R.PATH_RENAME_TARGET | R.PATH_FILESTAT_GET | R.PATH_FILESTAT_SET_SIZE |
  R.PATH_FILESTAT_SET_TIMES | R.FD_FILESTAT_GET | R.FD_FILESTAT_SET_TIMES | R.PATH_SYMLINK |
  R.PATH_REMOVE_DIRECTORY | R.PATH_UNLINK_FILE | R.FD_DATASYNC;
/** Streams: stdio, pipes, character devices. */
export const STREAM_RIGHTS =
  R.FD_READ | R.FD_WRITE | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE | R.FD_SYNC |
  R.FD_DATASYNC | R.FD_ADVISE;
export const SOCKET_RIGHTS = STREAM_RIGHTS | R.SOCK_SHUTDOWN;
export const LISTENER_RIGHTS = R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET | R.POLL_FD_READWRITE | R.SOCK_ACCEPT;

/** Signals whose default POSIX action is to ignore them (proc_raise returns for these). */
export const IGNORED_SIGNALS = new Set([16 /* chld */, 17 /* cont */, 22 /* urg */, 27 /* winch */]);

/** Struct sizes and field offsets (wasm32). */
export const Layout = {
  IOVEC_SIZE: 8,
  FDSTAT_SIZE: 24, // filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16
  FILESTAT_SIZE: 64, // dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56
  DIRENT_SIZE: 24, // d_next @0, d_ino @8, d_namlen u32 @16, d_type u8 @20
  PRESTAT_SIZE: 8, // tag u8 @0, pr_name_len u32 @4
  SUBSCRIPTION_SIZE: 48, // userdata @0, tag u8 @8, clock: id u32 @16, timeout @24, precision @32, flags u16 @40; fd u32 @16
  EVENT_SIZE: 32, // userdata @0, error u16 @8, type u8 @10, nbytes @16, flags u16 @24
} as const;
