/**
 * `--tier`: the JS tier on a real WASI program (file I/O): the same output and files under
 * every tier, and a checkpoint taken under one tier restores under another and finishes
 * as the uninterrupted run.
 */
import { join } from 'node:path';
import { PROGRAMS, filesOf, mvvm, totalInstructions, workdir, writeInput } from './cli-harness';

const files = join(PROGRAMS, 'files.wasm');

test('run --tier auto / eager / interpreter: same stdout, same files', () => {
  const outs = ['interpreter', 'auto', 'eager'].map((tier) => {
    const dir = workdir(writeInput);
    const r = mvvm(['run', '--tier', tier, '--dir', 'data::/data', files], dir);
    return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString(), files: filesOf(join(dir, 'data')) };
  });
  expect(outs[0].code).toBe(6); // files.c's own exit status
  expect(outs[0].stdout.length).toBeGreaterThan(0);
  expect(outs[1]).toEqual(outs[0]);
  expect(outs[2]).toEqual(outs[0]);
});

test.each([
  ['eager', 'interpreter'],
  ['interpreter', 'auto'],
])('checkpoint under --tier %s, restore under --tier %s: finishes as the uninterrupted run', (from, to) => {
  const refDir = workdir(writeInput);
  const ref = mvvm(['run', '--dir', 'data::/data', files], refDir);
  const total = totalInstructions(['-t', files, '-d', 'data::/data'], workdir(writeInput));
  const dir = workdir(writeInput);
  const first = mvvm(['checkpoint', '--tier', from, '-t', files, '-d', 'data::/data', '-c', String(Math.floor(total / 3)), '-o', 's.mvvm'], dir);
  expect(first.code).toBe(0);
  const second = mvvm(['restore', '--tier', to, '-t', files, '-d', 'data::/data', 's.mvvm'], dir);
  expect(second.code).toBe(ref.code);
  expect(first.stdout.toString() + second.stdout.toString()).toBe(ref.stdout.toString());
  expect(filesOf(join(dir, 'data'))).toEqual(filesOf(join(refDir, 'data')));
});

test('an unknown --tier is one clear error line', () => {
  const r = mvvm(['run', '--tier', 'fast', files], workdir());
  expect(r.code).not.toBe(0);
  expect(r.stderr.toString()).toMatch(/--tier.*fast/);
  expect(r.stderr.toString()).not.toMatch(/\n\s+at /);
});
