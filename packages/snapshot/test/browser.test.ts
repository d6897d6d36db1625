import { buildSync } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { webcrypto } from 'node:crypto';

/**
 * The snapshot format, WASI's in-memory host and the interpreter must all work in a
 * browser: bundle them for the browser platform (a Node built-in anywhere fails the
 * build) and migrate a real WASI program inside a context holding only browser globals.
 */
test('checkpoint and restore of a WASI program run with browser APIs only', async () => {
  const root = join(__dirname, '../../..');
  const result = buildSync({
    entryPoints: [join(__dirname, 'browser/entry.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'app',
    write: false,
    logLevel: 'silent',
    alias: {
      '@mvvm/interpreter': join(root, 'packages/interpreter/src/index.ts'),
      '@mvvm/wasi': join(root, 'packages/wasi/src/index.ts'),
      '@mvvm/snapshot': join(root, 'packages/snapshot/src/index.ts'),
    },
  });
  expect(result.errors).toEqual([]);
  const code = result.outputFiles[0].text;
  expect(code).not.toMatch(/require\(["'](node:)?(fs|path|os|zlib|crypto|net)["']\)/);

  const bytes = new Uint8Array(readFileSync(join(root, 'examples/wasi-journal/journal.wasm')));
  const browserLike: Record<string, unknown> = {
    TextDecoder, TextEncoder, DataView, ArrayBuffer, SharedArrayBuffer, Uint8Array, Int8Array, Uint16Array, Int16Array,
    Uint32Array, Int32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, BigInt, Math, Date, JSON, Map,
    Set, WeakMap, WeakSet, Promise, Error, TypeError, RangeError, Object, Array, Number, String, Boolean, Symbol,
    Reflect, Proxy, setTimeout, clearTimeout, queueMicrotask, structuredClone, console, performance,
    crypto: webcrypto, CompressionStream, DecompressionStream, Blob, Response, ReadableStream, WritableStream,
    TransformStream, bytes,
  };
  browserLike.globalThis = browserLike;
  browserLike.self = browserLike;
  const out = await runInNewContext(`${code}; app.migrateInBrowser(bytes)`, browserLike);
  expect(out.straight).toMatch(/journal: \d+ bytes, checksum [0-9a-f]{16}\n$/);
  expect(out.migrated).toBe(out.straight);
  expect(out.journalSame).toBe(true);
  expect(out.snapshotBytes).toBeGreaterThan(1000);
  expect(runInNewContext('typeof require + typeof process + typeof Buffer', browserLike)).toBe('undefinedundefinedundefined');
});
