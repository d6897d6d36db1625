/**
 * MachineState <-> the body's plain data. Everything but linear memory is stored whole
 * (it is small); memory goes page-wise through pages.ts.
 */
import type { MachineState } from '@mvvm/interpreter';
import { int32FromLE, int32ToLE, uint32FromLE } from './little-endian';
import { PAGE, StoredMemory, applyStoredMemory, checkStoredMemory, storeMemory } from './pages';
import type { MachineBodyV1 } from './schema';
import { SnapshotError } from './errors';

/** A decoded machine body: the state without memory contents, and memory as stored pages. */
export interface PartialState {
  state: Omit<MachineState, 'memories'>;
  memories: StoredMemory[];
}

/** `dirty[i]`: pages of memory i written since the base; undefined for a full snapshot. */
export function machineToBody(state: MachineState, dirty?: number[][]): MachineBodyV1 {
  const t = state.thread;
  return {
    version: state.version,
    translatorVersion: state.translatorVersion,
    moduleFingerprint: state.moduleFingerprint,
    limits: { stackSlots: state.limits.stackSlots, maxCallDepth: state.limits.maxCallDepth },
    memories: state.memories.map((m, i) => {
      const s = storeMemory(m.data, m.pages, m.max, dirty?.[i]);
      return { pages: s.pages, max: s.max, indices: int32ToLE(s.indices), data: s.data, zeroed: int32ToLE(s.zeroed) };
    }),
    tables: state.tables.map((tb) => ({ elemType: tb.elemType, size: tb.size, max: tb.max ?? null, elements: int32ToLE(tb.elements) })),
    globals: int32ToLE(state.globals),
    ...(state.globalsHigh !== undefined ? { globalsHigh: int32ToLE(state.globalsHigh) } : {}),
    droppedElems: state.droppedElems,
    droppedDatas: state.droppedDatas,
    externs: state.externs,
    deterministic: state.deterministic === true,
    thread: { ...t, frames: int32ToLE(t.frames), stack: int32ToLE(t.stack) },
  };
}

export function bodyToPartial(b: MachineBodyV1): PartialState {
  const memories = b.memories.map((m, i) => {
    const s: StoredMemory = { pages: m.pages, max: m.max, indices: uint32FromLE(m.indices), data: m.data, zeroed: uint32FromLE(m.zeroed) };
    checkStoredMemory(s, `memory ${i}`);
    return s;
  });
  const { memories: _, ...rest } = b;
  return {
    memories,
    state: {
      ...rest,
      tables: b.tables.map((tb) => ({ elemType: tb.elemType, size: tb.size, max: tb.max ?? undefined, elements: int32FromLE(tb.elements) })),
      globals: int32FromLE(b.globals),
      globalsHigh: b.globalsHigh === undefined ? undefined : int32FromLE(b.globalsHigh),
      thread: { ...b.thread, frames: int32FromLE(b.thread.frames), stack: int32FromLE(b.thread.stack) },
    },
  };
}

/**
 * The full state from a chain of partial states, oldest (the full snapshot) first. The
 * caller has checked that memory counts match and sizes never shrink along the chain.
 */
export function assembleState(chain: PartialState[]): MachineState {
  const last = chain[chain.length - 1];
  const memories = last.memories.map((m, i) => {
    let data: Uint8Array;
    try {
      data = new Uint8Array(m.pages * PAGE); // within the bounds checked at decoding
    } catch {
      throw new SnapshotError(`cannot allocate memory ${i} (${m.pages} pages) on this host`);
    }
    for (const link of chain) applyStoredMemory(data, link.memories[i]);
    return { pages: m.pages, max: m.max ?? undefined, data };
  });
  return { ...last.state, memories };
}
