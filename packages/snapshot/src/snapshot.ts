/**
 * Snapshot files: encode a machine state (plus opaque WASI state) into bytes, decode and
 * check bytes, resolve an incremental chain into one state. No I/O and nothing Node-only:
 * this runs in a browser as it does in Node.
 */
import type { Decoder, Encoder } from 'cbor-x';
import type { GroupState, MachineState } from '@mvvm/interpreter';
import { PartialGroup, PartialState, assembleState, bodyToGroup, bodyToPartial, groupToBody, machineToBody } from './body';
import { sameBytes, sha256, toHex } from './checksum';
import { Codec, streamCodec } from './codec';
import {
  ChainOrderError,
  CorruptSnapshotError,
  InvalidSnapshotError,
  MissingBaseError,
  SnapshotError,
  TruncatedSnapshotError,
  WrongModuleError,
} from './errors';
import { FORMAT_BOUNDS, SnapshotBounds, checkBodyBounds, checkGroupBounds } from './bounds';
import { FORMAT_VERSION, GROUP_FORMAT_VERSION, Header, decodeHeader, encodeHeader, headerLength as headLength } from './header';
import { attachPages, layOutBody, splitBody } from './layout';
import type { BodyV1, BodyV2, GroupBody } from './schema';

export const PRODUCER = 'mvvm-ts/0.1.0';
const NO_BASE = new Uint8Array(32);
const short = (id: Uint8Array) => toHex(id).slice(0, 16);

let cbor: Promise<{ encoder: Encoder; decoder: Decoder }> | undefined;
/**
 * cbor-x (with its native helper) and the zod schema load on first use, so that starting
 * a program that never takes or reads a snapshot (`mvvm run`) does not pay for them.
 * Standard CBOR only (no cbor-x record extension), so any CBOR reader can read the body.
 */
function cborCodec(): Promise<{ encoder: Encoder; decoder: Decoder }> {
  cbor ??= import('cbor-x').then(({ Decoder, Encoder }) => ({
    encoder: new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true }),
    decoder: new Decoder({ useRecords: false, mapsAsObjects: true }),
  }));
  return cbor;
}

/** Loads the codec and the schema now (they load on first use otherwise): a migration does this before it pauses the program. */
export async function prepareCodec(): Promise<void> {
  await cborCodec();
  await import('./schema');
}

export interface SnapshotContent {
  /** A single machine's state; with `group`, leave it out. */
  state?: MachineState;
  /** A thread group's state (wasi-threads): written as format version 3. */
  group?: GroupState;
  /** The WASI state as plain data (undefined for a module without WASI). */
  wasi?: unknown;
  /** Facts for `inspect` only: never needed to restore. */
  meta?: Record<string, unknown>;
}

export interface EncodeOptions {
  /** SHA-256 of the module bytes (see moduleHash()). */
  moduleHash: Uint8Array;
  /** Makes the snapshot incremental: only the pages in `dirty[memory]` are stored. */
  base?: { id: Uint8Array; dirty: number[][] };
  compress?: boolean;
  codec?: Codec;
  producer?: string;
}

export interface EncodedSnapshot {
  bytes: Uint8Array;
  /** The snapshot's id, by which an incremental snapshot names its base. */
  id: Uint8Array;
  header: Header;
}

export interface DecodedSnapshot {
  id: Uint8Array;
  header: Header;
  /** With a group: its thread 0, holding the group's memories. */
  machine: PartialState;
  /** Format version 3: the thread group, without memory contents. */
  group?: PartialGroup;
  wasi: unknown;
  meta: Record<string, unknown>;
}

/** A chain resolved into one complete state. */
export interface ResolvedSnapshot {
  /** With a group: its thread 0's state holding the group's memories (what `inspect` shows). */
  state: MachineState;
  /** The whole thread group, when the snapshot is of one (restore it with ThreadGroup.restore). */
  group?: GroupState;
  wasi: unknown;
  meta: Record<string, unknown>;
  moduleHash: Uint8Array;
  /** Id of the newest link: the base for the next incremental snapshot. */
  id: Uint8Array;
  chain: DecodedSnapshot[];
}

export function moduleHash(moduleBytes: Uint8Array): Promise<Uint8Array> {
  return sha256(moduleBytes);
}

export async function encodeSnapshot(content: SnapshotContent, options: EncodeOptions): Promise<EncodedSnapshot> {
  return finishEncoding(layOutSnapshot(content, options, (await cborCodec()).encoder), options);
}

/** A snapshot whose stored pages are copied, not yet hashed or compressed. */
export interface LaidOutSnapshot {
  formatVersion: number;
  /** The whole file with room for the header (uncompressed), or the plain body (to compress). */
  bytes: Uint8Array;
  headerLength: number;
  hashedLength: number;
  producer: string;
}

