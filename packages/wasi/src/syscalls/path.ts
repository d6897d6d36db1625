import { ALL_RIGHTS, DIRECTORY_RIGHTS, Errno, FILE_RIGHTS, FdFlags, FileType, LookupFlags, OFlags, Rights as R } from '../constants';
import { fail } from '../errors';
import { sandboxDir } from '../fd-table';
import type { FdEntry } from '../fd-table';
import { Resolved, idOf, resolvePath, sameFile, targetStaysInside } from '../fs/sandbox';
import type { GuestMemory } from '../memory';
import type { WASI } from '../wasi';
import { pickTimes, writeFilestat } from './fd';
import type { Syscall } from './types';

/** The directory fd (with `rights`) and the guest path resolved under it. */
function at(w: WASI, m: GuestMemory, fd: number, rights: number, ptr: number, len: number, follow: boolean): { dir: FdEntry; r: Resolved; path: string } {
  const dir = w.fds.get(fd, rights);
  if (dir.kind !== 'dir' && dir.kind !== 'preopen') fail(Errno.NOTDIR);
  const path = m.string(ptr, len);
  return { dir, r: resolvePath(w.fs, sandboxDir(dir), path, follow), path };
}

function mustExist(r: Resolved) {
  if (r.stat === null) fail(Errno.NOENT);
  return r.stat;
}

/**
 * The new name of a hard or symbolic link: it must not exist (EEXIST), and a new name ending
 * in '/' would have to be a directory, which a link never is (ENOENT, as Linux's linkat and
 * symlinkat say).
 */
function mustBeNewLinkName(path: string, r: Resolved): void {
  if (r.stat !== null) fail(Errno.EXIST);
  if (path.endsWith('/')) fail(Errno.NOENT);
}

