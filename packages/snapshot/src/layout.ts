/**
 * The body of a format-version-2 snapshot: the small part of the state as CBOR, then the
 * stored memory pages raw, so that neither writing nor reading one copies or hashes memory
 * more than once.
 *
 *   offset   size   field
 *   0        8      C: length of the CBOR part, u64 LE
 *   8        C      standard CBOR: { machine, wasi, meta } as in version 1, except that each
 *                   memory has `sums` (one u32 LE pageChecksum per stored page) instead of `data`
 *   8+C      Z      zero bytes, so that the pages start at a multiple of 8 in the file
 *   8+C+Z    64 KiB × n  the stored pages of every memory in order (memory 0's `indices`
 *                   first), n = all indices together; nothing after them
 *
 * The header's body hash is the SHA-256 of bytes 0 .. 8+C+Z (the CBOR part holds the page
 * checksums), so the snapshot id still names every byte (for a compressed body: of the
 * stored deflate stream, as in version 1); each page is checked against its
 * checksum (checksum.ts) before anything is built from it.
 */
import { pageChecksum } from './checksum';
import { CorruptSnapshotError, InvalidSnapshotError } from './errors';
import { uint32FromLE } from './little-endian';
import { PAGE } from './pages';
import type { BodyV1, BodyV2 } from './schema';

const PREFIX = 8;

export interface LaidOutBody {
  /** Bytes of the whole body. */
  length: number;
  /** Bytes covered by the body hash (length prefix, CBOR part, padding). */
  hashedLength: number;
  /** Writes the body at `target[at..]` (a fresh, zero-filled buffer). */
  write(target: Uint8Array, at: number): void;
}

/** Lays out `body` (pages as views of memory) for a file whose header is `headerLength` bytes. */
export function layOutBody(body: BodyV1, headerLength: number, encodeCbor: (v: unknown) => Uint8Array): LaidOutBody {
  const pages: Uint8Array[] = [];
  const memories = body.machine.memories.map(({ data, ...m }) => {
    const sums = new Uint8Array(4 * data.length);
    const dv = new DataView(sums.buffer);
    data.forEach((page, i) => {
      dv.setUint32(4 * i, pageChecksum(page), true);
      pages.push(page);
    });
    return { ...m, sums };
  });
  const cbor = encodeCbor({ ...body, machine: { ...body.machine, memories } });
  const hashedLength = PREFIX + cbor.length + ((8 - ((headerLength + PREFIX + cbor.length) % 8)) % 8);
  return {
    length: hashedLength + pages.length * PAGE,
    hashedLength,
    write(target, at) {
      new DataView(target.buffer, target.byteOffset + at, PREFIX).setBigUint64(0, BigInt(cbor.length), true);
      target.set(cbor, at + PREFIX);
      let to = at + hashedLength;
      for (const page of pages) {
        target.set(page, to);
        to += PAGE;
      }
    },
  };
}

/** The CBOR part of a version-2 body and where its pages start; checks lengths and padding only. */
export function splitBody(plain: Uint8Array, headerLength: number): { cbor: Uint8Array; hashedLength: number } {
  if (plain.length < PREFIX) throw new CorruptSnapshotError('snapshot body shorter than its length prefix');
  const c = new DataView(plain.buffer, plain.byteOffset, PREFIX).getBigUint64(0, true);
  if (c > BigInt(plain.length - PREFIX)) throw new CorruptSnapshotError('snapshot body: its CBOR part runs past the end');
  const cborLength = Number(c);
  const hashedLength = PREFIX + cborLength + ((8 - ((headerLength + PREFIX + cborLength) % 8)) % 8);
  if (hashedLength > plain.length) throw new CorruptSnapshotError('snapshot body: its padding runs past the end');
  for (let i = PREFIX + cborLength; i < hashedLength; i++) if (plain[i] !== 0) throw new CorruptSnapshotError('snapshot body: padding is not zero');
  return { cbor: plain.subarray(PREFIX, PREFIX + cborLength), hashedLength };
}

/**
 * The pages after the CBOR part, each checked against its checksum, put back into the body
 * as version 1 holds them (views of `plain`, no copy). `body` is schema- and bounds-checked.
 */
export function attachPages(body: BodyV2, plain: Uint8Array, hashedLength: number): BodyV1 {
  let count = 0;
  body.machine.memories.forEach((m, i) => {
    if (m.sums.length !== m.indices.length) throw new InvalidSnapshotError(`memory ${i}: page index and page checksum counts differ`);
    count += m.indices.length / 4;
  });
  if (plain.length !== hashedLength + count * PAGE) {
    const what = plain.length < hashedLength + count * PAGE ? 'shorter than' : 'longer than';
    throw new CorruptSnapshotError(`snapshot body is ${what} its ${count} stored pages`);
  }
  let at = hashedLength;
  const memories = body.machine.memories.map(({ sums, ...m }, i) => {
    const want = uint32FromLE(sums);
    const data: Uint8Array[] = [];
    for (let k = 0; k < want.length; k++) {
      const page = plain.subarray(at, at + PAGE);
      if (pageChecksum(page) !== want[k]) throw new CorruptSnapshotError(`snapshot page checksum mismatch (memory ${i}, stored page ${k}): the file is damaged`);
      data.push(page);
      at += PAGE;
    }
    return { ...m, data };
  });
  return { ...body, machine: { ...body.machine, memories } };
}
