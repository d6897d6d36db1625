import { Errno, FdFlags, SOCKET_RIGHTS, SdFlags, FileType, RiFlags, Rights as R } from '../constants';
import { fail } from '../errors';
import type { FdEntry } from '../fd-table';
import type { WASI } from '../wasi';
import { readStream, wouldBlock, writeFd } from './fd';
import type { Syscall } from './types';

/** A connected socket with `rights`: EBADF, then ENOTSOCK, then ENOTCAPABLE (as POSIX and wasmtime order them). */
function socket(w: WASI, fd: number, rights: number): FdEntry {
  const e = w.fds.get(fd);
  if (e.kind !== 'socket') fail(Errno.NOTSOCK);
  return w.fds.get(fd, rights);
}

export const sockCalls: Record<string, Syscall> = {
  sock_accept(w, m, fd, flags, out) {
    const l = w.fds.get(fd);
    if (!l.listener) fail(Errno.NOTSOCK);
    w.fds.get(fd, R.SOCK_ACCEPT); // the type first, then the right (ENOTSOCK before ENOTCAPABLE)
    if (flags & ~FdFlags.NONBLOCK) fail(Errno.INVAL);
    const conn = l.listener.accept();
    if (conn === null) return wouldBlock(l, l.listener.acceptable());
    const e = w.fds.add({
      kind: 'socket',
      filetype: FileType.SOCKET_STREAM,
      rightsBase: SOCKET_RIGHTS & (l.rightsInheriting | R.FD_FDSTAT_SET_FLAGS | R.FD_FILESTAT_GET),
      rightsInheriting: 0,
      fdflags: flags,
      offset: 0,
      stream: conn,
      conn,
      peer: conn.peer,
      received: 0,
      sent: 0,
    });
    m.setU32(out, e.fd);
    return Errno.SUCCESS;
  },

  sock_recv(w, m, fd, riData, riLen, riFlags, roDatalen, roFlags) {
    const e = socket(w, fd, R.FD_READ);
    if (riFlags & ~(RiFlags.PEEK | RiFlags.WAITALL)) fail(Errno.INVAL);
    const bufs = m.iovecs(riData, riLen, true);
    const want = bufs.reduce((n, b) => n + b.length, 0);
    const s = e.stream!;
    // WAITALL: wait (consuming nothing, so the retry is clean) until all of it is there or the peer is done.
    if (riFlags & RiFlags.WAITALL && s.available() < want && s.read(new Uint8Array(1), true) !== 0) return wouldBlock(e, s.readable());
    const peek = (riFlags & RiFlags.PEEK) !== 0;
    const n = readStream(e, bufs, peek);
    if (n === null) return wouldBlock(e, s.readable());
    if (!peek) w.fds.traffic(e, n, 0);
    m.setU32(roDatalen, n);
    m.setU16(roFlags, 0);
    return Errno.SUCCESS;
  },

  sock_send(w, m, fd, siData, siLen, _siFlags, soDatalen) {
    const e = socket(w, fd, R.FD_WRITE);
    m.setU32(soDatalen, writeFd(w, e, m.iovecs(siData, siLen), null));
    return Errno.SUCCESS;
  },

  sock_shutdown(w, _m, fd, how) {
    const e = socket(w, fd, R.SOCK_SHUTDOWN);
    if (how === 0 || how & ~(SdFlags.RD | SdFlags.WR)) fail(Errno.INVAL);
    if (!e.conn) fail(Errno.NOTCONN);
    e.conn.shutdown?.(how);
    w.fds.setShutdown(e, how);
    return Errno.SUCCESS;
  },
};
