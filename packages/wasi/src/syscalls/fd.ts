import { Suspend } from '@mvvm/interpreter';
import { Errno, FdFlags, FileType, FstFlags, Layout, PreopenType, Rights as R, Whence } from '../constants';
import { fail } from '../errors';
import { closeEntry, sandboxDir } from '../fd-table';
import type { FdEntry } from '../fd-table';
import { checkedDir } from '../fs/sandbox';
import { joinHost } from '../fs/types';
import type { FileStat } from '../fs/types';
import { GuestMemory, encodeUtf8 } from '../memory';
import type { WASI } from '../wasi';
import type { Syscall } from './types';

/** Files above 2^53 bytes are beyond what a JS number offset can address. */
function toOffset(v: bigint): number {
  const n = BigInt.asUintN(64, v);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.OVERFLOW);
  return Number(n);
}

function isFile(e: FdEntry): boolean {
  return e.kind === 'file';
}

function isDir(e: FdEntry): boolean {
  return e.kind === 'dir' || e.kind === 'preopen';
}

/** The stream behind a stdio or socket fd, else ESPIPE/EISDIR/EBADF. */
export function streamOf(e: FdEntry) {
  if (e.stream) return e.stream;
  if (isDir(e)) fail(Errno.ISDIR);
  fail(Errno.BADF);
}

export function writeFilestat(m: GuestMemory, p: number, s: FileStat): void {
  m.check(p, Layout.FILESTAT_SIZE);
  m.setU64(p, s.dev);
  m.setU64(p + 8, s.ino);
  m.setU8(p + 16, s.filetype);
  m.setU64(p + 24, s.nlink);
  m.setU64(p + 32, s.size);
  m.setU64(p + 40, s.atim);
  m.setU64(p + 48, s.mtim);
  m.setU64(p + 56, s.ctim);
}

/** fstat for any fd: streams and sockets have no host inode. */
export function statFd(w: WASI, e: FdEntry): FileStat {
  if (e.handle !== undefined) return w.fs.fstat(e.handle);
  return { filetype: e.filetype, dev: 0n, ino: 0n, nlink: 1n, size: 0n, atim: 0n, mtim: 0n, ctim: 0n };
}

/** Resolves fst_flags into the two times to set; null for a time that is not to change. */
export function pickTimes(w: WASI, atim: bigint, mtim: bigint, flags: number): [bigint | null, bigint | null] {
  if ((flags & FstFlags.ATIM && flags & FstFlags.ATIM_NOW) || (flags & FstFlags.MTIM && flags & FstFlags.MTIM_NOW)) fail(Errno.INVAL);
  if (flags & ~15) fail(Errno.INVAL);
  // Whole µs: the clock is a double of ms since 1970 (steps of ~0.24 µs today), and a
  // whole-µs time needs no sub-µs fix-up on the Node host (fs/exact-times.ts).
  const now = (w.realtimeNs() / 1000n) * 1000n;
  const a = flags & FstFlags.ATIM_NOW ? now : flags & FstFlags.ATIM ? BigInt.asUintN(64, atim) : null;
  const m = flags & FstFlags.MTIM_NOW ? now : flags & FstFlags.MTIM ? BigInt.asUintN(64, mtim) : null;
  return [a, m];
}

/** Reads a stream into the buffers; null when nothing is there yet (the caller blocks or EAGAINs). */
export function readStream(e: FdEntry, bufs: Uint8Array[], peek = false): number | null {
  const s = streamOf(e);
  let total = 0;
  for (const b of bufs) {
    if (b.length === 0) continue;
    const n = s.read(b, peek);
    if (n === null) return total === 0 ? null : total;
    total += n;
    if (n < b.length || peek) break;
  }
  return total;
}

/** Block (suspend the machine until the stream has data) or EAGAIN on a non-blocking fd. */
export function wouldBlock(e: FdEntry, ready: Promise<unknown>): Suspend {
  if (e.fdflags & FdFlags.NONBLOCK) fail(Errno.AGAIN);
  return new Suspend(ready);
}

