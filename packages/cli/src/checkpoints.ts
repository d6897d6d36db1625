/** Running a session with checkpoint triggers: shared by `checkpoint` and `restore`. */
import { parseCount, UsageError } from './args';
import { Outcome, drive } from './drive';
import { Reporter, formatBytes } from './report';
import { Rotation } from './rotation';
import { Session, counter, writeSnapshot } from './session';
import { Trigger, atCount, atFunctionEntry, every } from './triggers';

export interface CheckpointFlags {
  output: string;
  count?: string;
  function?: string;
  entry?: string;
  every?: string;
  keep: string;
  continue?: boolean;
  incremental?: boolean;
  compress?: boolean;
}

/**
 * `mustTake` (the checkpoint command): a run that ends without writing any snapshot is a
 * NoCheckpointError (exit 3), also when no trigger was given at all (only a signal could
 * have taken one: said at the start).
 */
export async function runWithCheckpoints(s: Session, f: CheckpointFlags, report: Reporter, mustTake = false): Promise<Outcome & { taken: number }> {
  const oneShot: Trigger[] = [];
  if (f.count !== undefined) oneShot.push(atCount(parseCount(f.count, '-c')));
  if (f.function !== undefined && s.threads) throw new UsageError('-f: a checkpoint at a function entry is not available for a threaded program (use -c or --every)');
  if (f.function !== undefined) oneShot.push(atFunctionEntry(s.machine, f.function, f.entry === undefined ? 1 : Math.max(1, parseCount(f.entry, '-x'))));
  else if (f.entry !== undefined) throw new UsageError('-x K needs -f FUNCTION');
  const periodic = f.every !== undefined ? every(Math.max(1, parseCount(f.every, '--every')), counter(s).instructionCount) : null;
  const rotation = periodic ? new Rotation(f.output, Math.max(1, parseCount(f.keep, '--keep')), !!f.incremental) : null;
  if (mustTake && oneShot.length === 0 && !periodic) report.info('no trigger given (-c, -f, --every): only SIGUSR1 or SIGINT will take a checkpoint');
  let taken = 0;

  const write = async (path: string, incremental: boolean, reason: string) => {
    report.progress(`writing ${path}…`);
    const t0 = performance.now();
    const snap = await writeSnapshot(s, { path, incremental, compress: !!f.compress, trigger: reason });
    report.done();
    taken++;
    const kind = snap.header.incremental ? 'incremental' : 'full';
    report.info(`${reason}: ${kind} snapshot at instruction ${counter(s).instructionCount} -> ${path} (${formatBytes(snap.bytes.length)}, ${(performance.now() - t0).toFixed(0)} ms)`);
  };

  const outcome = await drive(s, {
    triggers: periodic ? [...oneShot, periodic] : oneShot,
    watchSignals: true,
    progress: report.bar(),
    async onFire(reason) {
      if (periodic && reason === periodic.name) {
        const next = rotation!.next();
        await write(next.path, !next.full, reason);
        rotation!.written(next.path, next.full);
        return true;
      }
      await write(f.output, !!f.incremental, reason);
      // -c and -f stop the run (also beside --every) unless --continue; periodic runs go on
      // after a SIGUSR1's checkpoint, SIGINT stops them.
      return !!f.continue || (periodic !== null && reason === 'SIGUSR1');
    },
  });
  if (outcome.kind === 'exit' && taken === 0 && (oneShot.length > 0 || mustTake)) {
    const why = oneShot.length > 0 || periodic ? 'before the trigger' : 'and no trigger was given (-c, -f, --every) nor a signal sent';
    throw new NoCheckpointError(`no checkpoint taken: the program ended after ${counter(s).instructionCount} instructions (exit code ${outcome.code}), ${why}`);
  }
  return { ...outcome, taken };
}

/** The requested checkpoint never happened: exit code 3, distinct from the program's own. */
export class NoCheckpointError extends Error {}
