/**
 * Prepares examples/browser/out/: the page bundle (browser platform: any Node built-in
 * would fail the build), the module, and a snapshot of it taken half-way in Node.
 *   npx tsx examples/browser/build.ts && (cd examples/browser/out && python3 -m http.server 8080)
 * then open http://localhost:8080/ — or run examples/browser/check-in-chromium.sh.
 */
import { buildSync } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '@mvvm/interpreter';
import { checkpoint, moduleHash } from '@mvvm/snapshot';

export async function buildBrowserExample(outDir = join(__dirname, 'out')): Promise<{ expected: string }> {
  const root = join(__dirname, '../..');
  mkdirSync(outDir, { recursive: true });
  buildSync({
    entryPoints: [join(__dirname, 'page.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    outfile: join(outDir, 'page.js'),
    logLevel: 'silent',
    alias: {
      '@mvvm/interpreter': join(root, 'packages/interpreter/src/index.ts'),
      '@mvvm/snapshot': join(root, 'packages/snapshot/src/index.ts'),
    },
  });
  copyFileSync(join(__dirname, 'index.html'), join(outDir, 'index.html'));
  const wasmPath = join(root, 'examples/checkpoint-resume/primes.wasm');
  copyFileSync(wasmPath, join(outDir, 'primes.wasm'));

  const bytes = new Uint8Array(readFileSync(wasmPath));
  const reference = await Machine.instantiate(bytes);
  const [expected] = reference.invoke('run', [50000]);
  const m = await Machine.instantiate(bytes);
  m.begin('run', [50000]);
  m.step(Math.floor(reference.instructionCount / 2));
  const snap = await checkpoint(m, { moduleHash: await moduleHash(bytes), compress: true });
  writeFileSync(join(outDir, 'primes.mvvm'), snap.bytes);
  return { expected: `finished at ${reference.instructionCount}: ${String(expected)}` };
}

if (require.main === module) {
  buildBrowserExample().then(({ expected }) => console.log(`built examples/browser/out; the page should show "... ${expected}"`));
}
