import { ClockId, Errno, IGNORED_SIGNALS } from '../constants';
import { fail } from '../errors';
import type { WASI } from '../wasi';
import type { Syscall } from './types';

/** The time on a preview1 clock. CPU-time clocks count from the instance's monotonic clock. */
export function clockNow(w: WASI, id: number): bigint {
  switch (id) {
    case ClockId.REALTIME:
      return w.realtimeNs();
    case ClockId.MONOTONIC:
    case ClockId.PROCESS_CPUTIME:
    case ClockId.THREAD_CPUTIME:
      return w.monotonicNs();
    default:
      fail(Errno.INVAL);
  }
}

const RANDOM_CHUNK = 65536; // getRandomValues' per-call limit

export const clockRandomProcCalls: Record<string, Syscall> = {
  clock_res_get(w, m, id, out) {
    clockNow(w, id); // validates the id
    m.setU64(out, 1000n); // performance.now(): microseconds
    return Errno.SUCCESS;
  },

  clock_time_get(w, m, id, _precision, out) {
    m.setU64(out, clockNow(w, id));
    return Errno.SUCCESS;
  },

  random_get(w, m, buf, len) {
    const dst = m.writableBytes(buf, len);
    const fill = w.host.randomFill ?? ((b: Uint8Array) => globalThis.crypto.getRandomValues(b));
    for (let at = 0; at < dst.length; at += RANDOM_CHUNK) {
      // getRandomValues refuses views over a resizable/shared buffer in some engines: fill a copy.
      const chunk = new Uint8Array(Math.min(RANDOM_CHUNK, dst.length - at));
      fill(chunk);
      dst.set(chunk, at);
    }
    return Errno.SUCCESS;
  },

  sched_yield: () => Errno.SUCCESS,

  proc_exit(w, _m, code) {
    return w.exit(code);
  },

  /**
   * No signal handlers exist in preview1: a signal whose default action is to ignore it
   * returns, any other terminates the program as POSIX would (exit status 128 + signal).
   */
  proc_raise(w, _m, sig) {
    if (sig === 0) return Errno.SUCCESS;
    if (sig > 30) return Errno.INVAL;
    if (IGNORED_SIGNALS.has(sig)) return Errno.SUCCESS;
    return w.exit(128 + sig);
  },
};
