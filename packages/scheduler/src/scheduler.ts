/**
 * WasmScheduler: many WASI tasks time-sliced in one process, migrated on request or when
 * the monitor's samples trigger, and accepting tasks that arrive from other schedulers.
 *
 * Time-slicing: the run loop gives each runnable task one slice of `sliceInstructions`
 * per round, in launch order, and yields to the event loop (setImmediate) after every
 * round, so sockets, timers and the control endpoint progress between slices. A task whose
 * host call suspends (a blocking read, a sleep) leaves the rotation until the call can be
 * retried: it costs nothing meanwhile. With no runnable task the loop awaits a wake-up.
 *
 * The task table (table.ts) is changed only through TaskTable.update; the live machines
 * sit beside it, keyed by the same id.
 */
import { basename } from 'node:path';
import { readFileSync } from 'node:fs';
import { Imports, Machine, StepResult, Trap } from '@mvvm/interpreter';
import { WASI, WasiExit, isThreaded } from '@mvvm/wasi/node';
import type { OutputOption } from '@mvvm/wasi/node';
import type { Target } from './config';
import type { Sample } from './monitor';
import { Candidate, Move, chooseMoves } from './policy';
import { FINISHED, TaskRow, TaskTable } from './table';
import type { Arrival, Endpoint, MigrationTransport } from './transport';
import { formatEndpoint } from './transport';
import { InDoubtError, TaskEndedError } from './migrate-transport';
import { TriggerDetector, describeTrigger } from './trigger';

export class SchedulerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchedulerError';
  }
}

export interface TaskSpec {
  /** A file path, or the module's bytes. */
  module: string | Uint8Array;
  /** Shown in the table (default: the file name). */
  name?: string;
  /** The export to run (default `_start`). */
  entry?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Guest path -> host directory. */
  dirs?: Record<string, string>;
  stdout?: OutputOption;
  stderr?: OutputOption;
}

export interface SchedulerOptions {
  /** This scheduler's address as others reach it (the table's `host` column). */
  address?: string;
  transport?: MigrationTransport;
  /** Migration targets for triggered migrations. */
  targets?: Target[];
  /** The trigger detector (thresholds, K, cooldown); without one, observe() never migrates. */
  detector?: TriggerDetector;
  sliceInstructions?: number;
  /** Log lines (default: stderr). */
  log?: (line: string) => void;
  /** Where a launched task's stdout/stderr go when its spec says nothing (default: this process's). */
  output?: (id: string) => { stdout?: OutputOption; stderr?: OutputOption };
  /** Retry backoff after a failed migration: first delay, cap (ms). */
  retryMs?: { first: number; max: number };
}

interface Live {
  id: string;
  bytes: Uint8Array;
  machine: Machine;
  wasi: WASI | null;
  paused: boolean;
  /** In a host call that suspended. */
  blocked: boolean;
  /** Out of the rotation for a migration's stop-and-copy phase. */
  stopped: boolean;
  migrating: boolean;
  retryTimer: NodeJS.Timeout | null;
  slices: number;
  /** An arrived task's: told the exit code. */
  finished?: (code: number) => void;
  /** For the policy's instructions/second. */
  rate: number;
  lastCount: number;
  lastAt: number;
}

const MiB = 1 << 20;
const WASI_MODULE = 'wasi_snapshot_preview1';

export class WasmScheduler {
  readonly table = new TaskTable();
  /** This scheduler's migration address (the `host` of its rows). */
  address: string;
  private readonly live = new Map<string, Live>();
  private nextId = 1;
  private wake: (() => void) | null = null;
  private closed = false;
  private refreshTimer: NodeJS.Timeout;
  private readonly slice: number;
  private readonly log: (line: string) => void;
  private lastSample: Sample | null = null;
  /** Slices run and rounds of the loop, for tests and the bench (a blocked task adds none). */
  readonly stats = { slices: 0, rounds: 0 };

  constructor(readonly o: SchedulerOptions = {}) {
    this.address = o.address ?? 'local';
    this.slice = o.sliceInstructions ?? 200_000;
    this.log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
    this.refreshTimer = setInterval(() => this.refresh(), 250);
    this.refreshTimer.unref();
    void this.loop();
  }

