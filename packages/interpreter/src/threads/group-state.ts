/**
 * The state of a ThreadGroup as plain data: every thread's MachineState (state/machine-state.ts),
 * the shared memories once, the wait queues in order and the scheduler's position, so that a
 * restored group continues with exactly the interleaving the original would have had. A group
 * state is untrusted input: restoreGroup checks it whole (and each thread's state as
 * Machine.restore does) before it returns anything.
 */
import { RestoreError, WasmError } from '../errors';
import { MAX_PAGES, MemoryInstance, PAGE_SIZE } from '../execution/runtime';
import { ExternHandle, Store } from '../execution/store';
import type { Imports } from '../execution/instantiate';
import { Machine, MachineOptions } from '../machine';
import { MachineState, MemoryState, captureState } from '../state/machine-state';
import { isInt, isTyped } from '../state/check-state';

/** 1: the first group state. Its threads' states are MachineStates of version 3. */
export const GROUP_STATE_VERSION = 1;
/** The most threads a group state may hold (each is a machine with its own stack). */
export const MAX_GROUP_THREADS = 1024;
/** The most shared memories a group state may hold. */
export const MAX_GROUP_MEMORIES = 64;

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

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new RestoreError(`invalid group state: ${message}`);
}

/**
 * Rebuilds a group's machines from `state`: checks the group's own fields, restores the shared
 * memories, asks `provide(id, memories)` for each thread's module and imports and restores it
 * (Machine.restore's checks), then queues the waiting threads in order. Returns the machines
 * and the scheduler fields for the caller (ThreadGroup.restore) to adopt.
 */
export function restoreGroup(state: GroupState, provide: (id: number, memories: ExternHandle[]) => ThreadSource): GroupParts {
  const s = state as unknown;
  check(isObject(s), 'not an object');
  check(s.version === GROUP_STATE_VERSION, `version ${String(s.version)}, this runtime reads ${GROUP_STATE_VERSION}`);
  check(isInt(s.quantum, 1, 1 << 30), `quantum ${String(s.quantum)}`);
  check(typeof s.clock === 'number' && Number.isFinite(s.clock) && s.clock >= 0, `clock ${String(s.clock)}`);
  const threads = s.threads;
  check(Array.isArray(threads) && threads.length <= MAX_GROUP_THREADS, `'threads' is not a list of at most ${MAX_GROUP_THREADS}`);
  const n = threads.length;
  check(isInt(s.cursor, 0, Math.max(0, n - 1)), `cursor ${String(s.cursor)} names no thread`);
  check(isInt(s.turnLeft, 1, s.quantum as number), `turnLeft ${String(s.turnLeft)}`);
  const memories = s.memories;
  check(Array.isArray(memories) && memories.length <= MAX_GROUP_MEMORIES, `'memories' is not a list of at most ${MAX_GROUP_MEMORIES}`);
  memories.forEach((m: unknown, k) => {
    check(isObject(m) && m.shared === true, `memory ${k} is not a shared memory`);
    check(isInt(m.max, 0, MAX_PAGES) && isInt(m.pages, 0, m.max as number), `memory ${k}: ${String(m.pages)} pages of at most ${String(m.max)}`);
    check(isTyped(m.data, 'Uint8Array') && (m.data as Uint8Array).length === (m.pages as number) * PAGE_SIZE, `memory ${k}: data is not ${String(m.pages)} pages`);
  });
  const queues = s.queues;
  check(Array.isArray(queues) && queues.length === memories.length, "'queues' does not have one queue per memory");
  const queued = new Map<number, number>(); // thread id -> memory
  queues.forEach((q: unknown, k) => {
    check(Array.isArray(q), `queue ${k} is not a list`);
    for (const id of q) {
      check(isInt(id, 0, n - 1), `queue ${k} names thread ${String(id)}, which does not exist`);
      check(!queued.has(id), `thread ${id} is queued twice`);
      queued.set(id, k);
    }
  });
  threads.forEach((th: unknown, id) => {
    check(isObject(th) && isObject(th.thread) && Array.isArray(th.memories), `thread ${id} is not a machine state`);
    const t = th.thread as Record<string, unknown>;
    if (t.status !== 'waiting') {
      check(!queued.has(id), `thread ${id} is queued but not waiting`);
      return;
    }
    check(queued.has(id), `thread ${id} waits but is in no queue`);
    const w = t.wait;
    check(isObject(w) && isInt(w.memory, 0, th.memories.length - 1), `thread ${id}: its wait names no memory of it`);
    const mem = th.memories[w.memory as number] as unknown;
    check(isObject(mem) && mem.group === queued.get(id), `thread ${id} waits on another memory than the queue it is in`);
  });

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
      if (m.group === undefined) check(!machine.store.memories[i].shared, `thread ${id}: memory ${i} is shared but not one of the group's`);
    }
    return machine;
  });
  (queues as number[][]).forEach((q, k) => {
    for (const id of q) shared[k].waiters.push(machines[id].thread);
  });
  return { quantum: s.quantum as number, clock: s.clock as number, cursor: s.cursor as number, turnLeft: s.turnLeft as number, machines };
}
