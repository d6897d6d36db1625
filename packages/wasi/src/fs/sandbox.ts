import { Errno, FileType } from '../constants';
import { fail, toErrno } from '../errors';
import type { FileStat, Handle, HostFs } from './types';
import { joinHost } from './types';

/** Symlinks followed in one resolution before ELOOP (Linux's limit). */
const MAX_SYMLINKS = 40;

/** A file's identity on its host: what a path must still lead to for an fd to be the same. */
export interface FileId {
  dev: bigint;
  ino: bigint;
}

/**
 * A directory paths are resolved under: the preopen's host root, the directory's path
 * below it (real directories only, as resolvePath found them), the identity of the
 * directory when its fd was opened, and the fd's host handle on it (when there is one).
 */
export interface SandboxDir {
  root: string;
  rel: string[];
  id: FileId;
  handle?: Handle;
}

export interface Resolved {
  /** Components from the preopen root: real directories, then the final name. */
  rel: string[];
  /**
   * Where the host finds the final component: a path through directory handles on hosts
   * with openat-like resolution (HostFs.openDirAt), else below the preopen root.
   */
  hostPath: string;
  /** lstat of the final component; null when it does not exist (yet). */
  stat: FileStat | null;
}

export function idOf(st: FileStat): FileId {
  return { dev: st.dev, ino: st.ino };
}

export function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * How the resolver names what it looks at. By path, every name is a path from the preopen
 * root, and a directory checked a moment ago could be swapped for a symlink before the host
 * uses the path (the race SECURITY.md describes). By handle (hosts with openAt), each
 * directory entered is opened without following a symlink, relative to the handle of the
 * one before, and names are looked up in the handle's directory itself: nothing can be
 * swapped between the check and the use.
 */
interface Walker {
  /** The host path of `name` in the current directory ('.' for the directory itself). */
  at(name: string): string;
  enter(name: string): void;
  leave(): void;
}

function walker(fs: HostFs, dir: SandboxDir, dirPath: string): Walker {
  if (fs.openDirAt && fs.pathAt && dir.handle !== undefined) {
    const { openDirAt, pathAt } = fs as Required<Pick<HostFs, 'openDirAt' | 'pathAt'>>;
    const handles = [dir.handle];
    return {
      at: (name) => pathAt.call(fs, handles[handles.length - 1], name),
      enter: (name) => handles.push(openDirAt.call(fs, handles[handles.length - 1], name)),
      leave: () => handles.pop(),
    };
  }
  const names: string[] = [];
  return {
    at: (name) => joinHost(dirPath, [...names, name].filter((c) => c !== '.').join('/')),
    enter: (name) => names.push(name),
    leave: () => names.pop(),
  };
}

/**
 * The directory of a directory fd, checked now: every component from the preopen root is a
 * real directory (lstat, so never a symlink) and the directory reached is the very one the
 * fd was opened on. A path string alone is not trusted: the guest (or anyone) may have
 * moved the directory and put a symlink where it was. The guest's own renames keep the fd
 * (FdTable.moved rewrites its path); anything else that moved it makes the fd unusable for
 * lookups (ENOENT, as for a directory that was removed). `hostPath` names the directory
 * through the fd's handle where the host can (so it is this directory whatever happens to
 * the path next), else by its path.
 */
export function checkedDir(fs: HostFs, d: SandboxDir): { hostPath: string; stat: FileStat } {
  let st: FileStat | undefined;
  for (let i = 0; i <= d.rel.length; i++) {
    const at = joinHost(d.root, d.rel.slice(0, i).join('/'));
    try {
      st = fs.lstat(at);
    } catch (e) {
      if (isNoent(e)) fail(Errno.NOENT, `the directory '${d.rel.join('/')}' of this fd is gone`);
      throw e;
    }
    if (st.filetype !== FileType.DIRECTORY) fail(Errno.NOTCAPABLE, `'${d.rel.slice(0, i).join('/')}' is no longer a directory: refusing to look up through it`);
  }
  if (!sameFile(st!, d.id)) fail(Errno.NOENT, `the directory '${d.rel.join('/')}' of this fd was replaced`);
  const hostPath = fs.pathAt && d.handle !== undefined ? fs.pathAt(d.handle, '.') : joinHost(d.root, d.rel.join('/'));
  return { hostPath, stat: st! };
}

