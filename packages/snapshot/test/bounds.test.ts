/**
 * Small files that would force huge allocations, and base file hints that name what is not
 * a snapshot beside this one (issue 7): all refused with one line, before anything is
 * inflated, allocated or opened beyond what the module and the user's paths allow.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { Machine } from '@mvvm/interpreter';
import {
  Codec,
  InvalidSnapshotError,
  SnapshotError,
  WrongModuleError,
  checkpoint,
  decodeSnapshot,
  loadChain,
  moduleHash,
  sha256,
  snapshotBounds,
} from '@mvvm/snapshot';
import { BASE_FILE_META, loadChainFromFiles, readSnapshotFile, writeFileAtomic, zlibCodec } from '@mvvm/snapshot/node';
import { decodeHeader, encodeHeader } from '../src/header';
import { wat } from '../../interpreter/test/helpers/wat';
import { PAGES_WASM, plainOf, reseal, treeOf } from './helpers';

const SMALL = `(module (memory (export "memory") 1 2) (table 1 3 funcref) (global (mut i32) (i32.const 0))
  (func (export "f") (result i32) (i32.const 1)))`;

let wasm: Uint8Array;
let good: Uint8Array;

beforeAll(async () => {
  wasm = await wat(SMALL);
  good = (await checkpoint(await Machine.instantiate(wasm), { moduleHash: await moduleHash(wasm) })).bytes;
});

/** `snapshot` with its body's CBOR changed by `edit`, every checksum recomputed. */
async function crafted(snapshot: Uint8Array, edit: (body: any) => void): Promise<Uint8Array> {
  const { length } = decodeHeader(snapshot);
  const body = treeOf(snapshot.subarray(length), length);
  edit(body);
  return reseal(snapshot, plainOf(body, length));
}

test('the unaltered snapshot loads within its module\'s bounds', async () => {
  const r = await loadChain([good], { bounds: await snapshotBounds(wasm) });
  expect(r.state.memories[0].pages).toBe(1);
});

test('a file of a few hundred bytes asking 65,536 pages of a module whose maximum is 2', async () => {
  const bytes = await crafted(good, (b) => (b.machine.memories[0].pages = 65536));
  expect(bytes.length).toBeLessThan(1024);
  const bounds = await snapshotBounds(wasm);
  // Refused by decoding itself: no memory is assembled from it.
  await expect(decodeSnapshot(bytes, { bounds })).rejects.toThrow(InvalidSnapshotError);
  await expect(decodeSnapshot(bytes, { bounds })).rejects.toThrow('snapshot body: memory 0 has 65536 pages, the module allows 1 to 2');
});

test('a compressed body whose header claims 2.2 GB decoded is refused before inflating', async () => {
  const inflated: number[] = [];
  const spy: Codec = {
    compress: zlibCodec.compress,
    decompress: (b, size) => (inflated.push(size), zlibCodec.decompress(b, size)),
  };
  const { header } = decodeHeader(good);
  const stored = deflateSync(new Uint8Array(1 << 20)); // a megabyte of zeros: ~1 KB stored
  const head = encodeHeader({ ...header, compressed: true, bodyHash: await sha256(stored), storedLength: stored.length, decodedLength: 2_200_000_000 });
  const bytes = Uint8Array.from([...head, ...stored]);
  await expect(decodeSnapshot(bytes, { codec: spy, bounds: await snapshotBounds(wasm) })).rejects.toThrow(/claims 2200000000 bytes decoded, more than a snapshot of this module can hold/);
  expect(inflated).toEqual([]);
  // And inflation itself stops at the declared size: a body that inflates further is refused.
  await expect(zlibCodec.decompress(deflateSync(new Uint8Array(64 << 20)), 1 << 20)).rejects.toThrow(SnapshotError);
});

test('1,024 memories of 65,536 pages each', async () => {
  const bytes = await crafted(good, (b) => (b.machine.memories = Array.from({ length: 1024 }, () => ({ ...b.machine.memories[0], pages: 65536 }))));
  await expect(decodeSnapshot(bytes, { bounds: await snapshotBounds(wasm) })).rejects.toThrow('snapshot body: 1024 memories, the module has 1');
  // Without the module, the format's own cap: 4 GiB of memory in all.
  await expect(decodeSnapshot(bytes)).rejects.toThrow('snapshot body: 67108864 pages of memory in all, at most 65536');
});

