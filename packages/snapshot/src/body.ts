/**
 * MachineState <-> the body's plain data. Everything but linear memory is stored whole
 * (it is small); memory goes page-wise through pages.ts.
 */
import type { GroupState, MachineState } from '@mvvm/interpreter';
import { int32FromLE, int32ToLE, uint32FromLE } from './little-endian';
import { PAGE, StoredMemory, applyStoredMemory, checkStoredMemory, storeMemory } from './pages';
import type { GroupBody, MachineBodyV1 } from './schema';
import { SnapshotError } from './errors';

/** A decoded machine body: the state without memory contents, and memory as stored pages. */
export interface PartialState {
  state: Omit<MachineState, 'memories'>;
  memories: StoredMemory[];
  /** Which memories are shared (machine state version 3), when any is. */
  shared?: boolean[];
}

/** `dirty[i]`: pages of memory i written since the base; undefined for a full snapshot. */
export function machineToBody(state: MachineState, dirty?: number[][]): MachineBodyV1 {
  return {
    ...fieldsToBody(state),
    memories: state.memories.map((m, i) => {
      const s = storeMemory(m.data, m.pages, m.max, dirty?.[i]);
      return { pages: s.pages, max: s.max, indices: int32ToLE(s.indices), data: s.data, zeroed: int32ToLE(s.zeroed), ...(m.shared ? { shared: true } : {}) };
    }),
  };
}

/** Everything of a machine state but its memories. */
function fieldsToBody(state: Omit<MachineState, 'memories'>): Omit<MachineBodyV1, 'memories'> {
  const t = state.thread;
  return {
    version: state.version,
    translatorVersion: state.translatorVersion,
    moduleFingerprint: state.moduleFingerprint,
    limits: { stackSlots: state.limits.stackSlots, maxCallDepth: state.limits.maxCallDepth },
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

function fieldsFromBody(b: Omit<MachineBodyV1, 'memories'>): Omit<MachineState, 'memories'> {
  return {
    ...b,
    tables: b.tables.map((tb) => ({ elemType: tb.elemType, size: tb.size, max: tb.max ?? undefined, elements: int32FromLE(tb.elements) })),
    globals: int32FromLE(b.globals),
    globalsHigh: b.globalsHigh === undefined ? undefined : int32FromLE(b.globalsHigh),
    thread: { ...b.thread, frames: int32FromLE(b.thread.frames), stack: int32FromLE(b.thread.stack) },
  };
}

export function bodyToPartial(b: MachineBodyV1): PartialState {
  const memories = b.memories.map((m, i) => {
    const s: StoredMemory = { pages: m.pages, max: m.max, indices: uint32FromLE(m.indices), data: m.data, zeroed: uint32FromLE(m.zeroed) };
    checkStoredMemory(s, `memory ${i}`);
    return s;
  });
  const { memories: _, ...rest } = b;
  return { memories, state: fieldsFromBody(rest), ...(b.memories.some((m) => m.shared) ? { shared: b.memories.map((m) => m.shared === true) } : {}) };
}

/**
 * A group's state as a body (format version 3): thread 0's state holding the group's shared
 * memories (stored page-wise like any machine's), and the group part with every thread's state
 * without memory contents. Thread 0's memories must be the group's, in order: so they are in
 * a wasi-threads program (one imported shared memory).
 */
export function groupToBody(g: GroupState): { state: MachineState; group: GroupBody } {
  const main = g.threads[0];
  if (main === undefined) throw new SnapshotError('a thread group with no thread');
  if (main.memories.length !== g.memories.length || main.memories.some((m, k) => m.group !== k)) {
    throw new SnapshotError("this format stores a thread group whose first thread's memories are the group's shared memories, in order");
  }
  return {
    state: { ...main, memories: g.memories },
    group: {
      version: g.version,
      quantum: g.quantum,
      clock: g.clock,
      cursor: g.cursor,
      turnLeft: g.turnLeft,
      queues: g.queues.map((q) => [...q]),
      threads: g.threads.map((t) => ({
        ...fieldsToBody(t),
        memories: t.memories.map((m) => {
          if (m.group === undefined) throw new SnapshotError('this format stores a thread group whose threads have only the shared memories of the group');
          return { pages: m.pages, max: m.max ?? null, group: m.group };
        }),
      })),
    },
  };
}

/** A decoded group part: every thread's state, its memories naming the group's (no bytes). */
export type PartialGroup = Omit<GroupState, 'memories'>;

export function bodyToGroup(b: GroupBody): PartialGroup {
  return {
    version: b.version,
    quantum: b.quantum,
    clock: b.clock,
    cursor: b.cursor,
    turnLeft: b.turnLeft,
    queues: b.queues,
    threads: b.threads.map(({ memories, ...rest }) => ({
      ...fieldsFromBody(rest),
      memories: memories.map((m) => ({ pages: m.pages, max: m.max ?? undefined, shared: true, group: m.group, data: new Uint8Array(0) })),
    })),
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
    return { pages: m.pages, max: m.max ?? undefined, data, ...(last.shared?.[i] ? { shared: true } : {}) };
  });
  return { ...last.state, memories };
}
