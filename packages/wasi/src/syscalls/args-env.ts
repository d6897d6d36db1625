import { Errno } from '../constants';
import type { GuestMemory } from '../memory';
import type { Syscall } from './types';

/** Writes a pointer array and the NUL-terminated strings it points to. */
function writeList(m: GuestMemory, items: Uint8Array[], ptrs: number, buf: number): number {
  let at = buf;
  items.forEach((b, i) => {
    m.setU32(ptrs + 4 * i, at);
    m.writableBytes(at, b.length).set(b);
    at += b.length;
  });
  return Errno.SUCCESS;
}

function writeSizes(m: GuestMemory, items: Uint8Array[], countPtr: number, sizePtr: number): number {
  m.setU32(countPtr, items.length);
  m.setU32(sizePtr, items.reduce((n, b) => n + b.length, 0));
  return Errno.SUCCESS;
}

export const argsEnvCalls: Record<string, Syscall> = {
  args_get: (w, m, argv, buf) => writeList(m, w.argBytes, argv, buf),
  args_sizes_get: (w, m, count, size) => writeSizes(m, w.argBytes, count, size),
  environ_get: (w, m, environ, buf) => writeList(m, w.envBytes, environ, buf),
  environ_sizes_get: (w, m, count, size) => writeSizes(m, w.envBytes, count, size),
};
