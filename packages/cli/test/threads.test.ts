/**
 * wasi-threads programs through the real CLI: `mvvm run` gives V8's output (worker threads);
 * `mvvm checkpoint` at several instruction counts with several threads alive (some waiting)
 * and `mvvm restore` in a new process end with the uninterrupted output and exit code;
 * --every with incremental snapshots; what does not apply to threads is refused in one line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WABT_FEATURES, assemble, loadWabt } from '../../interpreter/test/helpers/wat';
import { mvvm, workdir } from './cli-harness';
import { killAll, serve, spawnMvvm } from './migrate-harness';
import { mutexCounter, prodCons, runV8Threads, threadProgramPath, threadsWat } from '../../wasi/test/threads/programs';

const cases = [prodCons(2, 3, 400, 2), mutexCounter(3, 300, 'futex')];

describe.each(cases.map((c) => [`${c.name} ${c.args.join(' ')}`, c] as const))('%s', (_, c) => {
  const wasm = threadProgramPath(c.name);
  let total: number;

  test('mvvm run: the output of V8 with worker threads', () => {
    const r = mvvm(['run', wasm, ...c.args], workdir());
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toBe(runV8Threads(c.name, c.args).stdout);
    expect(r.stdout.toString()).toBe(c.expected);
    expect(r.code).toBe(0);
    const never = mvvm(['checkpoint', '-c', '1000000000000', '-o', 'never.mvvm', '-t', wasm, '--', ...c.args], workdir());
    expect(never.code).toBe(3);
    total = Number(/ended after (\d+) instructions/.exec(never.stderr.toString())![1]);
    expect(total).toBeGreaterThan(30_000);
  });

  test('checkpoint at 5 counts, restore each in a new process: the uninterrupted output', () => {
    const dir = workdir();
    let threadsSeen = 0;
    for (let k = 1; k <= 5; k++) {
      const at = Math.floor((total * k) / 6);
      const cp = mvvm(['checkpoint', '-c', String(at), '-o', `s${k}.mvvm`, '-t', wasm, '--', ...c.args], dir);
      expect(cp.code).toBe(0);
      const info = mvvm(['inspect', `s${k}.mvvm`], dir).stdout.toString();
      expect(info).toContain('format       version 3');
      expect(info).toContain(`after ${at} instructions`);
      const n = Number(/threads {6}(\d+):/.exec(info)![1]);
      threadsSeen = Math.max(threadsSeen, n);
      const r = mvvm(['restore', '-t', wasm, `s${k}.mvvm`], dir);
      expect(cp.stdout.toString() + r.stdout.toString()).toBe(c.expected);
      expect(r.code).toBe(0);
    }
    expect(threadsSeen).toBe(1 + c.args.slice(0, c.name === 'prod_cons' ? 2 : 1).reduce((a, b) => a + Number(b), 0));
  });

  test('--every N --incremental: the newest snapshot restores to the same end', () => {
    const dir = workdir();
    const every = Math.floor(total / 7);
    const cp = mvvm(['checkpoint', '--every', String(every), '--incremental', '--continue', '-o', 'p.mvvm', '-t', wasm, '--', ...c.args], dir);
    expect(cp.stdout.toString()).toBe(c.expected);
    expect(cp.code).toBe(0);
    const newest = mvvm(['inspect', 'p-6.mvvm'], dir);
    expect(newest.stdout.toString()).toMatch(/incremental/);
    const r = mvvm(['restore', '-t', wasm, 'p-6.mvvm'], dir);
    expect(r.code).toBe(0);
    expect(c.expected.endsWith(r.stdout.toString())).toBe(true);
    expect(r.stdout.toString()).toContain('ok\n');
  });
});

describe('live migration of a wasi-threads program (mvvm serve, run --migrate-to)', () => {
  afterEach(killAll);

  test.each([
    [0.3, []],
    [0.6, ['--no-precopy']],
  ])('moved after %f of its run %j: all threads and the shared memory go, the output of an uninterrupted run', async (fraction, flags) => {
    const c = prodCons(2, 3, 6000, 8); // long enough (2.2 M instructions) that it does not end during the pre-copy
    const wasm = threadProgramPath(c.name);
    const dir = workdir();
    const never = mvvm(['checkpoint', '-c', '1000000000000', '-o', 'never.mvvm', '-t', wasm, '--', ...c.args], dir);
    const total = Number(/ended after (\d+) instructions/.exec(never.stderr.toString())![1]);
    const target = await serve(['--insecure', '--once'], dir);
    const at = Math.floor(total * fraction);
    const source = spawnMvvm(['run', '--insecure', '--migrate-to', `127.0.0.1:${target.port}`, '--after', String(at), ...flags, '--follow', '-v', wasm, ...c.args], dir);
    const s = await source.done;
    expect(s.stderr.toString()).toMatch(/migrated to 127\.0\.0\.1:\d+: [01] rounds/);
    expect(s.stdout.toString()).toBe(c.expected);
    expect(s.code).toBe(0);
    const t = await target.done;
    expect(t.stderr.toString()).toMatch(/received prod_cons.wasm .* ended with exit code 0/s);
  });
});

test('a threaded program refuses -f, debug and --invoke with one line', () => {
  const wasm = threadProgramPath('mutex_counter');
  const dir = workdir();
  for (const args of [
    ['checkpoint', '-f', 'main', '-t', wasm],
    ['run', '--invoke', 'main', wasm],
  ]) {
    const r = mvvm(args, dir);
    expect(r.code).toBe(1);
    expect(r.stderr.toString().trim().split('\n')).toHaveLength(1);
  }
  const d = mvvm(['debug', '-t', wasm], dir, 'quit\n');
  expect(d.stderr.toString()).toMatch(/not available for a wasi-threads program/);
  expect(d.code).toBe(1);
});

test('a trap in a spawned thread ends the program with 134 and names the thread; proc_exit in one gives its code', async () => {
  const dir = workdir();
  const build = async (name: string, start: string) => {
    writeFileSync(join(dir, name), assemble(await loadWabt(), threadsWat(start), { ...WABT_FEATURES, threads: true }));
    return name;
  };
  const trap = mvvm(['run', await build('trap.wasm', '(drop (call $spawn (i32.const 1))) (call $wait)')], dir);
  expect(trap.code).toBe(134);
  expect(trap.stderr.toString()).toMatch(/unreachable \(in thread 1\)/);
  expect(trap.stderr.toString()).toMatch(/wasi_thread_start/);
  const exit = mvvm(['run', await build('exit.wasm', '(drop (call $spawn (i32.const 2))) (call $wait) (call $exit (i32.const 0))')], dir);
  expect(exit.code).toBe(7);
  expect(exit.stderr.toString()).toBe('');
});