export function readFd(w: WASI, e: FdEntry, bufs: Uint8Array[], position: number | null): number | Suspend {
  if (isFile(e)) {
    let pos = position ?? e.offset;
    let total = 0;
    for (const b of bufs) {
      const n = w.fs.read(e.handle!, b, pos);
      total += n;
      pos += n;
      if (n < b.length) break;
    }
    if (position === null) w.fds.setOffset(e, e.offset + total);
    return total;
  }
  if (position !== null) fail(isDir(e) ? Errno.ISDIR : Errno.SPIPE);
  const n = readStream(e, bufs);
  if (n === null) return wouldBlock(e, streamOf(e).readable());
  if (e.kind === 'socket') w.fds.traffic(e, n, 0);
  else w.fds.setOffset(e, e.offset + n);
  return n;
}

export function writeFd(w: WASI, e: FdEntry, bufs: Uint8Array[], position: number | null): number {
  if (isFile(e)) {
    const append = position === null && e.fdflags & FdFlags.APPEND;
    let pos = position ?? (append ? Number(w.fs.fstat(e.handle!).size) : e.offset);
    let total = 0;
    for (const b of bufs) {
      if (b.length === 0) continue;
      const n = w.fs.write(e.handle!, b, pos);
      total += n;
      pos += n;
      if (n < b.length) break;
    }
    if (position === null) w.fds.setOffset(e, pos);
    return total;
  }
  if (position !== null) fail(isDir(e) ? Errno.ISDIR : Errno.SPIPE);
  const s = streamOf(e);
  let total = 0;
  for (const b of bufs) if (b.length > 0) total += s.write(b);
  if (e.kind === 'socket') w.fds.traffic(e, 0, total);
  else w.fds.setOffset(e, e.offset + total);
  return total;
}

/** Directory entries in a fixed order (by name, '.' and '..' first) so cookies mean the same on every host. */
function listDir(w: WASI, e: FdEntry): { name: string; filetype: FileType; ino: bigint }[] {
  // Checked first, as every lookup: the fd's path must still lead to its very directory.
  const { hostPath, stat: self } = checkedDir(w.fs, sandboxDir(e));
  let parentIno = self.ino;
  if (e.rel!.length > 0) parentIno = w.fs.lstat(joinHost(e.root!, e.rel!.slice(0, -1).join('/'))).ino;
  const entries = w.fs.readdir(hostPath).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [{ name: '.', filetype: FileType.DIRECTORY, ino: self.ino }, { name: '..', filetype: FileType.DIRECTORY, ino: parentIno }, ...entries];
}

