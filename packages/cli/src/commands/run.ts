/** `mvvm run`, `mvvm checkpoint` and `mvvm restore`: a program from its start or from a snapshot to its end. */
import type { Tier } from '@mvvm/interpreter';
import type { Preopen } from '../args';
import { CheckpointFlags, runWithCheckpoints } from '../checkpoints';
import { Outcome, drive } from '../drive';
import { reporter } from '../report';
import { Launch, counter, resume, start } from '../session';

/** The exit code to leave with; a non-WASI invocation's results go to stdout, one per line. */
function finish(o: Outcome): number {
  if (o.kind !== 'exit') return 0;
  for (const r of o.results ?? []) process.stdout.write(`${r}\n`);
  return o.code;
}

export async function run(launch: Launch): Promise<number> {
  const s = await start(launch);
  try {
    return finish(await drive(s));
  } finally {
    s.gateway?.close();
  }
}

export async function checkpointCommand(launch: Launch, f: CheckpointFlags & { verbose?: boolean }): Promise<number> {
  return finish(await runWithCheckpoints(await start(launch), f, reporter(f.verbose), true));
}

export interface RestoreFlags extends CheckpointFlags {
  dirs: Preopen[];
  listen: Array<{ host: string; port: number }>;
  base: string[];
  verbose?: boolean;
  tier?: Tier;
}

export async function restoreCommand(wasm: string, snapshot: string, f: RestoreFlags): Promise<number> {
  const report = reporter(f.verbose);
  report.progress(`restoring ${snapshot}…`);
  const t0 = performance.now();
  const session = await resume(wasm, snapshot, f.dirs, f.base, f.listen, report, f.tier);
  report.done();
  report.info(`restored ${snapshot} at instruction ${counter(session).instructionCount} (${(performance.now() - t0).toFixed(0)} ms)`);
  return finish(await runWithCheckpoints(session, f, report));
}
