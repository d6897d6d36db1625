import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, MachineState } from '@mvvm/interpreter';
import { Decoder, Encoder } from 'cbor-x';
import { PAGE, sha256 } from '@mvvm/snapshot';
import { decodeHeader, encodeHeader } from '../src/header';
import { layOutBody, splitBody } from '../src/layout';

/** A plain Uint8Array copy: Buffer#slice shares memory, which a test that alters a copy must not. */
export const PAGES_WASM = new Uint8Array(readFileSync(join(__dirname, 'programs', 'pages.wasm')));
export const ROUNDS = 12;

/** The uninterrupted run: result and instruction count. */
export async function reference(rounds = ROUNDS): Promise<{ result: unknown; total: number }> {
  const m = await Machine.instantiate(PAGES_WASM);
  m.begin('run', [rounds]);
  const r = m.step(Infinity);
  return { result: r.results![0], total: m.instructionCount };
}

export async function startedAt(count: number, rounds = ROUNDS): Promise<Machine> {
  const m = await Machine.instantiate(PAGES_WASM);
  m.begin('run', [rounds]);
  if (count > 0) m.step(count);
  return m;
}

export function finish(m: Machine): { result: unknown; total: number } {
  const r = m.step(Infinity);
  return { result: r.results![0], total: m.instructionCount };
}

/** Deterministic pseudo-random numbers (xorshift32), so a failing fuzz case can be replayed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}

/** States equal, memories compared as buffers (jest's toEqual walks typed arrays element by element: too slow for MiBs). */
export function expectSameState(actual: MachineState, expected: MachineState): void {
  expect(actual.memories.length).toBe(expected.memories.length);
  actual.memories.forEach((m, i) => {
    expect(m.pages).toBe(expected.memories[i].pages);
    expect(Buffer.compare(m.data, expected.memories[i].data)).toBe(0);
  });
  expect({ ...actual, memories: [] }).toEqual({ ...expected, memories: [] });
}

/** One value of a decoded body, with its path and a way to replace or remove it. */
export type BodySlot = { path: string; inList: boolean; get: () => unknown; set: (v: unknown) => void; drop: () => void };

/** Every value in a decoded body (memory page contents excluded: any bytes are valid there). */
export function bodySlots(node: unknown, path = '', out: BodySlot[] = []): BodySlot[] {
  if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) return out;
  const container = node as Record<string, unknown>;
  for (const key of Object.keys(container)) {
    const isArray = Array.isArray(container);
    const here = `${path}.${key}`;
    out.push({
      path: here,
      inList: isArray,
      get: () => container[key],
      set: (v) => (container[key] = v),
      drop: () => (isArray ? (container as unknown as unknown[]).splice(Number(key), 1) : delete container[key]),
    });
    if (key !== 'data') bodySlots(container[key], here, out);
  }
  return out;
}

const treeDecoder = new Decoder({ mapsAsObjects: true });
const treeEncoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });

/**
 * A decoded (uncompressed) format-version-2 body as one tree, each memory's stored pages
 * back in its `data` list, as version 1 held them: what a test alters.
 */
export function treeOf(plain: Uint8Array, headerLength: number): any {
  const { cbor, hashedLength } = splitBody(plain, headerLength);
  const tree = treeDecoder.decode(cbor);
  let at = hashedLength;
  for (const m of tree.machine.memories) m.data = Array.from({ length: m.indices.length / 4 }, () => plain.slice(at, (at += PAGE)));
  return tree;
}

/**
 * The version-2 body of a tree as treeOf() gives it, page checksums recomputed. A tree whose
 * `data` is not a list of 64 KiB byte strings keeps it in the CBOR part and holds no pages
 * (which the format refuses unless no page is listed).
 */
export function plainOf(tree: any, headerLength: number): Uint8Array {
  const memories = tree?.machine?.memories;
  const pagesOk = Array.isArray(memories) && memories.every((m: any) => Array.isArray(m?.data) && m.data.every((d: unknown) => d instanceof Uint8Array && d.length === PAGE));
  if (pagesOk) {
    const laid = layOutBody(tree, headerLength, (v) => treeEncoder.encode(v));
    const out = new Uint8Array(laid.length);
    laid.write(out, 0);
    return out;
  }
  const cbor = treeEncoder.encode(tree);
  const out = new Uint8Array(16 + cbor.length + ((8 - ((headerLength + 16 + cbor.length) % 8)) % 8));
  new DataView(out.buffer).setBigUint64(0, BigInt(cbor.length), true);
  out.set(cbor, 16);
  return out;
}

/** `snapshot`'s header over a new (uncompressed) body, every checksum recomputed: what a buggy or hostile writer makes. */
export async function reseal(snapshot: Uint8Array, body: Uint8Array): Promise<Uint8Array> {
  const { header, length } = decodeHeader(snapshot);
  let hashed = body; // version 1, or a body too damaged to split (refused anyway)
  if (header.formatVersion >= 2) {
    try {
      hashed = body.subarray(0, splitBody(body, length).hashedLength);
    } catch {
      // keep the whole body
    }
  }
  const head = encodeHeader({ ...header, compressed: false, bodyHash: await sha256(hashed), storedLength: body.length, decodedLength: body.length });
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
