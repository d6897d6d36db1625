/** `--deterministic`: canonical NaN bits from the CLI, kept across checkpoint and restore. */
import { join } from 'node:path';
import { PROGRAMS, mvvm, workdir } from './cli-harness';

const wasm = join(PROGRAMS, 'nanbits.wasm');
const CANONICAL = 'div 7ff8000000000000\nsqrt 7ff8000000000000\nmul 7ff8000000000000\nf32 7fc00000\n';

test('run --deterministic prints canonical NaN bits', () => {
  const r = mvvm(['run', '--deterministic', wasm, '0', '20000'], workdir());
  expect(r.code).toBe(0);
  expect(r.stdout.toString()).toMatch(/^acc 281.385893\n/);
  expect(r.stdout.toString().replace(/^acc .*\n/, '')).toBe(CANONICAL);
});

test('a snapshot taken with --deterministic restores deterministic, without the flag', () => {
  const ref = mvvm(['run', '--deterministic', wasm, '0', '20000'], workdir());
  const dir = workdir();
  const first = mvvm(['checkpoint', '--deterministic', '-t', wasm, '-a', '0,20000', '-c', '150000', '-o', 's.mvvm'], dir);
  expect(first.code).toBe(0);
  expect(first.stdout.toString()).toBe(''); // stopped inside the loop, before any output
  const second = mvvm(['restore', '-t', wasm, 's.mvvm'], dir);
  expect(second.code).toBe(0);
  expect(second.stdout.toString()).toBe(ref.stdout.toString());
});
