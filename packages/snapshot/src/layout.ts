/**
 * The body of a format-version-2 snapshot: the small part of the state as CBOR, then the
 * stored memory pages raw, each with a checksum, so that writing one reads and copies each
 * page once (in one pass) and restoring one checks and copies each page once.
 *
 *   offset        size        field
 *   0             8           C: length of the CBOR part, u64 LE
 *   8             8           n: stored pages of all memories together, u64 LE
 *   16            C           standard CBOR: { machine, wasi, meta } as in version 1, except
 *                             that memories have no `data` (their pages follow)
 *   16+C          4n          the checksum of each stored page (pageChecksum), u32 LE
 *   16+C+4n       Z           zero bytes, so that the pages start at a multiple of 8 in the file
 *   16+C+4n+Z     64 KiB × n  the stored pages of every memory in order (memory 0's
 *                             `indices` first); nothing after them
 *
 * The header's body hash is the SHA-256 of the bytes before the pages (for a compressed
 * body: of the stored deflate stream, as in version 1), so the snapshot id still names every
 * byte; each page is checked against its checksum as it is copied into the memory being
 * rebuilt (pages.ts), before any machine is built.
 */
import { pageChecksum } from './checksum';
import { CorruptSnapshotError, InvalidSnapshotError } from './errors';
import { PAGE } from './pages';
import type { BodyV1, BodyV2 } from './schema';

const PREFIX = 16;

const hashedLength = (headerLength: number, cborLength: number, pages: number): number => {
  const end = PREFIX + cborLength + 4 * pages;
  return end + ((8 - ((headerLength + end) % 8)) % 8);
};

export interface LaidOutBody {
  /** Bytes of the whole body. */
  length: number;
  /** Bytes covered by the body hash (everything before the pages). */
  hashedLength: number;
  /** Writes the body at `target[at..]` (a fresh, zero-filled buffer): each page is checksummed as it is copied. */
  write(target: Uint8Array, at: number): void;
}

/** Lays out `body` (pages as views of memory) for a file whose header is `headerLength` bytes. */
export function layOutBody(body: BodyV1, headerLength: number, encodeCbor: (v: unknown) => Uint8Array): LaidOutBody {
  const pages: Uint8Array[] = [];
  const memories = body.machine.memories.map(({ data, ...m }) => {
    pages.push(...data);
    return m;
  });
  const cbor = encodeCbor({ ...body, machine: { ...body.machine, memories } });
  const hashed = hashedLength(headerLength, cbor.length, pages.length);
  return {
    length: hashed + pages.length * PAGE,
    hashedLength: hashed,
    write(target, at) {
      const dv = new DataView(target.buffer, target.byteOffset + at, hashed);
      dv.setBigUint64(0, BigInt(cbor.length), true);
      dv.setBigUint64(8, BigInt(pages.length), true);
      target.set(cbor, at + PREFIX);
      const sums = PREFIX + cbor.length;
      let to = at + hashed;
      pages.forEach((page, k) => {
        dv.setUint32(sums + 4 * k, pageChecksum(page, target.subarray(to, to + PAGE)), true);
        to += PAGE;
      });
    },
  };
}

/** The CBOR part of a version-2 body and where its pages start; checks lengths and padding only (before the body hash). */
export function splitBody(plain: Uint8Array, headerLength: number): { cbor: Uint8Array; pages: number; hashedLength: number } {
  if (plain.length < PREFIX) throw new CorruptSnapshotError('snapshot body shorter than its length prefix');
  const dv = new DataView(plain.buffer, plain.byteOffset, plain.byteLength);
  const c = dv.getBigUint64(0, true);
  const n = dv.getBigUint64(8, true);
  if (c > BigInt(plain.length) || n > BigInt(plain.length)) throw new CorruptSnapshotError('snapshot body: its CBOR part or its pages run past the end');
  const [cborLength, pages] = [Number(c), Number(n)];
  const hashed = hashedLength(headerLength, cborLength, pages);
  if (plain.length !== hashed + pages * PAGE) {
    const what = plain.length < hashed + pages * PAGE ? 'shorter than' : 'longer than';
    throw new CorruptSnapshotError(`snapshot body is ${what} its ${pages} stored pages`);
  }
  for (let i = PREFIX + cborLength + 4 * pages; i < hashed; i++) if (plain[i] !== 0) throw new CorruptSnapshotError('snapshot body: padding is not zero');
  return { cbor: plain.subarray(PREFIX, PREFIX + cborLength), pages, hashedLength: hashed };
}

/**
 * The pages after the CBOR part put back into the body as version 1 holds them (views of
 * `plain`, no copy), with each memory's page checksums (checked when the pages are applied).
 * `body` is schema- and bounds-checked.
 */
export function attachPages(body: BodyV2, plain: Uint8Array, split: { cbor: Uint8Array; pages: number; hashedLength: number }): { body: BodyV1; sums: Uint32Array[] } {
  const listed = body.machine.memories.reduce((n, m) => n + m.indices.length / 4, 0);
  if (listed !== split.pages) throw new InvalidSnapshotError(`snapshot body lists ${listed} stored pages and holds ${split.pages}`);
  const sumsAt = split.cbor.byteOffset - plain.byteOffset + split.cbor.length;
  const dv = new DataView(plain.buffer, plain.byteOffset + sumsAt, 4 * split.pages);
  let k = 0;
  let at = split.hashedLength;
  const sums: Uint32Array[] = [];
  const memories = body.machine.memories.map((m) => {
    const count = m.indices.length / 4;
    const want = new Uint32Array(count);
    const data: Uint8Array[] = [];
    for (let i = 0; i < count; i++, k++, at += PAGE) {
      want[i] = dv.getUint32(4 * k, true);
      data.push(plain.subarray(at, at + PAGE));
    }
    sums.push(want);
    return { ...m, data };
  });
  return { body: { ...body, machine: { ...body.machine, memories } }, sums };
}