export const fdCalls: Record<string, Syscall> = {
  fd_read(w, m, fd, iovs, iovsLen, nread) {
    const e = w.fds.get(fd, R.FD_READ);
    const r = readFd(w, e, m.iovecs(iovs, iovsLen, true), null);
    if (r instanceof Suspend) return r;
    m.setU32(nread, r);
    return Errno.SUCCESS;
  },

  fd_pread(w, m, fd, iovs, iovsLen, offset, nread) {
    const e = w.fds.get(fd, R.FD_READ | R.FD_SEEK);
    const r = readFd(w, e, m.iovecs(iovs, iovsLen, true), toOffset(offset));
    m.setU32(nread, r as number);
    return Errno.SUCCESS;
  },

  fd_write(w, m, fd, iovs, iovsLen, nwritten) {
    const e = w.fds.get(fd, R.FD_WRITE);
    m.setU32(nwritten, writeFd(w, e, m.iovecs(iovs, iovsLen), null));
    return Errno.SUCCESS;
  },

  fd_pwrite(w, m, fd, iovs, iovsLen, offset, nwritten) {
    const e = w.fds.get(fd, R.FD_WRITE | R.FD_SEEK);
    m.setU32(nwritten, writeFd(w, e, m.iovecs(iovs, iovsLen), toOffset(offset)));
    return Errno.SUCCESS;
  },

  fd_seek(w, m, fd, delta: bigint, whence, out) {
    // A zero move from the current position is a tell: FD_TELL suffices (as in wasmtime).
    const tell = whence === Whence.CUR && delta === 0n;
    const e = w.fds.get(fd);
    if (!(e.rightsBase & R.FD_SEEK) && !(tell && e.rightsBase & R.FD_TELL)) fail(Errno.NOTCAPABLE);
    if (!isFile(e)) fail(isDir(e) ? Errno.BADF : Errno.SPIPE);
    let base: bigint;
    if (whence === Whence.SET) base = 0n;
    else if (whence === Whence.CUR) base = BigInt(e.offset);
    else if (whence === Whence.END) base = w.fs.fstat(e.handle!).size;
    else fail(Errno.INVAL);
    const next = base + BigInt.asIntN(64, delta);
    if (next < 0n) fail(Errno.INVAL);
    if (next > BigInt(Number.MAX_SAFE_INTEGER)) fail(Errno.OVERFLOW);
    w.fds.setOffset(e, Number(next));
    m.setU64(out, next);
    return Errno.SUCCESS;
  },

  fd_tell(w, m, fd, out) {
    const e = w.fds.get(fd, R.FD_TELL);
    if (!isFile(e)) fail(isDir(e) ? Errno.BADF : Errno.SPIPE);
    m.setU64(out, e.offset);
    return Errno.SUCCESS;
  },

  fd_close(w, _m, fd) {
    closeEntry(w.fs, w.fds.remove(fd));
    return Errno.SUCCESS;
  },

  /**
   * dup2: `to` need not be open (as in wasmer and the preview1 adapters; programs such as
   * yosys move a file onto a closed stdout to capture a tool's output).
   */
  fd_renumber(w, _m, from, to) {
    w.fds.get(from);
    if (from === to) return Errno.SUCCESS;
    const target = w.fds.entries.get(to);
    if (target !== undefined) closeEntry(w.fs, target);
    w.fds.renumber(from, to);
    return Errno.SUCCESS;
  },

  fd_fdstat_get(w, m, fd, out) {
    const e = w.fds.get(fd);
    m.check(out, Layout.FDSTAT_SIZE);
    m.setU8(out, e.filetype);
    m.setU8(out + 1, 0);
    m.setU16(out + 2, e.fdflags);
    m.setU32(out + 4, 0);
    m.setU64(out + 8, e.rightsBase);
    m.setU64(out + 16, e.rightsInheriting);
    return Errno.SUCCESS;
  },

  fd_fdstat_set_flags(w, _m, fd, flags) {
    const e = w.fds.get(fd, R.FD_FDSTAT_SET_FLAGS);
    // APPEND and NONBLOCK are ours to keep; the sync flags would need the host fd reopened.
    if (flags & ~(FdFlags.APPEND | FdFlags.NONBLOCK)) fail(Errno.NOTSUP);
    w.fds.setFlags(e, flags);
    return Errno.SUCCESS;
  },

  fd_fdstat_set_rights(w, _m, fd, base: bigint, inheriting: bigint) {
    const e = w.fds.get(fd);
    const b = BigInt.asUintN(64, base);
    const i = BigInt.asUintN(64, inheriting);
    // Rights can only be dropped.
    if (b & ~BigInt(e.rightsBase) || i & ~BigInt(e.rightsInheriting)) fail(Errno.NOTCAPABLE);
    w.fds.setRights(e, Number(b), Number(i));
    return Errno.SUCCESS;
  },

  fd_filestat_get(w, m, fd, out) {
    const e = w.fds.get(fd, R.FD_FILESTAT_GET);
    writeFilestat(m, out, statFd(w, e));
    return Errno.SUCCESS;
  },

  fd_filestat_set_size(w, _m, fd, size) {
    const e = w.fds.get(fd, R.FD_FILESTAT_SET_SIZE);
    if (!isFile(e)) fail(isDir(e) ? Errno.ISDIR : Errno.INVAL);
    w.fs.truncate(e.handle!, toOffset(size));
    return Errno.SUCCESS;
  },

  fd_filestat_set_times(w, _m, fd, atim, mtim, flags) {
    const e = w.fds.get(fd, R.FD_FILESTAT_SET_TIMES);
    if (e.handle === undefined) fail(Errno.BADF);
    const [a, mt] = pickTimes(w, atim, mtim, flags);
    w.fs.futimes(e.handle, a, mt);
    return Errno.SUCCESS;
  },

  fd_advise(w, _m, fd, _offset, _len, advice) {
    const e = w.fds.get(fd, R.FD_ADVISE);
    if (advice > 5) fail(Errno.INVAL);
    if (!isFile(e)) fail(isDir(e) ? Errno.BADF : Errno.SPIPE);
    return Errno.SUCCESS; // advice only: nothing the guest can observe
  },

  fd_allocate(w, _m, fd, offset, len) {
    const e = w.fds.get(fd, R.FD_ALLOCATE);
    if (!isFile(e)) fail(isDir(e) ? Errno.BADF : Errno.SPIPE);
    const end = toOffset(offset) + toOffset(len);
    if (!Number.isSafeInteger(end)) fail(Errno.FBIG);
    // posix_fallocate: the file is at least offset+len bytes afterwards, never shorter.
    if (Number(w.fs.fstat(e.handle!).size) < end) w.fs.truncate(e.handle!, end);
    return Errno.SUCCESS;
  },

  fd_datasync(w, _m, fd) {
    const e = w.fds.get(fd, R.FD_DATASYNC);
    if (e.handle !== undefined) w.fs.sync(e.handle, true);
    return Errno.SUCCESS;
  },

  fd_sync(w, _m, fd) {
    const e = w.fds.get(fd, R.FD_SYNC);
    if (e.handle !== undefined) w.fs.sync(e.handle, false);
    return Errno.SUCCESS;
  },

  fd_prestat_get(w, m, fd, out) {
    const e = w.fds.get(fd);
    if (e.kind !== 'preopen') fail(Errno.BADF);
    m.setU8(out, PreopenType.DIR);
    m.setU32(out + 4, encodeUtf8(e.preopen!).length);
    return Errno.SUCCESS;
  },

  fd_prestat_dir_name(w, m, fd, path, len) {
    const e = w.fds.get(fd);
    if (e.kind !== 'preopen') fail(Errno.BADF);
    const name = encodeUtf8(e.preopen!);
    if (len < name.length) fail(Errno.NAMETOOLONG);
    m.writableBytes(path, name.length).set(name);
    return Errno.SUCCESS;
  },

  /**
   * Fills buf with dirents from index `cookie` on; the last one may be cut short, which
   * tells libc to call again with a bigger buffer (bufused == buf_len).
   */
  fd_readdir(w, m, fd, buf, bufLen, cookie: bigint, bufused) {
    const e = w.fds.get(fd, R.FD_READDIR);
    if (!isDir(e)) fail(Errno.NOTDIR);
    const entries = listDir(w, e);
    const out = m.writableBytes(buf, bufLen);
    const start = BigInt.asUintN(64, cookie);
    let used = 0;
    for (let i = Number(start > BigInt(entries.length) ? BigInt(entries.length) : start); i < entries.length && used < bufLen; i++) {
      const ent = entries[i];
      const name = encodeUtf8(ent.name);
      const header = new Uint8Array(Layout.DIRENT_SIZE);
      const v = new DataView(header.buffer);
      v.setBigUint64(0, BigInt(i + 1), true);
      v.setBigUint64(8, ent.ino, true);
      v.setUint32(16, name.length, true);
      v.setUint8(20, ent.filetype);
      const whole = new Uint8Array(Layout.DIRENT_SIZE + name.length);
      whole.set(header);
      whole.set(name, Layout.DIRENT_SIZE);
      const n = Math.min(whole.length, bufLen - used);
      out.set(whole.subarray(0, n), used);
      used += n;
    }
    w.fds.setCursor(e, start);
    m.setU32(bufused, used);
    return Errno.SUCCESS;
  },
};