/**
 * The synchronous part of encoding: every stored page is read once (its checksum) and
 * copied once (into the file's bytes). When it returns, `content.state`'s memory is no
 * longer needed: a state with shared memory (Machine#snapshot({ shareMemory: true }))
 * may run on afterwards.
 */
export function layOutSnapshot(content: SnapshotContent, options: EncodeOptions, encoder: Encoder): LaidOutSnapshot {
  const split = content.group ? groupToBody(content.group) : null;
  const state = split?.state ?? content.state;
  if (state === undefined) throw new SnapshotError('nothing to snapshot: give a machine state or a group');
  const body: BodyV1 & { group?: GroupBody } = {
    machine: machineToBody(state, options.base?.dirty),
    ...(split ? { group: split.group } : {}),
    wasi: content.wasi ?? null,
    meta: content.meta ?? {},
  };
  const producer = options.producer ?? PRODUCER;
  const headerLength = options.compress ? 0 : headLength(producer);
  const laid = layOutBody(body, headLength(producer), (v) => encoder.encode(v));
  const bytes = new Uint8Array(headerLength + laid.length);
  laid.write(bytes, headerLength);
  return { bytes, headerLength, hashedLength: laid.hashedLength, producer, formatVersion: split ? GROUP_FORMAT_VERSION : FORMAT_VERSION };
}

async function finishEncoding(laid: LaidOutSnapshot, options: EncodeOptions): Promise<EncodedSnapshot> {
  const plain = laid.bytes.subarray(laid.headerLength);
  // Compressed, the hash covers the stored (deflated) bytes, as in version 1: compression
  // costs more than hashing, and a change to the deflate stream that inflates the same is still caught.
  const stored = options.compress ? await (options.codec ?? streamCodec).compress(plain) : plain;
  const header = {
    formatVersion: laid.formatVersion,
    compressed: !!options.compress,
    incremental: !!options.base,
    moduleHash: options.moduleHash,
    baseId: options.base?.id ?? NO_BASE,
    bodyHash: await sha256(options.compress ? stored : plain.subarray(0, laid.hashedLength)),
    storedLength: stored.length,
    decodedLength: plain.length,
    producer: laid.producer,
  };
  const head = encodeHeader(header);
  let bytes = laid.bytes;
  if (options.compress) {
    bytes = new Uint8Array(head.length + stored.length);
    bytes.set(stored, head.length);
  }
  bytes.set(head, 0);
  return { bytes, id: await sha256(head), header };
}

/**
 * Encodes a state taken now by `capture` (which may share the machine's memory): the codec
 * is loaded first, so that nothing runs between the capture and the copy of the pages;
 * `copied` runs right after the copy (to clear dirty marks), before anything else can.
 */
export async function encodeCaptured(capture: () => { content: SnapshotContent; options: EncodeOptions }, copied?: () => void): Promise<EncodedSnapshot> {
  const { encoder } = await cborCodec();
  const { content, options } = capture();
  const laid = layOutSnapshot(content, options, encoder);
  copied?.();
  return finishEncoding(laid, options);
}

/** Reads only the header (cheap: no body hashing or decoding). */
export function readHeader(bytes: Uint8Array): Header {
  return decodeHeader(bytes).header;
}

/**
 * Checks and decodes one snapshot. Throws a SnapshotError subclass for every kind of bad
 * input; returns data only, never a machine.
 */
export interface DecodeOptions {
  codec?: Codec;
  /**
   * What the body may hold: snapshotBounds(moduleBytes) when the module is known (always,
   * to restore); without it only the format's caps apply (FORMAT_BOUNDS).
   */
  bounds?: SnapshotBounds;
}

