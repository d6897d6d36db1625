import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decoder } from 'cbor-x';
import { Machine } from '@mvvm/interpreter';
import {
  ChainOrderError,
  CorruptSnapshotError,
  FORMAT_VERSION,
  MissingBaseError,
  NotASnapshotError,
  PAGE,
  SnapshotVersionError,
  TruncatedSnapshotError,
  WrongModuleError,
  checkpoint,
  decodeSnapshot,
  encodeSnapshot,
  loadChain,
  moduleHash,
  readHeader,
  restoreMachine,
  streamCodec,
  toHex,
} from '@mvvm/snapshot';
import { BASE_FILE_META, loadChainFromFiles, writeFileAtomic, zlibCodec } from '@mvvm/snapshot/node';
import { PAGES_WASM, expectSameState, finish, reference, startedAt } from './helpers';
import { splitBody } from '../src/layout';

let ref: { result: unknown; total: number };
let hash: Uint8Array;
beforeAll(async () => {
  ref = await reference();
  hash = await moduleHash(PAGES_WASM);
});

const restoreFrom = async (links: Uint8Array[]) => restoreMachine(PAGES_WASM, await loadChain(links, { codec: zlibCodec }));

describe('full snapshots', () => {
  test('restore at 16 points (plain and compressed) and finish with the same result and count', async () => {
    for (let i = 0; i <= 15; i++) {
      const at = Math.floor((ref.total * i) / 15);
      const m = await startedAt(at);
      const snap = await checkpoint(m, { moduleHash: hash, compress: i % 2 === 1, codec: zlibCodec });
      expect(readHeader(snap.bytes).compressed).toBe(i % 2 === 1);
      const restored = await restoreFrom([snap.bytes]);
      expect(restored.instructionCount).toBe(m.instructionCount);
      expectSameState(restored.snapshot(), m.snapshot());
      expect(finish(restored)).toEqual(ref);
    }
  });

  test('all-zero pages are left out', async () => {
    const m = await startedAt(0);
    const snap = await checkpoint(m, { moduleHash: hash });
    const d = await decodeSnapshot(snap.bytes);
    const mem = d.machine.memories[0];
    expect(mem.pages).toBe(m.memory!.pages);
    // Before running, only the data segment's pages (if any) hold data.
    expect(mem.indices.length).toBeLessThan(3);
    expect(snap.bytes.length).toBeLessThan(3 * 65536 + 4096);
  });

  test('WASI state and meta travel as opaque plain data', async () => {
    const m = await startedAt(1000);
    const wasi = { fds: [{ fd: 3, path: '/data/x.txt', offset: 12345678901 }], args: ['a', 'ß'], bytes: Uint8Array.of(1, 2, 3) };
    const snap = await checkpoint(m, { moduleHash: hash, wasi, meta: { trigger: 'test' } });
    const r = await loadChain([snap.bytes]);
    expect(r.wasi).toEqual({ ...wasi, bytes: expect.anything() });
    expect([...(r.wasi as { bytes: Uint8Array }).bytes]).toEqual([1, 2, 3]);
    expect(r.meta).toEqual({ trigger: 'test' });
  });

  test('the body\'s CBOR part is standard CBOR with int32 arrays as little-endian bytes', async () => {
    const m = await startedAt(5000);
    const snap = await checkpoint(m, { moduleHash: hash });
    const d = await decodeSnapshot(snap.bytes);
    const headerLength = snap.bytes.length - d.header.storedLength;
    const raw = new Decoder({ mapsAsObjects: true }).decode(splitBody(snap.bytes.subarray(headerLength), headerLength).cbor);
    const globals: Uint8Array = raw.machine.globals;
    const sp = m.snapshot().globals[0];
    expect(new DataView(globals.buffer, globals.byteOffset).getInt32(0, true)).toBe(sp);
    expect(d.header.formatVersion).toBe(FORMAT_VERSION);
    expect(d.header.producer).toMatch(/^mvvm-ts\//);
    expect(toHex(d.header.moduleHash)).toBe(toHex(hash));
  });

  test('the browser codec (CompressionStream) and zlib read each other', async () => {
    const m = await startedAt(200_000);
    const a = await checkpoint(m, { moduleHash: hash, compress: true, codec: streamCodec });
    const b = await checkpoint(m, { moduleHash: hash, compress: true, codec: zlibCodec });
    const viaZlib = await loadChain([a.bytes], { codec: zlibCodec });
    const viaStream = await loadChain([b.bytes], { codec: streamCodec });
    expectSameState(viaZlib.state, m.snapshot());
    expectSameState(viaStream.state, m.snapshot());
  });
});

describe('incremental chains', () => {
  /** One machine, a full snapshot then incremental ones, with the state expected at each. */
  async function takeChain(points: number[], compress = false) {
    const m = await startedAt(points[0]);
    const links: Uint8Array[] = [];
    const states = [];
    let base: Uint8Array | undefined;
    for (let i = 0; i < points.length; i++) {
      if (i > 0) m.step(points[i] - points[i - 1]);
      const snap = await checkpoint(m, { moduleHash: hash, base, compress, codec: zlibCodec });
      base = snap.id;
      links.push(snap.bytes);
      states.push(m.snapshot());
    }
    return { m, links, states };
  }

  test('every prefix of a chain restores exactly the state at that point and finishes identically', async () => {
    const points = [0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => Math.floor((ref.total * i) / 8.5) + 1);
    for (const compress of [false, true]) {
      const { links, states } = await takeChain(points, compress);
      for (let i = 0; i < links.length; i++) {
        const r = await loadChain(links.slice(0, i + 1), { codec: zlibCodec });
        expectSameState(r.state, states[i]);
        const restored = await restoreMachine(PAGES_WASM, r);
        expect(finish(restored)).toEqual(ref);
      }
    }
  });

  test('incremental snapshots store only written pages', async () => {
    const total = ref.total;
    const { links } = await takeChain([Math.floor(total / 2), Math.floor(total / 2) + 2_000]);
    const [full, small] = await Promise.all(links.map((l) => decodeSnapshot(l)));
    expect(full.header.incremental).toBe(false);
    expect(small.header.incremental).toBe(true);
    expect(small.machine.memories[0].indices.length).toBeLessThanOrEqual(full.machine.memories[0].indices.length / 2);
    expect(links[1].length).toBeLessThan(links[0].length / 2);
  });

  test('a page written back to all zeros is recorded as zeroed, not left at the base contents', async () => {
    const m = await startedAt(Math.floor(ref.total / 2));
    const full = await checkpoint(m, { moduleHash: hash });
    const mem = m.memory!;
    const page = (await decodeSnapshot(full.bytes)).machine.memories[0].indices[3];
    mem.u8.fill(0, page * PAGE, (page + 1) * PAGE); // as a host (WASI) write would
    mem.markDirty(page * PAGE, PAGE);
    const inc = await checkpoint(m, { moduleHash: hash, base: full.id });
    const d = await decodeSnapshot(inc.bytes);
    expect([...d.machine.memories[0].zeroed]).toEqual([page]);
    expect(d.machine.memories[0].indices.length).toBe(0);
    const r = await loadChain([full.bytes, inc.bytes]);
    expectSameState(r.state, m.snapshot());
  });

  test('a restored machine continues the chain', async () => {
    const { links } = await takeChain([10_000, 300_000]);
    const r = await loadChain(links);
    const m = await restoreMachine(PAGES_WASM, r);
    m.step(400_000);
    const next = await checkpoint(m, { moduleHash: hash, base: r.id });
    const again = await loadChain([...links, next.bytes]);
    expectSameState(again.state, m.snapshot());
    expect(finish(await restoreMachine(PAGES_WASM, again))).toEqual(ref);
  });

  test('a missing base and a wrong order are refused with specific errors', async () => {
    const { links, states } = await takeChain([1000, 50_000, 100_000, 150_000]);
    await expect(loadChain([links[1]])).rejects.toThrow(MissingBaseError);
    await expect(loadChain([links[0], links[2]])).rejects.toThrow(MissingBaseError);
    await expect(loadChain([links[0], links[2], links[1]])).rejects.toThrow(ChainOrderError);
    await expect(loadChain([links[1], links[0]])).rejects.toThrow(ChainOrderError);
    await expect(loadChain([links[0], links[0]])).rejects.toThrow(ChainOrderError);
    expectSameState((await loadChain(links)).state, states[3]); // the right order still loads
  });

  test('files: the chain is followed through recorded base file names, or explicit bases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mvvm-snap-'));
    const m = await startedAt(5000);
    const names = ['a.mvvm', 'b.mvvm', 'c.mvvm'];
    let base: Uint8Array | undefined;
    for (let i = 0; i < names.length; i++) {
      m.step(100_000);
      const snap = await checkpoint(m, { moduleHash: hash, base, meta: i > 0 ? { [BASE_FILE_META]: names[i - 1] } : {} });
      writeFileAtomic(join(dir, names[i]), snap.bytes);
      base = snap.id;
    }
    const r = await loadChainFromFiles(join(dir, 'c.mvvm'));
    expect(r.chain.length).toBe(3);
    expectSameState(r.state, m.snapshot());
    // Renamed files: the hint fails, explicit bases (in any order) work.
    writeFileSync(join(dir, 'x1'), readFileSync(join(dir, 'a.mvvm')));
    writeFileSync(join(dir, 'x2'), readFileSync(join(dir, 'b.mvvm')));
    writeFileSync(join(dir, 'a.mvvm'), new Uint8Array(0));
    await expect(loadChainFromFiles(join(dir, 'c.mvvm'))).rejects.toThrow(MissingBaseError);
    const again = await loadChainFromFiles(join(dir, 'c.mvvm'), [join(dir, 'x2'), join(dir, 'x1')]);
    expectSameState(again.state, m.snapshot());
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('bad input gets a specific error', () => {
  let good: Uint8Array;
  beforeAll(async () => {
    good = (await checkpoint(await startedAt(300_000), { moduleHash: hash })).bytes;
  });

  test('truncated anywhere', async () => {
    for (const n of [0, 5, 20, 124, 130, good.length - 1000, good.length - 1]) {
      await expect(restoreFrom([good.slice(0, n)])).rejects.toThrow(TruncatedSnapshotError);
    }
  });

  test('flipped bytes in header and body', async () => {
    for (const at of [12, 50, 100, 110, 126, good.length - 500, good.length - 1]) {
      const bad = good.slice();
      bad[at] ^= 0x10;
      await expect(restoreFrom([bad])).rejects.toThrow(CorruptSnapshotError);
    }
    const trailing = new Uint8Array(good.length + 1);
    trailing.set(good);
    await expect(restoreFrom([trailing])).rejects.toThrow(CorruptSnapshotError);
  });

  test('not a snapshot', async () => {
    await expect(restoreFrom([new TextEncoder().encode('hello, world: not a snapshot')])).rejects.toThrow(NotASnapshotError);
    await expect(restoreFrom([PAGES_WASM])).rejects.toThrow(NotASnapshotError);
  });

  test('another format version', async () => {
    const bad = good.slice();
    bad[8] = 4;
    await expect(restoreFrom([bad])).rejects.toThrow(/format version 4, this runtime reads versions 1, 2 and 3/);
    await expect(restoreFrom([bad])).rejects.toThrow(SnapshotVersionError);
  });

  test('another machine state version', async () => {
    const m = await startedAt(1000);
    const bytes = (await encodeSnapshot({ state: { ...m.snapshot(), version: 99 } }, { moduleHash: hash })).bytes;
    await expect(restoreFrom([bytes])).rejects.toThrow(SnapshotVersionError);
  });

  test('a snapshot of another module', async () => {
    const other = PAGES_WASM.slice(); // a Uint8Array: a copy
    other[other.length - 1] ^= 1; // the producers section: still a valid module
    await expect(restoreMachine(other, await loadChain([good]))).rejects.toThrow(WrongModuleError);
  });

  test('nothing half-built: a refused restore leaves no machine, the good one still restores', async () => {
    const bad = good.slice();
    bad[good.length - 7] ^= 1;
    let machine: Machine | undefined;
    await expect((async () => (machine = await restoreFrom([bad])))()).rejects.toThrow(CorruptSnapshotError);
    expect(machine).toBeUndefined();
    expect(finish(await restoreFrom([good]))).toEqual(ref);
  });
});

test('writeFileAtomic replaces a file whole and leaves no temporary file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mvvm-atomic-'));
  const path = join(dir, 's.mvvm');
  writeFileAtomic(path, Uint8Array.of(1, 2, 3));
  writeFileAtomic(path, new Uint8Array(1 << 20).fill(7));
  expect(readFileSync(path).length).toBe(1 << 20);
  expect(readdirSync(dir)).toEqual(['s.mvvm']);
  expect(() => writeFileAtomic(join(dir, 'no-such-dir', 'x'), Uint8Array.of(1))).toThrow();
});
