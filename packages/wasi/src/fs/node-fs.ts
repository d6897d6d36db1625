import * as fs from 'node:fs';
import { FileType } from '../constants';
import { finishSubMicroseconds } from './exact-times';
import type { DirEntry, FileStat, Handle, HostFs, OpenFlags } from './types';

const C = fs.constants;

function filetypeOf(s: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean; isFIFO(): boolean }): FileType {
  if (s.isFile()) return FileType.REGULAR_FILE;
  if (s.isDirectory()) return FileType.DIRECTORY;
  if (s.isSymbolicLink()) return FileType.SYMBOLIC_LINK;
  if (s.isCharacterDevice()) return FileType.CHARACTER_DEVICE;
  if (s.isBlockDevice()) return FileType.BLOCK_DEVICE;
  if (s.isSocket()) return FileType.SOCKET_STREAM;
  return FileType.UNKNOWN; // FIFOs have no WASI file type
}

export function toFileStat(s: fs.BigIntStats): FileStat {
  return { filetype: filetypeOf(s), dev: s.dev, ino: s.ino, nlink: s.nlink, size: s.size, atim: s.atimeNs, mtim: s.mtimeNs, ctim: s.ctimeNs };
}

/**
 * ns since the epoch as the seconds Node's utimes takes. libuv keeps whole microseconds of
 * that double (it truncates tv_nsec to a multiple of 1000), and a double near today's
 * time is only good to ~240 ns, so `Number(ns) / 1e9` lands in the neighbouring µs about
 * a quarter of the time. Aiming at the middle of the µs makes the result exactly `ns`
 * truncated to whole µs (measured: 2000 of 2000 random times), which finishSubMicroseconds
 * completes where it can.
 */
export function utimesSeconds(ns: bigint): number {
  const s = ns / 1_000_000_000n;
  const us = (ns % 1_000_000_000n) / 1000n;
  return Number(s) + (Number(us) * 1000 + 500) / 1e9;
}

/** Where a process's own fds appear as paths that name the open file itself (Linux). */
const PROC_FD = process.platform === 'linux' && fs.existsSync('/proc/self/fd') ? '/proc/self/fd' : null;

/**
 * The host's real file system through Node's synchronous fs calls (O_NOFOLLOW: the sandbox
 * resolves links). On Linux it also resolves by directory handle (HostFs.openDirAt), through
 * /proc/self/fd/N/NAME, which the kernel looks up in the directory fd N holds: Node has no
 * openat, and this is one. `{ handles: false }` turns that off (tests of the path walk).
 */
export class NodeFs implements HostFs {
  readonly openDirAt?: (dir: Handle, name: string) => Handle;
  readonly pathAt?: (dir: Handle, name: string) => string;
  private scratch: Handle[] = [];

  constructor(options: { handles?: boolean } = {}) {
    if (PROC_FD !== null && options.handles !== false) {
      this.pathAt = (dir, name) => `${PROC_FD}/${dir}/${name}`;
      this.openDirAt = (dir, name) => {
        const h = fs.openSync(`${PROC_FD}/${dir}/${name}`, C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        this.scratch.push(h);
        return h;
      };
    }
  }

  releaseScratch(): void {
    if (this.scratch.length === 0) return;
    for (const h of this.scratch.splice(0)) {
      try {
        fs.closeSync(h);
      } catch {
        // already gone: nothing to release
      }
    }
  }

  lstat(path: string): FileStat {
    return toFileStat(fs.lstatSync(path, { bigint: true }));
  }

  open(path: string, f: OpenFlags): Handle {
    let flags = f.write ? (f.read ? C.O_RDWR : C.O_WRONLY) : C.O_RDONLY;
    if (f.create) flags |= C.O_CREAT;
    if (f.exclusive) flags |= C.O_EXCL;
    if (f.truncate) flags |= C.O_TRUNC;
    if (f.directory) flags |= C.O_DIRECTORY;
    flags |= C.O_NOFOLLOW;
    return fs.openSync(path, flags, 0o666);
  }

  close(h: Handle): void {
    fs.closeSync(h);
  }

  fstat(h: Handle): FileStat {
    return toFileStat(fs.fstatSync(h, { bigint: true }));
  }

  read(h: Handle, dst: Uint8Array, position: number): number {
    return fs.readSync(h, dst, 0, dst.length, position);
  }

  write(h: Handle, src: Uint8Array, position: number): number {
    return fs.writeSync(h, src, 0, src.length, position);
  }

  truncate(h: Handle, size: number): void {
    fs.ftruncateSync(h, size);
  }

  sync(h: Handle, dataOnly: boolean): void {
    if (dataOnly) fs.fdatasyncSync(h);
    else fs.fsyncSync(h);
  }

  /**
   * Node keeps whole microseconds and cannot leave one time alone (no UTIME_OMIT): it sets
   * both (the one not to change as read now), which also yields the errno of a failure;
   * finishSubMicroseconds then restores the nanoseconds of both where the host can.
   */
  futimes(h: Handle, atim: bigint | null, mtim: bigint | null): void {
    if (atim === null && mtim === null) return;
    const cur = atim === null || mtim === null ? fs.fstatSync(h, { bigint: true }) : null;
    const a = atim ?? cur!.atimeNs;
    const m = mtim ?? cur!.mtimeNs;
    fs.futimesSync(h, utimesSeconds(a), utimesSeconds(m));
    finishSubMicroseconds({ fd: h }, a, m);
  }

  utimes(path: string, atim: bigint | null, mtim: bigint | null, follow: boolean): void {
    if (atim === null && mtim === null) return;
    const cur = atim === null || mtim === null ? (follow ? fs.statSync : fs.lstatSync)(path, { bigint: true }) : null;
    const a = atim ?? cur!.atimeNs;
    const m = mtim ?? cur!.mtimeNs;
    if (follow) fs.utimesSync(path, utimesSeconds(a), utimesSeconds(m));
    else fs.lutimesSync(path, utimesSeconds(a), utimesSeconds(m));
    finishSubMicroseconds({ path, follow }, a, m);
  }

  readdir(path: string): DirEntry[] {
    return fs.readdirSync(path, { withFileTypes: true }).map((d) => {
      let ino = 0n;
      try {
        ino = fs.lstatSync(path + '/' + d.name, { bigint: true }).ino;
      } catch {
        // raced with a removal: the entry is still listed, as readdir(3) may do
      }
      return { name: d.name, filetype: filetypeOf(d), ino };
    });
  }

  mkdir(path: string): void {
    fs.mkdirSync(path, 0o777);
  }
  rmdir(path: string): void {
    fs.rmdirSync(path);
  }
  unlink(path: string): void {
    fs.unlinkSync(path);
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  symlink(target: string, path: string): void {
    fs.symlinkSync(target, path);
  }
  readlink(path: string): string {
    return fs.readlinkSync(path, 'utf8');
  }
  link(existing: string, newPath: string): void {
    fs.linkSync(existing, newPath);
  }
}
