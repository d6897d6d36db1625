/**
 * What a snapshot body may hold, derived from the module it is for (or, without one, from
 * the format's own caps), and the check of a decoded body against it. It runs on the
 * decoded CBOR, before any memory or table is built from it, and the decoded length in the
 * header is checked against `maxDecodedLength` before the body is inflated: a small file
 * cannot make the loader allocate more than the module could ever use.
 */
import { MAX_GROUP_THREADS, MAX_LIMITS, MAX_PAGES, MAX_TABLE_ENTRIES, ValType, decodeModule, entityTypes } from '@mvvm/interpreter';
import { sha256 } from './checksum';
import { InvalidSnapshotError } from './errors';
import { PAGE } from './pages';
import type { GroupBody, MachineBody } from './schema';

interface Range {
  min: number;
  max: number;
}

export interface SnapshotBounds {
  /** SHA-256 of the module: a snapshot of another module is refused first. Absent: any module. */
  moduleHash?: Uint8Array;
  /** Per memory: pages allowed and the declared maximum (null: none). Absent: any count. */
  memories?: Array<Range & { declared: number | null }>;
  tables?: Array<Range & { declared: number | null; elemType: 'funcref' | 'externref' }>;
  globals?: number;
  /** Pages of all memories together, tables entries of all tables together. */
  totalPages: number;
  totalEntries: number;
  /** Largest decoded (inflated) body that can hold a state within these bounds. */
  maxDecodedLength: number;
  /** Threads a snapshot of a group may hold (1 for a module that imports no shared memory); absent: the format's cap. */
  maxThreads?: number;
}

/** Room for everything not sized by the module: WASI state, meta, externs, CBOR framing. */
const OTHER_BYTES = 64 << 20;
/** Per stored page beside its 64 KiB: byte-string head, index and zeroed-list entries. */
const PAGE_OVERHEAD = 16;
/** Thread stack and frames at the largest limits a state may ask for. */
const THREAD_BYTES = 8 * MAX_LIMITS.stackSlots + 4 * 3 * (MAX_LIMITS.maxCallDepth + 1);
/**
 * The stacks and frames of all the threads of a group together (format version 3): four
 * threads at the largest limits, or any number of threads of ordinary depth.
 */
const GROUP_THREAD_BYTES = 4 * THREAD_BYTES;

function decodedLimit(pages: number, entries: number, globals: number, threads = 1): number {
  const threadBytes = threads > 1 ? GROUP_THREAD_BYTES + threads * (4 * entries + 8 * globals + 1024) : THREAD_BYTES + 4 * entries + 8 * globals;
  return OTHER_BYTES + threadBytes + pages * (PAGE + PAGE_OVERHEAD);
}

/** The format's caps, for reading a snapshot without its module (`inspect`): at most 4 GiB of memory in all. */
export const FORMAT_BOUNDS: SnapshotBounds = {
  totalPages: MAX_PAGES,
  totalEntries: MAX_TABLE_ENTRIES,
  maxDecodedLength: decodedLimit(MAX_PAGES, MAX_TABLE_ENTRIES, 1 << 20, MAX_GROUP_THREADS),
};

/** The bounds a snapshot of `moduleBytes` must stay within. Throws the interpreter's MalformedError for bytes that are no module. */
export async function snapshotBounds(moduleBytes: Uint8Array): Promise<SnapshotBounds> {
  const types = entityTypes(decodeModule(moduleBytes));
  const memories = types.memories.map((m) => ({ min: m.limits.min, max: Math.min(m.limits.max ?? MAX_PAGES, MAX_PAGES), declared: m.limits.max ?? null }));
  const tables = types.tables.map((t) => ({
    min: t.limits.min,
    max: Math.min(t.limits.max ?? MAX_TABLE_ENTRIES, MAX_TABLE_ENTRIES),
    declared: t.limits.max ?? null,
    elemType: t.elemType === ValType.FuncRef ? ('funcref' as const) : ('externref' as const),
  }));
  const totalPages = memories.reduce((n, m) => n + m.max, 0);
  const totalEntries = tables.reduce((n, t) => n + t.max, 0);
  // Threads (wasi-threads: instances of this module on its shared memory) only for a module that can share one.
  const maxThreads = types.memories.some((m) => m.shared === true) ? MAX_GROUP_THREADS : 1;
  return {
    moduleHash: await sha256(moduleBytes),
    memories,
    tables,
    globals: types.globals.length,
    totalPages,
    totalEntries,
    maxDecodedLength: decodedLimit(totalPages, totalEntries, types.globals.length, maxThreads),
    maxThreads,
  };
}

