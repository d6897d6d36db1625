/**
 * Thousands of damaged snapshots, each must be refused with a SnapshotError: no other
 * exception, no hang, no machine. Two kinds of damage:
 * - raw: bit flips, truncations, insertions, deletions, overwritten runs anywhere in the
 *   file (what disks and networks do); every one must be caught;
 * - sealed: one value of the body is altered (removed, nudged, retyped, cut short) and the
 *   checksums recomputed (a buggy or hostile writer);
 *   such a file may still be a valid snapshot, but if it is refused, it is refused cleanly.
 */
import { Machine } from '@mvvm/interpreter';
import { SnapshotError, checkpoint, loadChain, moduleHash, restoreMachine } from '@mvvm/snapshot';
import { decodeHeader } from '../src/header';
import { zlibCodec } from '@mvvm/snapshot/node';
import { PAGES_WASM, bodySlots, plainOf, reseal, rng, startedAt, treeOf } from './helpers';

type Outcome = { refused: string } | { machine: Machine };

async function attempt(links: Uint8Array[]): Promise<Outcome> {
  try {
    const machine = await restoreMachine(PAGES_WASM, await loadChain(links, { codec: zlibCodec }));
    return { machine };
  } catch (e) {
    if (e instanceof SnapshotError) return { refused: e.constructor.name };
    throw new Error(`not a SnapshotError: ${(e as Error)?.stack ?? e}`);
  }
}

function damage(bytes: Uint8Array, random: () => number): Uint8Array {
  const at = Math.floor(random() * bytes.length);
  const headerBias = random() < 0.3 ? Math.floor(random() * Math.min(bytes.length, 160)) : at;
  switch (Math.floor(random() * 6)) {
    case 0: {
      const out = bytes.slice();
      const flips = 1 + Math.floor(random() * 8);
      for (let i = 0; i < flips; i++) out[i === 0 ? headerBias : Math.floor(random() * out.length)] ^= 1 << Math.floor(random() * 8);
      return out;
    }
    case 1:
      return bytes.slice(0, at);
    case 2: {
      const out = new Uint8Array(bytes.length + 1);
      out.set(bytes.subarray(0, headerBias));
      out[headerBias] = Math.floor(random() * 256);
      out.set(bytes.subarray(headerBias), headerBias + 1);
      return out;
    }
    case 3: {
      const out = new Uint8Array(bytes.length - 1);
      out.set(bytes.subarray(0, headerBias));
      out.set(bytes.subarray(headerBias + 1), headerBias);
      return out;
    }
    case 4: {
      const out = bytes.slice();
      const len = 1 + Math.floor(random() * 64);
      for (let i = at; i < Math.min(out.length, at + len); i++) out[i] = Math.floor(random() * 256);
      if (out.every((b, i) => b === bytes[i])) out[at] ^= 0xff; // make sure something changed
      return out;
    }
    default: {
      const out = bytes.slice();
      out[headerBias] ^= 0xff;
      return out;
    }
  }
}

const WEIRD = [-1, 0, 1, 2 ** 31, 2 ** 32 + 5, -(2 ** 31) - 1, 1e300, 0.5, NaN, '', 'x', null, true, [], {}, new Uint8Array(3), new Uint8Array(65536)];

/** Alters one value of the decoded body (or its raw bytes) and recomputes every checksum, as a buggy writer would. */
async function resealed(bytes: Uint8Array, random: () => number): Promise<Uint8Array> {
  const { header, length } = decodeHeader(bytes);
  const plain = header.compressed ? await zlibCodec.decompress(bytes.subarray(length), header.decodedLength) : bytes.slice(length);
  let body: Uint8Array;
  if (random() < 0.2) {
    body = plain.slice(0, 4096); // raw flips in the structure before the first page's bytes
    body[Math.floor(random() * body.length)] ^= 1 << Math.floor(random() * 8);
    body = Uint8Array.from([...body, ...plain.subarray(4096)]);
  } else {
    const tree = treeOf(plain, length);
    const all = bodySlots(tree);
    const slot = all[Math.floor(random() * all.length)];
    const old = slot.get();
    const r = random();
    if (r < 0.15) slot.drop();
    else if (r < 0.3 && typeof old === 'number') slot.set(old + (random() < 0.5 ? 1 : -1) * (1 + Math.floor(random() * 4)));
    else if (r < 0.4 && ArrayBuffer.isView(old)) slot.set((old as Uint8Array).subarray(0, Math.floor(random() * (old as Uint8Array).length)));
    else slot.set(WEIRD[Math.floor(random() * WEIRD.length)]);
    body = plainOf(tree, length);
  }
  return reseal(bytes, body);
}

let full: Uint8Array;
let compressed: Uint8Array;
let chain: Uint8Array[];
beforeAll(async () => {
  const hash = await moduleHash(PAGES_WASM);
  const m = await startedAt(30_000);
  full = (await checkpoint(m, { moduleHash: hash })).bytes;
  compressed = (await checkpoint(m, { moduleHash: hash, compress: true, codec: zlibCodec })).bytes;
  const base = await checkpoint(m, { moduleHash: hash });
  m.step(5_000);
  chain = [base.bytes, (await checkpoint(m, { moduleHash: hash, base: base.id })).bytes];
  for (const links of [[full], [compressed], chain]) expect('machine' in (await attempt(links))).toBe(true);
});

test('4000 raw-damaged snapshots are all refused with a specific SnapshotError', async () => {
  const random = rng(0x5eed);
  const counts: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; i < 4000; i++) {
    const kind = i % 4;
    const links =
      kind === 0 ? [damage(full, random)] :
      kind === 1 ? [damage(compressed, random)] :
      kind === 2 ? [chain[0], damage(chain[1], random)] :
      [damage(chain[0], random), chain[1]];
    const outcome = await attempt(links);
    if ('machine' in outcome) throw new Error(`case ${i}: a damaged snapshot was accepted`);
    counts[outcome.refused] = (counts[outcome.refused] ?? 0) + 1;
  }
  // Every class of damage shows up, and no generic SnapshotError hides a case.
  expect(Object.keys(counts).sort()).toEqual(
    ['CorruptSnapshotError', 'MissingBaseError', 'NotASnapshotError', 'SnapshotVersionError', 'TruncatedSnapshotError'].filter((k) => counts[k]),
  );
  expect(counts.CorruptSnapshotError).toBeGreaterThan(1000);
  expect(counts.TruncatedSnapshotError).toBeGreaterThan(300);
  console.log(`raw fuzz: ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
});

test('1000 resealed snapshots with altered bodies are refused cleanly or restore a checked machine', async () => {
  const random = rng(0xc0ffee);
  const counts: Record<string, number> = {};
  const started = Date.now();
  for (let i = 0; i < 1000; i++) {
    const links = i % 2 === 0 ? [await resealed(i % 4 === 0 ? full : compressed, random)] : [chain[0], await resealed(chain[1], random)];
    const outcome = await attempt(links);
    const key = 'machine' in outcome ? 'restored' : outcome.refused;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  expect(counts.InvalidSnapshotError).toBeGreaterThan(500);
  console.log(`sealed fuzz: ${JSON.stringify(counts)} in ${Date.now() - started} ms`);
});
