/**
 * The fixed, little-endian header in front of every snapshot. It is readable without
 * decoding the body (for `inspect`, for following a chain) and protected by its own
 * CRC-32, so a flipped bit anywhere in a file is caught either here or by the body's
 * SHA-256.
 *
 *   offset  size  field
 *   0       8     magic 89 4D 56 56 4D 0D 0A 1A ("\x89MVVM\r\n\x1a": binary, not text)
 *   8       2     format version (u16)
 *   10      2     flags (u16): bit 0 body deflate-compressed, bit 1 incremental
 *   12      32    SHA-256 of the module bytes
 *   44      32    base snapshot's id (all zero for a full snapshot)
 *   76      32    SHA-256 of the body as stored (version 1) or of its CBOR part (version 2)
 *   108     8     body length as stored (u64)
 *   116     8     body length once decompressed (u64; bounds inflation)
 *   124     1     producer length P
 *   125     P     producer (UTF-8, e.g. "mvvm-ts/0.1.0")
 *   125+P   4     CRC-32 of bytes 0 .. 125+P
 *   129+P         body (version 1: CBOR, see body.ts; version 2: see layout.ts)
 *
 * A snapshot's id is the SHA-256 of its header: the header holds the body's hash, so the
 * id names the whole file without hashing the body twice.
 */
import { crc32 } from './checksum';
import { CorruptSnapshotError, NotASnapshotError, SnapshotVersionError, TruncatedSnapshotError } from './errors';

export const MAGIC = Uint8Array.of(0x89, 0x4d, 0x56, 0x56, 0x4d, 0x0d, 0x0a, 0x1a);
/** The version this runtime writes (for a single machine; a thread group is GROUP_FORMAT_VERSION). */
export const FORMAT_VERSION = 2;
/**
 * The version of a snapshot of a thread group (wasi-threads): version 2's layout, the body
 * with a `group` part (schema.ts). A runtime that reads only up to 2 refuses it, rather than
 * restoring one thread of several.
 */
export const GROUP_FORMAT_VERSION = 3;
/**
 * The versions it reads. 1: the body is one CBOR document with every stored page in it, the
 * header's body hash is the SHA-256 of the body as stored. 2: see `src/layout.ts` (CBOR part,
 * then the pages raw, each with a checksum in the CBOR part).
 */
export const READ_VERSIONS: readonly number[] = [1, 2, 3];
export const FLAG_COMPRESSED = 1;
export const FLAG_INCREMENTAL = 2;
const KNOWN_FLAGS = FLAG_COMPRESSED | FLAG_INCREMENTAL;
const FIXED = 125;
const HASH = 32;

export interface Header {
  formatVersion: number;
  compressed: boolean;
  incremental: boolean;
  moduleHash: Uint8Array;
  /** All zero unless incremental. */
  baseId: Uint8Array;
  bodyHash: Uint8Array;
  storedLength: number;
  decodedLength: number;
  producer: string;
}

/** The header's length in bytes for a producer string. */
export function headerLength(producer: string): number {
  return FIXED + new TextEncoder().encode(producer).length + 4;
}

export function encodeHeader(h: Header): Uint8Array {
  const producer = new TextEncoder().encode(h.producer);
  if (producer.length > 255) throw new RangeError('producer string longer than 255 bytes');
  const out = new Uint8Array(FIXED + producer.length + 4);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint16(8, h.formatVersion, true);
  dv.setUint16(10, (h.compressed ? FLAG_COMPRESSED : 0) | (h.incremental ? FLAG_INCREMENTAL : 0), true);
  out.set(h.moduleHash, 12);
  out.set(h.baseId, 44);
  out.set(h.bodyHash, 76);
  dv.setBigUint64(108, BigInt(h.storedLength), true);
  dv.setBigUint64(116, BigInt(h.decodedLength), true);
  out[124] = producer.length;
  out.set(producer, FIXED);
  dv.setUint32(FIXED + producer.length, crc32(out.subarray(0, FIXED + producer.length)), true);
  return out;
}

/** Parses and checks the header; returns it with its length in bytes. */
export function decodeHeader(bytes: Uint8Array): { header: Header; length: number } {
  const magicPart = bytes.subarray(0, MAGIC.length);
  if (!magicPart.every((b, i) => b === MAGIC[i])) throw new NotASnapshotError('not an MVVM snapshot (bad magic number)');
  if (bytes.length < 12) throw new TruncatedSnapshotError(`snapshot truncated: ${bytes.length} bytes, the header alone needs ${FIXED + 4}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The version is read before anything else: another version may lay out the rest differently.
  const formatVersion = dv.getUint16(8, true);
  if (!READ_VERSIONS.includes(formatVersion)) {
    throw new SnapshotVersionError(`snapshot format version ${formatVersion}, this runtime reads versions ${READ_VERSIONS.slice(0, -1).join(', ')} and ${READ_VERSIONS[READ_VERSIONS.length - 1]}`);
  }
  if (bytes.length < FIXED) throw new TruncatedSnapshotError(`snapshot truncated: ${bytes.length} bytes, the header alone needs ${FIXED + 4}`);
  const producerLength = bytes[124];
  const length = FIXED + producerLength + 4;
  if (bytes.length < length) throw new TruncatedSnapshotError(`snapshot truncated: ${bytes.length} bytes, the header needs ${length}`);
  if (dv.getUint32(FIXED + producerLength, true) !== crc32(bytes.subarray(0, FIXED + producerLength))) {
    throw new CorruptSnapshotError('snapshot header checksum mismatch: the file is damaged');
  }
  const flags = dv.getUint16(10, true);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new SnapshotVersionError(`snapshot uses unknown flags 0x${flags.toString(16)}`);
  const storedLength = readLength(dv, 108);
  const decodedLength = readLength(dv, 116);
  const baseId = bytes.slice(44, 44 + HASH);
  const incremental = (flags & FLAG_INCREMENTAL) !== 0;
  if (incremental === baseId.every((b) => b === 0)) {
    throw new CorruptSnapshotError('snapshot header is inconsistent: the incremental flag and the base id disagree');
  }
  let producer: string;
  try {
    producer = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(FIXED, FIXED + producerLength));
  } catch {
    throw new CorruptSnapshotError('snapshot header: producer is not UTF-8');
  }
  return {
    header: {
      formatVersion,
      compressed: (flags & FLAG_COMPRESSED) !== 0,
      incremental,
      moduleHash: bytes.slice(12, 12 + HASH),
      baseId,
      bodyHash: bytes.slice(76, 76 + HASH),
      storedLength,
      decodedLength,
      producer,
    },
    length,
  };
}

function readLength(dv: DataView, at: number): number {
  const v = dv.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CorruptSnapshotError('snapshot header: impossible body length');
  return Number(v);
}
