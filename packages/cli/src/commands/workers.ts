/**
 * `mvvm run --threads=workers`: a wasi-threads program with every thread on a worker thread
 * and one SharedArrayBuffer memory (@mvvm/wasi/node's runOnWorkers), for real parallelism.
 * No snapshot of such a run can be taken (see the README, "Threads on worker threads"):
 * `checkpoint` and `--migrate-to` refuse this mode with one line.
 */
import { basename } from 'node:path';
import { isThreaded } from '@mvvm/wasi';
import { WASI, runOnWorkers } from '@mvvm/wasi/node';
import { UsageError } from '../args';
import { Launch, compileFile, preopenMap, readModule } from '../session';

export type ThreadsMode = 'group' | 'workers';

/** The one line for a command or option that needs snapshots, given --threads=workers. */
export function refuseWorkers(what: string): UsageError {
  return new UsageError(`${what} cannot be used with --threads=workers: threads on workers run apart and cannot be snapshot; use the default --threads=group (deterministic, one JS thread)`);
}

/** Runs the program to its end on workers; resolves to its exit code, or throws its trap (Trap). */
export async function runOnWorkerThreads(launch: Launch): Promise<number> {
  const bytes = readModule(launch.wasm);
  const compiled = compileFile(launch.wasm, bytes, launch.deterministic);
  if (!isThreaded(compiled.module)) throw new UsageError(`--threads=workers: ${launch.wasm} is not a wasi-threads program (no shared memory import and wasi.thread-spawn)`);
  if (launch.invoke) throw new UsageError(`--invoke: ${launch.wasm} is a wasi-threads program, which starts at _start`);
  const wasi = new WASI({ args: [basename(launch.wasm), ...launch.args], env: launch.env, preopens: preopenMap(launch.dirs), returnOnExit: true });
  const outcome = await runOnWorkers(bytes, wasi, { deterministic: launch.deterministic, tier: launch.tier });
  if ('trap' in outcome) throw outcome.trap;
  return outcome.exitCode;
}
