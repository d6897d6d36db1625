/**
 * The run loop of every command: steps the machine in slices no longer than the nearest
 * trigger allows, awaits host suspensions, yields to the event loop between slices (so
 * signals get through) and turns proc_exit into an exit code.
 */
import type { StepResult } from '@mvvm/interpreter';
import { WasiExit } from '@mvvm/wasi/node';
import type { Session } from './session';
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
}

/** Instructions between yields to the event loop. */
const SLICE = 2_000_000;

export async function drive(s: Session, o: DriveOptions = {}): Promise<Outcome> {
  const m = s.machine;
  let active = [...(o.triggers ?? [])];
  let signal: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    if (sig === 'SIGINT' && signal === 'SIGINT') process.exit(130);
    signal = sig;
  };
  const watched: NodeJS.Signals[] = o.signals ?? (o.watchSignals ? ['SIGUSR1', 'SIGINT'] : []);
  const yields = watched.length > 0 || !!o.yieldSlices;
  for (const sig of watched) process.on(sig, onSignal);
  try {
    let sinceYield = 0;
    for (;;) {
      for (const t of active) {
        if (!t.fired(m)) continue;
        if (!t.repeats) active = active.filter((x) => x !== t);
        if (!(await o.onFire!(t.name))) return { kind: 'stopped' };
      }
      if (signal !== null) {
        const sig: NodeJS.Signals = signal;
        signal = null;
        if (!(await o.onFire!(sig))) return { kind: 'stopped' };
      }
      const budget = Math.max(1, Math.min(SLICE - sinceYield, ...active.map((t) => t.budget(m))));
      const before = m.instructionCount;
      let r: StepResult;
      try {
        r = m.step(budget);
      } catch (e) {
        if (e instanceof WasiExit) return { kind: 'exit', code: e.code };
        throw e;
      }
      if (r.done) return { kind: 'exit', code: 0, results: r.results };
      sinceYield += m.instructionCount - before;
      if (r.suspended) await r.until;
      if (sinceYield >= SLICE || r.suspended) {
        sinceYield = 0;
        if (yields) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  } finally {
    for (const sig of watched) process.off(sig, onSignal);
  }
}
