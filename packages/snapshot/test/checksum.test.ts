/**
 * SHA-256 without WebCrypto (Node 18 has no global `crypto`): the plain-JS digest equals
 * node:crypto's at every padding boundary, and a snapshot written and read without
 * `globalThis.crypto` checks, restores and finishes as one written with it.
 */
import { createHash } from 'node:crypto';
import { checkpoint, decodeSnapshot, moduleHash, restoreMachine, loadChain } from '@mvvm/snapshot';
import { sha256Js } from '../src/checksum';
import { PAGES_WASM, finish, reference, startedAt } from './helpers';

test('sha256Js matches node:crypto for lengths around every padding boundary', () => {
  for (const n of [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65536 + 17]) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 131 + 7) & 255);
    expect(Buffer.from(sha256Js(bytes)).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
  }
  expect(Buffer.from(sha256Js(new TextEncoder().encode('abc'))).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

/** Runs `f` with globalThis.crypto absent, as on Node 18. */
async function withoutWebCrypto<T>(f: () => Promise<T>): Promise<T> {
  const saved = Object.getOwnPropertyDescriptor(globalThis, 'crypto');
  Object.defineProperty(globalThis, 'crypto', { value: undefined, configurable: true, writable: true });
  try {
    return await f();
  } finally {
    if (saved) Object.defineProperty(globalThis, 'crypto', saved);
    else delete (globalThis as { crypto?: unknown }).crypto;
  }
}

test('a snapshot taken and restored without WebCrypto is the same snapshot', async () => {
  const cryptoBefore = globalThis.crypto; // undefined on Node 18
  const ref = await reference();
  const m = await startedAt(Math.floor(ref.total / 2));
  const hash = await moduleHash(PAGES_WASM);
  const withCrypto = await checkpoint(m, { moduleHash: hash });
  const { bytes, restored } = await withoutWebCrypto(async () => {
    expect(globalThis.crypto).toBeUndefined();
    const hashJs = await moduleHash(PAGES_WASM);
    expect(hashJs).toEqual(hash);
    const snap = await checkpoint(m, { moduleHash: hashJs });
    await decodeSnapshot(snap.bytes); // checks both checksums with the JS digest
    return { bytes: snap.bytes, restored: await restoreMachine(PAGES_WASM, await loadChain([snap.bytes])) };
  });
  expect(globalThis.crypto).toBe(cryptoBefore);
  expect(bytes.length).toBe(withCrypto.bytes.length);
  expect(finish(restored)).toEqual(ref);
});
