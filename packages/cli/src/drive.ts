/**
 * The run loop of every command: steps the machine in slices no longer than the nearest
 * trigger allows, awaits host suspensions, yields to the event loop between slices (so
 * signals get through) and turns proc_exit into an exit code.
 */
import { Machine, StepResult, Trap } from '@mvvm/interpreter';
import { WasiExit, WasiThreads } from '@mvvm/wasi/node';
import { Session, counter } from './session';
import { callStack, liveThread, namingOf, trapStacks } from './stack';
import type { ProgressBar } from './report';
import type { Trigger } from './triggers';

export type Outcome = { kind: 'exit'; code: number; results?: unknown[] } | { kind: 'stopped' };

export interface DriveOptions {
  triggers?: Trigger[];
  /** A trigger fired (or a watched signal arrived): take the checkpoint; return true to keep running. */
  onFire?: (reason: string) => Promise<boolean>;
  /** Checkpoint on SIGUSR1 and SIGINT (a second SIGINT ends the process at once). */
  watchSignals?: boolean;
  /** Fire on these signals instead (e.g. SIGUSR2 to migrate); implies yielding. */
  signals?: NodeJS.Signals[];
  /** Yield to the event loop between slices even without signals (a server running several programs). */
  yieldSlices?: boolean;
  /** Shows how far the run is towards its nearest trigger, between slices (after the first second). */
  progress?: ProgressBar | null;
}

/** Progress appears only for runs that take a while (so short runs print nothing extra). */
const PROGRESS_AFTER_MS = 1000;

/** Set by bin/mvvm.js when a SIGUSR1 came before any run loop watched signals. */
const PENDING_USR1 = Symbol.for('mvvm.sigusr1.pending');
const pending = globalThis as unknown as Record<symbol, boolean | undefined>;

/** Instructions between yields to the event loop. */
const SLICE = 2_000_000;

export async function drive(s: Session, o: DriveOptions = {}): Promise<Outcome> {
  const m = counter(s);
  const step = s.threads ? threadsStepper(s.threads) : machineStepper(s.machine);
  let active = [...(o.triggers ?? [])];
  let signal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (sig === 'SIGINT' && signal === 'SIGINT') process.exit(130);
    signal = sig;
  };
  const watched: NodeJS.Signals[] = o.signals ?? (o.watchSignals ? ['SIGUSR1', 'SIGINT'] : []);
  const yields = watched.length > 0 || !!o.yieldSlices;
  for (const sig of watched) process.on(sig, onSignal);
  if (watched.includes('SIGUSR1')) {
    if (pending[PENDING_USR1]) signal = 'SIGUSR1';
    pending[PENDING_USR1] = false;
  }
  const started = performance.now();
  const showProgress = () => {
    if (!o.progress || active.length === 0 || performance.now() - started < PROGRESS_AFTER_MS) return;
    let nearest: { t: Trigger; at: number } | null = null;
    for (const t of active) {
      const at = t.target?.(m);
      if (at !== undefined && (nearest === null || at < nearest.at)) nearest = { t, at };
    }
    o.progress.update(m.instructionCount, nearest?.at ?? null, (nearest?.t ?? active[0]).name);
  };
  try {
    let sinceYield = 0;
    for (;;) {
      for (const t of active) {
        if (!t.fired(m)) continue;
        if (!t.repeats) active = active.filter((x) => x !== t);
        o.progress?.stop();
        if (!(await o.onFire!(t.name))) return { kind: 'stopped' };
      }
      if (signal !== null) {
        const sig: NodeJS.Signals = signal;
        signal = null;
        o.progress?.stop();
        if (!(await o.onFire!(sig))) return { kind: 'stopped' };
      }
      const budget = Math.max(1, Math.min(SLICE - sinceYield, ...active.map((t) => t.budget(m))));
      const before = m.instructionCount;
      const r = step(budget);
      if (r.outcome) return r.outcome;
      sinceYield += m.instructionCount - before;
      if (r.until) await r.until;
      if (sinceYield >= SLICE || r.until) {
        sinceYield = 0;
        showProgress();
        if (yields) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    o.progress?.stop();
    for (const sig of watched) process.off(sig, onSignal);
  }
}

/** One step of the run loop: the outcome once the program ended, or a suspension to await. */
type Stepper = (budget: number) => { outcome?: Outcome; until?: Promise<unknown> };

function machineStepper(m: Machine): Stepper {
  return (budget) => {
    let r: StepResult;
    try {
      r = m.step(budget);
    } catch (e) {
      if (e instanceof WasiExit) return { outcome: { kind: 'exit', code: e.code & 0xff } }; // what a shell sees: -1 is 255
      if (e instanceof Trap) trapStacks.set(e, callStack(liveThread(m), namingOf(m)));
      throw e;
    }
    if (r.done) return { outcome: { kind: 'exit', code: 0, results: r.results } };
    return { until: r.suspended ? r.until : undefined };
  };
}

/** A wasi-threads program: proc_exit or a trap in any thread, or _start's return, ends it. */
function threadsStepper(p: WasiThreads): Stepper {
  return (budget) => {
    const { outcome, until } = p.step(budget);
    if (outcome === null) return { until };
    if ('exitCode' in outcome) return { outcome: { kind: 'exit', code: outcome.exitCode & 0xff } };
    const t = p.group.threads[outcome.thread]?.machine;
    if (outcome.trap instanceof Trap && t) {
      trapStacks.set(outcome.trap, callStack(liveThread(t), namingOf(t)));
      if (outcome.thread > 0) outcome.trap.message = `${outcome.trap.message} (in thread ${outcome.thread})`;
    }
    throw outcome.trap;
  };
}
