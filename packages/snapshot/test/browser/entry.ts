/**
 * Bundled for the browser by browser.test.ts: runs a WASI program on the in-memory file
 * system, checkpoints it half-way into snapshot bytes (deflate through CompressionStream,
 * SHA-256 through WebCrypto), decodes them, restores machine and WASI state on a second
 * in-memory "host" and finishes there. Only browser APIs are used.
 */
import { Machine } from '@mvvm/interpreter';
import { MemoryFs, OutputSink, WASI, memoryHost } from '@mvvm/wasi';
import { checkpoint, loadChain, moduleHash, restoreMachine } from '@mvvm/snapshot';

export async function migrateInBrowser(bytes: Uint8Array): Promise<{ straight: string; migrated: string; journalSame: boolean; snapshotBytes: number }> {
  const newHost = () => {
    const fs = new MemoryFs();
    fs.mkdirp('/data');
    return fs;
  };

  // Uninterrupted, for reference.
  const fs0 = newHost();
  const out0 = new OutputSink();
  const w0 = new WASI({ args: ['journal', '300'], preopens: { '/data': '/data' }, host: memoryHost(fs0), stdout: out0 });
  const m0 = await Machine.instantiate(bytes, w0.getImports());
  await w0.start(m0);

  // Host A: run half, checkpoint to bytes.
  const fsA = newHost();
  const outA = new OutputSink();
  const wA = new WASI({ args: ['journal', '300'], preopens: { '/data': '/data' }, host: memoryHost(fsA), stdout: outA });
  const mA = await Machine.instantiate(bytes, wA.getImports());
  mA.begin('_start', []);
  mA.step(Math.floor(m0.instructionCount / 2));
  const snap = await checkpoint(mA, { moduleHash: await moduleHash(bytes), wasi: wA.state(), compress: true });

  // Host B: a copy of A's files, the snapshot bytes, nothing else.
  const fsB = fsA.clone();
  const resolved = await loadChain([snap.bytes]);
  const outB = new OutputSink();
  const wB = WASI.restore(resolved.wasi as Parameters<typeof WASI.restore>[0], { preopens: { '/data': '/data' }, host: memoryHost(fsB), stdout: outB });
  const mB = await restoreMachine(bytes, resolved, wB.getImports());
  await wB.start(mB);

  const journal = (fs: MemoryFs) => JSON.stringify(Object.entries(fs.list('/data')).map(([k, v]) => [k, Array.from(v as Uint8Array)]));
  return {
    straight: out0.text(),
    migrated: outA.text() + outB.text(),
    journalSame: journal(fsB) === journal(fs0),
    snapshotBytes: snap.bytes.length,
  };
}
