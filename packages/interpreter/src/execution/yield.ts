/**
 * Gives the event loop a turn between two slices of a long run (timers, I/O, signals).
 * `setTimeout(0)` waits at least 1 ms in Node and 4 ms in browsers after a few nested calls,
 * which costs ~1 s per 10^9 instructions at a 1M-instruction slice; `setImmediate` (Node) and
 * a `MessageChannel` message (browsers) come back as soon as pending events are handled.
 */
type Resolve = () => void;

const g = globalThis as { setImmediate?: (f: Resolve) => unknown; MessageChannel?: typeof MessageChannel };

function makeYield(): () => Promise<void> {
  if (typeof g.setImmediate === 'function') {
    const setImmediate = g.setImmediate;
    return () => new Promise<void>((resolve) => { setImmediate(resolve); });
  }
  if (typeof g.MessageChannel === 'function') {
    const queue: Resolve[] = [];
    const channel = new g.MessageChannel();
    channel.port1.onmessage = () => queue.shift()?.();
    return () => new Promise<void>((resolve) => { queue.push(resolve); channel.port2.postMessage(0); });
  }
  return () => new Promise<void>((resolve) => { setTimeout(resolve, 0); });
}

export const yieldToEventLoop: () => Promise<void> = makeYield();
