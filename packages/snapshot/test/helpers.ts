import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, MachineState } from '@mvvm/interpreter';
import { sha256 } from '@mvvm/snapshot';
import { decodeHeader, encodeHeader } from '../src/header';

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

/** `snapshot`'s header over a new (uncompressed) body, every checksum recomputed: what a buggy or hostile writer makes. */
export async function reseal(snapshot: Uint8Array, body: Uint8Array): Promise<Uint8Array> {
  const { header } = decodeHeader(snapshot);
  const head = encodeHeader({ ...header, compressed: false, bodyHash: await sha256(body), storedLength: body.length, decodedLength: body.length });
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}
