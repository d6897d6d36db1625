/**
 * A Machine to and from snapshot bytes: what the CLI and any other host call. Dirty-page
 * tracking decides what an incremental snapshot stores.
 */
import { Imports, Machine, MachineOptions, READABLE_STATE_VERSIONS, RestoreError, TRANSLATOR_VERSION, ThreadGroup } from '@mvvm/interpreter';
import type { GroupState, MachineState } from '@mvvm/interpreter';
import { sameBytes, sha256, toHex } from './checksum';
import type { Codec } from './codec';
import { InvalidSnapshotError, SnapshotError, SnapshotVersionError, WrongModuleError } from './errors';
import { DecodeOptions, DecodedSnapshot, EncodedSnapshot, ResolvedSnapshot, decodeSnapshot, encodeCaptured, resolveChain } from './snapshot';

export interface CheckpointOptions {
  moduleHash: Uint8Array;
  wasi?: unknown;
  meta?: Record<string, unknown>;
  /** Store only the pages written since this snapshot (taken of this machine, with dirty pages cleared then). */
  base?: Uint8Array;
  compress?: boolean;
  codec?: Codec;
  /** Clear the dirty-page marks afterwards, so the next incremental snapshot is relative to this one (default true). */
  clearDirty?: boolean;
}

/**
 * A snapshot of a machine, or of a thread group (every thread, the shared memories once, the
 * wait queues: format version 3), taken between steps.
 */
export async function checkpoint(target: Machine | ThreadGroup, options: CheckpointOptions): Promise<EncodedSnapshot> {
  const group = target instanceof ThreadGroup ? target : null;
  const machine = group ? group.threads[0]?.machine : (target as Machine);
  if (machine === undefined) throw new SnapshotError('a thread group with no thread');
  // A group's memories are those of its first thread (the shared ones: checked when laid out).
  const memories = machine.store.memories;
  // The state shares the machine's memory (no copy of it) and the dirty marks are read and
  // cleared in the same synchronous step as the pages are copied: nothing runs in between.
  return encodeCaptured(
    () => ({
      content: { ...(group ? { group: group.snapshot() } : { state: machine.snapshot({ shareMemory: true }) }), wasi: options.wasi, meta: options.meta },
      options: {
        moduleHash: options.moduleHash,
        base: options.base && { id: options.base, dirty: memories.map((m) => m.dirtyPages()) },
        compress: options.compress,
        codec: options.codec,
      },
    }),
    () => {
      if (options.clearDirty !== false) for (const m of memories) m.clearDirty();
    },
  );
}

/** Decodes every link and resolves the chain (full snapshot first). */
export async function loadChain(links: Uint8Array[], options: DecodeOptions = {}): Promise<ResolvedSnapshot> {
  const decoded: DecodedSnapshot[] = [];
  for (const bytes of links) decoded.push(await decodeSnapshot(bytes, options));
  return resolveChain(decoded);
}

/** Refuses a snapshot of another module: check this before rebuilding anything else (WASI) from it. */
export async function assertSameModule(moduleBytes: Uint8Array, resolved: ResolvedSnapshot): Promise<void> {
  const hash = await sha256(moduleBytes);
  if (!sameBytes(hash, resolved.moduleHash)) {
    throw new WrongModuleError(`the snapshot belongs to another module (sha256 ${toHex(resolved.moduleHash).slice(0, 16)}…, this module is ${toHex(hash).slice(0, 16)}…)`);
  }
}

/**
 * Builds a machine from a resolved snapshot and the module bytes. Refuses (building
 * nothing) a snapshot of another module, of another state or translator version, or one
 * whose state the interpreter finds inconsistent. Dirty marks start clear, so the next
 * incremental snapshot can be based on `resolved.id`.
 */
export async function restoreMachine(
  moduleBytes: Uint8Array,
  resolved: ResolvedSnapshot,
  imports: Imports = {},
  options: MachineOptions = {},
): Promise<Machine> {
  await assertSameModule(moduleBytes, resolved);
  if (resolved.group) throw new InvalidSnapshotError('the snapshot is of a thread group (a wasi-threads program): restore it with restoreGroup');
  checkVersions(resolved.state);
  return asSnapshotError(async () => {
    const machine = await Machine.restore(moduleBytes, resolved.state, imports, options);
    for (const m of machine.store.memories) m.clearDirty();
    return machine;
  });
}

/**
 * Builds a thread group from a resolved snapshot of one (`resolved.group`): `build` restores
 * it (ThreadGroup.restore with the program's imports, e.g. WasiThreads.restore). Refuses a
 * snapshot of another module, of another state or translator version, or whose state the
 * interpreter finds inconsistent (InvalidSnapshotError, nothing built). Dirty marks start clear.
 */
export async function restoreGroup<T extends { group: ThreadGroup }>(moduleBytes: Uint8Array, resolved: ResolvedSnapshot, build: (state: GroupState) => T): Promise<T> {
  await assertSameModule(moduleBytes, resolved);
  const state = resolved.group;
  if (state === undefined) throw new InvalidSnapshotError('the snapshot holds one machine, not a thread group');
  for (const t of state.threads) checkVersions(t);
  return asSnapshotError(async () => {
    const built = build(state);
    for (const m of built.group.threads[0].machine.store.memories) m.clearDirty();
    return built;
  });
}

function checkVersions(state: MachineState): void {
  if (!READABLE_STATE_VERSIONS.includes(state.version)) {
    throw new SnapshotVersionError(`machine state version ${state.version}, this runtime reads ${READABLE_STATE_VERSIONS.join(', ')}`);
  }
  if (state.translatorVersion !== TRANSLATOR_VERSION) {
    throw new SnapshotVersionError(`snapshot taken with translator version ${state.translatorVersion}, this runtime has ${TRANSLATOR_VERSION}`);
  }
}

/** The interpreter's RestoreError as the format's InvalidSnapshotError. */
async function asSnapshotError<T>(build: () => Promise<T>): Promise<T> {
  try {
    return await build();
  } catch (e) {
    if (e instanceof RestoreError) throw new InvalidSnapshotError(e.message);
    throw e;
  }
}
