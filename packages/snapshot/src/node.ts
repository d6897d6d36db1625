/**
 * The Node host layer of @mvvm/snapshot (import '@mvvm/snapshot/node'): atomic files,
 * zlib compression and following an incremental chain through files. Everything else in
 * this package runs in a browser too.
 */
import { closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, openSync, readSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { sameBytes, toHex } from './checksum';
import type { Codec } from './codec';
import { FORMAT_BOUNDS, SnapshotBounds } from './bounds';
import { CorruptSnapshotError, InvalidSnapshotError, MissingBaseError, SnapshotError } from './errors';
import { DecodedSnapshot, ResolvedSnapshot, decodeSnapshot, resolveChain } from './snapshot';

/** The same deflate format as CompressionStream('deflate'), at zlib's speed (level 1: snapshots are large, time matters). */
export const zlibCodec: Codec = {
  async compress(bytes) {
    return deflateSync(bytes, { level: 1 });
  },
  async decompress(bytes, size) {
    let out: Uint8Array;
    try {
      out = inflateSync(bytes, { maxOutputLength: Math.max(size, 1) });
    } catch (e) {
      throw new CorruptSnapshotError(`snapshot body does not inflate: ${(e as Error).message}`);
    }
    if (out.length !== size) throw new CorruptSnapshotError(`snapshot body inflates to ${out.length} bytes, the header says ${size}`);
    return out;
  },
};

/**
 * Temporary files of an atomic write are named `.NAME.HOST.PID.STAMP.mvvm-tmp` beside the
 * target NAME: recognisably ours, and telling which process on which host wrote them, so a
 * later write can sweep the ones an interrupted (killed) writer left behind.
 */
export const TEMP_SUFFIX = '.mvvm-tmp';
/** A temporary file older than this is stale whoever wrote it (a live writer renames within seconds). */
export const STALE_TEMP_MS = 60 * 60 * 1000;
const TEMP_NAME = /^\..+\.(\d+)\.([0-9a-z]+)\.mvvm-tmp$/;
let tempSeq = 0;

export function tempPathFor(path: string): string {
  const stamp = `${Date.now().toString(36)}${(tempSeq++).toString(36)}`;
  return join(dirname(path), `.${basename(path)}.${hostname()}.${process.pid}.${stamp}${TEMP_SUFFIX}`);
}

/**
 * Removes the temporary files of our own naming in `dir` that no writer will finish: written
 * on this host by a process that no longer runs, or older than STALE_TEMP_MS. Files of other
 * names are never touched. Returns the names removed.
 */
export function sweepStaleTemps(dir: string, now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m) continue;
    const path = join(dir, name);
    try {
      const st = lstatSync(path);
      if (!st.isFile()) continue;
      const dead = name.endsWith(`.${hostname()}.${m[1]}.${m[2]}${TEMP_SUFFIX}`) && !processAlive(Number(m[1]));
      if (dead || now - st.mtimeMs > STALE_TEMP_MS) {
        unlinkSync(path);
        removed.push(name);
      }
    } catch {
      /* gone meanwhile */
    }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Makes a rename in `dir` durable. Not every platform can fsync a directory: best effort. */
export function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* ignore */
  }
}

/**
 * Writes `bytes` to a temporary file beside `path` (after sweeping stale ones), fsyncs it and
 * renames it over `path`: a crash at any point leaves either the old file or the complete new
 * one, never a torn one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  sweepStaleTemps(dirname(path));
  const temp = tempPathFor(path);
  const fd = openSync(temp, 'wx', 0o644);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(temp);
    throw e;
  }
  closeSync(fd);
  renameSync(temp, path);
  syncDirectory(dirname(path));
}

/**
 * Reads a snapshot file without trusting what sits at the path: opened non-blocking (a FIFO
 * cannot hang the read), it must be a regular file (not a device such as /dev/zero) no
 * larger than a snapshot within `bounds` can be; `noFollow` refuses a symlink.
 */
