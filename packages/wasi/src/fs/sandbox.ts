import { Errno, FileType } from '../constants';
import { fail, toErrno } from '../errors';
import type { FileStat, HostFs } from './types';
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
 * below it (real directories only, as resolvePath found them), and the identity of the
 * directory when its fd was opened.
 */
export interface SandboxDir {
  root: string;
  rel: string[];
  id: FileId;
}

export interface Resolved {
  /** Components from the preopen root: real directories, then the final name. */
  rel: string[];
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
 * The host path of a directory fd, checked now: every component from the preopen root is a
 * real directory (lstat, so never a symlink) and the directory reached is the very one the
 * fd was opened on. A path string alone is not trusted: the guest (or anyone) may have
 * moved the directory and put a symlink where it was. The guest's own renames keep the fd
 * (FdTable.moved rewrites its path); anything else that moved it makes the fd unusable for
 * lookups (ENOENT, as for a directory that was removed).
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
  return { hostPath: joinHost(d.root, d.rel.join('/')), stat: st! };
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
 * What remains is the race with another host process that swaps a directory for a symlink
 * between these lstat calls and the host operation (SECURITY.md).
 */
export function resolvePath(fs: HostFs, dir: SandboxDir, path: string, followFinal: boolean): Resolved {
  if (path === '') fail(Errno.NOENT);
  if (path.includes('\0')) fail(Errno.INVAL);
  if (path.startsWith('/')) fail(Errno.NOTCAPABLE, `absolute path '${path}' leaves the sandbox`);
  const base = checkedDir(fs, dir);
  const root = dir.root;
  const trailingSlash = path.endsWith('/');
  const follow = followFinal || trailingSlash;
  const stack = dir.rel.slice();
  const floor = dir.rel.length;
  let queue = splitPath(path);
  let links = 0;
  let finalStat: FileStat | null | undefined;
  while (queue.length > 0) {
    const c = queue.shift()!;
    const last = queue.length === 0;
    finalStat = undefined;
    if (c === '..') {
      if (stack.length <= floor) fail(Errno.NOTCAPABLE, `'${path}' climbs out of its directory`);
      stack.pop();
      continue;
    }
    stack.push(c);
    let st: FileStat;
    try {
      st = fs.lstat(joinHost(root, stack.join('/')));
    } catch (e) {
      if (last && isNoent(e)) {
        finalStat = null;
        break;
      }
      throw e;
    }
    if (st.filetype === FileType.SYMBOLIC_LINK && (!last || follow)) {
      if (++links > MAX_SYMLINKS) fail(Errno.LOOP);
      const target = fs.readlink(joinHost(root, stack.join('/')));
      if (target.startsWith('/')) fail(Errno.NOTCAPABLE, `symlink '${stack.join('/')}' points outside the sandbox`);
      stack.pop();
      queue = [...splitPath(target), ...queue];
      continue;
    }
    if (!last && st.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
    finalStat = st;
  }
  const hostPath = joinHost(root, stack.join('/'));
  if (finalStat === undefined) finalStat = stack.length === floor ? base.stat : fs.lstat(hostPath); // ended on '..' or '.': a directory
  if (trailingSlash && finalStat !== null && finalStat.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
  return { rel: stack, hostPath, stat: finalStat };
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
