/**
 * The task table: the scheduler's state as plain, immutable data. It changes only through
 * `update(recipe)`, which runs the recipe under immer's produceWithPatches; every change
 * yields its patches, which listeners receive (the control endpoint streams them to
 * `mvvm ps --watch` as RFC 6902 JSON patches, and the client applies them to its copy).
 */
import { Draft, Patch, applyPatches, enablePatches, produceWithPatches } from 'immer';

enablePatches();

export type TaskState =
  | 'running' // runnable: gets instruction slices
  | 'blocked' // waiting in a host call (I/O, a sleep): costs nothing until it can go on
  | 'paused'
  | 'migrating'
  | 'exited'
  | 'trapped'
  | 'killed'
  | 'moved' // migrated away: runs on `movedTo` now
  | 'in-doubt'; // a migration's commit went unacknowledged: it may run there, never again here

export const FINISHED: ReadonlySet<TaskState> = new Set(['exited', 'trapped', 'killed', 'moved', 'in-doubt']);

export interface TaskRow {
  id: string;
  /** The module's file name. */
  name: string;
  state: TaskState;
  /** Where it runs: this scheduler's migration address. */
  host: string;
  instructions: number;
  memoryBytes: number;
  startedAt: number;
  exitCode: number | null;
  /** "HOST task ID" for a task that arrived by migration. */
  origin: string | null;
  /** HOST:PORT it was migrated to. */
  movedTo: string | null;
  /** The last error (a trap, a failed migration attempt). */
  error: string | null;
  /** A pending migration retry. */
  retry: { target: string; attempt: number; at: number } | null;
}

export interface TableState {
  tasks: Record<string, TaskRow>;
}

/** An RFC 6902 operation (immer produces add/replace/remove). */
export interface JsonPatch {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

export function toJsonPatch(p: Patch): JsonPatch {
  const out: JsonPatch = { op: p.op, path: '/' + p.path.map((x) => escape(String(x))).join('/') };
  if (p.op !== 'remove') out.value = p.value;
  return out;
}

/** Applies JSON patches (as streamed) to a table copy; returns the new copy. */
export function applyJsonPatches(state: TableState, patches: JsonPatch[]): TableState {
  return applyPatches(
    state,
    patches.map((p) => ({ op: p.op, path: p.path.split('/').slice(1).map(unescape), value: p.value })),
  );
}

export class TaskTable {
  private current: TableState = { tasks: {} };
  private readonly listeners = new Set<(patches: JsonPatch[]) => void>();

  get state(): TableState {
    return this.current;
  }

  row(id: string): TaskRow | undefined {
    return this.current.tasks[id];
  }

  /** The one way to change the table. */
  update(recipe: (draft: Draft<TableState>) => void): void {
    const [next, patches] = produceWithPatches(this.current, recipe);
    if (patches.length === 0) return;
    this.current = next;
    const json = patches.map(toJsonPatch);
    for (const l of this.listeners) l(json);
  }

  /** Changes one task's row (nothing when the task is not in the table). */
  patch(id: string, change: Partial<TaskRow>): void {
    this.update((d) => {
      const row = d.tasks[id];
      if (row) Object.assign(row, change);
    });
  }

  subscribe(listener: (patches: JsonPatch[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
