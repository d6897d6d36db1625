/**
 * memory.grow over-allocates geometrically (execution/runtime.ts, MemoryInstance): growing
 * page by page replaces the buffer O(log n) times, not every call, while everything that
 * can be seen (memory.size, bounds, the host's views, snapshots) is exactly the pages grown.
 */
import { Machine, Trap } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

const GROWER = `
(module
  (memory (export "memory") 1 2000)
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func (export "store") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0))))`;

test('1,024 one-page grows keep every byte, replace the buffer a few times, and bound accesses by the pages', async () => {
  const m = await Machine.instantiate(await wat(GROWER));
  const mem = m.memory!;
  const buffers = new Set<ArrayBuffer>([mem.buffer]);
  for (let i = 0; i < 1024; i++) {
    expect(m.invoke('grow', [1])).toEqual([1 + i]);
    buffers.add(mem.buffer);
    const pages = 2 + i;
    expect(m.invoke('size')).toEqual([pages]);
    expect([mem.pages, mem.byteLength, mem.u8.length, mem.view.byteLength]).toEqual([pages, pages * 65536, pages * 65536, pages * 65536]);
    m.invoke('store', [(pages - 1) * 65536 + (i % 65536), i & 255]); // a byte in the new page
    // One past the end traps, although the buffer underneath may be larger.
    expect(() => m.invoke('load', [pages * 65536])).toThrow(Trap);
  }
  expect(buffers.size).toBeLessThanOrEqual(12); // doubling: 1 -> 2 -> 4 -> ... -> 1025+ pages
  for (let i = 0; i < 1024; i++) expect(m.invoke('load', [(1 + i) * 65536 + (i % 65536)])).toEqual([i & 255]);
  // The maximum still holds, and a failed grow changes nothing.
  expect(m.invoke('grow', [2000])).toEqual([-1]);
  expect(m.invoke('size')).toEqual([1025]);
  const state = m.snapshot();
  expect(state.memories[0].data.length).toBe(1025 * 65536);
  expect(state.memories[0].data[1024 * 65536 + 1023]).toBe(1023 & 255);
});

test('grown pages read zero, also where a larger buffer was already there', async () => {
  const m = await Machine.instantiate(await wat(GROWER));
  m.invoke('grow', [5]); // capacity now beyond 6 pages
  m.invoke('store', [6 * 65536 - 1, 9]);
  const restored = await Machine.restore(await wat(GROWER), m.snapshot());
  expect(restored.invoke('load', [6 * 65536 - 1])).toEqual([9]);
  expect(restored.invoke('grow', [3])).toEqual([6]);
  for (const at of [6 * 65536, 7 * 65536 + 5, 9 * 65536 - 1]) expect(restored.invoke('load', [at])).toEqual([0]);
  expect(restored.memory!.byteLength).toBe(9 * 65536);
});
