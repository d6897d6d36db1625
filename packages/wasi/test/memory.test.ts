import { MemoryInstance } from '@mvvm/interpreter';
import { GuestMemory } from '../src/memory';

test('host writes into guest memory mark their pages dirty; reads do not', () => {
  const mem = new MemoryInstance(4, undefined);
  const g = new GuestMemory(mem);
  mem.clearDirty();
  g.bytes(65536 * 3, 100);
  g.iovecs(0, 0);
  expect(mem.dirtyPages()).toEqual([]);
  g.setU32(65536 + 8, 7);
  g.writableBytes(65536 * 3 - 4, 8).fill(1); // straddles pages 2 and 3
  expect(mem.dirtyPages()).toEqual([1, 2, 3]);
  expect(() => g.setU64(65536 * 4 - 4, 1n)).toThrow(); // EFAULT, and nothing marked
  expect(mem.dirtyPages()).toEqual([1, 2, 3]);
});
