import { Errno, FileType } from '../constants';
import { fail, toErrno } from '../errors';
import type { FileStat, HostFs } from './types';
import { joinHost } from './types';

/** Symlinks followed in one resolution before ELOOP (Linux's limit). */
const MAX_SYMLINKS = 40;

export interface Resolved {
  /** Components from the preopen root: real directories, then the final name. */
  rel: string[];
  hostPath: string;
  /** lstat of the final component; null when it does not exist (yet). */
  stat: FileStat | null;
}

/**
 * Resolves a guest path relative to a directory fd, component by component, the way
 * openat2(RESOLVE_BENEATH) does: `..` may not climb above the directory the path is
 * relative to, absolute paths and absolute symlink targets are refused (ENOTCAPABLE),
 * and symlinks are expanded here (relative to the directory holding them) so the host
 * only ever sees paths whose directories are real and inside the preopen.
 *
 * `base` is the directory's own path from the preopen root. The final component is
 * followed only with `followFinal` (or a trailing slash, which also demands a directory).
 */
export function resolvePath(fs: HostFs, root: string, base: string[], path: string, followFinal: boolean): Resolved {
  if (path === '') fail(Errno.NOENT);
  if (path.includes('\0')) fail(Errno.INVAL);
  if (path.startsWith('/')) fail(Errno.NOTCAPABLE, `absolute path '${path}' leaves the sandbox`);
  const trailingSlash = path.endsWith('/');
  const follow = followFinal || trailingSlash;
  const stack = base.slice();
  const floor = base.length;
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
  if (finalStat === undefined) finalStat = fs.lstat(hostPath); // ended on '..' or '.': a directory
  if (trailingSlash && finalStat !== null && finalStat.filetype !== FileType.DIRECTORY) fail(Errno.NOTDIR);
  return { rel: stack, hostPath, stat: finalStat };
}

function splitPath(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function isNoent(e: unknown): boolean {
  // No instanceof Error: errors from node:fs come from another realm under jest.
  return toErrno(e) === Errno.NOENT;
}