function readSnapshotBytes(path: string, bounds: SnapshotBounds, noFollow: boolean): Uint8Array {
  const maxBytes = bounds.maxDecodedLength + Math.ceil(bounds.maxDecodedLength / 64) + 4096; // deflate may grow a body slightly
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (noFollow ? constants.O_NOFOLLOW : 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new InvalidSnapshotError(`snapshot ${path} is a symbolic link: a base named by a snapshot must be a plain file`);
    throw new SnapshotError(`cannot read snapshot ${path}: ${code ?? (e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InvalidSnapshotError(`snapshot ${path} is not a regular file`);
    if (st.size > maxBytes) throw new InvalidSnapshotError(`snapshot ${path} is ${st.size} bytes, more than a snapshot of this module can be (${maxBytes})`);
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === bytes.length ? bytes : bytes.subarray(0, at);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

export async function readSnapshotFile(path: string, codec: Codec = zlibCodec, bounds: SnapshotBounds = FORMAT_BOUNDS): Promise<DecodedSnapshot> {
  return decodeSnapshot(readSnapshotBytes(path, bounds, false), { codec, bounds });
}

/** meta key under which an incremental snapshot records its base's file name (beside it): a hint, the id decides. */
export const BASE_FILE_META = 'baseFile';

/** A base file hint is followed only as a plain name in the snapshot's own directory. */
function isPlainName(hint: string): boolean {
  return hint.length > 0 && hint.length <= 255 && hint !== '.' && hint !== '..' && !/[/\\\0]/.test(hint);
}

/**
 * Loads `path` and, while the snapshot is incremental, its bases: first among `bases`
 * (any order), then by the file name each link recorded beside it, checked by id. The
 * recorded name is untrusted: only a plain name in the same directory, never through a
 * symlink, and only a regular file of bounded size. Pass snapshotBounds(module) to restore.
 */
export async function loadChainFromFiles(path: string, bases: string[] = [], codec: Codec = zlibCodec, bounds: SnapshotBounds = FORMAT_BOUNDS): Promise<ResolvedSnapshot> {
  const candidates = await Promise.all(bases.map((b) => readSnapshotFile(b, codec, bounds)));
  const chain: DecodedSnapshot[] = [await readSnapshotFile(path, codec, bounds)];
  const dir = dirname(path);
  while (chain[0].header.incremental) {
    const want = chain[0].header.baseId;
    let base = candidates.find((c) => sameBytes(c.id, want));
    const hint = chain[0].meta[BASE_FILE_META];
    let looked = '';
    if (!base && hint !== undefined) {
      if (typeof hint !== 'string' || !isPlainName(hint)) {
        throw new InvalidSnapshotError(`snapshot names its base as '${String(hint).slice(0, 100)}', which is not a plain file name beside it (pass the base with --base)`);
      }
      const file = join(dir, hint);
      if (!existsSync(file)) looked = `looked for ${file}: ENOENT`;
      else {
        const bytes = readSnapshotBytes(file, bounds, true); // a FIFO, device, symlink or huge file: refused here
        try {
          const found = await decodeSnapshot(bytes, { codec, bounds });
          if (sameBytes(found.id, want)) base = found;
          else looked = `${file} is another snapshot (${toHex(found.id).slice(0, 12)})`;
        } catch (e) {
          looked = `looked for ${file}: ${e instanceof SnapshotError ? e.message : String(e)}`;
        }
      }
    }
    if (!base && looked) {
      const of = chain[0] === chain[chain.length - 1] ? path : 'its chain';
      throw new MissingBaseError(`${of} is incremental and its base ${toHex(want).slice(0, 12)} is missing: ${looked} (or pass the base file explicitly)`);
    }
    if (!base) break; // resolveChain names the missing base
    if (chain.length > 100_000) throw new SnapshotError('incremental chain too long');
    chain.unshift(base);
  }
  return resolveChain(chain);
}

export { MissingBaseError };