  // ---- tasks ----

  /** Starts a task; with `target`, migrates it there at once. Returns its id. */
  async launch(spec: TaskSpec, target?: Endpoint): Promise<string> {
    const bytes = typeof spec.module === 'string' ? readModule(spec.module) : spec.module;
    const name = spec.name ?? (typeof spec.module === 'string' ? basename(spec.module) : 'task.wasm');
    const id = String(this.nextId++);
    const io = this.o.output?.(id) ?? {};
    let wasi: WASI | null = null;
    let imports: Imports = {};
    const compiled = Machine.compile(bytes);
    // A task is one Machine (time slices, migration): a wasi-threads program is a group of them.
    if (isThreaded(compiled.module)) throw new SchedulerError(`${name} is a wasi-threads program: the scheduler runs single-threaded tasks (run it with mvvm run)`);
    if (compiled.module.imports.some((i) => i.module === WASI_MODULE)) {
      wasi = new WASI({ args: [name, ...(spec.args ?? [])], env: spec.env ?? {}, preopens: spec.dirs ?? {}, returnOnExit: true, stdout: spec.stdout ?? io.stdout, stderr: spec.stderr ?? io.stderr });
      imports = wasi.getImports();
    }
    const machine = await Machine.instantiate(compiled, imports);
    const entry = spec.entry ?? '_start';
    if (!machine.instance.exports.has(entry)) {
      wasi?.close();
      throw new SchedulerError(`${name} exports no ${entry}`);
    }
    machine.begin(entry, entry === '_start' ? [] : (spec.args ?? []).map(Number));
    this.add(id, name, bytes, machine, wasi, null);
    this.log(`launched task ${id} (${name})`);
    if (target) void this.migrate(id, target).catch(() => undefined);
    return id;
  }

  /** Takes in a task that arrived by migration; returns its id here. */
  adopt(a: Arrival): string {
    const id = String(this.nextId++);
    this.add(id, a.name, a.bytes, a.machine, a.wasi, a.from);
    this.live.get(id)!.finished = a.finished;
    this.log(`received task ${id} (${a.name}) from ${a.from}${a.downtimeMs === undefined ? '' : ` (downtime ${a.downtimeMs.toFixed(1)} ms)`}`);
    return id;
  }

  private add(id: string, name: string, bytes: Uint8Array, machine: Machine, wasi: WASI | null, origin: string | null): void {
    const now = Date.now();
    this.live.set(id, { id, bytes, machine, wasi, paused: false, blocked: false, stopped: false, migrating: false, retryTimer: null, slices: 0, rate: 0, lastCount: machine.instructionCount, lastAt: now });
    this.table.update((d) => {
      d.tasks[id] = {
        id,
        name,
        state: 'running',
        host: this.address,
        instructions: machine.instructionCount,
        memoryBytes: machine.memory?.byteLength ?? 0,
        startedAt: now,
        exitCode: null,
        origin,
        movedTo: null,
        error: null,
        retry: null,
      };
    });
    this.kick();
  }

  /** Slices a live task has been given (a blocked task is given none while it waits). */
  slicesOf(id: string): number {
    return this.get(id).slices;
  }

  status(): TaskRow[] {
    return Object.values(this.table.state.tasks);
  }

  private get(id: string): Live {
    const t = this.live.get(id);
    if (!t) throw new SchedulerError(this.table.row(id) ? `task ${id} is ${this.table.row(id)!.state}` : `no task ${id}`);
    return t;
  }

  pause(id: string): void {
    const t = this.get(id);
    t.paused = true;
    this.table.patch(id, { state: t.migrating ? 'migrating' : 'paused' });
  }

  resume(id: string): void {
    const t = this.get(id);
    t.paused = false;
    this.table.patch(id, { state: this.runState(t) });
    this.kick();
  }

  kill(id: string): void {
    const t = this.get(id);
    this.finish(t, { state: 'killed' });
    this.log(`killed task ${id}`);
  }

