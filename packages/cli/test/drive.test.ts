/** The run loop takes a SIGUSR1 that bin/mvvm.js kept for it (one that came before any run loop watched signals). */
import { Machine } from '@mvvm/interpreter';
import { wat } from '../../interpreter/test/helpers/wat';
import { drive } from '../src/drive';
import type { Session } from '../src/session';

const PENDING = Symbol.for('mvvm.sigusr1.pending');
const flags = globalThis as unknown as Record<symbol, boolean | undefined>;

test('a kept SIGUSR1 fires before the first instruction, once', async () => {
  const m = Machine.instantiateSync(await wat('(module (func (export "_start") (loop $l (br $l))))'));
  m.begin('_start', []);
  flags[PENDING] = true;
  const fired: string[] = [];
  const session = { machine: m } as Session;
  expect(await drive(session, { watchSignals: true, onFire: async (r) => (fired.push(r), false) })).toEqual({ kind: 'stopped' });
  expect(fired).toEqual(['SIGUSR1']);
  expect(m.instructionCount).toBe(0);
  expect(flags[PENDING]).toBe(false);
  // Without one kept, the loop runs to its trigger.
  const o = await drive(session, { watchSignals: true, triggers: [{ name: 't', repeats: false, budget: () => 1000, fired: (x) => x.instructionCount >= 1000 }], onFire: async (r) => (fired.push(r), false) });
  expect(o).toEqual({ kind: 'stopped' });
  expect(fired).toEqual(['SIGUSR1', 't']);
  expect(m.instructionCount).toBe(1000);
});
