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

test('this runtime writes version 3 (threads) and reads 1, 2 and 3', () => {
  expect(STATE_VERSION).toBe(3);
  expect(READABLE_STATE_VERSIONS).toEqual([1, 2, 3]);
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
  resolved.state.version = 4;
  await expect(restoreMachine(bytes, resolved)).rejects.toThrow(/machine state version 4, this runtime reads 1, 2, 3/);
});

test('a snapshot with v128 globals and v128 values on the stack round-trips through the file format', async () => {
  // A mutable v128 global updated in a loop, a v128 local and v128 operands across a call.
  const { assemble, loadWabt, WABT_FEATURES } = await import('../../interpreter/test/helpers/wat');
  const text = `(module
    (global $g (mut v128) (v128.const i32x4 1 2 3 4))
    (func $f (param v128) (result v128) (i32x4.mul (local.get 0) (v128.const i32x4 3 3 3 3)))
    (func (export "run") (param $n i32) (result i32)
      (local $v v128)
      (loop $l
        (local.set $v (i32x4.add (local.get $v) (call $f (global.get $g))))
        (global.set $g (i32x4.add (global.get $g) (v128.const i32x4 1 -1 7 0)))
        (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
      (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (global.get $g)))))`;
  const simd = assemble(await loadWabt(), text, { ...WABT_FEATURES, simd: true });
  const reference = await Machine.instantiate(simd, {});
  const expected = reference.invoke('run', [40]);
  const { checkpoint, moduleHash } = await import('@mvvm/snapshot');
  for (const at of [7, 100, 333]) {
    const m = await Machine.instantiate(simd, {});
    m.begin('run', [40]);
    m.step(at);
    const snap = await checkpoint(m, { moduleHash: await moduleHash(simd) });
    const resolved = await loadChain([snap.bytes]);
    expect(resolved.state.version).toBe(3);
    expect(resolved.state.globalsHigh?.length).toBe(2);
    const restored = await restoreMachine(simd, resolved);
    expect(restored.step(Infinity).results).toEqual(expected);
    expect(restored.instructionCount).toBe(reference.instructionCount);
  }
});