  /** Resolves with the task's row once it has finished (exited, trapped, killed or moved). */
  wait(id: string): Promise<TaskRow> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const row = this.table.row(id);
        if (!row) return reject(new SchedulerError(`no task ${id}`)), true;
        if (FINISHED.has(row.state)) return resolve(row), true;
        return false;
      };
      if (check()) return;
      const off = this.table.subscribe(() => check() && off());
    });
  }

  private runState(t: Live): TaskRow['state'] {
    if (t.migrating) return 'migrating';
    if (t.paused) return 'paused';
    return t.blocked ? 'blocked' : 'running';
  }

  private finish(t: Live, change: Partial<TaskRow>): void {
    if (t.retryTimer) clearTimeout(t.retryTimer);
    this.live.delete(t.id);
    t.wasi?.close();
    this.table.patch(t.id, { ...change, instructions: t.machine.instructionCount, retry: null });
  }

  // ---- the run loop ----

  private kick(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private runnable(t: Live): boolean {
    return !t.paused && !t.blocked && !t.stopped;
  }

  private async loop(): Promise<void> {
    while (!this.closed) {
      let ran = false;
      for (const t of [...this.live.values()]) {
        if (!this.runnable(t) || this.live.get(t.id) !== t) continue;
        ran = true;
        this.stats.slices++;
        t.slices++;
        this.runSlice(t);
      }
      if (ran) {
        this.stats.rounds++;
        await new Promise<void>((r) => setImmediate(r));
      }
      else await new Promise<void>((r) => (this.wake = r));
    }
  }

  private runSlice(t: Live): void {
    let r: StepResult;
    try {
      r = t.machine.step(this.slice);
    } catch (e) {
      if (e instanceof WasiExit) this.exited(t, e.code);
      else {
        const message = e instanceof Trap ? `trap: ${e.message}` : e instanceof Error ? e.message : String(e);
        this.finish(t, { state: 'trapped', error: message });
        this.log(`task ${t.id} failed: ${message}`);
      }
      return;
    }
    if (r.done) return this.exited(t, 0);
    if (r.suspended) {
      t.blocked = true;
      if (!t.migrating && !t.paused) this.table.patch(t.id, { state: 'blocked' });
      const go = () => {
        t.blocked = false;
        if (this.live.get(t.id) !== t) return;
        if (!t.migrating && !t.paused) this.table.patch(t.id, { state: 'running' });
        this.kick();
      };
      (r.until ?? Promise.resolve()).then(go, go);
    }
  }

  private exited(t: Live, code: number): void {
    this.finish(t, { state: 'exited', exitCode: code });
    t.finished?.(code);
    this.log(`task ${t.id} exited with code ${code}`);
  }

  /** Brings instruction counts, memory sizes and rates up to date in the table. */
  private refresh(): void {
    const now = Date.now();
    this.table.update((d) => {
      for (const t of this.live.values()) {
        const row = d.tasks[t.id];
        const count = t.machine.instructionCount;
        if (now > t.lastAt) t.rate = ((count - t.lastCount) * 1000) / (now - t.lastAt);
        t.lastCount = count;
        t.lastAt = now;
        if (row.instructions !== count) row.instructions = count;
        const mem = t.machine.memory?.byteLength ?? 0;
        if (row.memoryBytes !== mem) row.memoryBytes = mem;
      }
    });
  }

  // ---- migration ----

  /**
   * Moves a task to `to`. Resolves when it runs there; if the target is down or refuses,
   * the task goes on running here, the promise rejects with the reason and a retry is
   * scheduled with exponential backoff (until it succeeds, the task ends, or it is killed).
   */
  async migrate(id: string, to: Endpoint, attempt = 1): Promise<void> {
    const t = this.get(id);
    const transport = this.o.transport;
    if (!transport) throw new SchedulerError('this scheduler has no migration transport');
    if (t.migrating) throw new SchedulerError(`task ${id} is already migrating`);
    if (t.retryTimer) clearTimeout(t.retryTimer);
    t.retryTimer = null;
    t.migrating = true;
    const where = formatEndpoint(to);
    this.table.patch(id, { state: 'migrating', retry: null });
    this.log(`checkpointing task ${id} for ${where}${attempt > 1 ? ` (attempt ${attempt})` : ''}`);
    const row = this.table.row(id)!;
    try {
      const report = await transport.send({ id, name: row.name, bytes: t.bytes, machine: t.machine, wasi: t.wasi, stop: () => (t.stopped = true) }, to);
      const mib = ((t.machine.memory?.byteLength ?? 0) / MiB).toFixed(1);
      this.finish(t, { state: 'moved', movedTo: where });
      const rounds = report.rounds === undefined ? '' : `, ${report.rounds} pre-copy rounds`;
      this.log(`sent task ${id} to ${where} (downtime ${report.downtimeMs.toFixed(1)} ms, ${(report.bytesSent / MiB).toFixed(2)} MiB sent, ${mib} MiB memory${rounds})`);
    } catch (e) {
      t.migrating = false;
      t.stopped = false;
      if (e instanceof TaskEndedError) {
        this.exited(t, e.code);
        throw new SchedulerError(`task ${id} ended before it could move`);
      }
      if (e instanceof InDoubtError) {
        this.finish(t, { state: 'in-doubt', error: e.message });
        this.log(`task ${id}: migration to ${where} in doubt (${e.message}); it does not run here again`);
        throw new SchedulerError(`migration of task ${id} to ${where} in doubt: ${e.message}`);
      }
      const reason = e instanceof Error ? e.message : String(e);
      if (this.live.get(id) !== t) throw new SchedulerError(`migration of task ${id} to ${where} failed: ${reason}`);
      const r = this.o.retryMs ?? { first: 500, max: 30_000 };
      const delay = Math.min(r.max, r.first * 2 ** (attempt - 1));
      this.table.patch(id, { state: this.runState(t), error: reason, retry: { target: where, attempt: attempt + 1, at: Date.now() + delay } });
      this.log(`migration of task ${id} to ${where} failed: ${reason}; task ${id} keeps running here, retry in ${(delay / 1000).toFixed(1)} s`);
      t.retryTimer = setTimeout(() => {
        t.retryTimer = null;
        if (this.live.get(id) === t && !t.migrating) this.migrate(id, to, attempt + 1).catch(() => undefined);
      }, delay);
      this.kick();
      throw new SchedulerError(`migration of task ${id} to ${where} failed: ${reason}`);
    }
  }

  /**
   * Feeds a monitor sample to the detector; on a trigger, moves the tasks the policy
   * chooses (policy.ts). Returns the moves started.
   */
  observe(sample: Sample): Move[] {
    this.refresh();
    this.lastSample = sample;
    const trigger = this.o.detector?.feed(sample);
    if (!trigger) return [];
    this.log(describeTrigger(trigger, this.o.detector!.o.samples));
    this.o.detector!.migrated(sample.at);
    return this.triggerMigration(trigger, sample);
  }

  /** Chooses the tasks a trigger moves and starts their migrations. */
  triggerMigration(trigger: Parameters<typeof chooseMoves>[0], sample: Sample): Move[] {
    const candidates: Candidate[] = [];
    // a task with a retry pending is already on its way (its backoff must not restart)
    for (const t of this.live.values()) if (!t.migrating && !t.paused && !t.retryTimer) candidates.push({ row: this.table.row(t.id)!, rate: t.rate });
    const moves = chooseMoves(trigger, sample, candidates, this.o.targets ?? []);
    if (moves.length === 0) this.log((this.o.targets ?? []).length === 0 ? 'no migration target configured: nothing moves' : 'no task to move');
    for (const m of moves) {
      this.log(`moving task ${m.id} to ${m.target.arch}@${formatEndpoint(m.target)}: ${m.why}`);
      this.migrate(m.id, m.target).catch(() => undefined);
    }
    return moves;
  }

  /** The monitor's last sample seen by observe(). */
  metrics(): Sample | null {
    return this.lastSample;
  }

  /** Stops the loop and every task (their WASI instances closed). */
  close(): void {
    this.closed = true;
    clearInterval(this.refreshTimer);
    for (const t of [...this.live.values()]) this.finish(t, { state: 'killed' });
    this.kick();
  }
}

function readModule(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new SchedulerError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
