/**
 * Frames: the unit of the wire protocol, over any ordered byte stream.
 *
 *   type u8 | length u32 LE | payload (length bytes) | CRC-32 u32 LE of type, length and payload
 *
 * The receiver checks `length` against the limit of `type` before it allocates anything,
 * so a hostile or broken peer cannot make it allocate more than the largest frame allowed
 * for that type. No `node:` imports (a WebSocket can carry the same frames).
 */
import { crc32 } from '@mvvm/snapshot';
import { ProtocolError } from './errors';

export enum FrameType {
  Hello = 1,
  Auth = 2,
  AuthOk = 3,
  Offer = 4,
  ModuleWant = 5,
  Module = 6,
  Pages = 7,
  Round = 8,
  Paused = 9,
  File = 10,
  State = 11,
  Ready = 12,
  Refuse = 13,
  Commit = 14,
  Committed = 15,
  Abort = 16,
  Query = 17,
  Status = 18,
  Output = 19,
  Exit = 20,
  // the gateway's control protocol (src/gateway*.ts): a host <-> `mvvm gateway`
  GwListen = 21,
  GwOpen = 22,
  GwAttach = 23,
  GwData = 24,
  GwEnd = 25,
  GwAck = 26,
}

const KiB = 1024;
const MiB = 1024 * KiB;
/** Largest payload per type. Control messages are small JSON; bulk types are bounded too. */
export const FRAME_LIMITS: Record<FrameType, number> = {
  [FrameType.Hello]: 4 * KiB,
  [FrameType.Auth]: 4 * KiB,
  [FrameType.AuthOk]: 4 * KiB,
  [FrameType.Offer]: 64 * KiB,
  [FrameType.ModuleWant]: 4 * KiB,
  [FrameType.Module]: 256 * MiB,
  [FrameType.Pages]: 12 + 64 * (4 + 65536),
  [FrameType.Round]: 4 * KiB,
  [FrameType.Paused]: 4 * KiB,
  [FrameType.File]: 256 * MiB,
  [FrameType.State]: 256 * MiB,
  [FrameType.Ready]: 4 * KiB,
  [FrameType.Refuse]: 16 * KiB,
  [FrameType.Commit]: 4 * KiB,
  [FrameType.Committed]: 4 * KiB,
  [FrameType.Abort]: 16 * KiB,
  [FrameType.Query]: 4 * KiB,
  [FrameType.Status]: 4 * KiB,
  [FrameType.Output]: 1 * MiB + 16,
  [FrameType.Exit]: 4 * KiB,
  [FrameType.GwListen]: 64 * KiB,
  [FrameType.GwOpen]: 4 * KiB,
  [FrameType.GwAttach]: 4 * KiB,
  [FrameType.GwData]: 1 * MiB + 12,
  [FrameType.GwEnd]: 4 * KiB,
  [FrameType.GwAck]: 4 * KiB,
};

export const HEAD = 5;
export const TAIL = 4;

export interface Frame {
  type: FrameType;
  payload: Uint8Array;
}

/** One frame as bytes (the payload is copied once, into the frame). */
export function encodeFrame(type: FrameType, payload: Uint8Array): Uint8Array {
  const limit = FRAME_LIMITS[type];
  if (limit === undefined) throw new ProtocolError(`unknown frame type ${type}`);
  if (payload.length > limit) throw new ProtocolError(`a ${FrameType[type]} frame of ${payload.length} bytes exceeds its limit of ${limit}`);
  const out = new Uint8Array(HEAD + payload.length + TAIL);
  out.set(payload, HEAD);
  return sealFrame(out, type);
}

/**
 * Writes the head and the CRC of a frame whose payload is already in place at
 * `frame[HEAD .. frame.length - TAIL]` (lets a sender build big payloads without a copy).
 */
export function sealFrame(frame: Uint8Array, type: FrameType): Uint8Array {
  const length = frame.length - HEAD - TAIL;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame[0] = type;
  dv.setUint32(1, length, true);
  dv.setUint32(HEAD + length, crc32(frame.subarray(0, HEAD + length)), true);
  return frame;
}

/**
 * What a peer may send before the handshake has authenticated it: only the handshake's own
 * small frames, so an unauthenticated connection can never make the receiver allocate a
 * bulk frame (up to 256 MiB each) or queue more than a few kilobytes.
 */
