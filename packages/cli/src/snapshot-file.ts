/**
 * Writing a snapshot file so that no signal leaves a temporary file behind. The bytes go to
 * a temporary file of the snapshot package's naming (`.NAME.HOST.PID.STAMP.mvvm-tmp`), in
 * chunks with the event loop running in between, then fsync and rename. While a write is
 * under way SIGTERM, SIGHUP and SIGINT (unless the run loop owns SIGINT, to checkpoint on
 * it) are deferred: the write stops at the next chunk, its temporary file is removed, and
 * the signal is raised again with its default action, so the process ends as it would have.
 * A process.exit() during a write (a second SIGINT) removes it too. Only SIGKILL (or a crash
 * of the machine) can leave one: the next write into that directory sweeps it
 * (sweepStaleTemps: writer gone from this host, or older than an hour).
 */
import { open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { unlinkSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { sweepStaleTemps, syncDirectory, tempPathFor } from '@mvvm/snapshot/node';

const CHUNK = 1 << 20;
const DEFERRED = ['SIGTERM', 'SIGHUP', 'SIGINT'] as const;

/** Temporary files being written now (removed by the exit hook if the process ends meanwhile). */
const writing = new Set<string>();
let exitHook = false;

export async function writeSnapshotFile(path: string, bytes: Uint8Array): Promise<void> {
  sweepStaleTemps(dirname(path));
  const temp = tempPathFor(path);
  let caught: NodeJS.Signals | null = null;
  const onSignal = (sig: NodeJS.Signals) => {
    // SIGINT is the run loop's when it listens too (it checkpoints after this write).
    if (sig === 'SIGINT' && process.listenerCount('SIGINT') > 1) return;
    caught ??= sig;
  };
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const t of writing) {
        try {
          unlinkSync(t);
        } catch {
          /* already gone */
        }
      }
    });
  }
  for (const sig of DEFERRED) process.on(sig, onSignal);
  writing.add(temp);
  let renamed = false;
  try {
    const fh = await open(temp, 'wx', 0o644);
    try {
      for (let at = 0; at < bytes.length && caught === null; ) {
        const { bytesWritten } = await fh.write(bytes, at, Math.min(CHUNK, bytes.length - at));
        at += bytesWritten;
      }
      if (caught === null) await fh.sync();
    } finally {
      await fh.close();
    }
    if (caught === null) {
      await rename(temp, path);
      renamed = true;
      syncDirectory(dirname(path));
    }
  } finally {
    if (!renamed) await unlink(temp).catch(() => undefined);
    writing.delete(temp);
    for (const sig of DEFERRED) process.off(sig, onSignal);
  }
  if (caught !== null) {
    process.stderr.write(`mvvm: ${caught} while writing ${path}: stopped, its temporary file removed\n`);
    // Raised again with no listener of ours: its default action (or the run loop's) now.
    process.kill(process.pid, caught);
    await new Promise((resolve) => setTimeout(resolve, 5000)); // the signal ends the process meanwhile
    process.exit(128 + osConstants.signals[caught]);
  }
}
