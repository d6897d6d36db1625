import { Machine } from '@mvvm/interpreter';
import { wat } from '../helpers/wat';

test('stores, bulk writes and grown memory mark exactly the pages they touch', async () => {
  const m = await Machine.instantiate(await wat(`
    (module
      (memory (export "memory") 4)
      (func (export "store8") (param i32) (i32.store8 (local.get 0) (i32.const 1)))
      (func (export "store64") (param i32) (i64.store (local.get 0) (i64.const -1)))
      (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 7) (local.get 1)))
      (func (export "grow") (result i32) (memory.grow (i32.const 2))))`));
  const mem = m.memory!;
  mem.clearDirty();
  expect(mem.dirtyPages()).toEqual([]);
  m.invoke('store8', [65536 * 2 + 5]);
  expect(mem.dirtyPages()).toEqual([2]);
  m.invoke('store64', [65536 - 4]); // straddles pages 0 and 1
  expect(mem.dirtyPages()).toEqual([0, 1, 2]);
  mem.clearDirty();
  m.invoke('fill', [65536 * 3 - 10, 20]);
  expect(mem.dirtyPages()).toEqual([2, 3]);
  mem.clearDirty();
  expect(m.invoke('grow', [])).toEqual([4]);
  m.invoke('store8', [65536 * 5]);
  expect(mem.dirtyPages()).toEqual([5]); // grown pages start clean (zero), then get written
});
