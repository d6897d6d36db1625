/**
 * First, throughput: encode (checkpoint) and decode (loadChain: checks, page checksums,
 * memory assembled) of a full, uncompressed snapshot of 1, 16, 64 and 256 MiB of touched
 * memory (`--sizes=1,16` to change), and a restore (decode and a machine built on it), in
 * MB/s of touched memory (10^6 bytes) and as a multiple of a plain copy of that memory
 * (memory.slice()) measured in the same run: × copy 1.0 = as fast as copying it once.
 *
 * Then checkpoint and restore time and snapshot size for 1, 16 and 64 MiB of touched memory,
 * full and incremental (1/16 of the pages written since the base), plain and compressed.
 * Rates are MiB of guest memory per second, and each time is also given as a multiple of
 * copying that memory once with Buffer.from(memory), measured in the same run.
 *
 *   npx tsx packages/snapshot/bench/snapshot-bench.ts        (or npm run bench -w packages/snapshot)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { PAGE, checkpoint, loadChain, moduleHash, restoreMachine } from '../src';
import { writeFileAtomic, zlibCodec } from '../src/node';

/** A module with `pages` of memory and an exported no-op `f`, built by hand (no toolchain needed). */
function moduleWithMemory(pages: number): Uint8Array {
  const leb = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, ...leb(pages)]),
    ...section(7, [1, 1, 0x66, 0, 0]),
    ...section(10, [1, 2, 0, 0x0b]),
  ]);
}

/** Fills memory with xorshift noise (incompressible: the worst case) and marks it written. */
function touch(m: Machine, pages: number[], seed: number): void {
  const mem = m.memory!;
  const words = new Uint32Array(mem.buffer);
  let s = seed >>> 0 || 1;
  for (const p of pages) {
    for (let i = (p * PAGE) / 4; i < ((p + 1) * PAGE) / 4; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      words[i] = s;
    }
    mem.markDirty(p * PAGE, PAGE);
  }
}

async function time<T>(fn: () => Promise<T> | T, runs = 3): Promise<{ ms: number; value: T }> {
  let best = Infinity;
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return { ms: best, value };
}

const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const SIZES = sizesArg ? sizesArg.slice(8).split(',').map(Number) : [1, 16, 64, 256];

/** Encode and decode throughput of full, uncompressed snapshots. */
async function throughput(): Promise<void> {
  const rows: string[][] = [['memory', 'copy MB/s', 'encode MB/s', '× copy', 'decode MB/s', '× copy', 'restore MB/s', '× copy']];
  for (const mib of SIZES) {
    const pages = mib * 16;
    const bytes = moduleWithMemory(pages);
    const hash = await moduleHash(bytes);
    let m: Machine | undefined = await Machine.instantiate(bytes);
    m.begin('f', []);
    touch(m, Array.from({ length: pages }, (_, i) => i), 3);
    const runs = mib >= 256 ? 3 : 5;
    const copy = await time(() => m!.memory!.u8.slice(), runs);
    const enc = await time(() => checkpoint(m!, { moduleHash: hash, clearDirty: false }), runs);
    const snap = enc.value.bytes;
    m = undefined; // room for the decoded copies at 256 MiB
    const dec = await time(() => loadChain([snap]), runs);
    const res = await time(async () => restoreMachine(bytes, await loadChain([snap]), {}, { adoptMemory: true }), runs);
    const mbs = (ms: number) => ((mib * 1.048576) / (ms / 1000)).toFixed(0);
    const x = (ms: number) => (ms / copy.ms).toFixed(2);
    rows.push([`${mib} MiB`, mbs(copy.ms), mbs(enc.ms), x(enc.ms), mbs(dec.ms), x(dec.ms), mbs(res.ms), x(res.ms)]);
  }
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c >= 1 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
  console.log('(encode = checkpoint of a full snapshot; decode = loadChain; restore = loadChain + restoreMachine with adoptMemory; best of 3-5)\n');
}

async function main(): Promise<void> {
  await throughput();
  if (process.argv.includes('--throughput-only')) return;
  const dir = mkdtempSync(join(tmpdir(), 'mvvm-bench-'));
  const rows: string[][] = [['memory', 'operation', 'time ms', 'MiB/s', '× copy', 'size']];
  for (const mib of [1, 16, 64]) {
    const pages = mib * 16;
    const bytes = moduleWithMemory(pages);
    const hash = await moduleHash(bytes);
    const m = await Machine.instantiate(bytes);
    m.begin('f', []);
    const all = Array.from({ length: pages }, (_, i) => i);
    touch(m, all, 1);
    const copy = await time(() => Buffer.from(m.memory!.u8), 5);
    const row = (op: string, ms: number, size?: number) =>
      rows.push([`${mib} MiB`, op, ms.toFixed(1), (mib / (ms / 1000)).toFixed(0), (ms / copy.ms).toFixed(1), size === undefined ? '' : `${(size / (1 << 20)).toFixed(2)} MiB`]);
    row('Buffer.from(memory)', copy.ms);

    const full = await time(() => checkpoint(m, { moduleHash: hash, clearDirty: false }));
    row('checkpoint full', full.ms, full.value.bytes.length);
    const path = join(dir, 'full.mvvm');
    const written = await time(() => writeFileAtomic(path, full.value.bytes));
    row('  write file (fsync, rename)', written.ms);
    const restore = await time(async () => restoreMachine(bytes, await loadChain([full.value.bytes])));
    row('restore full', restore.ms);

    const packed = await time(() => checkpoint(m, { moduleHash: hash, compress: true, codec: zlibCodec, clearDirty: false }), 1);
    row('checkpoint full, deflate', packed.ms, packed.value.bytes.length);
    const unpacked = await time(async () => restoreMachine(bytes, await loadChain([packed.value.bytes], { codec: zlibCodec })), 1);
    row('restore full, deflate', unpacked.ms);

    // Incremental: a base, then 1/16 of the pages written again.
    const base = await checkpoint(m, { moduleHash: hash });
    touch(m, all.filter((p) => p % 16 === 0), 2);
    const inc = await time(() => checkpoint(m, { moduleHash: hash, base: base.id, clearDirty: false }));
    row('checkpoint incremental (1/16 dirty)', inc.ms, inc.value.bytes.length);
    const chain = await time(async () => restoreMachine(bytes, await loadChain([base.bytes, inc.value.bytes])));
    row('restore chain (full + incremental)', chain.ms);
  }
  rmSync(dir, { recursive: true });
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) console.log(r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join('  '));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
