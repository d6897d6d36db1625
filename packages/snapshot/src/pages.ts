/**
 * Linear memory, page-wise. A full snapshot stores the pages that are not all zero; an
 * incremental one stores the pages written since its base (a dirty page that is now all
 * zero is listed as zeroed rather than stored). Rebuilding is one path for both: start
 * from zeros at the final size, then per link write the stored pages and clear the zeroed ones.
 */
import { pageChecksum } from './checksum';
import { CorruptSnapshotError, InvalidSnapshotError } from './errors';

export const PAGE = 65536;

export interface StoredMemory {
  /** Size in pages once this snapshot is applied. */
  pages: number;
  max: number | null;
  /** Page indices, ascending. */
  indices: Uint32Array;
  /** One 64 KiB byte string per index. */
  data: Uint8Array[];
  /** Pages (ascending) that are all zero now although the base may hold data there. */
  zeroed: Uint32Array;
  /** Format version 2: the checksum of each stored page, checked as it is applied. */
  sums?: Uint32Array;
}

export function isZeroPage(u8: Uint8Array, page: number): boolean {
  const start = u8.byteOffset + page * PAGE;
  if (start % 4 !== 0) return u8.subarray(page * PAGE, (page + 1) * PAGE).every((b) => b === 0);
  // Memory buffers start at offset 0, so pages are 4-byte aligned: compare a word a step.
  const words = new Uint32Array(u8.buffer, start, PAGE / 4);
  for (let i = 0; i < words.length; i++) if (words[i] !== 0) return false;
  return true;
}

/**
 * Splits `data` into stored pages. `candidates` lists the pages to consider (dirty since
 * the base); undefined means all pages (a full snapshot).
 */
export function storeMemory(data: Uint8Array, pages: number, max: number | undefined, candidates?: Iterable<number>): StoredMemory {
  const indices: number[] = [];
  const zeroed: number[] = [];
  const chunks: Uint8Array[] = [];
  const consider = (p: number) => {
    if (!isZeroPage(data, p)) {
      indices.push(p);
      chunks.push(data.subarray(p * PAGE, (p + 1) * PAGE));
    } else if (candidates) zeroed.push(p);
  };
  if (candidates) for (const p of [...candidates].sort((a, b) => a - b)) consider(p);
  else for (let p = 0; p < pages; p++) consider(p);
  return { pages, max: max ?? null, indices: Uint32Array.from(indices), data: chunks, zeroed: Uint32Array.from(zeroed) };
}

/** Checks the stored pages against the memory size before anything is written. */
export function checkStoredMemory(m: StoredMemory, what: string): void {
  const bad = (msg: string) => new InvalidSnapshotError(`${what}: ${msg}`);
  if (m.indices.length !== m.data.length) throw bad('page index and page data counts differ');
  const ascending = (list: Uint32Array) => list.every((p, i) => p < m.pages && (i === 0 || list[i - 1] < p));
  if (!ascending(m.indices) || !ascending(m.zeroed)) throw bad('page indices out of order or out of range');
  const stored = new Set(m.indices);
  if (m.zeroed.some((p) => stored.has(p))) throw bad('a page is both stored and zeroed');
  if (m.data.some((d) => d.length !== PAGE)) throw bad('a stored page is not 64 KiB');
  if (m.sums && m.sums.length !== m.data.length) throw bad('page checksum and page data counts differ');
}

/**
 * Writes `m`'s pages into `target`, a memory of at least `m.pages` pages holding the base's
 * contents. Pages with checksums are checked as they are copied (one pass): on a mismatch
 * it throws CorruptSnapshotError and `target` must be discarded.
 */
export function applyStoredMemory(target: Uint8Array, m: StoredMemory): void {
  const { sums } = m;
  if (sums) {
    m.indices.forEach((p, i) => {
      if (pageChecksum(m.data[i], target.subarray(p * PAGE, (p + 1) * PAGE)) !== sums[i]) {
        throw new CorruptSnapshotError(`snapshot page checksum mismatch (page ${p}): the file is damaged`);
      }
    });
  } else m.indices.forEach((p, i) => target.set(m.data[i], p * PAGE));
  for (const p of m.zeroed) target.fill(0, p * PAGE, (p + 1) * PAGE);
}
