/**
 * Binary payloads of the bulk frames. Every length and index is checked against the
 * bytes present and the limits given before anything is written.
 */
import { PAGE } from '@mvvm/snapshot';
import { ProtocolError } from './errors';
import { FrameType, HEAD, TAIL, sealFrame } from './frames';

/** Pages per Pages frame (~4 MiB: big enough for throughput, small enough to interleave). */
export const PAGES_PER_FRAME = 64;

/**
 * A Pages frame: memory index u32, memory size in pages u32, count u32, then per page its
 * index u32 and 64 KiB of contents, copied from `memory` now.
 */
export function encodePages(memIndex: number, memPages: number, memory: Uint8Array, pages: ArrayLike<number>, from: number, to: number): Uint8Array {
  const n = to - from;
  const frame = new Uint8Array(HEAD + 12 + n * (4 + PAGE) + TAIL);
  const dv = new DataView(frame.buffer);
  dv.setUint32(HEAD, memIndex, true);
  dv.setUint32(HEAD + 4, memPages, true);
  dv.setUint32(HEAD + 8, n, true);
  let at = HEAD + 12;
  for (let i = from; i < to; i++) {
    const p = pages[i];
    dv.setUint32(at, p, true);
    frame.set(memory.subarray(p * PAGE, (p + 1) * PAGE), at + 4);
    at += 4 + PAGE;
  }
  return sealFrame(frame, FrameType.Pages);
}

export interface PagesPayload {
  memIndex: number;
  memPages: number;
  /** Calls `write(page, bytes)` per page; checked first. */
  forEach(write: (page: number, bytes: Uint8Array) => void): void;
}

export function decodePages(payload: Uint8Array): PagesPayload {
  if (payload.length < 12) throw new ProtocolError('a Pages frame shorter than its header');
  const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const memIndex = dv.getUint32(0, true);
  const memPages = dv.getUint32(4, true);
  const n = dv.getUint32(8, true);
  if (payload.length !== 12 + n * (4 + PAGE)) throw new ProtocolError(`a Pages frame of ${payload.length} bytes for ${n} pages`);
  for (let i = 0; i < n; i++) {
    const p = dv.getUint32(12 + i * (4 + PAGE), true);
    if (p >= memPages) throw new ProtocolError(`a Pages frame writes page ${p} of a ${memPages}-page memory`);
  }
  return {
    memIndex,
    memPages,
    forEach(write) {
      for (let i = 0; i < n; i++) {
        const at = 12 + i * (4 + PAGE);
        write(dv.getUint32(at, true), payload.subarray(at + 4, at + 4 + PAGE));
      }
    },
  };
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** A shipped file or directory: its place (preopen guest name, relative path) and SHA-256. */
export interface FileHeader {
  dir: string;
  path: string;
  kind: 'file' | 'dir';
  sha256: string;
}

/** File frame: JSON header length u32, the header, then the contents. */
export function encodeFile(header: FileHeader, contents: Uint8Array): Uint8Array {
  const h = utf8.encode(JSON.stringify(header));
  const frame = new Uint8Array(HEAD + 4 + h.length + contents.length + TAIL);
  new DataView(frame.buffer).setUint32(HEAD, h.length, true);
  frame.set(h, HEAD + 4);
  frame.set(contents, HEAD + 4 + h.length);
  return sealFrame(frame, FrameType.File);
}

export function decodeFile(payload: Uint8Array): { header: FileHeader; contents: Uint8Array } {
  if (payload.length < 4) throw new ProtocolError('a File frame shorter than its header');
  const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, true);
  if (n > 16384 || 4 + n > payload.length) throw new ProtocolError('a File frame with a bad header length');
  let h: unknown;
  try {
    h = JSON.parse(fromUtf8.decode(payload.subarray(4, 4 + n)));
  } catch {
    throw new ProtocolError('a File frame whose header is not JSON');
  }
  const o = h as Partial<FileHeader>;
  const ok =
    h !== null && typeof h === 'object' && Object.keys(h).length === 4 &&
    typeof o.dir === 'string' && typeof o.path === 'string' && (o.kind === 'file' || o.kind === 'dir') &&
    typeof o.sha256 === 'string' && /^[0-9a-f]{64}$/.test(o.sha256);
  if (!ok) throw new ProtocolError('a File frame whose header does not match the protocol');
  return { header: o as FileHeader, contents: payload.subarray(4 + n) };
}

/** Output frame: fd u8 (1 or 2), then the bytes. */
export function encodeOutput(fd: 1 | 2, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEAD + 1 + bytes.length + TAIL);
  frame[HEAD] = fd;
  frame.set(bytes, HEAD + 1);
  return sealFrame(frame, FrameType.Output);
}

export function decodeOutput(payload: Uint8Array): { fd: 1 | 2; bytes: Uint8Array } {
  const fd = payload[0];
  if (fd !== 1 && fd !== 2) throw new ProtocolError('an Output frame for neither stdout nor stderr');
  return { fd, bytes: payload.subarray(1) };
}

/** GwData frame (the gateway's relay): conn u32 | offset u64 (two u32, LE) | bytes. */
export function encodeGwData(conn: number, offset: number, bytes: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEAD + 12 + bytes.length + TAIL);
  const v = new DataView(frame.buffer);
  v.setUint32(HEAD, conn, true);
  v.setUint32(HEAD + 4, offset % 2 ** 32, true);
  v.setUint32(HEAD + 8, Math.floor(offset / 2 ** 32), true);
  frame.set(bytes, HEAD + 12);
  return sealFrame(frame, FrameType.GwData);
}

export function decodeGwData(payload: Uint8Array): { conn: number; offset: number; bytes: Uint8Array } {
  if (payload.length < 12) throw new ProtocolError('a GwData frame shorter than its header');
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const offset = v.getUint32(4, true) + v.getUint32(8, true) * 2 ** 32;
  if (!Number.isSafeInteger(offset)) throw new ProtocolError('a GwData frame with an impossible offset');
  return { conn: v.getUint32(0, true), offset, bytes: payload.subarray(12) };
}
