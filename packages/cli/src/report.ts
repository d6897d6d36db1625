/**
 * Messages for the user on stderr. The guest owns stdout and stderr, so the CLI says
 * nothing unless stderr is a terminal or --verbose is given: scripts and tests comparing
 * a program's output see only the program's.
 */
import { SingleBar } from 'cli-progress';

/** How far a run is towards its checkpoint trigger (a terminal only). */
export interface ProgressBar {
  /** Instructions done; `total` when the trigger's instruction is known (-c, --every), else null. */
  update(done: number, total: number | null, towards: string): void;
  stop(): void;
}

export interface Reporter {
  /** A progress bar on a terminal (cli-progress), null when stderr is not one. */
  bar(): ProgressBar | null;
  info(message: string): void;
  /** A status line redrawn in place (terminals only), for work a user waits on. */
  progress(message: string): void;
  done(): void;
}

export function reporter(verbose = false): Reporter {
  const tty = !!process.stderr.isTTY;
  const show = tty || verbose;
  let drawn = false;
  const clear = () => {
    if (drawn) process.stderr.write('\r\x1b[K');
    drawn = false;
  };
  return {
    bar: () => (tty ? progressBar() : null),
    info(message) {
      if (!show) return;
      clear();
      process.stderr.write(`mvvm: ${message}\n`);
    },
    progress(message) {
      if (!tty) return;
      process.stderr.write(`\r\x1b[Kmvvm: ${message}`);
      drawn = true;
    },
    done: clear,
  };
}

const count = (n: number) => n.toLocaleString('en-US');

function progressBar(): ProgressBar {
  let bar: SingleBar | null = null;
  let known: boolean | null = null;
  const stop = () => {
    bar?.stop();
    bar = null;
  };
  return {
    update(done, total, towards) {
      if (known !== (total !== null)) stop(); // the format changes with whether the total is known
      known = total !== null;
      if (!bar) {
        bar = new SingleBar({
          stream: process.stderr,
          format: known ? 'mvvm: [{bar}] {percentage}% {done} of {all} instructions, towards {towards}' : 'mvvm: {done} instructions, towards {towards}',
          barsize: 24,
          clearOnComplete: true,
          hideCursor: false,
          fps: 5,
          noTTYOutput: false,
        });
        bar.start(total ?? 0, done, { done: count(done), all: count(total ?? 0), towards });
      } else {
        if (total !== null) bar.setTotal(total);
        bar.update(done, { done: count(done), all: count(total ?? 0), towards });
      }
    },
    stop,
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
