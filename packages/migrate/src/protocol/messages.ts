/**
 * Control messages: small JSON payloads, each checked by its zod schema (unknown fields
 * refused) before anything acts on it. Bulk frames (Module, Pages, File, State, Output)
 * have their own binary layouts, in bulk.ts.
 */
import { z } from 'zod';
import { ProtocolError } from './errors';
import { Frame, FrameType, encodeFrame } from './frames';

export const PROTOCOL = 'mvvm-migrate';
export const PROTOCOL_VERSION = 1;

const hex = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${n}}$`));
const id = hex(32);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const conn = z.number().int().min(1).max(0xffffffff);

export const SCHEMAS = {
  [FrameType.Hello]: z.strictObject({
    protocol: z.literal(PROTOCOL),
    version: z.number().int(),
    role: z.enum(['source', 'target']),
    nonce: hex(64),
    /** Whether this side authenticates with a shared secret. */
    auth: z.boolean(),
    /** The target's proof (HMAC over both nonces), in its reply. */
    proof: hex(64).optional(),
  }),
  [FrameType.Auth]: z.strictObject({ proof: hex(64) }),
  [FrameType.AuthOk]: z.strictObject({}),
  [FrameType.Offer]: z.strictObject({
    id,
    moduleHash: hex(64),
    moduleSize: count,
    program: z.string().max(4096),
    follow: z.boolean(),
    precopy: z.boolean(),
    memories: z.array(z.strictObject({ pages: z.number().int().min(0).max(65536), max: z.number().int().min(0).max(65536).nullable() })).max(1),
    shipDirs: z.array(z.string().min(1).max(4096)).max(64),
    wasi: z.boolean(),
  }),
  [FrameType.ModuleWant]: z.strictObject({ send: z.boolean() }),
  [FrameType.Round]: z.strictObject({ round: count, pages: count }),
  [FrameType.Paused]: z.strictObject({ rounds: count }),
  [FrameType.Ready]: z.strictObject({ id }),
  [FrameType.Refuse]: z.strictObject({ reason: z.string().max(8192) }),
  [FrameType.Commit]: z.strictObject({ id }),
  [FrameType.Committed]: z.strictObject({ id }),
  [FrameType.Abort]: z.strictObject({ reason: z.string().max(8192) }),
  [FrameType.Query]: z.strictObject({ id }),
  [FrameType.Status]: z.strictObject({ id, outcome: z.enum(['committed', 'aborted', 'unknown']) }),
  [FrameType.Exit]: z.strictObject({ code: z.number().int() }),
  /** Host -> gateway: this program listens here now (or no longer); `release`: connections it never accepted. */
  [FrameType.GwListen]: z.strictObject({ program: z.string().max(4096), listening: z.boolean(), release: z.array(conn).max(4096) }),
  /** Gateway -> host: a client connected (a new connection to accept). */
  [FrameType.GwOpen]: z.strictObject({ conn, peer: z.string().max(200) }),
  /** Host -> gateway: a migrated program's accepted socket goes on here, from these byte counts. */
  [FrameType.GwAttach]: z.strictObject({ conn, received: count, sent: count }),
  /** Either way: the sender's byte stream of `conn` ends after `at` bytes. */
  [FrameType.GwEnd]: z.strictObject({ conn, at: count }),
  /** Host -> gateway: the guest has read `received` bytes of `conn` (the gateway may drop them). */
  [FrameType.GwAck]: z.strictObject({ conn, received: count }),
} as const;

export type ControlType = keyof typeof SCHEMAS;
export type Message<T extends ControlType> = z.infer<(typeof SCHEMAS)[T]>;

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

export function encodeMessage<T extends ControlType>(type: T, message: Message<T>): Uint8Array {
  return encodeFrame(type, utf8.encode(JSON.stringify(message)));
}

/** The frame's message if it is of type `type` and valid; else a ProtocolError naming what came instead. */
export function decodeMessage<T extends ControlType>(frame: Frame, type: T): Message<T> {
  if (frame.type !== type) throw unexpected(frame, FrameType[type]);
  let raw: unknown;
  try {
    raw = JSON.parse(fromUtf8.decode(frame.payload));
  } catch {
    throw new ProtocolError(`a ${FrameType[type]} message that is not JSON`);
  }
  const parsed = SCHEMAS[type].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtocolError(`a ${FrameType[type]} message that does not match the protocol at '${issue.path.join('.')}': ${issue.message}`);
  }
  return parsed.data as Message<T>;
}

export function unexpected(frame: Frame, wanted: string): ProtocolError {
  if (frame.type === FrameType.Refuse || frame.type === FrameType.Abort) {
    return new ProtocolError(`the peer gave up: ${decodeMessage(frame, frame.type).reason}`);
  }
  return new ProtocolError(`expected ${wanted}, got a ${FrameType[frame.type] ?? frame.type} frame`);
}

export function isMessage(frame: Frame, type: ControlType): boolean {
  return frame.type === type;
}
