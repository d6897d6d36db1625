import { Machine, yieldToEventLoop } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

/** A loop of about 8n instructions: long enough to span many slices. */
const LOOP = `(module (func (export "count") (param i32) (result i32) (local i32)
  (loop $l (local.set 1 (i32.add (local.get 1) (i32.const 1)))
    (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
  (local.get 1)))`;

describe('run() between slices', () => {
  it('gives timers a turn (a microtask would starve them)', async () => {
    const machine = await Machine.instantiate(await wat(LOOP), {}, { tier: 'interpreter' });
    machine.begin('count', [50_000_000]);
    let fired = false;
    setTimeout(() => { fired = true; }, 5);
    let slices = 0;
    const results = await machine.run({ sliceInstructions: 2_000, onSlice: () => { slices++; return !fired; } });
    expect(fired).toBe(true);
    expect(results).toEqual([]); // stopped by onSlice once the timer ran, long before the end
    expect(machine.instructionCount).toBeLessThan(8 * 50_000_000);
    expect(slices).toBeGreaterThan(0);
  });

  it('yieldToEventLoop resolves after pending I/O-phase callbacks, not before', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    await yieldToEventLoop();
    order.push('after yield');
    expect(order).toEqual(['immediate', 'after yield']);
  });
});
