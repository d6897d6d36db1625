/**
 * A guest made of JavaScript: calls WASI preview1 functions of an instance directly, with
 * its own linear memory, the way a wasm program would (pointers, lengths, out-parameters).
 * For tests that try many call sequences without building a C program for each.
 */
import { MemoryInstance } from '@mvvm/interpreter';
import type { HostFunction } from '@mvvm/interpreter';
import { ALL_RIGHTS, DIRECTORY_RIGHTS, LookupFlags, OFlags, Rights } from '../src/index';
import type { WASI } from '../src/index';

const OUT = 0; // out-parameters
const STR_A = 1024; // first path argument
const STR_B = 8192; // second path argument
const BUF = 16384; // read buffers
const BUF_LEN = 4096;

export interface OpenOptions {
  oflags?: number;
  follow?: boolean;
  base?: number;
  inheriting?: number;
  fdflags?: number;
}

export class RawGuest {
  readonly mem = new MemoryInstance(1, undefined);
  private readonly calls: Record<string, HostFunction>;

  constructor(readonly wasi: WASI) {
    this.calls = wasi.getImports().wasi_snapshot_preview1;
  }

  call(name: string, ...args: Array<number | bigint>): number {
    return this.calls[name].fn(args, { memory: this.mem }) as number;
  }

  private str(at: number, s: string): [number, number] {
    const b = new TextEncoder().encode(s);
    this.mem.u8.set(b, at);
    return [at, b.length];
  }

  private u32(at: number): number {
    return this.mem.view.getUint32(at, true);
  }

  open(dir: number, path: string, o: OpenOptions = {}): { errno: number; fd: number } {
    const [p, n] = this.str(STR_A, path);
    const errno = this.call('path_open', dir, o.follow === false ? 0 : LookupFlags.SYMLINK_FOLLOW, p, n, o.oflags ?? 0, BigInt(o.base ?? ALL_RIGHTS), BigInt(o.inheriting ?? ALL_RIGHTS), o.fdflags ?? 0, OUT);
    return { errno, fd: errno === 0 ? this.u32(OUT) : -1 };
  }

  openDir(dir: number, path: string, o: OpenOptions = {}): { errno: number; fd: number } {
    return this.open(dir, path, { base: DIRECTORY_RIGHTS, ...o, oflags: (o.oflags ?? 0) | OFlags.DIRECTORY });
  }

  /** Opens and reads a file: the errno of the first call that failed, and what was read. */
  readFile(dir: number, path: string, follow = true): { errno: number; data: string } {
    const f = this.open(dir, path, { follow, base: Rights.FD_READ, inheriting: 0 });
    if (f.errno !== 0) return { errno: f.errno, data: '' };
    const r = this.read(f.fd);
    this.call('fd_close', f.fd);
    return r;
  }

  read(fd: number): { errno: number; data: string } {
    this.mem.view.setUint32(OUT + 8, BUF, true);
    this.mem.view.setUint32(OUT + 12, BUF_LEN, true);
    const errno = this.call('fd_read', fd, OUT + 8, 1, OUT);
    return { errno, data: errno === 0 ? new TextDecoder().decode(this.mem.u8.subarray(BUF, BUF + this.u32(OUT))) : '' };
  }

  write(fd: number, text: string): number {
    const [p, n] = this.str(BUF, text);
    this.mem.view.setUint32(OUT + 8, p, true);
    this.mem.view.setUint32(OUT + 12, n, true);
    return this.call('fd_write', fd, OUT + 8, 1, OUT);
  }

  /** Creates (or truncates) a file and writes text into it. */
  createFile(dir: number, path: string, text: string, follow = true): number {
    const f = this.open(dir, path, { follow, oflags: OFlags.CREAT | OFlags.TRUNC, base: Rights.FD_WRITE, inheriting: 0 });
    if (f.errno !== 0) return f.errno;
    const e = this.write(f.fd, text);
    this.call('fd_close', f.fd);
    return e;
  }

  /** Names fd_readdir lists (errno, names). */
  readdir(fd: number): { errno: number; names: string[] } {
    const errno = this.call('fd_readdir', fd, BUF, BUF_LEN, 0n, OUT);
    const names: string[] = [];
    if (errno !== 0) return { errno, names };
    const used = this.u32(OUT);
    for (let at = BUF; at + 24 <= BUF + used; ) {
      const len = this.mem.view.getUint32(at + 16, true);
      names.push(new TextDecoder().decode(this.mem.u8.subarray(at + 24, at + 24 + len)));
      at += 24 + len;
    }
    return { errno, names };
  }

  mkdir(dir: number, path: string): number {
    return this.call('path_create_directory', dir, ...this.str(STR_A, path));
  }
  rmdir(dir: number, path: string): number {
    return this.call('path_remove_directory', dir, ...this.str(STR_A, path));
  }
  unlink(dir: number, path: string): number {
    return this.call('path_unlink_file', dir, ...this.str(STR_A, path));
  }
  symlink(target: string, dir: number, path: string): number {
    return this.call('path_symlink', ...this.str(STR_A, target), dir, ...this.str(STR_B, path));
  }
  rename(dir: number, from: string, toDir: number, to: string): number {
    return this.call('path_rename', dir, ...this.str(STR_A, from), toDir, ...this.str(STR_B, to));
  }
  link(dir: number, from: string, toDir: number, to: string, follow = false): number {
    return this.call('path_link', dir, follow ? LookupFlags.SYMLINK_FOLLOW : 0, ...this.str(STR_A, from), toDir, ...this.str(STR_B, to));
  }
  stat(dir: number, path: string, follow = true): number {
    return this.call('path_filestat_get', dir, follow ? LookupFlags.SYMLINK_FOLLOW : 0, ...this.str(STR_A, path), OUT);
  }
  setTimes(dir: number, path: string, follow = true): number {
    return this.call('path_filestat_set_times', dir, follow ? LookupFlags.SYMLINK_FOLLOW : 0, ...this.str(STR_A, path), 0n, 0n, 0b0101);
  }
  readlink(dir: number, path: string): { errno: number; target: string } {
    const errno = this.call('path_readlink', dir, ...this.str(STR_A, path), BUF, BUF_LEN, OUT);
    return { errno, target: errno === 0 ? new TextDecoder().decode(this.mem.u8.subarray(BUF, BUF + this.u32(OUT))) : '' };
  }
  renumber(from: number, to: number): number {
    return this.call('fd_renumber', from, to);
  }
  setRights(fd: number, base: number, inheriting: number): number {
    return this.call('fd_fdstat_set_rights', fd, BigInt(base), BigInt(inheriting));
  }
}
