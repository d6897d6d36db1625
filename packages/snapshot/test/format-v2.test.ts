/**
 * Format version 2 (src/layout.ts): the pages raw after a CBOR part, each with a checksum.
 * A damaged page, padding or page count is refused with the project's error classes; a
 * snapshot in a buffer at any offset reads the same; and version-1 files (one CBOR body, the
 * SHA-256 of the stored body in the header) still read and restore, plain and compressed.
 */
import { Encoder } from 'cbor-x';
import {
  CorruptSnapshotError,
  FORMAT_VERSION,
  PAGE,
  PRODUCER,
  checkpoint,
  decodeSnapshot,
  loadChain,
  moduleHash,
  resolveChain,
  restoreMachine,
  sha256,
} from '@mvvm/snapshot';
import { zlibCodec } from '@mvvm/snapshot/node';
import { machineToBody } from '../src/body';
import { pageChecksum } from '../src/checksum';
import { decodeHeader, encodeHeader } from '../src/header';
import { splitBody } from '../src/layout';
import { PAGES_WASM, expectSameState, finish, plainOf, reference, reseal, startedAt, treeOf } from './helpers';

let hash: Uint8Array;
beforeAll(async () => {
  hash = await moduleHash(PAGES_WASM);
});
const restoreFrom = async (links: Uint8Array[]) => restoreMachine(PAGES_WASM, await loadChain(links, { codec: zlibCodec }));

/** What the version-1 writer produced for `m`: the same body as one CBOR document. */
async function versionOne(m: Awaited<ReturnType<typeof startedAt>>, compress: boolean): Promise<Uint8Array> {
  const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, variableMapSize: true });
  const plain: Uint8Array = encoder.encode({ machine: machineToBody(m.snapshot()), wasi: null, meta: {} });
  const stored = compress ? await zlibCodec.compress(plain) : plain;
  const head = encodeHeader({
    formatVersion: 1, compressed: compress, incremental: false, moduleHash: hash, baseId: new Uint8Array(32),
    bodyHash: await sha256(stored), storedLength: stored.length, decodedLength: plain.length, producer: PRODUCER,
  });
  return Uint8Array.from([...head, ...stored]);
}

test('this runtime writes version 2 and still reads version 1, plain and compressed', async () => {
  expect(FORMAT_VERSION).toBe(2);
  const ref = await reference();
  const m = await startedAt(Math.floor(ref.total / 2));
  for (const compress of [false, true]) {
    const old = await versionOne(m, compress);
    expect(decodeHeader(old).header.formatVersion).toBe(1);
    const restored = await restoreFrom([old]);
    expectSameState(restored.snapshot(), m.snapshot());
    expect(finish(restored)).toEqual(ref);
    // Damage in a version-1 body is still caught by its SHA-256.
    const bad = old.slice();
    bad[bad.length - 100] ^= 1;
    await expect(restoreFrom([bad])).rejects.toThrow(CorruptSnapshotError);
  }
  // A version-2 increment on a version-1 base resolves as a chain.
  const base = await versionOne(m, false);
  const baseId = await sha256(base.subarray(0, decodeHeader(base).length));
  m.store.memories[0].clearDirty();
  m.step(20_000);
  const inc = await checkpoint(m, { moduleHash: hash, base: baseId });
  expect(inc.header.formatVersion).toBe(2);
  expectSameState((await restoreFrom([base, inc.bytes])).snapshot(), m.snapshot());
});

