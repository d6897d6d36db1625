/**
 * Messages for the user on stderr. The guest owns stdout and stderr, so the CLI says
 * nothing unless stderr is a terminal or --verbose is given: scripts and tests comparing
 * a program's output see only the program's.
 */
export interface Reporter {
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

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1 << 20)).toFixed(1)} MiB`;
}
