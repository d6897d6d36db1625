/**
 * The state of a ThreadGroup as plain data: every thread's MachineState (state/machine-state.ts),
 * the shared memories once, the wait queues in order and the scheduler's position, so that a
 * restored group continues with exactly the interleaving the original would have had. A group
 * state is untrusted input: restoreGroup checks it whole (and each thread's state as
 * Machine.restore does) before it returns anything.
 */
import { RestoreError, WasmError } from '../errors';
import type { MemoryInstance } from '../execution/runtime';
import { ExternHandle, Store } from '../execution/store';
import type { Imports } from '../execution/instantiate';
import { Machine, MachineOptions } from '../machine';
import { MachineState, MemoryState, captureState } from '../state/machine-state';
import { checkGroupState } from '../state/check-state';

import { GROUP_STATE_VERSION } from '../state/check-state';

export interface GroupState {
  version: number;
  /** The scheduler: instructions per turn, virtual ns, whose turn it is and what is left of it. */
  quantum: number;
  clock: number;
  cursor: number;
  turnLeft: number;
  /** The shared memories of the group, each once (`shared: true`); threads name them `{ group: k }`. */
  memories: MemoryState[];
  /** Every thread by id, in the order they joined. */
  threads: MachineState[];
  /** Per shared memory: the ids of the threads waiting on it, oldest first (notify's order). */
  queues: number[][];
}

/** What ThreadGroup.restore asks for each thread: its module, and its imports linked to the restored shared memories. */
export interface ThreadSource {
  bytes: Uint8Array;
  imports?: Imports;
  options?: MachineOptions;
}

/** The scheduler fields and machines of a group, as group-state reads and writes them. */
export interface GroupParts {
  quantum: number;
  clock: number;
  cursor: number;
  turnLeft: number;
  machines: readonly Machine[];
}

/** Captures a group between steps. */
export function captureGroup(g: GroupParts): GroupState {
  const memories: MemoryInstance[] = [];
  for (const m of g.machines) {
    if (m.thread.hostCallDepth > 0) throw new WasmError('cannot snapshot a group while a thread is inside a host function');
    for (const mem of m.store.memories) if (mem.shared && !memories.includes(mem)) memories.push(mem);
  }
  const idOf = new Map(g.machines.map((m, id) => [m.thread, id]));
  const queues = memories.map((mem) =>
    mem.waiters.map((t) => {
      const id = idOf.get(t);
      if (id === undefined) throw new WasmError('a thread outside the group waits on one of its shared memories');
      return id;
    }),
  );
  return {
    version: GROUP_STATE_VERSION,
    quantum: g.quantum,
    clock: g.clock,
    cursor: g.cursor,
    turnLeft: g.turnLeft,
    memories: memories.map((m) => ({ pages: m.pages, max: m.max, shared: true, data: m.u8.slice() })),
    threads: g.machines.map((m) => captureState(m.store, m.instance, false, (mem) => memories.indexOf(mem))),
    queues,
  };
}

/**
 * Rebuilds a group's machines from `state`: checks the group's own fields, restores the shared
 * memories, asks `provide(id, memories)` for each thread's module and imports and restores it
 * (Machine.restore's checks), then queues the waiting threads in order. Returns the machines
 * and the scheduler fields for the caller (ThreadGroup.restore) to adopt.
 */
export function restoreGroup(state: GroupState, provide: (id: number, memories: ExternHandle[]) => ThreadSource): GroupParts {
  checkGroupState(state as unknown);
  const { threads, memories, queues } = state;
  // The group's checks passed: build (a thread's own checks may still refuse; nothing is returned then).
  const holder = new Store({ stackSlots: 1, maxCallDepth: 1 });
  const handles = (memories as MemoryState[]).map((m) => {
    const h = holder.createMemory(m.pages, m.max, true);
    holder.memories[h.addr].u8.set(m.data);
    return h;
  });
  const shared = handles.map((h) => holder.memories[h.addr]);
  const machines = (threads as MachineState[]).map((th, id) => {
    const src = provide(id, handles);
    const machine = Machine.restoreSync(src.bytes, th, src.imports ?? {}, src.options ?? {}, shared);
    for (const [i, m] of th.memories.entries()) {
      if (m.group === undefined && machine.store.memories[i].shared) {
        throw new RestoreError(`invalid group state: thread ${id}: memory ${i} is shared but not one of the group's`);
      }
    }
    return machine;
  });
  (queues as number[][]).forEach((q, k) => {
    for (const id of q) shared[k].waiters.push(machines[id].thread);
  });
  return { quantum: state.quantum, clock: state.clock, cursor: state.cursor, turnLeft: state.turnLeft, machines };
}
