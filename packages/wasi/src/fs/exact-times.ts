import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * Sub-microsecond file times on the Node host. Node's utimes family goes through libuv,
 * which keeps whole microseconds and cannot leave one of the two times alone (no
 * UTIME_OMIT). GNU coreutils' `touch -a|-m -d @S.NNNNNNNNN` calls utimensat with
 * nanoseconds and omits the other time, so once Node has set the times (and reported any
 * errno), the digits below the microsecond are finished with it. Without GNU touch (macOS,
 * BSD, a minimal container) times stay truncated to whole microseconds.
 */

/** By absolute path where it is there, so a guest-controlled PATH or cwd cannot substitute it. */
const TOUCH = existsSync('/usr/bin/touch') ? '/usr/bin/touch' : existsSync('/bin/touch') ? '/bin/touch' : 'touch';

let gnuTouch: boolean | undefined;

export function haveGnuTouch(): boolean {
  if (gnuTouch === undefined) {
    const r = spawnSync(TOUCH, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    gnuTouch = r.status === 0 && /GNU coreutils/.test(r.stdout ?? '');
  }
  return gnuTouch;
}

/** `@seconds.nanoseconds`, the form GNU touch's -d reads without rounding. */
function touchTime(ns: bigint): string {
  return `@${ns / 1_000_000_000n}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}`;
}

/** Where to set: an open host fd, or a path (a final symlink followed or not). */
export type TimesTarget = { fd: number } | { path: string; follow: boolean };

/**
 * Sets the digits below the microsecond of each given time that has any (a time that is a
 * whole number of microseconds is already exact). Best effort: false when they could not be
 * set, and the times keep what Node set.
 */
export function finishSubMicroseconds(target: TimesTarget, atim: bigint, mtim: bigint): boolean {
  const pending: Array<['-a' | '-m', bigint]> = [];
  if (atim % 1000n !== 0n) pending.push(['-a', atim]);
  if (mtim % 1000n !== 0n) pending.push(['-m', mtim]);
  if (pending.length === 0) return true;
  if (!haveGnuTouch()) return false;
  for (const [which, ns] of pending) {
    // -c: never create; an fd is reached through /dev/fd/3 in the child (utimensat follows that link to the open file).
    const args = ['-c', which, '-d', touchTime(ns)];
    let stdio: Array<'ignore' | number> = ['ignore', 'ignore', 'ignore'];
    if ('fd' in target) {
      args.push('--', '/dev/fd/3');
      stdio = [...stdio, target.fd];
    } else {
      if (!target.follow) args.push('-h');
      // A path under /proc/self/fd/N (a lookup by directory handle) names the parent's fd N,
      // which the child does not have: hand that directory to the child as its fd 3 instead.
      const byHandle = /^\/proc\/self\/fd\/(\d+)(\/.*)?$/.exec(target.path);
      if (byHandle !== null) {
        args.push('--', `/proc/self/fd/3${byHandle[2] ?? ''}`);
        stdio = [...stdio, Number(byHandle[1])];
      } else {
        args.push('--', target.path);
      }
    }
    if (spawnSync(TOUCH, args, { stdio }).status !== 0) return false;
  }
  return true;
}