export const pathCalls: Record<string, Syscall> = {
  path_open(w, m, fd, dirflags, path, pathLen, oflags, base: bigint, inheriting: bigint, fdflags, out) {
    let needed = R.PATH_OPEN;
    if (oflags & OFlags.CREAT) needed |= R.PATH_CREATE_FILE;
    if (oflags & OFlags.TRUNC) needed |= R.PATH_FILESTAT_SET_SIZE;
    const { dir, r } = at(w, m, fd, needed, path, pathLen, (dirflags & LookupFlags.SYMLINK_FOLLOW) !== 0);
    const all = BigInt(ALL_RIGHTS);
    const wantBase = Number(BigInt.asUintN(64, base) & all);
    const wantInheriting = Number(BigInt.asUintN(64, inheriting) & all);
    // A new fd gets no right its directory does not pass on.
    if ((wantBase | wantInheriting) & ~dir.rightsInheriting) fail(Errno.NOTCAPABLE);
    if (oflags & ~15) fail(Errno.INVAL);
    const st = r.stat;
    if (st !== null) {
      if (oflags & OFlags.CREAT && oflags & OFlags.EXCL) fail(Errno.EXIST);
      if (st.filetype === FileType.SYMBOLIC_LINK) fail(oflags & OFlags.DIRECTORY ? Errno.NOTDIR : Errno.LOOP);
      if (oflags & OFlags.DIRECTORY && st.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    } else if (!(oflags & OFlags.CREAT)) fail(Errno.NOENT);
    const isDir = st?.filetype === FileType.DIRECTORY;
    if (isDir && (oflags & OFlags.TRUNC || wantBase & R.FD_WRITE)) fail(Errno.ISDIR);
    // Host access follows the rights asked for (wasi-libc derives them from O_RDONLY/O_WRONLY/O_RDWR).
    const write = !isDir && (wantBase & (R.FD_WRITE | R.FD_ALLOCATE | R.FD_FILESTAT_SET_SIZE)) !== 0;
    const handle = w.fs.open(r.hostPath, {
      read: (wantBase & (R.FD_READ | R.FD_READDIR)) !== 0 || !write,
      write,
      create: (oflags & OFlags.CREAT) !== 0,
      exclusive: (oflags & OFlags.EXCL) !== 0,
      truncate: (oflags & OFlags.TRUNC) !== 0,
      directory: (oflags & OFlags.DIRECTORY) !== 0,
    });
    let filetype: FileType;
    let id;
    try {
      const opened = w.fs.fstat(handle);
      // What was opened is what the sandbox checked (not something swapped in since).
      if (st !== null && !sameFile(opened, st)) fail(Errno.NOENT, `'${r.rel.join('/')}' changed while it was being opened`);
      filetype = opened.filetype;
      id = idOf(opened);
    } catch (e) {
      w.fs.close(handle);
      throw e;
    }
    const kind = filetype === FileType.DIRECTORY ? 'dir' : 'file';
    const typeRights = kind === 'dir' ? DIRECTORY_RIGHTS : FILE_RIGHTS;
    const e = w.fds.add({
      kind,
      filetype,
      rightsBase: wantBase & typeRights,
      rightsInheriting: wantInheriting,
      fdflags: fdflags & (FdFlags.APPEND | FdFlags.DSYNC | FdFlags.NONBLOCK | FdFlags.RSYNC | FdFlags.SYNC),
      offset: 0,
      handle,
      preopen: dir.preopen,
      root: dir.root,
      rel: r.rel,
      id: kind === 'dir' ? id : undefined,
      oflags,
    });
    m.setU32(out, e.fd);
    return Errno.SUCCESS;
  },

  path_create_directory(w, m, fd, path, len) {
    const { r } = at(w, m, fd, R.PATH_CREATE_DIRECTORY, path, len, false);
    if (r.stat !== null) fail(Errno.EXIST);
    w.fs.mkdir(r.hostPath);
    return Errno.SUCCESS;
  },

  path_remove_directory(w, m, fd, path, len) {
    const { dir, r } = at(w, m, fd, R.PATH_REMOVE_DIRECTORY, path, len, false);
    const st = mustExist(r);
    if (st.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    if (r.rel.length <= dir.rel!.length) fail(Errno.INVAL); // '.' or the directory itself
    w.fs.rmdir(r.hostPath);
    return Errno.SUCCESS;
  },

  path_unlink_file(w, m, fd, path, len) {
    const { r } = at(w, m, fd, R.PATH_UNLINK_FILE, path, len, false);
    const st = mustExist(r);
    if (st.filetype === FileType.DIRECTORY) fail(Errno.ISDIR);
    w.fs.unlink(r.hostPath);
    return Errno.SUCCESS;
  },

  path_filestat_get(w, m, fd, flags, path, len, out) {
    const { r } = at(w, m, fd, R.PATH_FILESTAT_GET, path, len, (flags & LookupFlags.SYMLINK_FOLLOW) !== 0);
    writeFilestat(m, out, mustExist(r));
    return Errno.SUCCESS;
  },

  path_filestat_set_times(w, m, fd, flags, path, len, atim, mtim, fst) {
    const { r } = at(w, m, fd, R.PATH_FILESTAT_SET_TIMES, path, len, (flags & LookupFlags.SYMLINK_FOLLOW) !== 0);
    mustExist(r);
    const [a, mt] = pickTimes(w, atim, mtim, fst);
    // The sandbox already followed (or not) the final link: set on exactly what it found.
    w.fs.utimes(r.hostPath, a, mt, false);
    return Errno.SUCCESS;
  },

  path_link(w, m, oldFd, oldFlags, oldPath, oldLen, newFd, newPath, newLen) {
    const from = at(w, m, oldFd, R.PATH_LINK_SOURCE, oldPath, oldLen, (oldFlags & LookupFlags.SYMLINK_FOLLOW) !== 0).r;
    const to = at(w, m, newFd, R.PATH_LINK_TARGET, newPath, newLen, false);
    const st = mustExist(from);
    if (st.filetype === FileType.DIRECTORY) fail(Errno.PERM);
    mustBeNewLinkName(to.path, to.r);
    w.fs.link(from.hostPath, to.r.hostPath);
    return Errno.SUCCESS;
  },

  path_readlink(w, m, fd, path, len, buf, bufLen, out) {
    const { r } = at(w, m, fd, R.PATH_READLINK, path, len, false);
    if (mustExist(r).filetype !== FileType.SYMBOLIC_LINK) fail(Errno.INVAL);
    const target = new TextEncoder().encode(w.fs.readlink(r.hostPath));
    const n = Math.min(target.length, bufLen);
    m.writableBytes(buf, n).set(target.subarray(0, n));
    m.setU32(out, n);
    return Errno.SUCCESS;
  },

  path_rename(w, m, fd, oldPath, oldLen, newFd, newPath, newLen) {
    const { dir: src, r: from } = at(w, m, fd, R.PATH_RENAME_SOURCE, oldPath, oldLen, false);
    const { dir: dst, r: to } = at(w, m, newFd, R.PATH_RENAME_TARGET, newPath, newLen, false);
    mustExist(from);
    if (from.rel.length === 0 || to.rel.length === 0) fail(Errno.BUSY); // a preopen root cannot move
    w.fs.rename(from.hostPath, to.hostPath);
    // Open fds below the moved path follow it (both ends under the same host directory).
    if (src.root === dst.root) w.fds.moved(src.root!, from.rel, to.rel);
    return Errno.SUCCESS;
  },

  /**
   * The link's target is stored as given, but one that leaves the preopen (absolute, or
   * climbing above the root from the link's directory) is refused with ENOTCAPABLE, as
   * node:wasi does: the resolver would never follow it, but host tools walking the
   * directory later would.
   */
  path_symlink(w, m, oldPath, oldLen, fd, newPath, newLen) {
    const target = m.string(oldPath, oldLen);
    if (target === '') fail(Errno.NOENT);
    if (target.includes('\0')) fail(Errno.INVAL);
    if (target.startsWith('/')) fail(Errno.NOTCAPABLE, `symlink target '${target}' is absolute`);
    const { r, path } = at(w, m, fd, R.PATH_SYMLINK, newPath, newLen, false);
    mustBeNewLinkName(path, r);
    if (!targetStaysInside(r.rel.slice(0, -1), target)) fail(Errno.NOTCAPABLE, `symlink target '${target}' leaves the preopen`);
    w.fs.symlink(target, r.hostPath);
    return Errno.SUCCESS;
  },
};
