/**
 * A WASI program auto-vectorised by clang -O3 -msimd128 (programs/simdsum.c): `mvvm run`
 * prints what node:wasi (V8) prints, and a checkpoint taken mid-run (v128 values live in
 * locals and on the stack) restores and prints the rest.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROGRAMS, mvvm, workdir } from './cli-harness';

const wasm = join(PROGRAMS, 'simdsum.wasm');
const ROUNDS = '12';

function nodeWasi(): string {
  const script = `
    const { WASI } = require('node:wasi');
    const fs = require('node:fs');
    const wasi = new WASI({ version: 'preview1', args: ['simdsum.wasm', ${JSON.stringify(ROUNDS)}] });
    WebAssembly.instantiate(fs.readFileSync(${JSON.stringify(wasm)}), wasi.getImportObject())
      .then(({ instance }) => wasi.start(instance));`;
  const r = spawnSync(process.execPath, ['--no-warnings', '-e', script], { timeout: 60000 });
  expect(r.status).toBe(0);
  return r.stdout.toString();
}

test('mvvm run prints what node:wasi prints', () => {
  const v8 = nodeWasi();
  expect(v8.split('\n')).toHaveLength(13);
  const r = mvvm(['run', wasm, ROUNDS], workdir());
  expect(r.code).toBe(0);
  expect(r.stdout.toString()).toBe(v8);
});

test.each([250_000, 1_300_000, 2_900_000])('checkpoint at %d instructions and restore: the same output', (count) => {
  const ref = nodeWasi();
  const dir = workdir();
  const first = mvvm(['checkpoint', '-t', wasm, '-a', ROUNDS, '-c', String(count), '-o', 's.mvvm'], dir);
  expect(first.code).toBe(0);
  const second = mvvm(['restore', '-t', wasm, 's.mvvm'], dir);
  expect(second.code).toBe(0);
  expect(first.stdout.toString().length).toBeLessThan(ref.length); // it stopped mid-run
  expect(first.stdout.toString() + second.stdout.toString()).toBe(ref);
});