export const HANDSHAKE_LIMITS: Partial<Record<FrameType, number>> = {
  [FrameType.Hello]: FRAME_LIMITS[FrameType.Hello],
  [FrameType.Auth]: FRAME_LIMITS[FrameType.Auth],
  [FrameType.AuthOk]: FRAME_LIMITS[FrameType.AuthOk],
  [FrameType.Refuse]: FRAME_LIMITS[FrameType.Refuse],
};
/** Bytes that may follow AuthOk in the same chunks before the receiver has opened the reader. */
const HANDSHAKE_STASH = 64 * 1024;

/**
 * Reassembles frames from chunks as they arrive. push() returns the complete frames
 * (zero or more); a bad type, an oversized length or a CRC mismatch throws ProtocolError
 * and leaves the reader unusable (the connection is to be closed).
 */
export class FrameReader {
  private head = new Uint8Array(HEAD);
  private headFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private failed: ProtocolError | null = null;
  /** Bytes taken in so far (the byte count of a transfer). */
  received = 0;

  /** Bytes that came after an AuthOk while still in the handshake phase, kept for open(). */
  private stash: Uint8Array[] | null = null;
  private stashed = 0;

  /**
   * `handshake`: start with HANDSHAKE_LIMITS and stop at the first AuthOk; the owner calls
   * open() once the peer is authenticated, and only then are other frame types accepted.
   */
  constructor(
    private limits: Partial<Record<number, number>> = FRAME_LIMITS,
    private handshake = false,
  ) {}

  /** Ends the handshake phase: all frame types from now on, starting with the bytes kept. */
  open(): Frame[] {
    this.handshake = false;
    this.limits = FRAME_LIMITS;
    const kept = this.stash ?? [];
    this.stash = null;
    this.stashed = 0;
    const out: Frame[] = [];
    for (const c of kept) out.push(...this.take(c));
    return out;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    this.received += chunk.length;
    return this.take(chunk);
  }

  private take(chunk: Uint8Array): Frame[] {
    const out: Frame[] = [];
    let at = 0;
    try {
      if (this.stash !== null) {
        this.keep(chunk);
        return out;
      }
      while (at < chunk.length) {
        if (this.body === null) {
          const take = Math.min(HEAD - this.headFill, chunk.length - at);
          this.head.set(chunk.subarray(at, at + take), this.headFill);
          this.headFill += take;
          at += take;
          if (this.headFill < HEAD) break;
          const type = this.head[0];
          const length = new DataView(this.head.buffer).getUint32(1, true);
          const limit = this.limits[type];
          if (limit === undefined && this.handshake && FRAME_LIMITS[type as FrameType] !== undefined) {
            throw new ProtocolError(`a ${FrameType[type]} frame before the handshake ended: refused from an unauthenticated peer`);
          }
          if (limit === undefined) throw new ProtocolError(`unknown frame type ${type}: not an MVVM migration stream, or a damaged one`);
          if (length > limit) throw new ProtocolError(`a ${FrameType[type]} frame announces ${length} bytes, over its limit of ${limit}`);
          this.body = new Uint8Array(HEAD + length + TAIL); // bounded by the check above
          this.body.set(this.head, 0);
          this.bodyFill = HEAD;
        }
        const take = Math.min(this.body.length - this.bodyFill, chunk.length - at);
        this.body.set(chunk.subarray(at, at + take), this.bodyFill);
        this.bodyFill += take;
        at += take;
        if (this.bodyFill < this.body.length) break;
        const frame = this.body;
        this.body = null;
        this.headFill = 0;
        const end = frame.length - TAIL;
        const want = new DataView(frame.buffer).getUint32(end, true);
        if (crc32(frame.subarray(0, end)) !== want) throw new ProtocolError(`${FrameType[frame[0]]} frame checksum mismatch: the stream is damaged`);
        out.push({ type: frame[0], payload: frame.subarray(HEAD, end) });
        if (this.handshake && frame[0] === FrameType.AuthOk) {
          this.stash = [];
          this.keep(chunk.subarray(at));
          break;
        }
      }
    } catch (e) {
      this.failed = e as ProtocolError;
      throw e;
    }
    return out;
  }

  private keep(bytes: Uint8Array): void {
    this.stashed += bytes.length;
    if (this.stashed > HANDSHAKE_STASH) throw new ProtocolError(`over ${HANDSHAKE_STASH} bytes sent before the handshake ended`);
    if (bytes.length > 0) this.stash!.push(bytes.slice());
  }
}