test('a million externs', async () => {
  const bytes = await crafted(good, (b) => (b.machine.externs = new Array(1_000_000).fill(0)));
  await expect(decodeSnapshot(bytes, { bounds: await snapshotBounds(wasm) })).rejects.toThrow(/at 'machine.externs'/);
});

test('a table beyond its maximum, globals that differ from the module', async () => {
  const bounds = await snapshotBounds(wasm);
  const big = await crafted(good, (b) => Object.assign(b.machine.tables[0], { size: 9_000_000, elements: new Uint8Array(0) }));
  await expect(decodeSnapshot(big, { bounds })).rejects.toThrow('table 0 has 9000000 entries, the module allows 1 to 3');
  const globals = await crafted(good, (b) => (b.machine.globals = new Uint8Array(80)));
  await expect(decodeSnapshot(globals, { bounds })).rejects.toThrow('globals hold 10 values, the module has 1');
});

test("a snapshot of another module is refused by its hash before its body is read", async () => {
  const other = (await checkpoint(await Machine.instantiate(PAGES_WASM), { moduleHash: await moduleHash(PAGES_WASM) })).bytes;
  await expect(decodeSnapshot(other, { bounds: await snapshotBounds(wasm) })).rejects.toThrow(WrongModuleError);
});

describe('base file hints', () => {
  let dir: string;
  let base: Awaited<ReturnType<typeof checkpoint>>;
  let m: Machine;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mvvm-hint-'));
    m = await Machine.instantiate(wasm);
    base = await checkpoint(m, { moduleHash: await moduleHash(wasm) });
    writeFileAtomic(join(dir, 'base.mvvm'), base.bytes);
  });

  async function incrementalNaming(hint: unknown, name: string): Promise<string> {
    const snap = await checkpoint(m, { moduleHash: await moduleHash(wasm), base: base.id, meta: { [BASE_FILE_META]: hint } });
    const file = join(dir, name);
    writeFileAtomic(file, snap.bytes);
    return file;
  }

  /** Settles within two seconds or fails: a FIFO must not hang the read. */
  const soon = <T>(p: Promise<T>) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('hung')), 2000).unref())]);

  test('a plain name beside the snapshot is followed', async () => {
    const r = await loadChainFromFiles(await incrementalNaming('base.mvvm', 'plain.mvvm'));
    expect(r.chain.length).toBe(2);
  });

  test('a FIFO is refused at once, naming the file', async () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    const file = await incrementalNaming('fifo', 'to-fifo.mvvm');
    await expect(soon(loadChainFromFiles(file))).rejects.toThrow(`snapshot ${join(dir, 'fifo')} is not a regular file`);
  });

  test('a symlink (to /dev/zero, or even to the real base) is refused', async () => {
    symlinkSync('/dev/zero', join(dir, 'zero'));
    symlinkSync('base.mvvm', join(dir, 'link'));
    for (const hint of ['zero', 'link']) {
      const file = await incrementalNaming(hint, `to-${hint}.mvvm`);
      await expect(soon(loadChainFromFiles(file))).rejects.toThrow(`snapshot ${join(dir, hint)} is a symbolic link`);
    }
  });

  test('paths are refused: /dev/zero, .., a sub-directory, absolute names', async () => {
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'x.mvvm'), base.bytes);
    for (const hint of ['/dev/zero', '../base.mvvm', 'sub/x.mvvm', join(dir, 'base.mvvm'), '..', '', 7]) {
      const file = await incrementalNaming(hint, 'path.mvvm');
      await expect(soon(loadChainFromFiles(file))).rejects.toThrow(InvalidSnapshotError);
      await expect(soon(loadChainFromFiles(file))).rejects.toThrow('which is not a plain file name beside it');
    }
    // An explicit --base is the user's choice and still works.
    const file = await incrementalNaming('../base.mvvm', 'path.mvvm');
    expect((await loadChainFromFiles(file, [join(dir, 'sub', 'x.mvvm')])).chain.length).toBe(2);
  });

  test('/dev/zero or a FIFO given directly is refused, not read', async () => {
    await expect(soon(readSnapshotFile('/dev/zero'))).rejects.toThrow('snapshot /dev/zero is not a regular file');
    await expect(soon(readSnapshotFile(join(dir, 'fifo')))).rejects.toThrow('is not a regular file');
  });
});
