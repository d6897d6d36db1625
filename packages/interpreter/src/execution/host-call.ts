import type { FunctionInstance, MemoryInstance } from './runtime';
import { Suspend } from './runtime';
import type { Store } from './store';
import type { Thread } from './thread';
import { TrapCode } from './traps';
import { jsToSlot, slotToJS } from './values';
import { slotCount, slotsOf } from '../syntax/types';

/**
 * Calls a host function with the arguments on top of the thread's stack and leaves its
 * results there. Returns TrapCode.None, HostSuspend (nothing was popped) or HostError
 * (the thrown value is in `t.hostError`). The try/catch lives here, off the run loop.
 */
export function callHost(store: Store, t: Thread, f: FunctionInstance, memory: MemoryInstance | null): TrapCode {
  const host = f.host!;
  const params = f.type.params;
  const results = f.type.results;
  const base = t.sp - 2 * slotsOf(params); // a v128 takes two slots
  const args = new Array<unknown>(params.length);
  for (let i = 0, at = base; i < params.length; at += 2 * slotCount(params[i]), i++) args[i] = slotToJS(store, t.s32, at, params[i]);
  let returned: unknown;
  t.hostCallDepth++;
  try {
    returned = host.fn(args, { memory });
    if (returned instanceof Suspend) {
      t.suspendedUntil = returned.until;
      return TrapCode.HostSuspend;
    }
    const values = results.length === 0 ? [] : results.length === 1 && !Array.isArray(returned) ? [returned] : (returned as unknown[]);
    if (!Array.isArray(values) || values.length !== results.length) {
      throw new TypeError(`host function ${host.name} returned ${values?.length ?? 'no'} results, expected ${results.length}`);
    }
    if (base + 2 * slotsOf(results) >= t.stackWords) throw new RangeError('stack overflow in host results');
    for (let i = 0, at = base; i < results.length; at += 2 * slotCount(results[i]), i++) jsToSlot(store, t.s32, at, results[i], values[i]);
  } catch (e) {
    t.hostError = e;
    return TrapCode.HostError;
  } finally {
    t.hostCallDepth--;
  }
  t.sp = base + 2 * slotsOf(results);
  return TrapCode.None;
}
