/**
 * Snapshots written before SIMD (machine state version 1) still restore: the fixture was
 * written by the version-1 runtime (fixtures/make-state-v1.ts) mid-run, and today's runtime
 * finishes it exactly as an uninterrupted run does.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Machine, READABLE_STATE_VERSIONS, STATE_VERSION } from '@mvvm/interpreter';
import { loadChain, restoreMachine } from '@mvvm/snapshot';

const bytes = readFileSync(join(__dirname, '../../../bench/kernels/hash64.wasm'));
const fixture = readFileSync(join(__dirname, 'fixtures/state-v1-hash64.bin'));

test('this runtime writes version 2 and reads 1 and 2', () => {
  expect(STATE_VERSION).toBe(2);
  expect(READABLE_STATE_VERSIONS).toEqual([1, 2]);
});

test('a version-1 snapshot taken mid-run restores and finishes like an uninterrupted run', async () => {
  const reference = await Machine.instantiate(bytes, {});
  const expected = reference.invoke('run', [2]);
  const resolved = await loadChain([fixture]);
  expect(resolved.state.version).toBe(1);
  expect(resolved.state.thread.instructionCount).toBe(5000);
  const m = await restoreMachine(bytes, resolved);
  const r = m.step(Infinity);
  expect(r.done).toBe(true);
  expect(r.results).toEqual(expected);
  expect(m.instructionCount).toBe(reference.instructionCount);
  expect(Buffer.compare(m.memory!.u8, reference.memory!.u8)).toBe(0);
});

test('a state of an unknown version is refused with one clear error', async () => {
  const resolved = await loadChain([fixture]);
  resolved.state.version = 3;
  await expect(restoreMachine(bytes, resolved)).rejects.toThrow(/machine state version 3, this runtime reads 1, 2/);
});
