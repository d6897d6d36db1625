import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';

/**
 * clang output with the post-MVP features on (test/programs/features.c: memory.copy/fill,
 * saturating truncations, sign extension) — the 0xFC-prefixed opcodes that
 * @webassemblyjs/wasm-parser cannot read — runs here exactly as in V8, and survives a
 * snapshot taken in the middle of a bulk-memory loop.
 */
test('clang output with bulk memory, saturating truncation and sign extension matches V8', async () => {
  const bytes = new Uint8Array(readFileSync(join(__dirname, '../programs/features.wasm')));
  const v8 = await WebAssembly.instantiate(bytes);
  const expected = (v8.instance.exports.run as (n: number) => bigint)(300);

  const m = await Machine.instantiate(bytes);
  expect(m.invoke('run', [300])).toEqual([expected]);

  const total = m.instructionCount;
  const half = await Machine.instantiate(bytes);
  half.begin('run', [300]);
  half.step(Math.floor(total / 2));
  const restored = await Machine.restore(bytes, structuredClone(half.snapshot()));
  expect(restored.step(Infinity).results).toEqual([expected]);
});
