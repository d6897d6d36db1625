/**
 * The body's shape, checked with zod after CBOR decoding and before anything is built.
 * Typed arrays travel as little-endian byte strings (see little-endian.ts); sizes are
 * bounded so that a damaged snapshot cannot make the loader allocate without limit.
 */
import { z } from 'zod';
import { MAX_EXTERNS, MAX_GROUP_MEMORIES, MAX_GROUP_THREADS, MAX_LIMITS, MAX_PAGES, MAX_TABLE_ENTRIES } from '@mvvm/interpreter';

/** A byte string; checked by tag, not instanceof (cbor-x may hand out a Buffer from another realm). */
const bytes = z.custom<Uint8Array>(
  (v) => ArrayBuffer.isView(v) && /^\[object (Uint8Array|Buffer)\]$/.test(Object.prototype.toString.call(v)),
  { message: 'expected a byte string' },
);
const words = bytes.refine((b) => b.length % 4 === 0, { message: 'length is not a multiple of 4' });
const int = (min: number, max: number) => z.number().int().min(min).max(max);
const u32 = int(0, 0xffffffff);
const i32 = int(-0x80000000, 0x7fffffff);

const memoryFields = {
  pages: int(0, MAX_PAGES),
  max: u32.nullable(),
  indices: words,
  zeroed: words,
  /** A shared memory (machine state version 3); absent: as the module declares it. */
  shared: z.boolean().optional(),
};
/** Format version 1: the stored pages inside the CBOR body. */
export const storedMemorySchemaV1 = z.object({ ...memoryFields, data: z.array(bytes) });
/** Format version 2: the pages follow the CBOR part (layout.ts). */
export const storedMemorySchemaV2 = z.object(memoryFields);

const machineFields = {
  version: u32,
  translatorVersion: u32,
  moduleFingerprint: z.string().max(256),
  limits: z.object({ stackSlots: int(1, MAX_LIMITS.stackSlots), maxCallDepth: int(1, MAX_LIMITS.maxCallDepth) }),
  tables: z
    .array(z.object({ elemType: z.enum(['funcref', 'externref']), size: int(0, MAX_TABLE_ENTRIES), max: u32.nullable(), elements: words }))
    .max(100_000),
  globals: words,
  /** The upper halves of v128 globals (state version 2); absent when the module has none. */
  globalsHigh: words.optional(),
  droppedElems: z.array(u32),
  droppedDatas: z.array(u32),
  externs: z.array(z.unknown()).max(MAX_EXTERNS),
  /** Canonical NaNs (Machine option `deterministic`); absent in snapshots that predate it. */
  deterministic: z.boolean().optional(),
  thread: z.object({
    status: z.enum(['idle', 'running', 'suspended', 'done', 'trapped', 'waiting']),
    /** A thread parked in memory.atomic.wait (state version 3, ThreadGroup states only). */
    wait: z.object({ memory: u32, address: u32, deadline: z.number() }).optional(),
    instructionCount: int(0, Number.MAX_SAFE_INTEGER),
    pc: i32,
    fp: u32,
    sp: u32,
    funcAddr: i32,
    entryFuncAddr: i32,
    frames: words,
    stack: words,
  }),
};
export const machineBodySchemaV1 = z.object({ ...machineFields, memories: z.array(storedMemorySchemaV1).max(1024) });
export const machineBodySchemaV2 = z.object({ ...machineFields, memories: z.array(storedMemorySchemaV2).max(1024) });


/**
 * Format version 3: a ThreadGroup (wasi-threads). Every thread's machine state without memory
 * contents: its memories name the group's shared memories (`group: k`), whose pages are the
 * body's `machine.memories` (stored once, page-wise, as any memory). Then the wait queues and
 * the scheduler's position (ThreadGroup's GroupState).
 */
export const groupBodySchema = z.object({
  version: u32,
  quantum: int(1, 1 << 30),
  clock: z.number().min(0).max(Number.MAX_SAFE_INTEGER),
  cursor: u32,
  turnLeft: u32,
  queues: z.array(z.array(u32).max(MAX_GROUP_THREADS)).max(MAX_GROUP_MEMORIES),
  threads: z
    .array(
      z.object({
        ...machineFields,
        memories: z.array(z.object({ pages: int(0, MAX_PAGES), max: u32.nullable(), group: int(0, MAX_GROUP_MEMORIES - 1) })).max(MAX_GROUP_MEMORIES),
      }),
    )
    .min(1)
    .max(MAX_GROUP_THREADS),
});

const bodyFields = {
  /** The WASI state as its package hands it out: opaque here. */
  wasi: z.unknown(),
  /** Free-form facts for `inspect` (trigger, time, base file hint); never needed to restore. */
  meta: z.record(z.string(), z.unknown()),
};
export const bodySchemaV1 = z.object({ machine: machineBodySchemaV1, ...bodyFields });
export const bodySchemaV2 = z.object({ machine: machineBodySchemaV2, ...bodyFields });
/** Version 3: version 2's body and layout, with a thread group (`machine` is then its thread 0, holding the group's memories). */
export const bodySchemaV3 = z.object({ machine: machineBodySchemaV2, group: groupBodySchema.optional(), ...bodyFields });

export type BodyV1 = z.infer<typeof bodySchemaV1>;
export type BodyV2 = z.infer<typeof bodySchemaV2>;
export type BodyV3 = z.infer<typeof bodySchemaV3>;
export type GroupBody = z.infer<typeof groupBodySchema>;
export type GroupThreadBody = GroupBody['threads'][number];
export type MachineBodyV1 = z.infer<typeof machineBodySchemaV1>;
export type MachineBodyV2 = z.infer<typeof machineBodySchemaV2>;
/** What both versions share (memories with their page lists; page contents differ by version). */
export type MachineBody = MachineBodyV1 | MachineBodyV2;
