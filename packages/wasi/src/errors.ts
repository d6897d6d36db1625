import { ERRNO_NAMES, Errno } from './constants';

/** A failure with a WASI errno: thrown inside the runtime, turned into the call's result. */
export class WasiErrnoError extends Error {
  constructor(readonly errno: Errno, message?: string) {
    super(message ?? `WASI errno ${ERRNO_NAMES[errno] ?? errno}`);
    this.name = 'WasiErrnoError';
  }
}

/** Shorthand for throwing an errno from deep inside a call. */
export function fail(errno: Errno, message?: string): never {
  throw new WasiErrnoError(errno, message);
}

/** proc_exit: unwinds the machine; WASI.start() returns `code`. */
export class WasiExit extends Error {
  constructor(readonly code: number) {
    super(`WASI program exited with code ${code}`);
    this.name = 'WasiExit';
  }
}

/** Rebuilding an instance from a state failed: the message names the fd and file. */
export class WasiRestoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasiRestoreError';
  }
}

/** POSIX error codes (as Node reports them in `err.code`) to WASI errnos. */
const CODE_TO_ERRNO: Record<string, Errno> = {};
for (let i = 1; i < ERRNO_NAMES.length; i++) CODE_TO_ERRNO['E' + ERRNO_NAMES[i].toUpperCase()] = i;
CODE_TO_ERRNO.E2BIG = Errno.TOOBIG;
CODE_TO_ERRNO.EACCES = Errno.ACCES;
CODE_TO_ERRNO.EWOULDBLOCK = Errno.AGAIN;
CODE_TO_ERRNO.EOPNOTSUPP = Errno.NOTSUP;
CODE_TO_ERRNO.ENOTSUP = Errno.NOTSUP;
CODE_TO_ERRNO.EPIPE = Errno.PIPE;
CODE_TO_ERRNO.ERR_FS_FILE_TOO_LARGE = Errno.FBIG;
CODE_TO_ERRNO.ERR_OUT_OF_RANGE = Errno.INVAL;
CODE_TO_ERRNO.ERR_INVALID_ARG_VALUE = Errno.INVAL;

/**
 * Any error a host operation threw, as an errno. Never lets a host exception reach the
 * guest as a JavaScript exception: what cannot be classified is EIO.
 */
export function toErrno(e: unknown): Errno {
  if (e instanceof WasiErrnoError) return e.errno;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in CODE_TO_ERRNO) return CODE_TO_ERRNO[code];
  if (e instanceof RangeError) return Errno.NOMEM; // e.g. an ArrayBuffer the host could not allocate
  return Errno.IO;
}
