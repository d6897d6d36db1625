import { Suspend } from '@mvvm/interpreter';
import { Errno, EventRwFlags, EventType, Layout, Rights as R, SubClockFlags } from '../constants';
import { toErrno } from '../errors';
import type { GuestMemory } from '../memory';
import type { WASI } from '../wasi';
import { clockNow } from './clock-random-proc';
import type { Syscall } from './types';

interface Event {
  userdata: bigint;
  error: number;
  type: EventType;
  nbytes: bigint;
  flags: number;
}

function writeEvents(m: GuestMemory, out: number, events: Event[]): void {
  m.check(out, events.length * Layout.EVENT_SIZE);
  events.forEach((e, i) => {
    const p = out + i * Layout.EVENT_SIZE;
    m.writableBytes(p, Layout.EVENT_SIZE).fill(0);
    m.setU64(p, e.userdata);
    m.setU16(p + 8, e.error);
    m.setU8(p + 10, e.type);
    m.setU64(p + 16, e.nbytes);
    m.setU16(p + 24, e.flags);
  });
}

/**
 * poll_oneoff: returns at once with whatever is ready; otherwise suspends the machine until
 * the earliest clock deadline or any fd becomes ready, then the call is made again. The
 * deadlines of the suspended call are kept (keyed by its arguments) so that the retry
 * measures relative timeouts from the first attempt, not from the retry.
 */
export const pollCalls: Record<string, Syscall> = {
  poll_oneoff(w: WASI, m: GuestMemory, subs: number, out: number, nsubs: number, neventsPtr: number) {
    if (nsubs === 0) return Errno.INVAL;
    m.check(subs, nsubs * Layout.SUBSCRIPTION_SIZE);
    const key = `${subs}:${out}:${nsubs}`;
    const previous = w.pendingPoll?.key === key ? w.pendingPoll.deadlines : null;
    const deadlines: (bigint | null)[] = [];
    const events: Event[] = [];
    const waits: Promise<unknown>[] = [];
    let soonest: bigint | null = null;
    for (let i = 0; i < nsubs; i++) {
      const p = subs + i * Layout.SUBSCRIPTION_SIZE;
      const userdata = m.u64(p);
      const tag = m.u8At(p + 8);
      deadlines.push(null);
      const ev = (type: EventType, error = 0, nbytes = 0n, flags = 0) => events.push({ userdata, error, type, nbytes, flags });
      if (tag === EventType.CLOCK) {
        const id = m.u32(p + 16);
        const timeout = m.u64(p + 24);
        const abs = (m.u16(p + 40) & SubClockFlags.ABSTIME) !== 0;
        let now: bigint;
        try {
          now = clockNow(w, id);
        } catch (e) {
          ev(EventType.CLOCK, toErrno(e));
          continue;
        }
        const deadline = previous?.[i] ?? (abs ? timeout : now + timeout);
        deadlines[i] = deadline;
        if (now >= deadline) ev(EventType.CLOCK);
        else if (soonest === null || deadline - now < soonest) soonest = deadline - now;
      } else if (tag === EventType.FD_READ || tag === EventType.FD_WRITE) {
        const fd = m.u32(p + 16);
        let e;
        try {
          e = w.fds.get(fd, R.POLL_FD_READWRITE);
        } catch (err) {
          ev(tag, toErrno(err));
          continue;
        }
        if (e.kind === 'file') {
          // Regular files are always ready; nbytes is what a read would get.
          const size = tag === EventType.FD_READ ? BigInt(Math.max(0, Number(w.fs.fstat(e.handle!).size) - e.offset)) : 0n;
          ev(tag, 0, size);
        } else if (e.kind === 'dir' || e.kind === 'preopen') {
          ev(tag, Errno.BADF);
        } else if (e.listener) {
          if (tag === EventType.FD_WRITE) ev(tag, Errno.INVAL);
          else if (e.listener.pending() > 0) ev(tag, 0, BigInt(e.listener.pending()));
          else waits.push(e.listener.acceptable());
        } else if (tag === EventType.FD_WRITE) {
          ev(tag);
        } else {
          const s = e.stream!;
          const avail = s.available();
          if (avail > 0) ev(tag, 0, BigInt(avail));
          else if (s.read(new Uint8Array(1), true) === 0) ev(tag, 0, 0n, EventRwFlags.HANGUP);
          else waits.push(s.readable());
        }
      } else {
        return Errno.INVAL;
      }
    }
    if (events.length > 0) {
      w.pendingPoll = null;
      writeEvents(m, out, events);
      m.setU32(neventsPtr, events.length);
      return Errno.SUCCESS;
    }
    w.pendingPoll = { key, deadlines };
    if (soonest !== null) {
      // +1 ms: timers may fire a little before the clock we compare against has moved on.
      const ms = Math.min(Number(soonest / 1_000_000n) + 1, 2 ** 31 - 1);
      waits.push(new Promise((resolve) => setTimeout(resolve, ms)));
    }
    return new Suspend(Promise.race(waits));
  },
};