export async function decodeSnapshot(bytes: Uint8Array, options: DecodeOptions = {}): Promise<DecodedSnapshot> {
  const { header, length } = decodeHeader(bytes);
  const bounds = options.bounds ?? FORMAT_BOUNDS;
  if (bounds.moduleHash && !sameBytes(bounds.moduleHash, header.moduleHash)) {
    throw new WrongModuleError(`the snapshot belongs to another module (sha256 ${short(header.moduleHash)}…, this module is ${short(bounds.moduleHash)}…)`);
  }
  // Before anything is read or inflated: the header's decoded length is only a claim.
  if (header.decodedLength > bounds.maxDecodedLength) {
    throw new InvalidSnapshotError(`snapshot body claims ${header.decodedLength} bytes decoded, more than a snapshot of this module can hold (${bounds.maxDecodedLength})`);
  }
  if (!header.compressed && header.decodedLength !== header.storedLength) throw new CorruptSnapshotError('snapshot body length differs from its header');
  const end = length + header.storedLength;
  if (bytes.length < end) throw new TruncatedSnapshotError(`snapshot truncated: ${bytes.length} bytes of ${end}`);
  if (bytes.length > end) throw new CorruptSnapshotError(`snapshot has ${bytes.length - end} unexpected trailing bytes`);
  const stored = bytes.subarray(length, end);
  const v1 = header.formatVersion === 1;
  if ((v1 || header.compressed) && !sameBytes(await sha256(stored), header.bodyHash)) throw new CorruptSnapshotError('snapshot body checksum mismatch: the file is damaged');
  const plain = header.compressed ? await (options.codec ?? streamCodec).decompress(stored, header.decodedLength) : stored;
  if (plain.length !== header.decodedLength) throw new CorruptSnapshotError('snapshot body length differs from its header');
  let cbor = plain;
  let split: ReturnType<typeof splitBody> | undefined;
  if (!v1) {
    split = splitBody(plain, length);
    cbor = split.cbor;
    if (!header.compressed && !sameBytes(await sha256(plain.subarray(0, split.hashedLength)), header.bodyHash)) {
      throw new CorruptSnapshotError('snapshot body checksum mismatch: the file is damaged');
    }
  }

  const { decoder } = await cborCodec();
  let raw: unknown;
  try {
    raw = decoder.decode(cbor);
  } catch (e) {
    throw new InvalidSnapshotError(`snapshot body is not valid CBOR: ${(e as Error).message}`);
  }
  const { bodySchemaV1, bodySchemaV2, bodySchemaV3 } = await import('./schema'); // on first use, as cborCodec()
  const parsed = (v1 ? bodySchemaV1 : header.formatVersion === 2 ? bodySchemaV2 : bodySchemaV3).safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidSnapshotError(`snapshot body does not match the format at '${issue.path.join('.')}': ${issue.message}`);
  }
  checkBodyBounds(parsed.data.machine, bounds);
  const groupBody = (parsed.data as { group?: GroupBody }).group;
  if (groupBody) checkGroupBounds(groupBody, parsed.data.machine, bounds);
  if (!header.incremental && parsed.data.machine.memories.some((m) => m.zeroed.length > 0)) {
    throw new InvalidSnapshotError('snapshot body: a full snapshot lists zeroed pages (only an incremental one has a base to clear)');
  }
  // Bounds first: the page count is checked against the module before any page is looked at.
  const attached = split ? attachPages(parsed.data as BodyV2, plain, split) : { body: parsed.data as BodyV1, sums: undefined };
  const { body, sums } = attached;
  const machine = bodyToPartial(body.machine);
  if (sums) machine.memories.forEach((m, i) => (m.sums = sums[i]));
  return {
    id: await sha256(bytes.subarray(0, length)),
    header,
    machine,
    ...(groupBody ? { group: bodyToGroup(groupBody) } : {}),
    wasi: body.wasi,
    meta: body.meta,
  };
}

/**
 * Resolves a chain (the full snapshot first, then each incremental one in order) into
 * one state. A chain that starts incremental, skips a link or is out of order is refused.
 */
export function resolveChain(links: DecodedSnapshot[]): ResolvedSnapshot {
  if (links.length === 0) throw new SnapshotError('no snapshot given');
  const first = links[0];
  if (first.header.incremental) {
    const holder = links.find((l) => sameBytes(l.id, first.header.baseId));
    if (holder) throw new ChainOrderError(`incremental chain out of order: snapshot ${short(first.id)} comes before its base ${short(holder.id)}`);
    throw new MissingBaseError(`snapshot ${short(first.id)} is incremental and its base ${short(first.header.baseId)} is missing`);
  }
  for (let i = 1; i < links.length; i++) {
    const link = links[i];
    const prev = links[i - 1];
    if (!link.header.incremental) throw new ChainOrderError(`incremental chain out of order: link ${i} is a full snapshot`);
    if (!sameBytes(link.header.baseId, prev.id)) {
      if (links.some((l) => sameBytes(l.id, link.header.baseId))) {
        throw new ChainOrderError(`incremental chain out of order: link ${i} is not based on link ${i - 1}`);
      }
      throw new MissingBaseError(`snapshot ${short(link.id)} is based on ${short(link.header.baseId)}, which is not in the chain`);
    }
    if (!sameBytes(link.header.moduleHash, prev.header.moduleHash)) throw new WrongModuleError('the chain mixes snapshots of different modules');
    const [a, b] = [prev.machine.memories, link.machine.memories];
    if (a.length !== b.length || a.some((m, j) => b[j].pages < m.pages || b[j].max !== m.max)) {
      throw new InvalidSnapshotError(`link ${i}'s memories do not continue its base's`);
    }
  }
  const last = links[links.length - 1];
  const state = assembleState(links.map((l) => l.machine));
  return {
    state,
    ...(last.group ? { group: { ...last.group, memories: state.memories.map((m) => ({ ...m, shared: true })) } } : {}),
    wasi: last.wasi,
    meta: last.meta,
    moduleHash: last.header.moduleHash,
    id: last.id,
    chain: links,
  };
}