/**
 * Resolves a guest path relative to a directory fd, component by component, the way
 * openat2(RESOLVE_BENEATH) does: `..` may not climb above the directory the path is
 * relative to, absolute paths and absolute symlink targets are refused (ENOTCAPABLE),
 * and symlinks are expanded here (relative to the directory holding them) so the host
 * only ever sees paths whose directories are real and inside the preopen. The directory
 * itself is re-checked first (checkedDir). The final component is followed only with
 * `followFinal` (or a trailing slash, which also demands a directory).
 *
 * On a host without openDirAt (the in-memory one, or Node off Linux) what remains is the
 * race with another host process that swaps a directory for a symlink between these lstat
 * calls and the host operation (SECURITY.md).
 */
export function resolvePath(fs: HostFs, dir: SandboxDir, path: string, followFinal: boolean): Resolved {
  if (path === '') fail(Errno.NOENT);
  if (path.includes('\0')) fail(Errno.INVAL);
  if (path.startsWith('/')) fail(Errno.NOTCAPABLE, `absolute path '${path}' leaves the sandbox`);
  const base = checkedDir(fs, dir);
  const w = walker(fs, dir, base.hostPath);
  const trailingSlash = path.endsWith('/');
  const follow = followFinal || trailingSlash;
  const stack = dir.rel.slice();
  const floor = dir.rel.length;
  let queue = splitPath(path);
  let links = 0;
  let final: { name: string; stat: FileStat | null } | null = null; // null: ended on a directory entered
  while (queue.length > 0) {
    const c = queue.shift()!;
    const last = queue.length === 0;
    final = null;
    if (c === '..') {
      if (stack.length <= floor) fail(Errno.NOTCAPABLE, `'${path}' climbs out of its directory`);
      stack.pop();
      w.leave();
      continue;
    }
    let st: FileStat;
    try {
      st = fs.lstat(w.at(c));
    } catch (e) {
      if (last && isNoent(e)) {
        stack.push(c);
        final = { name: c, stat: null };
        break;
      }
      throw e;
    }
    if (st.filetype === FileType.SYMBOLIC_LINK && (!last || follow)) {
      if (++links > MAX_SYMLINKS) fail(Errno.LOOP);
      const target = fs.readlink(w.at(c));
      if (target.startsWith('/')) fail(Errno.NOTCAPABLE, `symlink '${[...stack, c].join('/')}' points outside the sandbox`);
      queue = [...splitPath(target), ...queue];
      continue;
    }
    stack.push(c);
    if (last) final = { name: c, stat: st };
    else if (st.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    else w.enter(c);
  }
  let result: Resolved;
  if (final !== null) result = { rel: stack, hostPath: w.at(final.name), stat: final.stat };
  else {
    // Ended on a directory ('.', '..', or a name then '..'): the one the walk is in.
    const hostPath = w.at('.');
    result = { rel: stack, hostPath, stat: stack.length === floor ? base.stat : fs.lstat(hostPath) };
  }
  if (trailingSlash && result.stat !== null && result.stat.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
  return result;
}

/**
 * Whether a symlink target, read from the directory `linkDir` (components from the
 * preopen root), stays lexically inside the preopen: not absolute, and no `..` that climbs
 * above the root. Host tools that later walk the directory follow links the way the kernel
 * does, so the guest may not plant one that points out (node:wasi refuses them too).
 */
export function targetStaysInside(linkDir: string[], target: string): boolean {
  if (target.startsWith('/')) return false;
  let depth = linkDir.length;
  for (const c of splitPath(target)) {
    depth += c === '..' ? -1 : 1;
    if (depth < 0) return false;
  }
  return true;
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function isNoent(e: unknown): boolean {
  // No instanceof Error: errors from node:fs come from another realm under jest.
  return toErrno(e) === Errno.NOENT;
}
