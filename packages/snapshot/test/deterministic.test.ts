/** The deterministic-NaN mode (Machine option) is part of the snapshot body: a restore keeps it. */
import { Machine } from '@mvvm/interpreter';
import { checkpoint, decodeSnapshot, loadChain, moduleHash, restoreMachine } from '@mvvm/snapshot';
import { PAGES_WASM, ROUNDS, finish, reference } from './helpers';

test.each([true, false])('deterministic %s survives encode, decode and restore', async (deterministic) => {
  const ref = await reference();
  const m = await Machine.instantiate(PAGES_WASM, {}, { deterministic });
  m.begin('run', [ROUNDS]);
  m.step(Math.floor(ref.total / 3));
  const snap = await checkpoint(m, { moduleHash: await moduleHash(PAGES_WASM) });
  expect((await decodeSnapshot(snap.bytes)).machine.state.deterministic).toBe(deterministic);
  const restored = await restoreMachine(PAGES_WASM, await loadChain([snap.bytes]));
  expect(restored.snapshot().deterministic).toBe(deterministic);
  expect(finish(restored)).toEqual(ref);
});
