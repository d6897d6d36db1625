import { buildSync } from 'esbuild';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { wat } from '../helpers/wat';

/**
 * The interpreter must run in a browser: bundle it for the browser platform (any `node:`
 * import or Node built-in fails the build) and run the bundle in a context that has only
 * what a browser has — no require, process, Buffer or module.
 */
test('the interpreter bundles for the browser and runs without Node globals', async () => {
  const result = buildSync({
    entryPoints: [join(__dirname, '../../src/index.ts')],
    bundle: true,
    platform: 'browser',
    format: 'iife',
    globalName: 'mvvm',
    write: false,
    logLevel: 'silent',
  });
  expect(result.errors).toEqual([]);
  const code = result.outputFiles[0].text;
  expect(code).not.toMatch(/require\(["']node:/);

  const bytes = await wat(`(module (func (export "fib") (param i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (i32.const 2)) (then (local.get 0))
      (else (i32.add (call 0 (i32.sub (local.get 0) (i32.const 1))) (call 0 (i32.sub (local.get 0) (i32.const 2))))))))`);
  const browserLike = {
    TextDecoder, TextEncoder, DataView, ArrayBuffer, Uint8Array, Int32Array, Float32Array, Float64Array,
    Uint16Array, BigInt, Math, Map, Set, WeakMap, Promise, Error, TypeError, RangeError, Object, Array,
    Number, String, Symbol, setTimeout, structuredClone, console, bytes,
  };
  const out = runInNewContext(
    `${code}
     const m = mvvm.Machine.instantiateSync(bytes, {});
     m.begin('fib', [15]);
     m.step(100);
     const m2 = mvvm.Machine.restoreSync(bytes, structuredClone(m.snapshot()), {});
     [m.step(Infinity).results[0], m2.step(Infinity).results[0], typeof require, typeof process]`,
    browserLike,
  );
  expect(out).toEqual([610, 610, 'undefined', 'undefined']);
});