describe('version 2', () => {
  let snap: Uint8Array;
  let length: number;
  let pagesAt: number;
  beforeAll(async () => {
    snap = (await checkpoint(await startedAt(300_000), { moduleHash: hash })).bytes;
    length = decodeHeader(snap).length;
    pagesAt = length + splitBody(snap.subarray(length), length).hashedLength;
  });

  test('pages start at a multiple of 8 and fill the rest of the file; damage anywhere before them fails the body hash', async () => {
    for (const at of [length + 3, length + 20, pagesAt - 30, pagesAt - 1]) {
      const bad = snap.slice();
      bad[at] ^= 4;
      await expect(restoreFrom([bad])).rejects.toThrow(CorruptSnapshotError);
    }
    expect(pagesAt % 8).toBe(0);
    const d = await decodeSnapshot(snap);
    expect(snap.length - pagesAt).toBe(d.machine.memories[0].indices.length * PAGE);
    expect(d.machine.memories[0].indices.length).toBeGreaterThan(1);
    // The stored pages are views of the file, in order.
    expect(d.machine.memories[0].data[1].byteOffset - snap.byteOffset).toBe(pagesAt + PAGE);
  });

  test('a bit flipped in any stored page is refused by its checksum', async () => {
    const pages = (snap.length - pagesAt) / PAGE;
    for (let p = 0; p < pages; p++) {
      const bad = snap.slice();
      bad[pagesAt + p * PAGE + ((p * 7919) % PAGE)] ^= 1 << (p % 8);
      await expect(restoreFrom([bad])).rejects.toThrow(/page checksum mismatch \(page \d+\)/);
    }
  });

  test('a page more or fewer, or non-zero padding, is refused', async () => {
    const { header } = decodeHeader(snap);
    const reheader = (body: Uint8Array) => {
      const head = encodeHeader({ ...header, storedLength: body.length, decodedLength: body.length });
      return Uint8Array.from([...head, ...body]);
    };
    const body = snap.subarray(length);
    await expect(restoreFrom([reheader(Uint8Array.from([...body, ...new Uint8Array(PAGE)]))])).rejects.toThrow(/longer than its \d+ stored pages/);
    await expect(restoreFrom([reheader(body.subarray(0, body.length - PAGE))])).rejects.toThrow(/shorter than its \d+ stored pages/);
    const { hashedLength, cbor, pages } = splitBody(body, length);
    if (hashedLength > 16 + cbor.length + 4 * pages) {
      const padded = body.slice();
      padded[hashedLength - 1] = 1;
      await expect(restoreFrom([reheader(padded)])).rejects.toThrow(CorruptSnapshotError);
    }
    const huge = body.slice();
    new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
    await expect(restoreFrom([reheader(huge)])).rejects.toThrow(/CBOR part or its pages run past the end/);
    // A page count that disagrees with the pages the CBOR part lists (hash recomputed, as a buggy writer would).
    const tree = treeOf(body, length);
    tree.machine.memories[0].data.pop();
    await expect(restoreFrom([await reseal(snap, plainOf(tree, length))])).rejects.toThrow(`lists ${pages} stored pages and holds ${pages - 1}`);
  });

  test('a snapshot at an odd offset of a larger buffer reads the same', async () => {
    const holder = new Uint8Array(snap.length + 3);
    holder.set(snap, 3);
    const odd = holder.subarray(3);
    const [a, b] = [await decodeSnapshot(odd), await decodeSnapshot(snap)];
    expect(a.id).toEqual(b.id);
    expect(a.machine.memories[0].data.map((d) => pageChecksum(d))).toEqual(b.machine.memories[0].data.map((d) => pageChecksum(d)));
    expect(a.machine.memories[0].sums).toEqual(b.machine.memories[0].sums);
    expectSameState(resolveChain([a]).state, resolveChain([b]).state);
  });
});

test('pageChecksum: every single-bit flip and a swap of two words changes it', () => {
  const page = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) page[i] = (i * 2654435761) >>> 24;
  const sum = pageChecksum(page);
  for (let bit = 0; bit < 8 * PAGE; bit += 4093) {
    page[bit >> 3] ^= 1 << (bit & 7);
    expect(pageChecksum(page)).not.toBe(sum);
    page[bit >> 3] ^= 1 << (bit & 7);
  }
  expect(pageChecksum(page)).toBe(sum);
  const words = new Uint32Array(page.buffer);
  [words[10], words[50]] = [words[50], words[10]];
  expect(pageChecksum(page)).not.toBe(sum);
  [words[10], words[50]] = [words[50], words[10]];
  expect(() => pageChecksum(new Uint8Array(100))).toThrow(RangeError);
  // Copying while summing gives the same sum and the same bytes, aligned or not.
  for (const offset of [0, 1, 8]) {
    const to = new Uint8Array(PAGE + 8);
    expect(pageChecksum(page, to.subarray(offset, offset + PAGE))).toBe(sum);
    expect(Buffer.compare(to.subarray(offset, offset + PAGE), page)).toBe(0);
    const src = new Uint8Array(PAGE + 3);
    src.set(page, 3);
    expect(pageChecksum(src.subarray(3), to.subarray(offset, offset + PAGE))).toBe(sum);
  }
});
