/**
 * The Node host layer of @mvvm/snapshot (import '@mvvm/snapshot/node'): atomic files,
 * zlib compression and following an incremental chain through files. Everything else in
 * this package runs in a browser too.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { deflateSync, inflateSync } from 'node:zlib';
import { sameBytes, toHex } from './checksum';
import type { Codec } from './codec';
import { CorruptSnapshotError, MissingBaseError, SnapshotError } from './errors';
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
 * Writes `bytes` to a temporary file beside `path`, fsyncs it and renames it over `path`:
 * a crash at any point leaves either the old file or the complete new one, never a torn one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
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
  // Make the rename itself durable. Not every platform can fsync a directory: best effort.
  try {
    const dir = openSync(dirname(path), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* ignore */
  }
}

export async function readSnapshotFile(path: string, codec: Codec = zlibCodec): Promise<DecodedSnapshot> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SnapshotError(`cannot read snapshot ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return decodeSnapshot(bytes, { codec });
}

/** meta key under which an incremental snapshot records its base's file (relative to its own directory, or absolute): a hint, the id decides. */
export const BASE_FILE_META = 'baseFile';

/**
 * Loads `path` and, while the snapshot is incremental, its bases: first among `bases`
 * (any order), then by the file name each link recorded, checked by id.
 */
export async function loadChainFromFiles(path: string, bases: string[] = [], codec: Codec = zlibCodec): Promise<ResolvedSnapshot> {
  const candidates = await Promise.all(bases.map((b) => readSnapshotFile(b, codec)));
  const chain: DecodedSnapshot[] = [await readSnapshotFile(path, codec)];
  let dir = dirname(path);
  while (chain[0].header.incremental) {
    const want = chain[0].header.baseId;
    let base = candidates.find((c) => sameBytes(c.id, want));
    const hint = chain[0].meta[BASE_FILE_META];
    let looked = '';
    if (!base && typeof hint === 'string') {
      const file = isAbsolute(hint) ? hint : join(dir, hint);
      try {
        const found = await readSnapshotFile(file, codec);
        if (sameBytes(found.id, want)) base = found;
        else looked = `${file} is another snapshot (${toHex(found.id).slice(0, 12)})`;
        dir = dirname(file);
      } catch (e) {
        looked = `looked for ${file}: ${e instanceof SnapshotError ? e.message.replace(/^cannot read snapshot \S+: /, '') : String(e)}`;
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
