import type { FileType } from '../constants';

/** A file's metadata, in WASI's terms. Times are nanoseconds since the epoch. */
export interface FileStat {
  filetype: FileType;
  dev: bigint;
  ino: bigint;
  nlink: bigint;
  size: bigint;
  atim: bigint;
  mtim: bigint;
  ctim: bigint;
}

export interface OpenFlags {
  read: boolean;
  write: boolean;
  create: boolean;
  exclusive: boolean;
  truncate: boolean;
  /** Fail with ENOTDIR unless the path is a directory. */
  directory: boolean;
}

export interface DirEntry {
  name: string;
  filetype: FileType;
  ino: bigint;
}

/** An open file of the host: an opaque number the host hands out. */
export type Handle = number;

/**
 * What a WASI instance needs from a file system. Paths are absolute host paths that the
 * sandbox (fs/sandbox.ts) has already resolved: every component but possibly the last is a
 * real directory, never a symlink, and nothing lies outside a preopen. Operations never
 * follow a final symlink unless they say so. Failures are thrown: a WasiErrnoError, or a
 * host error with a POSIX `code` (toErrno maps both).
 *
 * Offsets are not the host's business: the WASI fd table keeps them (so they are in the
 * replay log) and every read and write here is positional.
 */
export interface HostFs {
  lstat(path: string): FileStat;
  open(path: string, flags: OpenFlags): Handle;
  close(h: Handle): void;
  fstat(h: Handle): FileStat;
  read(h: Handle, dst: Uint8Array, position: number): number;
  write(h: Handle, src: Uint8Array, position: number): number;
  truncate(h: Handle, size: number): void;
  sync(h: Handle, dataOnly: boolean): void;
  /** Sets the access and modification times (ns since the epoch); null leaves that time as it is. */
  futimes(h: Handle, atim: bigint | null, mtim: bigint | null): void;
  utimes(path: string, atim: bigint | null, mtim: bigint | null, followSymlink: boolean): void;
  /** Entries without '.' and '..'. */
  readdir(path: string): DirEntry[];
  mkdir(path: string): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  rename(from: string, to: string): void;
  symlink(target: string, path: string): void;
  readlink(path: string): string;
  link(existing: string, newPath: string): void;
  /**
   * Optional openat-like resolution (the Node host on Linux). openDirAt opens the directory
   * `name` inside the directory `dir` holds without following a symlink (the handle stays
   * open until releaseScratch); pathAt names `name` inside the directory `dir` holds, the
   * directory itself whatever has happened to its path. With them the sandbox walks by
   * handles and nothing can be swapped between its checks and the host's use.
   */
  openDirAt?(dir: Handle, name: string): Handle;
  pathAt?(dir: Handle, name: string): string;
  /** Closes the handles openDirAt made: called after every WASI call. */
  releaseScratch?(): void;
}

/** Joins a host directory and a sandbox-relative path ("" is the directory itself). */
export function joinHost(root: string, rel: string): string {
  if (rel === '') return root;
  return root.endsWith('/') ? root + rel : root + '/' + rel;
}