/** Refuses a decoded (schema-checked) machine body that holds more than `b` allows. Allocates nothing. */
export function checkBodyBounds(body: MachineBody, b: SnapshotBounds): void {
  const bad = (msg: string): never => {
    throw new InvalidSnapshotError(`snapshot body: ${msg}`);
  };
  if (b.memories && body.memories.length !== b.memories.length) bad(`${body.memories.length} memories, the module has ${b.memories.length}`);
  let pages = 0;
  body.memories.forEach((m, i) => {
    const want = b.memories?.[i];
    if (want && (m.pages < want.min || m.pages > want.max)) bad(`memory ${i} has ${m.pages} pages, the module allows ${want.min} to ${want.max}`);
    if (want && m.max !== want.declared) bad(`memory ${i}: maximum ${m.max} differs from the module's ${want.declared}`);
    if (m.indices.length / 4 > m.pages) bad(`memory ${i} stores ${m.indices.length / 4} pages of ${m.pages}`);
    pages += m.pages;
  });
  if (pages > b.totalPages) bad(`${pages} pages of memory in all, at most ${b.totalPages}`);
  checkFields(body, b, bad);
}

/** The checks of a machine body that do not concern memory (tables, globals, stack, frames). */
function checkFields(body: Omit<MachineBody, 'memories'>, b: SnapshotBounds, bad: (msg: string) => never): void {
  if (b.tables && body.tables.length !== b.tables.length) bad(`${body.tables.length} tables, the module has ${b.tables.length}`);
  let entries = 0;
  body.tables.forEach((t, i) => {
    const want = b.tables?.[i];
    if (want && (t.size < want.min || t.size > want.max)) bad(`table ${i} has ${t.size} entries, the module allows ${want.min} to ${want.max}`);
    if (want && (t.max !== want.declared || t.elemType !== want.elemType)) bad(`table ${i}: type or maximum differs from the module's`);
    if (t.elements.length !== 4 * t.size) bad(`table ${i}: elements do not match its size ${t.size}`);
    entries += t.size;
  });
  if (entries > b.totalEntries) bad(`${entries} table entries in all, at most ${b.totalEntries}`);
  if (b.globals !== undefined && body.globals.length !== 8 * b.globals) bad(`globals hold ${body.globals.length / 8} values, the module has ${b.globals}`);
  const { stack, frames } = body.thread;
  if (stack.length > 8 * body.limits.stackSlots) bad(`the stack holds more than its limit of ${body.limits.stackSlots} slots`);
  if (frames.length > 12 * body.limits.maxCallDepth) bad(`more frames than the call depth limit ${body.limits.maxCallDepth}`);
}

/**
 * Refuses a decoded group part (format version 3) that does not fit the module, or whose
 * threads name memories the body does not hold. `main` is the body's machine (thread 0,
 * holding the group's memories). Allocates nothing.
 */
export function checkGroupBounds(group: GroupBody, main: MachineBody, b: SnapshotBounds): void {
  const bad = (msg: string): never => {
    throw new InvalidSnapshotError(`snapshot body: ${msg}`);
  };
  if (b.maxThreads !== undefined && group.threads.length > b.maxThreads) bad(`${group.threads.length} threads, at most ${b.maxThreads}`);
  if (main.memories.some((m) => m.shared !== true)) bad("a thread group's memories must all be shared");
  if (group.queues.length !== main.memories.length) bad(`${group.queues.length} wait queues for ${main.memories.length} shared memories`);
  let stackBytes = 0;
  group.threads.forEach((t, id) => {
    if (b.memories && t.memories.length !== b.memories.length) bad(`thread ${id} has ${t.memories.length} memories, the module has ${b.memories.length}`);
    t.memories.forEach((m, i) => {
      const shared = main.memories[m.group];
      if (shared === undefined) bad(`thread ${id}: memory ${i} names shared memory ${m.group}, which the snapshot does not hold`);
      else if (shared.pages !== m.pages || shared.max !== m.max) bad(`thread ${id}: memory ${i} differs in size from shared memory ${m.group}`);
    });
    checkFields(t, b, (msg) => bad(`thread ${id}: ${msg}`));
    stackBytes += t.thread.stack.length + t.thread.frames.length;
  });
  if (stackBytes > GROUP_THREAD_BYTES) bad(`the threads' stacks hold ${stackBytes} bytes in all, at most ${GROUP_THREAD_BYTES}`);
}
